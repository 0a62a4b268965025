/**
 * The request lifecycle as a pure state machine: (request, event, context) → the one
 * conditional write that moves it on, with its audit record and the notifications it owes.
 * Nothing here does I/O; the service applies the result through the store.
 */
import { type FailureCode, InvalidTransitionError, type Problem, type RefusalCode } from './domain/errors';
import { DEFAULT_RETENTION_MS, purgeAtFor } from './domain/retention';
import { type AccessRequest, type AuditEntry, type Grant, grantAuditIds, isTerminal, type Notification, type NotificationKind, type RequestStatus } from './domain/types';
import type { Transition } from './ports';

export type LifecycleEvent =
  /** One approver's yes; the request is granted once `required` distinct approvers said yes. */
  | { type: 'approve'; actor: string; required: number; comment?: string; durationMs?: number }
  | { type: 'deny'; actor: string; comment?: string }
  /** Granted by policy at submission (applied to the new request before it is first stored). */
  | { type: 'auto-approve'; rule: string }
  | { type: 'break-glass' }
  /** Approvers are reminded; `nextAt` is the next reminder (the deadline when absent). */
  | { type: 'remind'; nextAt?: number }
  /** An approver marks a break-glass request as reviewed (allowed in any status, once). */
  | { type: 'review'; actor: string }
  /** On an ACTIVE grant: an approved extension request moves its expiry. */
  | { type: 'extend'; extensionId: string; durationMs: number; actor: string }
  /** On the extension request: its time was added to the grant. */
  | { type: 'extended'; parentId: string; expiresAt: string }
  | { type: 'withdraw'; actor: string }
  | { type: 'approval-timeout' }
  /**
   * AWS granted access until `expiresAt`: exactly the expiry the provider was given (ISO), so the
   * stored expiry and AWS's agree. grantedAt is the clock reading it was derived from
   * (expiresAt - durationMs), so a grant's time so far is exactly what was granted.
   */
  | { type: 'granted'; grant: Grant; expiresAt: string }
  /**
   * The policy, decided again (approval click, grant attempt, extension), now refuses it: it ends
   * DENIED by "policy", whatever approvals were recorded. `error` is the policy's explanation (audit only).
   */
  /** `message`: why, in plain words for the audit (the policy's reason); people read `code` through blocks/. */
  | { type: 'refuse'; code: RefusalCode; rule?: string; message: string }
  /** `error` is AWS's raw message: audit only, under `ref`; people see `code` and `ref`. */
  | { type: 'grant-failed'; error: string; code: FailureCode; ref: string }
  | { type: 'grant-retry'; error: string; code: FailureCode; ref: string; retryAt: number }
  | { type: 'warn' }
  | { type: 'expire' }
  | { type: 'revoke'; actor: string }
  | { type: 'revoked'; removed: boolean; outcome: 'verified' | 'released'; holders?: string[]; sessions?: string[] }
  | { type: 'revoke-retry'; error: string; code: FailureCode; ref: string; retryAt: number; alert?: Problem }
  | { type: 'claim'; owner: string }
  /** A replica shutting down hands back the intent it holds, so another takes it at once. */
  | { type: 'release'; owner: string };

export interface LifecycleContext {
  now: Date;
  /** How long the replica that stored an intent (GRANTING, REVOKING) owns it before another may take over. */
  leaseMs: number;
  /**
   * How long a resolved request is kept: every transition INTO a terminal status writes
   * `purgeAt` = now + retentionMs (epoch seconds) in the same conditional write. Default DEFAULT_RETENTION_MS.
   */
  retentionMs?: number;
  /** Warn this long before expiry, or at 80% of grants shorter than five times this. */
  expiryWarningMs: number;
  /** The replica applying the event (lease owner). */
  owner: string;
  newId(): string;
  /** The audit channel is on: every transition also queues its audit line ('channel.audit', carrying the entry). */
  auditLines?: boolean;
  /** The App Home tab is on: a transition that changes what the requester's home shows queues 'home.refresh'. */
  homeRefresh?: boolean;
}

