/**
 * The access service: the core's use cases. It validates, applies lifecycle events through the
 * store (one conditional write each), and performs the AWS side effects only as the writer that
 * won. It knows nothing about Slack; notifications are queued in the request's outbox and
 * delivered by the outbox processor.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { JitConfig } from './config-types';
import { formatDuration } from './domain/duration';
import { isRequestId, newRequestId } from './domain/ids';
import { AlreadyResolvedError, CannotDecideError, ConflictError, type FailureCode, failureCodeOfError, GrantError, InvalidTransitionError, newFailureRef, NotAllowedError, NotFoundError, problem, ReferencedFailureError, ValidationError } from './domain/errors';
import { type AccessRequest, type Ec2Grant, type Grant, type IssuedCredentials, isStsKind, isTerminal, type ObservedRule, type Target } from './domain/types';
import { checkRateLimits, DEFAULT_RATE_LIMITS, ineligibleReason, NotEligibleError } from './domain/safety';
import { applyTransition, decide, type LifecycleEvent } from './lifecycle';
import {
  checkCanDecide,
  checkCanRevoke,
  checkComment,
  checkExtensionDuration,
  checkNarrowedDuration,
  checkReason,
  evaluateRequest,
  findTarget,
  isAnyApprover,
  isApproverOf,
  extensionHeadroom,
  type ExtensionHeadroom,
  grantedMsOf,
  type PolicyDecision,
  redecide,
  referencedGroups,
  type SubmissionInput,
  summarizeFor,
  type TargetSummary,
  type ValidSubmission,
  validateSubmission,
  visibleTargets,
} from './policy';
import { type AccessProvider, type Clock, type FaultHook, type GroupDirectory, noGroups, noTelemetry, type RequestOutcome, type RequestStore, type RuleRegistry, type Telemetry, type UserDirectory } from './ports';

export interface ServiceOptions {
  config: JitConfig;
  store: RequestStore;
  /** Holders of each AWS rule (overlapping grants share one). */
  registry: RuleRegistry;
  providers: Partial<Record<Target['kind'], AccessProvider>>;
  clock: Clock;
  log: Logger;
  /** Identifies this replica in leases and logs. */
  owner: string;
  /** Region of targets that name none. */
  defaultRegion: string;
  /** How long an intent (GRANTING / REVOKING) is owned before another replica may take over. */
  leaseMs?: number;
  /** Give up granting (FAILED) when AWS keeps failing for this long after approval. */
  grantRetryBudgetMs?: number;
  /** Alert the approver channel after this many failed revoke attempts (retries go on). */
  revokeAlertAfter?: number;
  random?: () => number;
  /** Crash points for fault-injection tests; absent in production. */
  faults?: FaultHook;
  /** Who a Slack user is (STS SourceIdentity); default: their Slack user id. */
  users?: UserDirectory;
  /** Slack user groups named as approvers or requesters; default: none. */
  groups?: GroupDirectory;
  /** Metrics (requests, approvals, grants, revocations, lateness); default: none. */
  telemetry?: Telemetry;
}

/** What a submission came to, for the requests metric (filled in as it goes). */
interface Submission {
  kind: string;
  outcome: RequestOutcome;
}

/** An approver's decision with its optional extras. */
export interface DecisionOptions {
  /** A note for the requester and the audit. */
  comment?: string;
  /** Approve for this long instead (shorter than asked). Text as typed: "45m". */
  duration?: string;
}

/** Retries of a decision that lost a conditional write to another approver's (quorum). */
const DECISION_ATTEMPTS = 8;

export interface DriftReport {
  /** Rules carrying our tag that no live grant holds: removed. */
  removed: ObservedRule[];
  /** Rules on managed groups without our tag: reported, never touched. */
  untagged: ObservedRule[];
  /** Rules we tried to remove but AWS did not confirm. */
  failed: ObservedRule[];
  /** Other housekeeping done (e.g. expired deny policies removed from roles). */
  cleaned: string[];
}

export type ChangeListener = (request: AccessRequest) => void;

const DEFAULT_LEASE_MS = 60_000;
/** Requests read back to count against the rate limits (newest first; limits are at most 100). */
const RATE_SCAN = 250;
const MAX_BACKOFF_MS = 60_000;

export class AccessService {
  private readonly listeners: ChangeListener[] = [];
  /** Requests whose intent lease (GRANTING, REVOKING) this replica holds: handed back on shutdown. */
  private readonly held = new Set<string>();
  private readonly leaseMs: number;
  private readonly grantRetryBudgetMs: number;
  private readonly revokeAlertAfter: number;
  private readonly random: () => number;
  private readonly telemetry: Telemetry;

  constructor(private readonly o: ServiceOptions) {
    this.telemetry = o.telemetry ?? noTelemetry;
    this.leaseMs = o.leaseMs ?? DEFAULT_LEASE_MS;
    this.grantRetryBudgetMs = o.grantRetryBudgetMs ?? 5 * 60_000;
    this.revokeAlertAfter = o.revokeAlertAfter ?? 5;
    this.random = o.random ?? Math.random;
  }

  get config(): JitConfig {
    return this.o.config;
  }

  /** Called after every stored change (the scheduler arms timers, the outbox delivers). */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  // ------------------------------------------------------------------ use cases

  /**
   * Checks a new request against the input rules and the approval policy without storing
   * anything (the request form calls this before it closes). Throws ValidationError naming the
   * field, or the rule that refuses it.
   */
  async precheck(input: SubmissionInput, seen?: Submission): Promise<{ valid: ValidSubmission; decision: PolicyDecision }> {
    await this.checkActor(input.requesterId);
    const groups = await this.groupsOf(input.requesterId);
    const valid = validateSubmission(this.o.config, input, groups);
    const decision = evaluateRequest(
      this.o.config,
      { target: valid.target, requesterId: input.requesterId, durationMs: valid.durationMs, breakGlass: input.breakGlass },
      { now: this.o.clock.now(), requesterGroups: groups, groupMembers: await this.membersOf(valid.target) },
    );
    if (decision.outcome === 'deny') {
      if (seen) seen.outcome = 'refused-by-policy';
      throw new ValidationError(decision.problem.code, decision.problem.params, 'target');
    }
    await this.checkRate(input.requesterId, decision.outcome === 'break-glass');
    return { valid, decision };
  }

