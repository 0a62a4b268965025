import { isOpen, isTerminal, OPEN_STATUSES, type RequestStatus, TERMINAL_STATUSES } from '../../src/domain/types';

describe('request statuses: one definition of open and terminal', () => {
  const all: RequestStatus[] = ['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING', 'REVOKED', 'DENIED', 'EXPIRED', 'CANCELLED', 'FAILED', 'EXTENDED'];

  it.each(all)('%s is exactly one of open or terminal', (status) => {
    expect(isOpen(status)).toBe(!isTerminal(status));
  });

  it('the two lists cover every status once', () => {
    expect([...OPEN_STATUSES, ...TERMINAL_STATUSES].sort()).toEqual([...all].sort());
  });
});