type Handler = (r: AccessRequest, e: never, ctx: LifecycleContext) => Step;
interface Step {
  status: RequestStatus;
  action: string;
  actor: string;
  set?: Transition['set'];
  notify?: NotificationKind[];
  details?: Record<string, string>;
  noteText?: string;
  /** What a notification must say, as a code (blocks/ has the words). */
  noteProblem?: Problem;
}

const SYSTEM = 'system';
const POLICY = 'policy';

/** Which events each status accepts. Anything else is an InvalidTransitionError. */
const TABLE: Partial<Record<RequestStatus, Partial<Record<LifecycleEvent['type'], Handler>>>> = {
  PENDING: {
    approve: (r, e: Extract<LifecycleEvent, { type: 'approve' }>, ctx) => {
      const earlier = r.approvals ?? [];
      if (earlier.some((a) => a.by === e.actor)) throw new InvalidTransitionError(`${r.id}: ${e.actor} already approved`);
      const approvals = [...earlier, { by: e.actor, at: iso(ctx.now), ...(e.comment ? { comment: e.comment } : {}), ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) }];
      const progress = { approvals: `${approvals.length} of ${e.required}`, ...(e.comment ? { comment: e.comment } : {}), ...(e.durationMs !== undefined ? { narrowedTo: String(e.durationMs) } : {}) };
      if (approvals.length < e.required) {
        return { status: 'PENDING', action: 'approve', actor: e.actor, set: { approvals, approvalsRequired: e.required }, notify: ['approval.update'], details: progress };
      }
      // The shortest duration any approver allowed wins.
      const durationMs = Math.min(r.durationMs, ...approvals.map((a) => a.durationMs ?? r.durationMs));
      const narrowed = durationMs < r.durationMs ? { durationMs, requestedDurationMs: r.durationMs } : {};
      return {
        status: 'GRANTING',
        action: 'approve',
        actor: e.actor,
        set: { approvals, approvalsRequired: e.required, approvedVia: 'approvers', decidedBy: e.actor, decidedAt: iso(ctx.now), ...narrowed, ...lease(ctx) },
        notify: ['approval.update'],
        details: { ...progress, ...(narrowed.durationMs !== undefined ? { durationMs: String(durationMs), requestedDurationMs: String(r.durationMs) } : {}) },
      };
    },
    deny: (r, e: Extract<LifecycleEvent, { type: 'deny' }>, ctx) => ({
      status: 'DENIED',
      action: 'deny',
      actor: e.actor,
      set: { decidedBy: e.actor, decidedAt: iso(ctx.now), dueAt: undefined, ...(e.comment ? { decisionComment: e.comment } : {}) },
      notify: ['approval.update', 'dm.denied'],
      ...(e.comment ? { details: { comment: e.comment } } : {}),
    }),
    'auto-approve': (r, e: Extract<LifecycleEvent, { type: 'auto-approve' }>, ctx) => ({
      status: 'GRANTING',
      action: 'auto-approve',
      actor: POLICY,
      set: { approvedVia: 'auto', policyRule: e.rule, decidedAt: iso(ctx.now), ...lease(ctx) },
      details: { rule: e.rule },
    }),
    'break-glass': (r, _e, ctx) => ({
      status: 'GRANTING',
      action: 'break-glass',
      actor: r.requesterId,
      set: { approvedVia: 'break-glass', breakGlass: true, decidedAt: iso(ctx.now), ...lease(ctx) },
      notify: ['channel.break-glass'],
      details: { breakGlass: 'true' },
    }),
    remind: (r, e: Extract<LifecycleEvent, { type: 'remind' }>, ctx) => {
      const deadline = Date.parse(r.approvalDeadline);
      if (ctx.now.getTime() >= deadline) throw new InvalidTransitionError(`${r.id}: approval deadline passed`);
      const sent = (r.remindersSent ?? 0) + 1;
      return {
        status: 'PENDING',
        action: 'remind',
        actor: SYSTEM,
        set: { remindersSent: sent, dueAt: Math.min(e.nextAt ?? deadline, deadline) },
        notify: ['approval.reminder'],
        details: { reminder: String(sent) },
      };
    },
    withdraw: (r, e: Extract<LifecycleEvent, { type: 'withdraw' }>, ctx) => ({
      status: 'CANCELLED',
      action: 'withdraw',
      actor: e.actor,
      set: { endedBy: e.actor, endedAt: iso(ctx.now), dueAt: undefined },
      notify: ['approval.update'],
    }),
    refuse: refuseStep,
    'approval-timeout': (r, _e, ctx) => {
      if (ctx.now.getTime() < Date.parse(r.approvalDeadline)) throw new InvalidTransitionError(`${r.id}: approval deadline not reached`);
      return { status: 'EXPIRED', action: 'approval-timeout', actor: SYSTEM, set: { dueAt: undefined }, notify: ['approval.update', 'dm.timeout'] };
    },
  },
  GRANTING: {
    granted: (r, e: Extract<LifecycleEvent, { type: 'granted' }>, ctx) => {
      const expiresAt = Date.parse(e.expiresAt);
      if (!Number.isFinite(expiresAt)) throw new InvalidTransitionError(`"granted" needs the expiry given to AWS, got ${JSON.stringify(e.expiresAt)}`);
      const warnAt = expiresAt - Math.min(ctx.expiryWarningMs, Math.round(r.durationMs * 0.2));
      return {
        status: 'ACTIVE',
        action: 'grant',
        actor: SYSTEM,
        set: { grant: e.grant, grantedAt: iso(expiresAt - r.durationMs), expiresAt: iso(expiresAt), warnAt: iso(warnAt), warned: false, dueAt: warnAt, leaseOwner: undefined, failure: undefined, attempts: undefined },
        notify: ['approval.update', 'dm.granted'],
        details: grantAuditIds(e.grant),
      };
    },
    'grant-failed': (r, e: Extract<LifecycleEvent, { type: 'grant-failed' }>) => ({
      status: 'FAILED',
      action: 'grant-failed',
      actor: SYSTEM,
      set: { failure: e.code, failureRef: e.ref, dueAt: undefined, leaseOwner: undefined },
      notify: ['approval.update', 'dm.failed'],
      details: { code: e.code, ref: e.ref, error: e.error },
    }),
    'grant-retry': (r, e: Extract<LifecycleEvent, { type: 'grant-retry' }>) => ({
      status: 'GRANTING',
      action: 'grant-retry',
      actor: SYSTEM,
      set: { failure: e.code, failureRef: e.ref, dueAt: e.retryAt, leaseOwner: undefined, attempts: (r.attempts ?? 0) + 1 },
      details: { code: e.code, ref: e.ref, error: e.error, retryAt: iso(e.retryAt) },
    }),
    extended: (r, e: Extract<LifecycleEvent, { type: 'extended' }>, ctx) => {
      if (!r.extends) throw new InvalidTransitionError(`${r.id}: not an extension`);
      return {
        status: 'EXTENDED',
        action: 'extended',
        actor: SYSTEM,
        set: { grantedAt: iso(ctx.now), expiresAt: e.expiresAt, dueAt: undefined, leaseOwner: undefined, failure: undefined, attempts: undefined },
        notify: ['approval.update'],
        details: { extends: e.parentId, expiresAt: e.expiresAt },
      };
    },
    refuse: refuseStep,
    claim: claimStep('claim-grant'),
    release: releaseStep('release-grant'),
  },
  ACTIVE: {
    extend: (r, e: Extract<LifecycleEvent, { type: 'extend' }>, ctx) => {
      if (!r.expiresAt || !r.grantedAt) throw new InvalidTransitionError(`${r.id}: not granted`);
      if ((r.extensions ?? []).some((x) => x.id === e.extensionId)) throw new InvalidTransitionError(`${r.id}: ${e.extensionId} already applied`);
      const now = ctx.now.getTime();
      const previous = Date.parse(r.expiresAt);
      if (now >= previous) throw new InvalidTransitionError(`${r.id}: already expired`);
      const expiresAt = previous + e.durationMs;
      const totalMs = expiresAt - Date.parse(r.grantedAt);
      const warnAt = expiresAt - Math.min(ctx.expiryWarningMs, Math.round(totalMs * 0.2));
      // Already warned and still inside the new warning window: no second warning right away.
      const warned = r.warned === true && warnAt <= now;
      return {
        status: 'ACTIVE',
        action: 'extend',
        actor: e.actor,
        set: { expiresAt: iso(expiresAt), warnAt: iso(warnAt), warned, dueAt: warned ? expiresAt : warnAt, extensions: [...(r.extensions ?? []), { id: e.extensionId, durationMs: e.durationMs, at: iso(now) }] },
        notify: ['approval.update', 'dm.extended'],
        details: { extension: e.extensionId, durationMs: String(e.durationMs), previousExpiresAt: r.expiresAt, expiresAt: iso(expiresAt) },
      };
    },
    warn: (r, _e, ctx) => {
      if (r.warned || !r.expiresAt) throw new InvalidTransitionError(`${r.id}: already warned`);
      return { status: 'ACTIVE', action: 'expiry-warning', actor: SYSTEM, set: { warned: true, dueAt: Date.parse(r.expiresAt) }, notify: ['dm.warning'] };
    },
    expire: (r, _e, ctx) => {
      if (!r.expiresAt || ctx.now.getTime() < Date.parse(r.expiresAt)) throw new InvalidTransitionError(`${r.id}: not expired yet`);
      return { status: 'REVOKING', action: 'expire', actor: SYSTEM, set: { endReason: 'expired', endedBy: SYSTEM, ...lease(ctx) } };
    },
    revoke: (r, e: Extract<LifecycleEvent, { type: 'revoke' }>, ctx) => ({
      status: 'REVOKING',
      action: 'revoke',
      actor: e.actor,
      set: { endReason: 'revoked', endedBy: e.actor, ...lease(ctx) },
    }),
  },
  REVOKING: {
    revoked: (r, e: Extract<LifecycleEvent, { type: 'revoked' }>, ctx) => ({
      status: 'REVOKED',
      action: 'revoked',
      actor: SYSTEM,
      set: { endedAt: iso(ctx.now), dueAt: undefined, leaseOwner: undefined, failure: undefined, attempts: undefined, revokeOutcome: e.outcome },
      notify: ['approval.update', 'dm.ended', 'thread.revoked'],
      details: { ...(r.grant ? grantAuditIds(r.grant) : {}), removed: String(e.removed), outcome: e.outcome, ...(e.holders?.length ? { stillHeldBy: e.holders.join(',') } : {}), ...(e.sessions?.length ? { sessionsEnded: e.sessions.join(',') } : {}) },
    }),
    'revoke-retry': (r, e: Extract<LifecycleEvent, { type: 'revoke-retry' }>) => ({
      status: 'REVOKING',
      action: 'revoke-retry',
      actor: SYSTEM,
      set: { failure: e.code, failureRef: e.ref, dueAt: e.retryAt, leaseOwner: undefined, attempts: (r.attempts ?? 0) + 1, ...(e.alert ? { flagged: true } : {}) },
      notify: e.alert ? ['channel.alert'] : [],
      ...(e.alert ? { noteProblem: e.alert } : {}),
      details: { code: e.code, ref: e.ref, error: e.error, retryAt: iso(e.retryAt) },
    }),
    claim: claimStep('claim-revoke'),
    release: releaseStep('release-revoke'),
  },
};