  /**
   * Validates a new request, decides it by policy and stores it: PENDING with the approval
   * message queued, or (auto-approval, break-glass) straight into GRANTING and granted now.
   * A form submission also gets a DM, since a form has no place for a reply.
   */
  async submit(input: SubmissionInput, opts: { notifyRequester?: boolean } = {}): Promise<AccessRequest> {
    const seen: Submission = { kind: (input.targetName ? findTarget(this.o.config, input.targetName)?.kind : undefined) ?? 'unknown', outcome: 'error' };
    return this.counted(seen, () => this.submitCounted(input, opts, seen));
  }

  /** Runs a submission and counts it once, by kind and outcome, however it ends. */
  private async counted(seen: Submission, run: () => Promise<AccessRequest>): Promise<AccessRequest> {
    try {
      return await run();
    } catch (err) {
      if (seen.outcome === 'error' && (err instanceof ValidationError || err instanceof NotAllowedError || err instanceof AlreadyResolvedError || err instanceof NotFoundError)) seen.outcome = 'invalid';
      throw err;
    } finally {
      this.telemetry.requestSubmitted(seen.kind, seen.outcome);
    }
  }

  private async submitCounted(input: SubmissionInput, opts: { notifyRequester?: boolean }, seen: Submission): Promise<AccessRequest> {
    const { valid, decision } = await this.precheck(input, seen);
    // Ask AWS what only AWS knows (the role exists, the nodes are managed and online) before storing.
    await this.o.providers[valid.target.kind]?.checkRequest?.(valid.target);
    const request = this.newRequest({
      target: valid.target,
      requesterId: input.requesterId,
      reason: valid.reason,
      durationMs: valid.durationMs,
      cidr: valid.cidr,
      details: input.breakGlass ? { breakGlass: 'requested' } : {},
      notifyRequester: opts.notifyRequester === true && decision.outcome === 'approval',
    });
    return this.store(request, valid.target, decision, seen);
  }

  /**
   * Asks for more time on the requester's ACTIVE grant: a new request (an extension) through the
   * same policy, capped by the target's maxTotalDuration. Once approved, the grant's expiry
   * moves on; there is no gap and no second rule.
   */
  async extend(grantId: string, userId: string, input: { duration?: string; reason?: string }): Promise<AccessRequest> {
    const seen: Submission = { kind: 'unknown', outcome: 'error' };
    return this.counted(seen, () => this.extendCounted(grantId, userId, input, seen));
  }

  private async extendCounted(grantId: string, userId: string, input: { duration?: string; reason?: string }, seen: Submission): Promise<AccessRequest> {
    await this.checkActor(userId);
    const grant = await this.visibleTo(grantId, (r) => userId === r.requesterId, 'extend');
    seen.kind = grant.kind;
    if (grant.status !== 'ACTIVE' || !grant.expiresAt || !grant.grantedAt) throw resolvedError(grant);
    const target = findTarget(this.o.config, grant.targetName);
    if (!target || target.kind !== grant.kind) throw new ValidationError('extend-target-gone', { target: grant.targetName, id: grantId });
    const durationMs = checkExtensionDuration(target, input.duration);
    const reason = checkReason(input.reason);
    const now = this.o.clock.now();
    if (now.getTime() >= Date.parse(grant.expiresAt)) throw resolvedError({ ...grant, status: 'REVOKING' });
    const waiting = (await this.o.store.listByRequester(userId, 100)).find((r) => r.extends === grantId && !isTerminal(r.status));
    if (waiting) throw new ValidationError('extension-waiting', { id: grantId, waiting: waiting.id, durationMs: waiting.durationMs }, 'duration');
    const groups = await this.groupsOf(userId);
    const grantedMs = grantedMsOf(grant) ?? 0;
    const decision = evaluateRequest(this.o.config, { target, requesterId: userId, durationMs, grantedMs }, { now, requesterGroups: groups, groupMembers: await this.membersOf(target) });
    if (decision.outcome === 'deny') {
      seen.outcome = 'refused-by-policy';
      throw new ValidationError(decision.problem.code, decision.problem.params, 'duration');
    }
    await this.checkRate(userId, false);
    const request = this.newRequest({
      target,
      requesterId: userId,
      reason,
      durationMs,
      cidr: grant.cidr,
      extendsId: grant.id,
      // Nobody can approve an extension after the grant ended.
      deadlineCap: Date.parse(grant.expiresAt),
      details: { extends: grant.id },
      notifyRequester: decision.outcome === 'approval',
    });
    return this.store(request, target, decision, seen);
  }

  /**
   * One approver's yes. When it completes the quorum the request is granted (the returned
   * request is after the grant attempt); otherwise it stays PENDING with one more approval.
   * Concurrent approvals retry on the fresh state, so each approver counts exactly once and
   * exactly one of them completes the quorum.
   */
  async approve(id: string, actorId: string, opts: DecisionOptions = {}): Promise<AccessRequest> {
    const comment = checkComment(opts.comment);
    for (let attempt = 1; ; attempt++) {
      const { request, target } = await this.pendingForDecision(id, actorId);
      const mine = request.approvals?.find((a) => a.by === actorId);
      if (mine) {
        const left = target.policy.approvalsRequired - (request.approvals?.length ?? 0);
        throw new NotAllowedError('already-approved', { id, left });
      }
      // Re-decide, don't re-check: the whole policy again, now, on fresh group membership.
      const decision = await this.redecision(request, true);
      if (decision.outcome === 'deny') {
        try {
          return await this.refuse(request, decision);
        } catch (err) {
          if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue;
          if (err instanceof ConflictError) throw resolvedError((await this.o.store.get(id)) ?? request);
          throw err;
        }
      }
      const durationMs = checkNarrowedDuration(target, request, opts.duration);
      const event: LifecycleEvent = { type: 'approve', actor: actorId, required: target.policy.approvalsRequired, ...(comment ? { comment } : {}), ...(durationMs !== undefined ? { durationMs } : {}) };
      let next: AccessRequest;
      try {
        next = await this.apply(request, event);
      } catch (err) {
        if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue; // another approver wrote first: decide on the fresh state
        if (err instanceof ConflictError) throw resolvedError((await this.o.store.get(id)) ?? request);
        throw err;
      }
      this.telemetry.approval(next.status === 'GRANTING');
      return next.status === 'GRANTING' ? this.runGrant(next, target) : next;
    }
  }

