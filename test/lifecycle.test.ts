import { InvalidTransitionError } from '../src/domain/errors';
import { type AccessRequest, type RequestStatus, TERMINAL_STATUSES } from '../src/domain/types';
import { acceptedEvents, applyTransition, decide, type LifecycleContext, type LifecycleEvent } from '../src/lifecycle';
import { pendingRequest } from './support/requests';
import { problem } from '../src/domain/errors';

const STILL_FAILING = problem('revoke-failing', { id: 'jit-r1', target: 'prod-bastion', failure: 'aws-error', ref: 'REF00004' });

const NOW = '2026-11-22T10:10:00.000Z';
let n = 0;
const ctx = (now = NOW): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 5 * 60_000, owner: 'replica-a', newId: () => `n${++n}` });
/** Resolved at NOW with the default retention (400 days), in epoch seconds. */
const PURGE_AT_DEFAULT = Math.floor(Date.parse(NOW) / 1000) + 400 * 86_400;
const grant = { kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32', port: 22 };

function inState(status: RequestStatus, extra: Partial<AccessRequest> = {}): AccessRequest {
  return pendingRequest({ status, version: 4, ...extra });
}

const EVENTS: Record<LifecycleEvent['type'], LifecycleEvent> = {
  approve: { type: 'approve', actor: 'U0APPROVER', required: 1 },
  deny: { type: 'deny', actor: 'U0APPROVER' },
  'auto-approve': { type: 'auto-approve', rule: 'dev' },
  'break-glass': { type: 'break-glass' },
  remind: { type: 'remind' },
  review: { type: 'review', actor: 'U0APPROVER' },
  extend: { type: 'extend', extensionId: 'jit-ext1', durationMs: 30 * 60_000, actor: 'U0APPROVER' },
  extended: { type: 'extended', parentId: 'jit-parent', expiresAt: '2026-11-22T11:00:00.000Z' },
  withdraw: { type: 'withdraw', actor: 'U0REQUESTER' },
  'approval-timeout': { type: 'approval-timeout' },
  // The expiry the provider was given: NOW + the default 30m.
  granted: { type: 'granted', grant, expiresAt: '2026-11-22T10:40:00.000Z' },
  'grant-failed': { type: 'grant-failed', error: 'UnauthorizedOperation', code: 'aws-denied', ref: 'REF00001' },
  refuse: { type: 'refuse', code: 'deny-rule', rule: 'no-nights', message: 'Refused by the deny rule `no-nights`.' },
  'grant-retry': { type: 'grant-retry', error: 'RequestLimitExceeded', code: 'aws-throttled', ref: 'REF00002', retryAt: Date.parse(NOW) + 2000 },
  warn: { type: 'warn' },
  expire: { type: 'expire' },
  revoke: { type: 'revoke', actor: 'U0REQUESTER' },
  revoked: { type: 'revoked', removed: true, outcome: 'verified' },
  'revoke-retry': { type: 'revoke-retry', error: 'RequestLimitExceeded', code: 'aws-throttled', ref: 'REF00003', retryAt: Date.parse(NOW) + 2000 },
  claim: { type: 'claim', owner: 'replica-b' },
  release: { type: 'release', owner: 'replica-b' },
};

describe('transition table', () => {
  // [from, event, to, notifications, extra fields of the request]
  it.each<[RequestStatus, LifecycleEvent['type'], RequestStatus, string[], Partial<AccessRequest>?]>([
    ['PENDING', 'approve', 'GRANTING', ['approval.update']],
    ['PENDING', 'auto-approve', 'GRANTING', []],
    ['PENDING', 'break-glass', 'GRANTING', ['channel.break-glass']],
    ['PENDING', 'remind', 'PENDING', ['approval.reminder'], { approvalDeadline: '2026-11-22T10:30:00.000Z' }],
    ['PENDING', 'review', 'PENDING', ['approval.update'], { breakGlass: true }],
    ['GRANTING', 'extended', 'EXTENDED', ['approval.update'], { extends: 'jit-parent' }],
    ['ACTIVE', 'extend', 'ACTIVE', ['approval.update', 'dm.extended'], { grantedAt: '2026-11-22T10:00:00.000Z', expiresAt: '2026-11-22T10:30:00.000Z' }],
    ['ACTIVE', 'review', 'ACTIVE', ['approval.update'], { breakGlass: true }],
    ['PENDING', 'deny', 'DENIED', ['approval.update', 'dm.denied']],
    ['PENDING', 'withdraw', 'CANCELLED', ['approval.update']],
    ['PENDING', 'approval-timeout', 'EXPIRED', ['approval.update', 'dm.timeout']],
    ['GRANTING', 'granted', 'ACTIVE', ['approval.update', 'dm.granted']],
    ['GRANTING', 'grant-failed', 'FAILED', ['approval.update', 'dm.failed']],
    ['GRANTING', 'grant-retry', 'GRANTING', []],
    ['GRANTING', 'claim', 'GRANTING', []],
    ['GRANTING', 'release', 'GRANTING', [], { leaseOwner: 'replica-b' }],
    ['ACTIVE', 'warn', 'ACTIVE', ['dm.warning']],
    ['ACTIVE', 'expire', 'REVOKING', []],
    ['ACTIVE', 'revoke', 'REVOKING', []],
    ['REVOKING', 'revoked', 'REVOKED', ['approval.update', 'dm.ended', 'thread.revoked']],
    ['REVOKING', 'revoke-retry', 'REVOKING', []],
    ['REVOKING', 'claim', 'REVOKING', []],
    ['REVOKING', 'release', 'REVOKING', [], { leaseOwner: 'replica-b' }],
  ])('%s --%s--> %s', (from, event, to, kinds, extra = {}) => {
    const r = inState(from, { approvalDeadline: '2026-11-22T10:05:00.000Z', expiresAt: '2026-11-22T10:09:00.000Z', warned: false, grant, ...extra });
    const t = decide(r, EVENTS[event], ctx());
    expect(t).toMatchObject({ id: r.id, expectStatus: from, expectVersion: 4, status: to });
    expect(t.audit).toMatchObject({ at: NOW, from, to });
    expect(t.notify!.map((x) => x.kind)).toEqual(kinds);
  });

  it.each(TERMINAL_STATUSES)('%s accepts only the break-glass review: resolved requests are otherwise immutable', (status) => {
    expect(acceptedEvents(status)).toEqual(['review']);
    for (const e of Object.values(EVENTS)) expect(() => decide(inState(status), e, ctx())).toThrow(InvalidTransitionError);
    for (const e of Object.values(EVENTS).filter((x) => x.type !== 'review')) expect(() => decide(inState(status, { breakGlass: true }), e, ctx())).toThrow(InvalidTransitionError);
    const reviewed = decide(inState(status, { breakGlass: true }), EVENTS.review, ctx());
    expect(reviewed).toMatchObject({ expectStatus: status, status, set: { reviewedBy: 'U0APPROVER', reviewedAt: NOW } });
  });

  it('every status accepts the review; only the statuses in the table accept anything else', () => {
    expect(acceptedEvents('PENDING').sort()).toEqual(['approval-timeout', 'approve', 'auto-approve', 'break-glass', 'deny', 'refuse', 'remind', 'review', 'withdraw']);
    expect(acceptedEvents('GRANTING').sort()).toEqual(['claim', 'extended', 'grant-failed', 'grant-retry', 'granted', 'refuse', 'release', 'review']);
    expect(acceptedEvents('ACTIVE').sort()).toEqual(['expire', 'extend', 'review', 'revoke', 'warn']);
    expect(acceptedEvents('REVOKING').sort()).toEqual(['claim', 'release', 'review', 'revoke-retry', 'revoked']);
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
    const t = decide(inState('GRANTING', { durationMs: 10 * 60_000 }), { type: 'granted', grant, expiresAt: '2026-11-22T10:20:00.000Z' }, ctx());
    expect(t.set.warnAt).toBe('2026-11-22T10:18:00.000Z');
  });

  it('stores the expiry AWS was given, not one read again from the clock (issue 11)', () => {
    // The provider call took 7 seconds: the stored expiry is still the one AWS has.
    const t = decide(inState('GRANTING', { durationMs: 30 * 60_000 }), EVENTS.granted, ctx('2026-11-22T10:10:07.000Z'));
    expect(t.set).toMatchObject({ grantedAt: NOW, expiresAt: '2026-11-22T10:40:00.000Z', warnAt: '2026-11-22T10:35:00.000Z' });
    expect(() => decide(inState('GRANTING'), { type: 'granted', grant, expiresAt: 'soon' }, ctx())).toThrow(/needs the expiry given to AWS/);
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

  it('only the holder hands a lease back, and the work is due again at once', () => {
    const held = inState('REVOKING', { leaseOwner: 'replica-b', dueAt: Date.parse(NOW) + 60_000 });
    const t = decide(held, EVENTS.release, ctx());
    expect(t.set).toEqual({ leaseOwner: undefined, dueAt: Date.parse(NOW) });
    expect(t.audit).toMatchObject({ action: 'release-revoke', actor: 'system', from: 'REVOKING', to: 'REVOKING', details: { owner: 'replica-b' } });
    expect(() => decide(inState('REVOKING', { leaseOwner: 'replica-c' }), EVENTS.release, ctx())).toThrow(/not held by replica-b/);
    expect(() => decide(inState('GRANTING'), EVENTS.release, ctx())).toThrow(InvalidTransitionError);
  });

  it('counts retries and alerts once asked to', () => {
    const r = inState('REVOKING', { attempts: 4 });
    const t = decide(r, { type: 'revoke-retry', error: 'boom', code: 'aws-error', ref: 'REF00004', retryAt: 1, alert: STILL_FAILING }, ctx());
    // The code and the reference are what people see; AWS's message stays in the audit under the reference.
    expect(t.set).toMatchObject({ attempts: 5, dueAt: 1, failure: 'aws-error', failureRef: 'REF00004', flagged: true });
    expect(t.audit?.details).toMatchObject({ code: 'aws-error', ref: 'REF00004', error: 'boom' });
    expect(t.notify).toEqual([expect.objectContaining({ kind: 'channel.alert', problem: STILL_FAILING })]);
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

// ---------------------------------------------------------------- approval policy

const MIN = 60_000;
const apply = (r: AccessRequest, e: LifecycleEvent, now = NOW) => applyTransition(r, decide(r, e, ctx(now)));
const approve = (actor: string, required: number, extra: { comment?: string; durationMs?: number } = {}): LifecycleEvent => ({ type: 'approve', actor, required, ...extra });

describe('quorum approvals', () => {
  it('stays PENDING until the required number of distinct approvers said yes', () => {
    const r0 = inState('PENDING', { durationMs: 60 * MIN });
    const t1 = decide(r0, approve('U0ALICE', 3, { comment: 'ok by me' }), ctx());
    expect(t1.status).toBe('PENDING');
    expect(t1.set).toEqual({ approvals: [{ by: 'U0ALICE', at: NOW, comment: 'ok by me' }], approvalsRequired: 3 });
    expect(t1.notify!.map((n) => n.kind)).toEqual(['approval.update']);
    expect(t1.audit).toMatchObject({ actor: 'U0ALICE', action: 'approve', from: 'PENDING', to: 'PENDING', details: { approvals: '1 of 3', comment: 'ok by me' } });
    // Still due at its deadline; no lease, no decision yet.
    expect('dueAt' in t1.set).toBe(false);
    expect('decidedBy' in t1.set).toBe(false);

    const r1 = applyTransition(r0, t1);
    const r2 = apply(r1, approve('U0BOB', 3), '2026-11-22T10:11:00.000Z');
    expect(r2.status).toBe('PENDING');
    expect(r2.approvals!.map((a) => a.by)).toEqual(['U0ALICE', 'U0BOB']);
    expect(r2.audit.at(-1)!.details).toEqual({ approvals: '2 of 3' });

    const t3 = decide(r2, approve('U0CAROL', 3), ctx('2026-11-22T10:12:00.000Z'));
    expect(t3.status).toBe('GRANTING');
    expect(t3.set).toMatchObject({ approvedVia: 'approvers', decidedBy: 'U0CAROL', decidedAt: '2026-11-22T10:12:00.000Z', approvalsRequired: 3, leaseOwner: 'replica-a', dueAt: Date.parse('2026-11-22T10:12:00.000Z') + 60_000 });
    expect((t3.set.approvals as unknown[]).length).toBe(3);
    expect(t3.audit!.details).toEqual({ approvals: '3 of 3' });
    // Not narrowed: the asked duration stands.
    expect('durationMs' in t3.set).toBe(false);
    expect('requestedDurationMs' in t3.set).toBe(false);
  });

  it('one approval is enough when one is required', () => {
    const t = decide(inState('PENDING'), approve('U0ALICE', 1), ctx());
    expect(t.status).toBe('GRANTING');
    expect(t.audit!.details).toEqual({ approvals: '1 of 1' });
  });

  it('refuses the same approver twice', () => {
    const r = apply(inState('PENDING'), approve('U0ALICE', 2));
    expect(() => decide(r, approve('U0ALICE', 2), ctx())).toThrow(InvalidTransitionError);
    expect(() => decide(r, approve('U0ALICE', 2), ctx())).toThrow(/U0ALICE already approved/);
  });

  it('the shortest duration any approver allowed wins, and the asked duration is kept', () => {
    const r0 = inState('PENDING', { durationMs: 60 * MIN });
    const r1 = apply(r0, approve('U0ALICE', 3, { durationMs: 30 * MIN }));
    expect(r1.approvals![0]).toMatchObject({ by: 'U0ALICE', durationMs: 30 * MIN });
    expect(r1.audit.at(-1)!.details).toMatchObject({ narrowedTo: String(30 * MIN) });
    expect(r1.durationMs).toBe(60 * MIN);
    const r2 = apply(r1, approve('U0BOB', 3, { durationMs: 45 * MIN }));
    const t = decide(r2, approve('U0CAROL', 3), ctx());
    expect(t.status).toBe('GRANTING');
    expect(t.set).toMatchObject({ durationMs: 30 * MIN, requestedDurationMs: 60 * MIN });
    expect(t.audit!.details).toMatchObject({ durationMs: String(30 * MIN), requestedDurationMs: String(60 * MIN) });
  });

  it('a single narrowing approver shortens the grant', () => {
    const r = apply(inState('PENDING', { durationMs: 60 * MIN }), approve('U0ALICE', 1, { durationMs: 15 * MIN, comment: 'a quarter is enough' }));
    expect(r).toMatchObject({ status: 'GRANTING', durationMs: 15 * MIN, requestedDurationMs: 60 * MIN, decidedBy: 'U0ALICE' });
    expect(r.approvals).toEqual([{ by: 'U0ALICE', at: NOW, comment: 'a quarter is enough', durationMs: 15 * MIN }]);
  });

  it('any deny ends a partly approved request', () => {
    const r = apply(inState('PENDING'), approve('U0ALICE', 2));
    const denied = apply(r, { type: 'deny', actor: 'U0BOB' });
    expect(denied).toMatchObject({ status: 'DENIED', decidedBy: 'U0BOB' });
    expect(denied.approvals).toHaveLength(1);
  });
});

describe('deny with a comment', () => {
  it('keeps the note on the request and in the audit', () => {
    const t = decide(inState('PENDING'), { type: 'deny', actor: 'U0APPROVER', comment: 'use staging' }, ctx());
    expect(t.set).toEqual({ decidedBy: 'U0APPROVER', decidedAt: NOW, dueAt: undefined, decisionComment: 'use staging', purgeAt: PURGE_AT_DEFAULT });
    expect(t.audit).toMatchObject({ actor: 'U0APPROVER', action: 'deny', details: { comment: 'use staging' } });
  });

  it('without a note, stores none', () => {
    const t = decide(inState('PENDING'), { type: 'deny', actor: 'U0APPROVER' }, ctx());
    expect('decisionComment' in t.set).toBe(false);
    expect(t.audit!.details).toBeUndefined();
  });
});

describe('auto-approval and break-glass', () => {
  it('auto-approve: PENDING → GRANTING under a lease, decided by policy, the rule audited', () => {
    const t = decide(inState('PENDING'), { type: 'auto-approve', rule: 'dev-30m' }, ctx());
    expect(t.status).toBe('GRANTING');
    expect(t.set).toEqual({ approvedVia: 'auto', policyRule: 'dev-30m', decidedAt: NOW, leaseOwner: 'replica-a', dueAt: Date.parse(NOW) + 60_000 });
    expect(t.audit).toEqual({ at: NOW, actor: 'policy', action: 'auto-approve', from: 'PENDING', to: 'GRANTING', details: { rule: 'dev-30m' } });
    expect(t.notify).toEqual([]);
  });

  it('break-glass: PENDING → GRANTING under a lease, flagged, audited as the requester’s, a loud channel alert', () => {
    const r = inState('PENDING', { requesterId: 'U0ONCALL' });
    const t = decide(r, { type: 'break-glass' }, ctx());
    expect(t.status).toBe('GRANTING');
    expect(t.set).toEqual({ approvedVia: 'break-glass', breakGlass: true, decidedAt: NOW, leaseOwner: 'replica-a', dueAt: Date.parse(NOW) + 60_000 });
    expect(t.audit).toEqual({ at: NOW, actor: 'U0ONCALL', action: 'break-glass', from: 'PENDING', to: 'GRANTING', details: { breakGlass: 'true' } });
    expect(t.notify!.map((n) => n.kind)).toEqual(['channel.break-glass']);
  });

  it('neither applies to a request that has left PENDING', () => {
    for (const status of ['GRANTING', 'ACTIVE', 'DENIED'] as const) {
      expect(() => decide(inState(status), { type: 'auto-approve', rule: 'x' }, ctx())).toThrow(InvalidTransitionError);
      expect(() => decide(inState(status), { type: 'break-glass' }, ctx())).toThrow(InvalidTransitionError);
    }
  });
});

describe('reminders', () => {
  const deadline = '2026-11-22T10:30:00.000Z';

  it('counts reminders and is due again at the next one', () => {
    const r1 = apply(inState('PENDING', { approvalDeadline: deadline }), { type: 'remind', nextAt: Date.parse('2026-11-22T10:20:00.000Z') });
    expect(r1).toMatchObject({ status: 'PENDING', remindersSent: 1, dueAt: Date.parse('2026-11-22T10:20:00.000Z') });
    expect(r1.audit.at(-1)).toMatchObject({ actor: 'system', action: 'remind', details: { reminder: '1' } });
    expect(Object.values(r1.outbox).map((n) => n.kind)).toEqual(['approval.reminder']);
    const r2 = apply(r1, { type: 'remind', nextAt: Date.parse('2026-11-22T10:25:00.000Z') }, '2026-11-22T10:20:00.000Z');
    expect(r2.remindersSent).toBe(2);
  });

  it.each<[string, number | undefined, string]>([
    ['the next reminder before the deadline', Date.parse('2026-11-22T10:20:00.000Z'), '2026-11-22T10:20:00.000Z'],
    ['a next reminder past the deadline is capped by it', Date.parse('2026-11-22T10:45:00.000Z'), deadline],
    ['no next reminder: due at the deadline', undefined, deadline],
  ])('dueAt: %s', (_name, nextAt, due) => {
    const t = decide(inState('PENDING', { approvalDeadline: deadline }), { type: 'remind', ...(nextAt !== undefined ? { nextAt } : {}) }, ctx());
    expect(t.set.dueAt).toBe(Date.parse(due));
  });

  it('is refused at and after the deadline', () => {
    expect(() => decide(inState('PENDING', { approvalDeadline: NOW }), { type: 'remind' }, ctx())).toThrow(/approval deadline passed/);
    expect(() => decide(inState('PENDING', { approvalDeadline: '2026-11-22T10:00:00.000Z' }), { type: 'remind' }, ctx())).toThrow(InvalidTransitionError);
  });
});

describe('review of break-glass access', () => {
  it.each<RequestStatus>(['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING', 'REVOKED', 'FAILED', 'DENIED', 'EXPIRED', 'CANCELLED'])('is accepted once in %s, leaving the status alone', (status) => {
    const r = inState(status, { breakGlass: true, leaseOwner: 'replica-z', dueAt: 123 });
    const t = decide(r, { type: 'review', actor: 'U0LEAD' }, ctx());
    expect(t).toMatchObject({ expectStatus: status, expectVersion: 4, status, set: { reviewedBy: 'U0LEAD', reviewedAt: NOW } });
    // The decision, the lease and the schedule are untouched.
    expect(Object.keys(t.set).sort()).toEqual(['reviewedAt', 'reviewedBy']);
    expect(t.audit).toEqual({ at: NOW, actor: 'U0LEAD', action: 'review', from: status, to: status });
    const reviewed = applyTransition(r, t);
    expect(() => decide(reviewed, { type: 'review', actor: 'U0OTHER' }, ctx())).toThrow(/already reviewed/);
  });

  it('is refused for a request that was not break-glass', () => {
    expect(() => decide(inState('ACTIVE'), { type: 'review', actor: 'U0LEAD' }, ctx())).toThrow(/not a break-glass request/);
    expect(() => decide(inState('REVOKED', { approvedVia: 'auto' }), { type: 'review', actor: 'U0LEAD' }, ctx())).toThrow(InvalidTransitionError);
  });
});

describe('extensions', () => {
  // Granted at 10:00 for 30m; now 10:10, the expiry warning (5m before) not yet sent.
  const active = (extra: Partial<AccessRequest> = {}) =>
    inState('ACTIVE', { grant, grantedAt: '2026-11-22T10:00:00.000Z', expiresAt: '2026-11-22T10:30:00.000Z', warnAt: '2026-11-22T10:25:00.000Z', warned: false, dueAt: Date.parse('2026-11-22T10:25:00.000Z'), ...extra });
  const extend = (extensionId: string, durationMs: number): LifecycleEvent => ({ type: 'extend', extensionId, durationMs, actor: 'U0APPROVER' });

  it('moves the expiry of the ACTIVE grant without a gap, and the warning with it', () => {
    const r = active();
    const t = decide(r, extend('jit-ext1', 30 * MIN), ctx());
    expect(t.status).toBe('ACTIVE');
    expect(t.set).toEqual({
      expiresAt: '2026-11-22T11:00:00.000Z',
      warnAt: '2026-11-22T10:55:00.000Z',
      warned: false,
      dueAt: Date.parse('2026-11-22T10:55:00.000Z'),
      extensions: [{ id: 'jit-ext1', durationMs: 30 * MIN, at: NOW }],
    });
    expect(t.audit).toMatchObject({ actor: 'U0APPROVER', action: 'extend', details: { extension: 'jit-ext1', durationMs: String(30 * MIN), previousExpiresAt: '2026-11-22T10:30:00.000Z', expiresAt: '2026-11-22T11:00:00.000Z' } });
    expect(t.notify!.map((n) => n.kind)).toEqual(['approval.update', 'dm.extended']);
    // The grant itself (the AWS rule) is the same one.
    expect('grant' in t.set).toBe(false);
  });

  it('resets the warning of an already-warned grant', () => {
    const r = active({ warned: true, dueAt: Date.parse('2026-11-22T10:30:00.000Z') });
    const t = decide(r, extend('jit-ext1', 60 * MIN), ctx('2026-11-22T10:27:00.000Z'));
    expect(t.set).toMatchObject({ expiresAt: '2026-11-22T11:30:00.000Z', warnAt: '2026-11-22T11:25:00.000Z', warned: false, dueAt: Date.parse('2026-11-22T11:25:00.000Z') });
  });

  it('does not warn twice when the new warning time has already passed', () => {
    // Warned at 10:25; at 10:29 a 2m extension puts expiry at 10:32, its warning (10:27) is behind us.
    const r = active({ warned: true, dueAt: Date.parse('2026-11-22T10:30:00.000Z') });
    const t = decide(r, extend('jit-ext1', 2 * MIN), ctx('2026-11-22T10:29:00.000Z'));
    expect(t.set).toMatchObject({ expiresAt: '2026-11-22T10:32:00.000Z', warned: true, dueAt: Date.parse('2026-11-22T10:32:00.000Z') });
  });

  it('keeps every extension, oldest first', () => {
    const r1 = apply(active(), extend('jit-ext1', 30 * MIN));
    const r2 = apply(r1, extend('jit-ext2', 15 * MIN), '2026-11-22T10:40:00.000Z');
    expect(r2.expiresAt).toBe('2026-11-22T11:15:00.000Z');
    expect(r2.extensions!.map((x) => x.id)).toEqual(['jit-ext1', 'jit-ext2']);
    expect(r2.grantedAt).toBe('2026-11-22T10:00:00.000Z');
  });

  it('refuses an extension it already applied (a retried apply is not a second extension)', () => {
    const r = apply(active(), extend('jit-ext1', 30 * MIN));
    expect(() => decide(r, extend('jit-ext1', 30 * MIN), ctx())).toThrow(/jit-ext1 already applied/);
  });

  it('refuses to extend a grant that has expired or is not active', () => {
    expect(() => decide(active(), extend('jit-ext1', 30 * MIN), ctx('2026-11-22T10:30:00.000Z'))).toThrow(/already expired/);
    expect(() => decide(active({ expiresAt: undefined }), extend('jit-ext1', 30 * MIN), ctx())).toThrow(/not granted/);
    for (const status of ['PENDING', 'GRANTING', 'REVOKING', 'REVOKED'] as const) {
      expect(() => decide(inState(status, { grantedAt: '2026-11-22T10:00:00.000Z', expiresAt: '2026-11-22T10:30:00.000Z' }), extend('jit-ext1', 30 * MIN), ctx())).toThrow(InvalidTransitionError);
    }
  });

  it('extended: the extension request is done once its time was added to the grant', () => {
    const ext = inState('GRANTING', { extends: 'jit-parent', leaseOwner: 'replica-a', attempts: 2, failure: 'x', approvedVia: 'auto' });
    const t = decide(ext, { type: 'extended', parentId: 'jit-parent', expiresAt: '2026-11-22T11:00:00.000Z' }, ctx());
    expect(t.status).toBe('EXTENDED');
    expect(t.set).toEqual({ grantedAt: NOW, expiresAt: '2026-11-22T11:00:00.000Z', dueAt: undefined, leaseOwner: undefined, failure: undefined, attempts: undefined, purgeAt: PURGE_AT_DEFAULT });
    expect(t.audit).toMatchObject({ actor: 'system', action: 'extended', from: 'GRANTING', to: 'EXTENDED', details: { extends: 'jit-parent', expiresAt: '2026-11-22T11:00:00.000Z' } });
    const done = applyTransition(ext, t);
    expect(done.status).toBe('EXTENDED');
    expect('dueAt' in done).toBe(false);
  });

  it('extended: refused for a request that is not an extension', () => {
    expect(() => decide(inState('GRANTING'), { type: 'extended', parentId: 'jit-parent', expiresAt: '2026-11-22T11:00:00.000Z' }, ctx())).toThrow(/not an extension/);
  });

  it('an extension request is decided through the same PENDING machinery', () => {
    const ext = inState('PENDING', { extends: 'jit-parent', durationMs: 30 * MIN });
    expect(decide(ext, approve('U0ALICE', 1, { durationMs: 10 * MIN }), ctx()).set).toMatchObject({ durationMs: 10 * MIN, requestedDurationMs: 30 * MIN });
    expect(decide(ext, { type: 'auto-approve', rule: 'dev' }, ctx()).status).toBe('GRANTING');
  });
});

describe('retention: purgeAt on resolution', () => {
  const DAY = 86_400_000;
  const resolveCtx = (retentionMs?: number): LifecycleContext => ({ ...ctx(), ...(retentionMs !== undefined ? { retentionMs } : {}) });
  const live = (['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING'] as RequestStatus[]).filter((s) => !TERMINAL_STATUSES.includes(s));
  const extra: Partial<AccessRequest> = { grant, expiresAt: NOW, approvalDeadline: NOW, leaseOwner: 'replica-b', extends: 'jit-parent' };

  // Every transition the table allows from a live status, with its outcome.
  const moves = live.flatMap((from) =>
    acceptedEvents(from).flatMap((type) => {
      try {
        return [{ from, type, t: decide(inState(from, extra), EVENTS[type], resolveCtx(30 * DAY)) }];
      } catch {
        return []; // not applicable with these fields (e.g. a review of a non-break-glass request)
      }
    }),
  );

  it('every transition INTO a resolved status writes purgeAt = now + retention, in epoch seconds, in the same write', () => {
    const resolving = moves.filter((m) => TERMINAL_STATUSES.includes(m.t.status));
    // Each resolved status is reachable, and each such write carries purgeAt.
    expect(new Set(resolving.map((m) => m.t.status))).toEqual(new Set(TERMINAL_STATUSES));
    for (const m of resolving) expect([m.from, m.type, m.t.set.purgeAt]).toEqual([m.from, m.type, Math.floor((Date.parse(NOW) + 30 * DAY) / 1000)]);
  });

  it('live requests never get purgeAt: TTL is not revocation', () => {
    const staying = moves.filter((m) => !TERMINAL_STATUSES.includes(m.t.status));
    expect(staying.length).toBeGreaterThan(10);
    for (const m of staying) expect([m.from, m.type, 'purgeAt' in m.t.set]).toEqual([m.from, m.type, false]);
  });

  it('defaults to 400 days when the context names no retention', () => {
    const t = decide(inState('PENDING'), EVENTS.deny, resolveCtx());
    expect(t.set.purgeAt).toBe(Math.floor((Date.parse(NOW) + 400 * DAY) / 1000));
  });

  it('a review of a resolved break-glass request keeps its purgeAt (not extended, not removed)', () => {
    const t = decide(inState('REVOKED', { breakGlass: true, purgeAt: 123 }), EVENTS.review, resolveCtx(30 * DAY));
    expect('purgeAt' in t.set).toBe(false);
    expect(applyTransition(inState('REVOKED', { breakGlass: true, purgeAt: 123 }), t).purgeAt).toBe(123);
  });
});

describe('refuse: the policy decided again and refuses (issue 10 item 1)', () => {
  it.each<RequestStatus>(['PENDING', 'GRANTING'])('%s → DENIED by policy in one write, approvals kept but overridden, nothing due, no lease', (status) => {
    const r = inState(status, { approvals: [{ by: 'U0APPROVER', at: NOW }], leaseOwner: 'replica-a', dueAt: 1 });
    const t = decide(r, { type: 'refuse', code: 'deny-rule', rule: 'no-nights', message: 'Refused by the deny rule `no-nights`.' }, ctx());
    expect(t).toMatchObject({ expectStatus: status, expectVersion: r.version, status: 'DENIED' });
    expect(t.set).toMatchObject({ refusal: { code: 'deny-rule', rule: 'no-nights' }, dueAt: undefined, leaseOwner: undefined });
    expect('dueAt' in t.set && 'leaseOwner' in t.set).toBe(true);
    expect(t.audit).toMatchObject({ actor: 'policy', action: 'policy-refuse', from: status, to: 'DENIED', details: { reason: 'deny-rule', rule: 'no-nights', approvalsOverridden: 'U0APPROVER' } });
    expect(t.notify!.map((n) => n.kind)).toEqual(['approval.update', 'dm.denied']);
  });

  it.each<RequestStatus>(['ACTIVE', 'REVOKING', 'DENIED', 'FAILED'])('is not accepted when %s', (status) => {
    expect(() => decide(inState(status), { type: 'refuse', code: 'target-gone', message: 'gone' }, ctx())).toThrow(InvalidTransitionError);
  });
});

describe('edge notifications: the audit line and the App Home refresh', () => {
  const edge = (now = NOW): LifecycleContext => ({ ...ctx(now), auditLines: true, homeRefresh: true });

  it('with the audit channel on, every transition queues one audit line carrying its own audit record, in the same write', () => {
    for (const [status, event] of [
      ['PENDING', EVENTS.approve],
      ['GRANTING', EVENTS['grant-retry']],
      ['GRANTING', EVENTS.claim],
      ['REVOKING', EVENTS.revoked],
    ] as [RequestStatus, LifecycleEvent][]) {
      const t = decide(inState(status, { leaseOwner: 'replica-a' }), event, edge());
      const lines = (t.notify ?? []).filter((n) => n.kind === 'channel.audit');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.entry).toEqual(t.audit);
    }
  });

  it('with both off (the default), nothing extra is queued', () => {
    const t = decide(inState('PENDING'), EVENTS.deny, ctx());
    expect((t.notify ?? []).map((n) => n.kind)).toEqual(['approval.update', 'dm.denied']);
  });

  it('two transitions in the same millisecond are delivered in their order (the ids sort by version first)', () => {
    let r = inState('PENDING', { approvalsRequired: 2, version: 9 });
    r = applyTransition(r, decide(r, { type: 'approve', actor: 'U0APPROVER', required: 2 }, { ...edge(), newId: () => 'zz' }));
    r = applyTransition(r, decide(r, { type: 'approve', actor: 'U0APPROVER2', required: 2 }, { ...edge(), newId: () => 'aa' }));
    const lines = Object.values(r.outbox)
      .filter((n) => n.kind === 'channel.audit')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    expect(lines.map((n) => [n.entry?.actor, n.entry?.to])).toEqual([
      ['U0APPROVER', 'PENDING'],
      ['U0APPROVER2', 'GRANTING'],
    ]);
  });

  it("refreshes the requester's home when what it shows changes, and the home of the human who acted", () => {
    const homes = (t: ReturnType<typeof decide>) => (t.notify ?? []).filter((n) => n.kind === 'home.refresh').map((n) => n.userId ?? 'requester');
    expect(homes(decide(inState('PENDING'), EVENTS.deny, edge()))).toEqual(['requester', 'U0APPROVER']);
    expect(homes(decide(inState('PENDING'), EVENTS.withdraw, edge()))).toEqual(['requester']); // the requester acted
    expect(homes(decide(inState('GRANTING'), EVENTS.granted, edge()))).toEqual(['requester']); // the system acted
    expect(homes(decide(inState('GRANTING', { leaseOwner: 'replica-a' }), EVENTS.claim, edge()))).toEqual([]); // nothing the home shows
    expect(homes(decide(inState('PENDING'), EVENTS.remind, edge('2026-11-22T09:00:00.000Z')))).toEqual([]);
    // Access being revoked is still access: the home changes when AWS confirmed the revoke.
    expect(homes(decide(inState('ACTIVE'), EVENTS.revoke, edge()))).toEqual([]);
    expect(homes(decide(inState('REVOKING'), EVENTS.revoked, edge()))).toEqual(['requester']);
    expect(homes(decide(inState('GRANTING'), EVENTS['grant-failed'], edge()))).toEqual([]); // GRANTING is not on the home
  });
});