/** Events every status accepts (guarded by the handler). */
const ANY_STATUS: Partial<Record<LifecycleEvent['type'], Handler>> = {
  /**
   * The review mark of a break-glass request: the one change a resolved request accepts. It
   * records who looked at it; the decision and the grant are untouched.
   */
  review: (r, e: Extract<LifecycleEvent, { type: 'review' }>, ctx) => {
    if (!r.breakGlass) throw new InvalidTransitionError(`${r.id}: not a break-glass request`);
    if (r.reviewedBy) throw new InvalidTransitionError(`${r.id}: already reviewed`);
    return { status: r.status, action: 'review', actor: e.actor, set: { reviewedBy: e.actor, reviewedAt: iso(ctx.now) }, notify: ['approval.update'] };
  },
};

/** Applies an event. Throws InvalidTransitionError if the current status does not accept it. */
export function decide(request: AccessRequest, event: LifecycleEvent, ctx: LifecycleContext): Transition {
  const handler = TABLE[request.status]?.[event.type] ?? ANY_STATUS[event.type];
  if (!handler) throw new InvalidTransitionError(`${request.id}: "${event.type}" is not allowed when ${request.status}`);
  const step = (handler as (r: AccessRequest, e: LifecycleEvent, c: LifecycleContext) => Step)(request, event, ctx);
  const at = iso(ctx.now);
  // Resolved now: the record may be purged after the retention period (and not before).
  const set = !isTerminal(request.status) && isTerminal(step.status) ? { ...step.set, purgeAt: purgeAtFor(ctx.now, ctx.retentionMs ?? DEFAULT_RETENTION_MS) } : (step.set ?? {});
  const audit: AuditEntry = { at, actor: step.actor, action: step.action, from: request.status, to: step.status, ...(step.details ? { details: step.details } : {}) };
  // Ids sort in the order the transition lists them (the outbox delivers in id order within a time),
  // and by version first, so two transitions within one millisecond are delivered in their order.
  const seq = String(request.version).padStart(6, '0');
  const kinds: Edge[] = [...(step.notify ?? []).map((kind) => ({ kind })), ...edgeNotifications(request, step, ctx)];
  const notify: Notification[] = kinds.map(({ kind, userId }, i) => ({
    id: `${at}-${seq}-${i}-${ctx.newId()}`,
    kind,
    createdAt: at,
    ...(kind === 'channel.audit' ? { entry: audit } : {}),
    ...(userId ? { userId } : {}),
    ...(step.noteText && kind !== 'channel.audit' ? { text: step.noteText } : {}),
    ...(step.noteProblem && kind !== 'channel.audit' ? { problem: step.noteProblem } : {}),
  }));
  return { id: request.id, expectStatus: request.status, expectVersion: request.version, status: step.status, set, audit, notify };
}