  /** Any approver's no ends the request (quorum or not). */
  async deny(id: string, actorId: string, opts: DecisionOptions = {}): Promise<AccessRequest> {
    const comment = checkComment(opts.comment);
    for (let attempt = 1; ; attempt++) {
      const { request } = await this.pendingForDecision(id, actorId);
      try {
        return await this.apply(request, { type: 'deny', actor: actorId, ...(comment ? { comment } : {}) });
      } catch (err) {
        if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue; // an approval landed first: still PENDING?
        if (err instanceof ConflictError) throw resolvedError((await this.o.store.get(id)) ?? request);
        throw err;
      }
    }
  }

  /** Throws unless `actorId` may decide on the request now (used before opening a decision form). */
  async checkDecision(id: string, actorId: string): Promise<AccessRequest> {
    return (await this.pendingForDecision(id, actorId)).request;
  }

  /** An approver marks a break-glass request as reviewed (any status; once). */
  async review(id: string, actorId: string): Promise<AccessRequest> {
    await this.checkActor(actorId);
    for (let attempt = 1; ; attempt++) {
      // Who may not review learns nothing (not whether the request exists, nor what it was).
      const request = await this.get(id);
      if (!request || actorId === request.requesterId) throw new CannotDecideError();
      const target = findTarget(this.o.config, request.targetName);
      const groups = await this.groupsOf(actorId);
      const approver = target ? isApproverOf(target, actorId, groups) : isAnyApprover(this.o.config, actorId, groups);
      if (!approver) throw new CannotDecideError();
      if (!request.breakGlass) throw new NotAllowedError('not-break-glass', { id });
      if (request.reviewedBy) throw new AlreadyResolvedError('already-reviewed', { id });
      try {
        return await this.apply(request, { type: 'review', actor: actorId });
      } catch (err) {
        if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue; // it moved on (granted, revoked): mark the fresh state
        throw err;
      }
    }
  }

  /** The targets `userId` may request (the rest are hidden from them). */
  async targetsFor(userId: string): Promise<Target[]> {
    await this.checkActor(userId);
    return visibleTargets(this.o.config, userId, await this.groupsOf(userId));
  }

  /** What `/jit targets` shows the caller: what they may request and how it would be decided now. */
  async targetSummaries(userId: string): Promise<TargetSummary[]> {
    await this.checkActor(userId);
    return summarizeFor(this.o.config, userId, await this.groupsOf(userId), this.o.clock.now());
  }

  /**
   * Checks that the requester may extend their ACTIVE grant now and returns how much longer it
   * may run (the target's maxDuration, within what maxTotalDuration leaves).
   */
  async extensionLimit(grantId: string, userId: string): Promise<{ request: AccessRequest; target: Target } & ExtensionHeadroom> {
    const grant = await this.visibleTo(grantId, (r) => userId === r.requesterId, 'extend');
    if (grant.status !== 'ACTIVE' || !grant.expiresAt || !grant.grantedAt) throw resolvedError(grant);
    const target = findTarget(this.o.config, grant.targetName);
    if (!target || target.kind !== grant.kind) throw new ValidationError('extend-target-gone', { target: grant.targetName, id: grantId });
    return { request: grant, target, ...extensionHeadroom(target, grantedMsOf(grant) ?? 0) };
  }

  /** Approvers of any target (or the default approvers) may see the whole policy. */
  async isApprover(userId: string): Promise<boolean> {
    await this.checkActor(userId);
    return isAnyApprover(this.o.config, userId, await this.groupsOf(userId));
  }

  /**
   * Ends access early (ACTIVE → REVOKING → REVOKED), or withdraws a PENDING request (requester).
   * Allowed for the requester and approvers.
   */
  async revoke(id: string, actorId: string): Promise<AccessRequest> {
    // Withdrawing or ending one's own access is always allowed; acting on someone else's is an
    // approver's act, so the account is checked first (before anything about the request is said).
    if ((await this.get(id))?.requesterId !== actorId) await this.checkActor(actorId);
    const request = await this.visibleTo(id, async (r) => actorId === r.requesterId || canRevoke(this.o.config, r, actorId, await this.groupsOf(actorId)), 'revoke');
    switch (request.status) {
      case 'PENDING':
        if (actorId !== request.requesterId) throw new NotAllowedError('revoke-pending', { id });
        return this.apply(request, { type: 'withdraw', actor: actorId }, (current) => resolvedError(current));
      case 'ACTIVE': {
        const revoking = await this.apply(request, { type: 'revoke', actor: actorId }, (current) => resolvedError(current));
        return this.runRevoke(revoking);
      }
      case 'GRANTING':
        throw new AlreadyResolvedError('being-granted', { id });
      case 'REVOKING':
        throw new AlreadyResolvedError('being-revoked', { id });
      default:
        throw resolvedError(request);
    }
  }

