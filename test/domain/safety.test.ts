import { NOT_ELIGIBLE_MESSAGE } from '../../blocks/errors';
import { checkRateLimits, DEFAULT_RATE_LIMITS, ineligibleReason, NotEligibleError, RateLimitedError } from '../../src/domain/safety';
import type { AccessRequest } from '../../src/domain/types';
import { wordsOf } from '../support/words';

const MEMBER = { guest: false, external: false, deleted: false, bot: false };
const H = 3_600_000;
const NOW = new Date('2026-12-01T12:00:00Z');

describe('ineligibleReason', () => {
  it.each<[string, Partial<typeof MEMBER>, boolean, string | undefined]>([
    ['a full member', {}, false, undefined],
    ['a guest', { guest: true }, false, 'guest'],
    ['a guest, allowGuests', { guest: true }, true, undefined],
    ['an external user, allowGuests', { external: true }, true, 'external'],
    ['an external guest, allowGuests', { external: true, guest: true }, true, 'external'],
    ['a deactivated account, allowGuests', { deleted: true }, true, 'deleted'],
    ['a bot, allowGuests', { bot: true }, true, 'bot'],
  ])('%s', (_name, p, allowGuests, expected) => {
    expect(ineligibleReason({ ...MEMBER, ...p }, allowGuests)).toBe(expected);
  });

  it('says the same thing whatever the reason', () => {
    for (const r of ['guest', 'external', 'deleted', 'bot'] as const) expect(wordsOf(new NotEligibleError(r))).toBe(NOT_ELIGIBLE_MESSAGE);
  });
});

describe('checkRateLimits', () => {
  const req = (minutesAgo: number, breakGlass = false): AccessRequest => ({ createdAt: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString(), ...(breakGlass ? { breakGlass: true } : {}), audit: [] }) as unknown as AccessRequest;
  const limits = { requests: { max: 3, perMs: H }, breakGlass: { max: 1, perMs: 24 * H } };
  const refusal = (recent: AccessRequest[], bg = false) => {
    try {
      checkRateLimits(limits, recent, NOW, bg);
      return undefined;
    } catch (e) {
      return e as RateLimitedError;
    }
  };

  it('allows up to max within the window; older requests do not count', () => {
    expect(refusal([req(1), req(2)])).toBeUndefined();
    expect(refusal([req(1), req(2), req(61), req(120)])).toBeUndefined();
  });

  it('refuses the max+1th, naming when the oldest counted leaves the window', () => {
    const e = refusal([req(5), req(10), req(40)])!;
    expect(e).toBeInstanceOf(RateLimitedError);
    expect(e.limit).toBe('requests');
    expect(e.retryAt.toISOString()).toBe('2026-12-01T12:20:00.000Z');
    expect(wordsOf(e)).toBe('You have sent 3 requests in the last 1h, the most allowed. Nothing was sent: try again in 20m (at 12:20 UTC).');
  });

  it('break-glass counts separately, over its own window, and only for break-glass', () => {
    expect(refusal([req(600, true)], false)).toBeUndefined();
    const e = refusal([req(600, true)], true)!;
    expect(e.limit).toBe('breakGlass');
    expect(wordsOf(e)).toMatch(/1 break-glass requests in the last 1d.*try again in 14h.*without `--break-glass`/);
    expect(refusal([req(25 * 60, true)], true)).toBeUndefined();
  });

  it('a request being stored as break-glass (audit says requested) counts as break-glass', () => {
    const pending = { ...req(1), audit: [{ details: { breakGlass: 'requested' } }] } as unknown as AccessRequest;
    expect(refusal([pending], true)?.limit).toBe('breakGlass');
  });

  it('defaults: 10 requests an hour, 2 break-glass a day', () => {
    expect(DEFAULT_RATE_LIMITS).toEqual({ requests: { max: 10, perMs: H }, breakGlass: { max: 2, perMs: 24 * H } });
  });
});