type Edge = { kind: NotificationKind; userId?: string };

/**
 * What the edge surfaces owe for any transition: the requester's home when what it shows changed,
 * and the home of the person who acted (an approver's "Waiting on me" loses the request they
 * decided); other approvers see the change when they next open theirs. Then the audit line.
 */
function edgeNotifications(request: AccessRequest, step: Step, ctx: LifecycleContext): Edge[] {
  const out: Edge[] = [];
  if (ctx.homeRefresh && homeChanges(request.status, step)) {
    out.push({ kind: 'home.refresh' });
    if (step.actor !== request.requesterId && step.actor !== SYSTEM && step.actor !== POLICY) out.push({ kind: 'home.refresh', userId: step.actor });
  }
  if (ctx.auditLines) out.push({ kind: 'channel.audit' });
  return out;
}

/** Transitions that keep the status but change what the requester's home shows (approvals so far, the expiry). */
const HOME_ACTIONS = new Set(['approve', 'extend']);

/**
 * Does the requester's home change? It shows PENDING and ACTIVE requests. Access being revoked
 * still counts as access until AWS confirmed it (REVOKING → REVOKED refreshes; ACTIVE → REVOKING
 * does not, which also keeps that work out of the way of the revoke itself).
 */
function homeChanges(from: RequestStatus, step: Step): boolean {
  if (from === step.status) return HOME_ACTIONS.has(step.action);
  if (from === 'ACTIVE' && step.status === 'REVOKING') return false;
  return [from, step.status].some((s) => s === 'PENDING' || s === 'ACTIVE' || s === 'REVOKING');
}