  /**
   * Issues credentials for the requester's active role-backed grant, lasting until access ends
   * (at least STS's 15 minutes, at most the role's maximum). Only the requester may see them;
   * each issue is audited. The credentials are returned, never stored.
   */
  async issueCredentials(id: string, userId: string): Promise<{ request: AccessRequest; credentials: IssuedCredentials }> {
    const request = await this.visibleTo(id, (r) => userId === r.requesterId, 'see the credentials of');
    const grant = request.grant;
    if (request.status !== 'ACTIVE' || !grant || !request.expiresAt) throw resolvedError(request);
    if (this.o.clock.now().getTime() >= Date.parse(request.expiresAt)) throw resolvedError({ ...request, status: 'REVOKING' });
    const provider = this.provider(grant.kind);
    if (!isStsKind(grant.kind) || !provider.issueCredentials) throw new NotAllowedError('no-credentials', { id, kind: request.kind });
    let credentials: IssuedCredentials;
    try {
      credentials = await provider.issueCredentials(request, grant, new Date(request.expiresAt));
    } catch (err) {
      // The requester sees a code and a reference; AWS's message goes to the log and the audit under it.
      const code = failureCodeOfError(err);
      const ref = newFailureRef(this.random);
      this.log(request).error({ event: 'credentials.failed', code, ref, err: errorText(err) }, 'could not issue credentials');
      await this.o.store
        .appendAudit(id, 'ACTIVE', { at: this.o.clock.now().toISOString(), actor: userId, action: 'credentials-failed', from: 'ACTIVE', to: 'ACTIVE', details: { code, ref, error: errorText(err) } })
        .catch(() => undefined); // moved on meanwhile: the log keeps it
      throw new ReferencedFailureError(code, ref);
    }
    await this.o.store.appendAudit(id, 'ACTIVE', {
      at: this.o.clock.now().toISOString(),
      actor: userId,
      action: 'credentials-issued',
      from: 'ACTIVE',
      to: 'ACTIVE',
      details: { assumedRoleArn: credentials.assumedRoleArn, expiresAt: credentials.expiration, accessKeyId: credentials.accessKeyId },
    });
    this.log(request).info({ event: 'credentials.issued', assumedRoleArn: credentials.assumedRoleArn, expiresAt: credentials.expiration }, 'credentials issued to the requester');
    return { request, credentials };
  }

  /** The caller's pending and active requests, newest first. */
  async listOpen(userId: string): Promise<AccessRequest[]> {
    const mine = await this.o.store.listByRequester(userId, 100);
    return mine.filter((r) => !isTerminal(r.status));
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    // The edge checks ids first; the core never hands the store anything else either.
    if (!isRequestId(id)) return undefined;
    return this.o.store.get(id);
  }


  // ------------------------------------------------------------------ background work

  /**
   * Moves one due request on: approval timeout, lapsed grant or revoke leases, expiry warning,
   * expiry. Safe to call from any replica at any time: every step is a conditional write and
   * only its winner touches AWS. Returns the request as left, or undefined if someone else won.
   */
  async processDue(id: string): Promise<AccessRequest | undefined> {
    const request = await this.o.store.get(id);
    if (!request || request.dueAt === undefined) return request;
    const now = this.o.clock.now().getTime();
    if (request.dueAt > now) return request;
    try {
      switch (request.status) {
        case 'PENDING':
          if (now >= Date.parse(request.approvalDeadline)) return await this.apply(request, { type: 'approval-timeout' });
          return await this.apply(request, { type: 'remind', nextAt: this.nextReminder(request, (request.remindersSent ?? 0) + 1) });
        case 'GRANTING': {
          const claimed = await this.apply(request, { type: 'claim', owner: this.o.owner });
          // A target gone since is refused by the re-decision in runGrant.
          return await this.runGrant(claimed, findTarget(this.o.config, claimed.targetName));
        }
        case 'ACTIVE':
          if (request.expiresAt && now >= Date.parse(request.expiresAt)) {
            return await this.runRevoke(await this.apply(request, { type: 'expire' }));
          }
          return await this.apply(request, { type: 'warn' });
        case 'REVOKING':
          return await this.runRevoke(await this.apply(request, { type: 'claim', owner: this.o.owner }));
        default:
          return request;
      }
    } catch (err) {
      if (err instanceof ConflictError || err instanceof InvalidTransitionError) return undefined; // another replica or click moved it first
      throw err;
    }
  }

  /** Due requests, oldest first. */
  async listDue(limit: number): Promise<AccessRequest[]> {
    return this.o.store.listDue(this.o.clock.now().getTime(), limit);
  }

  // ------------------------------------------------------------------ internals

  /**
   * One grant attempt (first, retried or resumed by the sweeper): the policy is decided again
   * first, and a request it now refuses ends DENIED without reaching AWS.
   */
  private async runGrant(granting: AccessRequest, decidedTarget: Target | undefined): Promise<AccessRequest> {
    const decision = await this.redecision(granting, false);
    // Re-read: the config may have changed since the caller looked (redecide refuses a missing target).
    const target = findTarget(this.o.config, granting.targetName) ?? decidedTarget;
    if (decision.outcome === 'deny' || !target) return this.refuse(granting, decision.outcome === 'deny' ? decision : { code: 'target-gone', reasons: ['the target is no longer configured'] });
    if (granting.extends) return this.runExtension(granting, target);
    this.fault('after-grant-intent', granting);
    const provider = this.provider(target.kind);
    const log = this.log(granting);
    let grant: Grant;
    // One clock reading: the expiry AWS is given is the one stored (see the 'granted' event).
    const expiresAt = new Date(this.o.clock.now().getTime() + granting.durationMs);
    try {
      const sourceIdentity = isStsKind(target.kind) && this.o.users ? await this.o.users.sourceIdentity(granting.requesterId) : granting.requesterId;
      grant = await provider.grant(granting, target, expiresAt, { sourceIdentity });
      if (grant.kind === 'ec2-ssh') await this.holdRule(grant, granting.id);
    } catch (err) {
      // People see a code and a reference; AWS's message goes to the log and the audit under it.
      const message = errorText(err);
      const code = failureCodeOfError(err);
      const ref = newFailureRef(this.random);
      const retryable = !(err instanceof GrantError) || err.retryable;
      const sinceApproval = this.o.clock.now().getTime() - Date.parse(granting.decidedAt ?? granting.createdAt);
      if (retryable && sinceApproval < this.grantRetryBudgetMs) {
        log.warn({ event: 'grant.retry', err: message, code, ref, attempts: (granting.attempts ?? 0) + 1 }, 'grant failed, will retry');
        this.telemetry.grant(target.kind, 'retried');
        return this.apply(granting, { type: 'grant-retry', error: message, code, ref, retryAt: this.retryAt(granting.attempts ?? 0) });
      }
      log.error({ event: 'grant.failed', err: message, code, ref }, 'grant failed');
      this.telemetry.grant(target.kind, 'failed');
      return this.apply(granting, { type: 'grant-failed', error: message, code, ref });
    }
    this.fault('after-grant-aws', granting);
    log.info({ event: 'grant.created', grant }, 'access granted');
    const active = await this.apply(granting, { type: 'granted', grant, expiresAt: expiresAt.toISOString() });
    this.telemetry.grant(target.kind, 'ok');
    if (active.decidedAt && active.grantedAt) this.telemetry.approveToActive(target.kind, (Date.parse(active.grantedAt) - Date.parse(active.decidedAt)) / 1000);
    this.fault('after-active', active);
    return active;
  }

