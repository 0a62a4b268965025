import { InvalidTransitionError } from '../src/domain/errors';
import { type AccessRequest, type RequestStatus, TERMINAL_STATUSES } from '../src/domain/types';
import { acceptedEvents, applyTransition, decide, type LifecycleContext, type LifecycleEvent } from '../src/lifecycle';
import { pendingRequest } from './support/requests';

const NOW = '2026-11-22T10:10:00.000Z';
let n = 0;
const ctx = (now = NOW): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 5 * 60_000, owner: 'replica-a', newId: () => `n${++n}` });
const grant = { kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32', port: 22 };

function inState(status: RequestStatus, extra: Partial<AccessRequest> = {}): AccessRequest {
  return pendingRequest({ status, version: 4, ...extra });
}

const EVENTS: Record<LifecycleEvent['type'], LifecycleEvent> = {
  approve: { type: 'approve', actor: 'U0APPROVER' },
  deny: { type: 'deny', actor: 'U0APPROVER' },
  withdraw: { type: 'withdraw', actor: 'U0REQUESTER' },
  'approval-timeout': { type: 'approval-timeout' },
  granted: { type: 'granted', grant },
  'grant-failed': { type: 'grant-failed', error: 'UnauthorizedOperation' },
  'grant-retry': { type: 'grant-retry', error: 'RequestLimitExceeded', retryAt: Date.parse(NOW) + 2000 },
  warn: { type: 'warn' },
  expire: { type: 'expire' },
  revoke: { type: 'revoke', actor: 'U0REQUESTER' },
  revoked: { type: 'revoked', removed: true, outcome: 'verified' },
  'revoke-retry': { type: 'revoke-retry', error: 'RequestLimitExceeded', retryAt: Date.parse(NOW) + 2000 },
  claim: { type: 'claim', owner: 'replica-b' },
};

describe('transition table', () => {
  // [from, event, to, notifications]
  it.each<[RequestStatus, LifecycleEvent['type'], RequestStatus, string[]]>([
    ['PENDING', 'approve', 'GRANTING', ['approval.update']],
    ['PENDING', 'deny', 'DENIED', ['approval.update', 'dm.denied']],
    ['PENDING', 'withdraw', 'CANCELLED', ['approval.update']],
    ['PENDING', 'approval-timeout', 'EXPIRED', ['approval.update', 'dm.timeout']],
    ['GRANTING', 'granted', 'ACTIVE', ['approval.update', 'dm.granted']],
    ['GRANTING', 'grant-failed', 'FAILED', ['approval.update', 'dm.failed']],
    ['GRANTING', 'grant-retry', 'GRANTING', []],
    ['GRANTING', 'claim', 'GRANTING', []],
    ['ACTIVE', 'warn', 'ACTIVE', ['dm.warning']],
    ['ACTIVE', 'expire', 'REVOKING', []],
    ['ACTIVE', 'revoke', 'REVOKING', []],
    ['REVOKING', 'revoked', 'REVOKED', ['approval.update', 'dm.ended', 'thread.revoked']],
    ['REVOKING', 'revoke-retry', 'REVOKING', []],
    ['REVOKING', 'claim', 'REVOKING', []],
  ])('%s --%s--> %s', (from, event, to, kinds) => {
    const r = inState(from, { approvalDeadline: '2026-11-22T10:05:00.000Z', expiresAt: '2026-11-22T10:09:00.000Z', warned: false, grant });
    const t = decide(r, EVENTS[event], ctx());
    expect(t).toMatchObject({ id: r.id, expectStatus: from, expectVersion: 4, status: to });
    expect(t.audit).toMatchObject({ at: NOW, from, to });
    expect(t.notify!.map((x) => x.kind)).toEqual(kinds);
  });

  it.each(TERMINAL_STATUSES)('%s accepts no event: resolved requests are immutable', (status) => {
    expect(acceptedEvents(status)).toEqual([]);
    for (const e of Object.values(EVENTS)) expect(() => decide(inState(status), e, ctx())).toThrow(InvalidTransitionError);
  });

  it('refuses events a state does not accept', () => {
    expect(() => decide(inState('PENDING'), EVENTS.granted, ctx())).toThrow(/"granted" is not allowed when PENDING/);
    expect(() => decide(inState('ACTIVE'), EVENTS.approve, ctx())).toThrow(InvalidTransitionError);
    expect(() => decide(inState('GRANTING'), EVENTS.deny, ctx())).toThrow(InvalidTransitionError);
  });
});

describe('timing rules', () => {
  it('starts the access clock at grant and warns 5 minutes before expiry', () => {
    const r = inState('GRANTING', { durationMs: 30 * 60_000 });
    const t = decide(r, EVENTS.granted, ctx());
    expect(t.set).toMatchObject({ grantedAt: NOW, expiresAt: '2026-11-22T10:40:00.000Z', warnAt: '2026-11-22T10:35:00.000Z', dueAt: Date.parse('2026-11-22T10:35:00.000Z'), warned: false });
    expect(t.audit!.details).toMatchObject({ securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32' });
  });

  it('warns at 80% of short grants', () => {
    const t = decide(inState('GRANTING', { durationMs: 10 * 60_000 }), EVENTS.granted, ctx());
    expect(t.set.warnAt).toBe('2026-11-22T10:18:00.000Z');
  });

  it('will not time out before the approval deadline, nor expire before expiry', () => {
    expect(() => decide(inState('PENDING', { approvalDeadline: '2026-11-22T10:30:00.000Z' }), EVENTS['approval-timeout'], ctx())).toThrow(/deadline not reached/);
    expect(() => decide(inState('ACTIVE', { expiresAt: '2026-11-22T10:30:00.000Z' }), EVENTS.expire, ctx())).toThrow(/not expired yet/);
  });

  it('warns once, then waits for expiry', () => {
    const r = inState('ACTIVE', { expiresAt: '2026-11-22T10:15:00.000Z', warned: false });
    const t = decide(r, EVENTS.warn, ctx());
    expect(t.set).toEqual({ warned: true, dueAt: Date.parse('2026-11-22T10:15:00.000Z') });
    expect(() => decide(applyTransition(r, t), EVENTS.warn, ctx())).toThrow(/already warned/);
  });

  it('intents take a lease and are due again when it lapses', () => {
    const t = decide(inState('PENDING'), EVENTS.approve, ctx());
    expect(t.set).toMatchObject({ leaseOwner: 'replica-a', dueAt: Date.parse(NOW) + 60_000 });
    const claim = decide(inState('REVOKING'), EVENTS.claim, ctx());
    expect(claim.set).toEqual({ leaseOwner: 'replica-b', dueAt: Date.parse(NOW) + 60_000 });
  });

  it('counts retries and alerts once asked to', () => {
    const r = inState('REVOKING', { attempts: 4 });
    const t = decide(r, { type: 'revoke-retry', error: 'boom', retryAt: 1, alert: 'still failing' }, ctx());
    expect(t.set).toMatchObject({ attempts: 5, dueAt: 1, failure: 'boom', flagged: true });
    expect(t.notify).toEqual([expect.objectContaining({ kind: 'channel.alert', text: 'still failing' })]);
  });

  it('leaves the due index when resolved', () => {
    for (const [from, e] of [
      ['PENDING', EVENTS.deny],
      ['REVOKING', EVENTS.revoked],
      ['GRANTING', EVENTS['grant-failed']],
    ] as const) {
      const t = decide(inState(from), e, ctx());
      expect('dueAt' in t.set && t.set.dueAt === undefined).toBe(true);
    }
  });
});

it('applyTransition mirrors the store: version+1, audit appended, outbox filled, undefined removes', () => {
  const r = inState('GRANTING', { leaseOwner: 'replica-a', failure: 'x' });
  const next = applyTransition(r, decide(r, EVENTS.granted, ctx()));
  expect(next.version).toBe(5);
  expect(next.status).toBe('ACTIVE');
  expect(next.audit).toHaveLength(r.audit.length + 1);
  expect(Object.values(next.outbox).map((x) => x.kind)).toEqual(['approval.update', 'dm.granted']);
  expect('leaseOwner' in next).toBe(false);
  expect('failure' in next).toBe(false);
});