/**
 * What a request owes the edge when it is first stored (before any event): its creation's audit
 * line and the requester's home. The ids sort after the approval message ("+post") and before
 * any transition of the same time ("-000001-…"): the approvers hear of it first.
 */
export function creationNotifications(request: AccessRequest, ctx: Pick<LifecycleContext, 'auditLines' | 'homeRefresh'>): Notification[] {
  const at = request.createdAt;
  const entry = request.audit[0];
  const out: Notification[] = [];
  if (ctx.homeRefresh) out.push({ id: `${at}-+x1-home`, kind: 'home.refresh', createdAt: at });
  if (ctx.auditLines && entry) out.push({ id: `${at}-+x2-line`, kind: 'channel.audit', createdAt: at, entry });
  return out;
}

/** Events a status accepts (for tests and docs). */
export function acceptedEvents(status: RequestStatus): LifecycleEvent['type'][] {
  return [...Object.keys(TABLE[status] ?? {}), ...Object.keys(ANY_STATUS)] as LifecycleEvent['type'][];
}

/** Applies a transition to an in-memory request (what the store does atomically). */
export function applyTransition(request: AccessRequest, t: Transition): AccessRequest {
  const next: AccessRequest = { ...request, status: t.status, version: request.version + 1, audit: t.audit ? [...request.audit, t.audit] : request.audit, outbox: { ...request.outbox } };
  for (const [key, value] of Object.entries(t.set)) {
    if (value === undefined) delete (next as unknown as Record<string, unknown>)[key];
    else (next as unknown as Record<string, unknown>)[key] = value;
  }
  for (const n of t.notify ?? []) next.outbox[n.id] = n;
  return next;
}