  /**
   * Registers the request as a holder of its rule (shared when another live grant created it). A
   * rule that is being revoked takes no newcomer: retry, and the next attempt creates a fresh rule.
   */
  private async holdRule(grant: Ec2Grant, requestId: string): Promise<void> {
    try {
      await this.o.registry.join(ruleKey(grant), requestId);
    } catch (err) {
      throw err instanceof ConflictError ? new GrantError(`rule ${grant.securityGroupRuleId} is being revoked for another request; retrying`, true) : err;
    }
  }

  /**
   * Ends a grant: leaves the rule's holder list; the last holder revokes it in AWS and accepts
   * the revoke only once a re-read confirms the rule is gone. Failures are retried with backoff
   * for as long as it takes; humans are alerted once the retry budget is spent.
   */
  private async runRevoke(revoking: AccessRequest): Promise<AccessRequest> {
    const log = this.log(revoking);
    this.fault('after-revoke-intent', revoking);
    const grant = revoking.grant;
    let removed = false;
    let holders: string[] = [];
    let sessions: string[] = [];
    try {
      if (grant) {
        const provider = this.provider(grant.kind);
        // Cut what the rule alone would leave running, before giving up our hold on it.
        sessions = (await provider.endSessions?.(revoking, grant)) ?? [];
        if (grant.kind !== 'ec2-ssh') {
          // Role-backed: STS credentials cannot be recalled; the provider denies the session.
          const result = await provider.revoke(revoking, grant);
          if (!result.verified) throw new GrantError(`AWS does not yet confirm that ${grant.roleSessionName} on ${grant.roleArn} is denied (or could not be asked)`, true, 'revoke-unverified');
          removed = result.removed;
          this.fault('after-revoke-aws', revoking);
        } else {
          const key = ruleKey(grant);
          holders = await this.o.registry.leave(key, revoking.id);
          if (holders.length === 0 && (await this.o.registry.beginRevoke(key))) {
            const result = await provider.revoke(revoking, grant);
            if (!result.verified) throw new GrantError(`AWS still lists rule ${grant.securityGroupRuleId} on ${grant.securityGroupId} after revoking it (or could not be asked)`, true, 'revoke-unverified');
            removed = result.removed;
            this.fault('after-revoke-aws', revoking);
            await this.o.registry.forget(key);
          } else if (holders.length === 0) {
            holders = await this.o.registry.holders(key); // someone joined between leave and revoke
          }
        }
      }
    } catch (err) {
      const message = errorText(err);
      const code = failureCodeOfError(err);
      const ref = newFailureRef(this.random);
      const attempts = (revoking.attempts ?? 0) + 1;
      const permanent = err instanceof GrantError && !err.retryable;
      // The alert carries the code and the reference; AWS's message is in the log and the audit under it.
      const alert =
        attempts === this.revokeAlertAfter || (permanent && attempts === 1)
          ? problem('revoke-failing', { id: revoking.id, target: revoking.targetName, failure: code, ref })
          : undefined;
      log.error({ event: 'revoke.retry', err: message, code, ref, attempts }, 'revoke failed, will retry');
      this.telemetry.revocation(revoking.kind, 'retried');
      if (alert) this.telemetry.revocation(revoking.kind, 'failed');
      return this.apply(revoking, { type: 'revoke-retry', error: message, code, ref, retryAt: this.retryAt(revoking.attempts ?? 0), ...(alert ? { alert } : {}) });
    }
    const outcome = holders.length > 0 ? 'released' : 'verified';
    log.info({ event: 'revoke.done', removed, outcome, holders, grant }, outcome === 'verified' ? 'access revoked and verified' : 'access ended; shared rule kept for other grants');
    const revoked = await this.apply(revoking, { type: 'revoked', removed, outcome, holders, sessions });
    this.telemetry.revocation(revoking.kind, outcome);
    if (revoked.endReason === 'expired' && revoked.expiresAt && revoked.endedAt) this.telemetry.revokeLateness(revoking.kind, (Date.parse(revoked.endedAt) - Date.parse(revoked.expiresAt)) / 1000);
    return revoked;
  }

  /**
   * Drift sweep: finds rules on the managed security groups that carry our tag but that no live
   * grant holds (left by a crash, a manual restore, a bug) and removes them; reports rules
   * without our tag and never touches them.
   */
  async driftSweep(): Promise<DriftReport> {
    const report: DriftReport = { removed: [], untagged: [], failed: [], cleaned: [] };
    const now = this.o.clock.now();
    for (const provider of Object.values(this.o.providers)) {
      if (!provider?.cleanup) continue;
      try {
        report.cleaned.push(...(await provider.cleanup(this.o.config.targets.filter((t) => t.kind === provider.kind), now)));
      } catch (err) {
        // One kind's housekeeping failing must not stop the others (the ec2 sweep below above all).
        this.o.log.error({ event: 'drift.cleanup_failed', kind: provider.kind, err: errorText(err) }, 'housekeeping failed; will retry next sweep');
      }
    }
    const groups = new Map<string, { region: string; securityGroupId: string }>();
    for (const t of this.o.config.targets) {
      if (t.kind !== 'ec2-ssh') continue;
      const region = t.region ?? this.o.defaultRegion;
      groups.set(`${region}#${t.securityGroupId}`, { region, securityGroupId: t.securityGroupId });
    }
    const provider = this.o.providers['ec2-ssh'];
    if (!provider?.listRules || !provider.removeRule || groups.size === 0) return report;
    for (const rule of await provider.listRules([...groups.values()])) {
      if (!rule.managed) {
        report.untagged.push(rule);
        continue;
      }
      if (await this.isHeld(rule)) continue;
      const result = await provider.removeRule(rule).catch(() => ({ removed: false, verified: false }));
      (result.verified ? report.removed : report.failed).push(rule);
      this.o.log.warn({ event: 'drift.orphan', rule, removed: result.removed, verified: result.verified }, 'removed a tagged rule that no live grant holds');
    }
    return report;
  }

  /** A tagged rule is live while a grant holds it or its request is still being granted or revoked. */
  private async isHeld(rule: ObservedRule): Promise<boolean> {
    if ((await this.o.registry.holders(`${rule.region}#${rule.securityGroupRuleId}`)).length > 0) return true;
    // The tag is read from AWS, not trusted: a value that is not a request id is no grant of ours.
    if (!rule.requestId || !isRequestId(rule.requestId)) return false;
    const request = await this.o.store.get(rule.requestId);
    return request?.status === 'GRANTING' || request?.status === 'REVOKING';
  }

  /**
   * Applies an event as one conditional write. On a lost race the `onConflict` mapper turns the
   * current state into the error the caller should see; without one, the ConflictError propagates.
   */
  private async apply(request: AccessRequest, event: LifecycleEvent, onConflict?: (current: AccessRequest) => Error): Promise<AccessRequest> {
    const transition = decide(request, event, this.lifecycleContext());
    let next: AccessRequest;
    try {
      next = await this.o.store.transition(transition);
    } catch (err) {
      if (err instanceof ConflictError && onConflict) {
        const current = await this.o.store.get(request.id);
        throw current ? onConflict(current) : err;
      }
      throw err;
    }
    this.log(next).info({ event: 'request.transition', action: transition.audit?.action, from: transition.expectStatus, to: next.status, actor: transition.audit?.actor, version: next.version }, `${transition.expectStatus} → ${next.status}`);
    this.changed(next);
    return next;
  }

  private async pendingForDecision(id: string, actorId: string): Promise<{ request: AccessRequest; target: Target }> {
    await this.checkActor(actorId);
    // May this actor decide at all? Asked first, with one neutral answer whether the request
    // exists or not; only deciders hear about its state.
    const request = await this.get(id);
    const target = checkCanDecide(this.o.config, request, actorId, await this.groupsOf(actorId));
    if (!request) throw new CannotDecideError(); // unreachable: checkCanDecide refuses a missing request
    if (request.status !== 'PENDING') throw resolvedError(request);
    if (this.o.clock.now().getTime() >= Date.parse(request.approvalDeadline)) {
      // The sweeper has not got to it yet; the deadline still holds.
      const expired = await this.apply(request, { type: 'approval-timeout' }, (current) => resolvedError(current));
      throw resolvedError(expired);
    }
    return { request, target };
  }

  /** A new request (or extension) as first stored: PENDING, its approval message queued. */
  private newRequest(o: { target: Target; requesterId: string; reason: string; durationMs: number; cidr?: string; extendsId?: string; deadlineCap?: number; details: Record<string, string>; notifyRequester: boolean }): AccessRequest {
    const now = this.o.clock.now();
    const deadline = Math.min(now.getTime() + o.target.policy.approvalTimeoutMs, o.deadlineCap ?? Infinity);
    const at = now.toISOString();
    const request: AccessRequest = {
      id: newRequestId(),
      version: 1,
      status: 'PENDING',
      kind: o.target.kind,
      targetName: o.target.name,
      requesterId: o.requesterId,
      reason: o.reason,
      durationMs: o.durationMs,
      ...(o.cidr ? { cidr: o.cidr } : {}),
      ...(o.extendsId ? { extends: o.extendsId } : {}),
      createdAt: at,
      approvalDeadline: new Date(deadline).toISOString(),
      approvalsRequired: o.target.policy.approvalsRequired,
      dueAt: deadline,
      audit: [{ at, actor: o.requesterId, action: o.extendsId ? 'request-extension' : 'request', from: null, to: 'PENDING', details: { target: o.target.name, durationMs: String(o.durationMs), ...(o.cidr ? { cidr: o.cidr } : {}), ...o.details } }],
      // "+" sorts before the transition's "<at>-0-…" ids: the approval message goes out first.
      outbox: { [`${at}-+post`]: { id: `${at}-+post`, kind: 'approval.post', createdAt: at } },
    };
    request.dueAt = this.nextReminder(request, 0);
    if (o.notifyRequester) request.outbox[`${at}-submitted`] = { id: `${at}-submitted`, kind: 'dm.submitted', createdAt: at };
    return request;
  }