/**
 * PENDING or GRANTING → DENIED by the policy: one write, approvals recorded so far kept (for the
 * record) but overridden; no lease, nothing due, so nothing reaches AWS afterwards.
 */
function refuseStep(r: AccessRequest, e: Extract<LifecycleEvent, { type: 'refuse' }>, ctx: LifecycleContext): Step {
  return {
    status: 'DENIED',
    action: 'policy-refuse',
    actor: POLICY,
    set: { refusal: { code: e.code, ...(e.rule ? { rule: e.rule } : {}) }, decidedAt: iso(ctx.now), dueAt: undefined, leaseOwner: undefined },
    notify: ['approval.update', 'dm.denied'],
    details: { reason: e.code, ...(e.rule ? { rule: e.rule } : {}), message: e.message, ...(r.approvals?.length ? { approvalsOverridden: r.approvals.map((a) => a.by).join(',') } : {}) },
  };
}

function claimStep(action: string): Handler {
  return (r, e: Extract<LifecycleEvent, { type: 'claim' }>, ctx) => ({ status: r.status, action, actor: SYSTEM, set: lease({ ...ctx, owner: e.owner }), details: { owner: e.owner } });
}

/** Only the lease's holder can hand it back; the work is due again at once, for any replica. */
function releaseStep(action: string): Handler {
  return (r, e: Extract<LifecycleEvent, { type: 'release' }>, ctx) => {
    if (r.leaseOwner !== e.owner) throw new InvalidTransitionError(`${r.id}: the lease is not held by ${e.owner}`);
    return { status: r.status, action, actor: SYSTEM, set: { leaseOwner: undefined, dueAt: ctx.now.getTime() }, details: { owner: e.owner } };
  };
}

function lease(ctx: Pick<LifecycleContext, 'now' | 'leaseMs' | 'owner'>): Transition['set'] {
  return { leaseOwner: ctx.owner, dueAt: ctx.now.getTime() + ctx.leaseMs };
}

function iso(t: Date | number): string {
  return new Date(t).toISOString();
}