  /**
   * Stores a new request as the policy decided it. Auto-approved and break-glass requests are
   * stored already GRANTING, the policy's decision as the second audit record of the same
   * write (a crash after it is finished by the sweeper), then granted.
   */
  private async store(request: AccessRequest, target: Target, decision: PolicyDecision, seen: Submission): Promise<AccessRequest> {
    const log = this.log(request);
    if (decision.outcome === 'approval') {
      await this.o.store.create(request);
      seen.outcome = 'pending';
      log.info({ event: 'request.submitted', target: request.targetName, durationMs: request.durationMs, extends: request.extends, approvalsRequired: decision.approvalsRequired }, 'request submitted');
      this.changed(request);
      return request;
    }
    if (decision.outcome === 'deny') throw new ValidationError(decision.problem.code, decision.problem.params, 'target');
    const event: LifecycleEvent = decision.outcome === 'auto' ? { type: 'auto-approve', rule: decision.rule } : { type: 'break-glass' };
    const granting = applyTransition(request, decide(request, event, this.lifecycleContext()));
    await this.o.store.create(granting);
    seen.outcome = decision.outcome === 'auto' ? 'auto-approved' : 'break-glass';
    log[decision.outcome === 'break-glass' ? 'warn' : 'info']({ event: `request.${decision.outcome}`, target: request.targetName, durationMs: request.durationMs, rule: decision.outcome === 'auto' ? decision.rule : undefined }, decision.outcome === 'auto' ? 'request auto-approved' : 'break-glass access taken');
    this.changed(granting);
    return this.runGrant(granting, target);
  }

  /**
   * The "grant" of an approved extension: moves the expiry of the ACTIVE grant it extends, in
   * one conditional write on that grant (no AWS call: the rule or the session stays as it is).
   * Idempotent: a grant that already lists the extension is not extended twice.
   */
  private async runExtension(granting: AccessRequest, target: Target): Promise<AccessRequest> {
    const parentId = granting.extends!;
    const fail = (code: FailureCode, error: string) => {
      const ref = newFailureRef(this.random);
      this.log(granting).warn({ event: 'extension.failed', code, ref, err: error }, 'extension could not be applied');
      return this.apply(granting, { type: 'grant-failed', error, code, ref });
    };
    for (let attempt = 1; attempt <= DECISION_ATTEMPTS; attempt++) {
      const parent = await this.o.store.get(parentId);
      if (parent?.expiresAt && parent.extensions?.some((x) => x.id === granting.id)) return this.apply(granting, { type: 'extended', parentId, expiresAt: parent.expiresAt });
      if (!parent || parent.status !== 'ACTIVE' || !parent.expiresAt || !parent.grantedAt || this.o.clock.now().getTime() >= Date.parse(parent.expiresAt)) {
        return fail('extension-ended', `access ${parentId} ended before the extension could be applied; send a new request`);
      }
      const totalMs = Date.parse(parent.expiresAt) - Date.parse(parent.grantedAt) + granting.durationMs;
      if (totalMs > target.policy.maxTotalDurationMs) return fail('extension-over-cap', `${parentId} would last ${formatDuration(totalMs)} in all, over the ${formatDuration(target.policy.maxTotalDurationMs)} that ${target.name} allows`);
      try {
        const extended = await this.apply(parent, { type: 'extend', extensionId: granting.id, durationMs: granting.durationMs, actor: granting.decidedBy ?? (granting.approvedVia === 'auto' ? 'policy' : granting.requesterId) });
        return await this.apply(granting, { type: 'extended', parentId, expiresAt: extended.expiresAt! });
      } catch (err) {
        if (err instanceof ConflictError || err instanceof InvalidTransitionError) continue; // the grant moved (warned, claimed): re-read
        throw err;
      }
    }
    const ref = newFailureRef(this.random);
    return this.apply(granting, { type: 'grant-retry', error: `${parentId} kept changing while the extension was applied`, code: 'extension-busy', ref, retryAt: this.retryAt(granting.attempts ?? 0) });
  }

  /** When the next reminder is due after `sent` reminders (the deadline when there is none). */
  private nextReminder(request: AccessRequest, sent: number): number {
    const deadline = Date.parse(request.approvalDeadline);
    const target = findTarget(this.o.config, request.targetName);
    const every = target?.policy.reminders?.everyMs;
    if (!every) return deadline;
    const next = Date.parse(request.createdAt) + (sent + 1) * every;
    return next < deadline ? next : deadline;
  }

  /**
   * Refuses guests (unless allowGuests), users of another workspace, deactivated accounts and
   * bots, before anything else is looked at; fails closed when Slack cannot be asked. Without a
   * user directory (unit tests of the core) there is nobody to ask and nothing is checked.
   */
  private async checkActor(userId: string): Promise<void> {
    if (!this.o.users) return;
    let profile;
    try {
      profile = await this.o.users.profile(userId);
    } catch (err) {
      this.o.log.warn({ event: 'actor.refused', userId, reason: 'unknown', err: (err as Error).message }, 'Slack could not confirm the account: refused');
      throw new NotEligibleError('unknown');
    }
    const reason = ineligibleReason(profile, this.o.config.allowGuests === true);
    if (reason) {
      this.o.log.warn({ event: 'actor.refused', userId, reason }, `refused: ${reason} account`);
      throw new NotEligibleError(reason);
    }
  }

  /** Per-user rate limits on requests and break-glass, counted from the user's stored requests. */
  private async checkRate(userId: string, breakGlass: boolean): Promise<void> {
    const limits = this.o.config.rateLimits ?? DEFAULT_RATE_LIMITS;
    const recent = await this.o.store.listByRequester(userId, RATE_SCAN);
    try {
      checkRateLimits(limits, recent, this.o.clock.now(), breakGlass);
    } catch (err) {
      this.o.log.warn({ event: 'request.rate_limited', userId, breakGlass }, 'refused: rate limit');
      throw err;
    }
  }

  /** The groups named in the config that the user is in (`fresh`: read now, not from the cache). */
  private async groupsOf(userId: string, fresh = false): Promise<Set<string>> {
    const groups = referencedGroups(this.o.config);
    if (groups.length === 0) return new Set();
    return (this.o.groups ?? noGroups).groupsOf(userId, groups, fresh ? { fresh } : undefined);
  }

  /** Members of the target's approver groups (for the quorum check). */
  private async membersOf(target: Target, fresh = false): Promise<Map<string, readonly string[]>> {
    const members = new Map<string, readonly string[]>();
    for (const g of target.policy.approvers.groups) members.set(g, await (this.o.groups ?? noGroups).members(g, fresh ? { fresh } : undefined));
    return members;
  }

  /**
   * The policy's decision on a stored request NOW: current config, clock and freshly read group
   * membership. `quorum`: also refuse when the approvers can no longer reach the quorum (at an
   * approval; once approved, the quorum was met). Extensions are capped by the grant as it stands.
   */
  private async redecision(request: AccessRequest, quorum: boolean): Promise<PolicyDecision> {
    const target = findTarget(this.o.config, request.targetName);
    const requesterGroups = await this.groupsOf(request.requesterId, true);
    const groupMembers = quorum && target ? await this.membersOf(target, true) : undefined;
    let grantedMs: number | undefined;
    if (request.extends) {
      const parent = await this.o.store.get(request.extends);
      if (parent) grantedMs = grantedMsOf(parent);
      // Already applied (a resumed extension): its own time is in the total; do not count it twice.
      if (grantedMs !== undefined && parent?.extensions?.some((x) => x.id === request.id)) grantedMs -= request.durationMs;
    }
    return redecide(this.o.config, request, { now: this.o.clock.now(), requesterGroups, ...(groupMembers ? { groupMembers } : {}) }, grantedMs);
  }

  /** Ends a request the policy now refuses: one conditional write (DENIED by "policy"), the requester told, the approval message updated. */
  private async refuse(request: AccessRequest, decision: { code: Extract<PolicyDecision, { outcome: 'deny' }>['code']; rule?: string; reasons: string[] }): Promise<AccessRequest> {
    this.log(request).warn({ event: 'request.refused_by_policy', status: request.status, code: decision.code, rule: decision.rule, approvals: request.approvals?.length ?? 0 }, 'the policy decided again and refuses the request');
    return this.apply(request, { type: 'refuse', code: decision.code, ...(decision.rule ? { rule: decision.rule } : {}), message: decision.reasons.at(-1) ?? decision.code });
  }

  private lifecycleContext() {
    return { now: this.o.clock.now(), leaseMs: this.leaseMs, retentionMs: this.o.config.retentionMs, expiryWarningMs: this.o.config.defaults.expiryWarningMs, owner: this.o.owner, newId: () => randomBytes(4).toString('hex') };
  }

  /**
   * The request, if the actor may act on it; otherwise the same answer as for no request at all,
   * so that who may not act learns nothing (not even that it exists).
   */
  private async visibleTo(id: string, may: (request: AccessRequest) => boolean | Promise<boolean>, verb: string): Promise<AccessRequest> {
    if (!isRequestId(id)) throw new NotFoundError('not-a-request-id', {});
    const request = await this.o.store.get(id);
    if (!request || !(await may(request))) throw new NotFoundError('no-such-request', { id, verb });
    return request;
  }

  private async mustGet(id: string): Promise<AccessRequest> {
    if (!isRequestId(id)) throw new NotFoundError('not-a-request-id', {});
    const request = await this.o.store.get(id);
    if (!request) throw new NotFoundError('no-such-request', { id });
    return request;
  }

  private provider(kind: Target['kind']): AccessProvider {
    const provider = this.o.providers[kind];
    if (!provider) throw new GrantError(`no access provider for ${kind}`);
    return provider;
  }

  /** Exponential backoff with full jitter, capped. */
  private retryAt(previousAttempts: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** previousAttempts);
    return this.o.clock.now().getTime() + Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private fault(point: Parameters<FaultHook>[0], request: AccessRequest): void {
    this.o.faults?.(point, request.id);
  }

  /**
   * Shutdown: hands back every intent lease this replica still holds, so the next process (or
   * another replica) takes the work at its next sweep instead of waiting for the lease to lapse.
   * Call it once no work runs here any more. Each release is one conditional write with its audit
   * record; a request that moved on meanwhile is left alone. Returns the ids released.
   */
  async releaseLeases(): Promise<string[]> {
    const released: string[] = [];
    for (const id of [...this.held]) {
      this.held.delete(id);
      try {
        const request = await this.o.store.get(id);
        if (request?.leaseOwner !== this.o.owner) continue;
        await this.apply(request, { type: 'release', owner: this.o.owner });
        released.push(id);
      } catch (err) {
        if (err instanceof ConflictError || err instanceof InvalidTransitionError) continue; // moved on: nothing held
        this.o.log.warn({ event: 'lease.release_failed', requestId: id, err: errorText(err) }, 'could not hand back a lease; it lapses on its own');
      }
    }
    return released;
  }

  private changed(request: AccessRequest): void {
    if (request.leaseOwner === this.o.owner) this.held.add(request.id);
    else this.held.delete(request.id);
    for (const listener of this.listeners) {
      try {
        listener(request);
      } catch (err) {
        this.log(request).error({ err: errorText(err) }, 'change listener failed');
      }
    }
  }

  private log(request: AccessRequest): Logger {
    return this.o.log.child({ requestId: request.id });
  }
}

/**
 * The error a user sees when they act on a request that has moved on. The text is plain; the
 * messaging adapter renders the full story (who decided, until when) from the request it carries.
 */
export function resolvedError(request: AccessRequest): AlreadyResolvedError {
  return new AlreadyResolvedError('already-resolved', { id: request.id, status: request.status }, request);
}

/** The registry key of a grant's AWS rule. */
export function ruleKey(grant: Ec2Grant): string {
  return `${grant.region}#${grant.securityGroupRuleId}`;
}

/** May `actorId` end the request early (checkCanRevoke without the throw)? */
function canRevoke(config: JitConfig, request: AccessRequest, actorId: string, groups: ReadonlySet<string>): boolean {
  try {
    checkCanRevoke(config, request, actorId, groups);
    return true;
  } catch (err) {
    if (err instanceof NotAllowedError) return false;
    throw err;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
