/**
 * Grant, revoke and extension execution: the AWS side of a transition, run only by the writer
 * that won the intent (GRANTING, REVOKING). Every attempt decides the policy again first, retries
 * with backoff through throttling, and records its outcome as one transition.
 */
import { formatDuration } from '../domain/duration';
import { ConflictError, type FailureCode, failureCodeOfError, GrantError, InvalidTransitionError, newFailureRef, problem } from '../domain/errors';
import type { AccessRequest, Grant, Target } from '../domain/types';
import { findTarget, type PolicyDecision } from '../policy';
import type { FaultHook } from '../ports';
import type { Actors } from './actors';
import { DECISION_ATTEMPTS, errorText, providerOf, requestLog, type Settings } from './shared';
import type { Transitions } from './transitions';

const MAX_BACKOFF_MS = 60_000;

export class Execution {
  constructor(
    private readonly s: Settings,
    private readonly t: Transitions,
    private readonly actors: Actors,
  ) {}

  /**
   * One grant attempt (first, retried or resumed by the sweeper): the policy is decided again
   * first, and a request it now refuses ends DENIED without reaching AWS.
   */
  async grant(granting: AccessRequest, decidedTarget: Target | undefined): Promise<AccessRequest> {
    const decision = await this.actors.redecision(granting, false);
    // Re-read: the config may have changed since the caller looked (redecide refuses a missing target).
    const target = findTarget(this.s.config, granting.targetName) ?? decidedTarget;
    if (decision.outcome === 'deny' || !target) return this.refuse(granting, decision.outcome === 'deny' ? decision : { code: 'target-gone', reasons: ['the target is no longer configured'] });
    if (granting.extends) return this.extension(granting, target);
    this.fault('after-grant-intent', granting);
    const provider = providerOf(this.s, target.kind);
    const log = requestLog(this.s, granting);
    let grant: Grant;
    // One clock reading: the expiry AWS is given is the one stored (see the 'granted' event).
    const expiresAt = new Date(this.s.clock.now().getTime() + granting.durationMs);
    try {
      const sourceIdentity = provider.usesSourceIdentity && this.s.users ? await this.s.users.sourceIdentity(granting.requesterId) : granting.requesterId;
      grant = await provider.grant(granting, target, expiresAt, { sourceIdentity });
    } catch (err) {
      // People see a code and a reference; AWS's message goes to the log and the audit under it.
      const message = errorText(err);
      const code = failureCodeOfError(err);
      const ref = newFailureRef(this.s.random);
      const retryable = !(err instanceof GrantError) || err.retryable;
      const sinceApproval = this.s.clock.now().getTime() - Date.parse(granting.decidedAt ?? granting.createdAt);
      if (retryable && sinceApproval < this.s.grantRetryBudgetMs) {
        log.warn({ event: 'grant.retry', err: message, code, ref, attempts: (granting.attempts ?? 0) + 1 }, 'grant failed, will retry');
        this.s.telemetry.grant(target.kind, 'retried');
        return this.t.apply(granting, { type: 'grant-retry', error: message, code, ref, retryAt: this.retryAt(granting.attempts ?? 0) });
      }
      log.error({ event: 'grant.failed', err: message, code, ref }, 'grant failed');
      this.s.telemetry.grant(target.kind, 'failed');
      return this.t.apply(granting, { type: 'grant-failed', error: message, code, ref });
    }
    this.fault('after-grant-aws', granting);
    log.info({ event: 'grant.created', grant }, 'access granted');
    const active = await this.t.apply(granting, { type: 'granted', grant, expiresAt: expiresAt.toISOString() });
    this.s.telemetry.grant(target.kind, 'ok');
    if (active.decidedAt && active.grantedAt) this.s.telemetry.approveToActive(target.kind, (Date.parse(active.grantedAt) - Date.parse(active.decidedAt)) / 1000);
    this.fault('after-active', active);
    return active;
  }

  /**
   * The "grant" of an approved extension: moves the expiry of the ACTIVE grant it extends, in
   * one conditional write on that grant (the rule or the session stays as it is), then has the
   * provider record the new end where AWS shows it (recordExpiry: ec2-ssh's rule tag and
   * description), before the extension itself is done: a crash or a failed call in between is
   * retried on the extension, which finds its grant already extended and records the end again.
   * Idempotent: a grant that already lists the extension is not extended twice.
   */
  private async extension(granting: AccessRequest, target: Target): Promise<AccessRequest> {
    const parentId = granting.extends!;
    const fail = (code: FailureCode, error: string) => {
      const ref = newFailureRef(this.s.random);
      requestLog(this.s, granting).warn({ event: 'extension.failed', code, ref, err: error }, 'extension could not be applied');
      return this.t.apply(granting, { type: 'grant-failed', error, code, ref });
    };
    for (let attempt = 1; attempt <= DECISION_ATTEMPTS; attempt++) {
      const parent = await this.s.store.get(parentId);
      if (parent?.expiresAt && parent.extensions?.some((x) => x.id === granting.id)) return this.recorded(granting, parent);
      if (!parent || parent.status !== 'ACTIVE' || !parent.expiresAt || !parent.grantedAt || this.s.clock.now().getTime() >= Date.parse(parent.expiresAt)) {
        return fail('extension-ended', `access ${parentId} ended before the extension could be applied; send a new request`);
      }
      const totalMs = Date.parse(parent.expiresAt) - Date.parse(parent.grantedAt) + granting.durationMs;
      if (totalMs > target.policy.maxTotalDurationMs) return fail('extension-over-cap', `${parentId} would last ${formatDuration(totalMs)} in all, over the ${formatDuration(target.policy.maxTotalDurationMs)} that ${target.name} allows`);
      try {
        const extended = await this.t.apply(parent, { type: 'extend', extensionId: granting.id, durationMs: granting.durationMs, actor: granting.decidedBy ?? (granting.approvedVia === 'auto' ? 'policy' : granting.requesterId) });
        return await this.recorded(granting, extended);
      } catch (err) {
        if (err instanceof ConflictError || err instanceof InvalidTransitionError) continue; // the grant moved (warned, claimed): re-read
        throw err;
      }
    }
    const ref = newFailureRef(this.s.random);
    return this.t.apply(granting, { type: 'grant-retry', error: `${parentId} kept changing while the extension was applied`, code: 'extension-busy', ref, retryAt: this.retryAt(granting.attempts ?? 0) });
  }

  /**
   * The extension is done once AWS shows the grant's new end (recordExpiry). A failure is retried
   * on the extension within the grant retry budget; past it (or when it cannot succeed) the
   * extension, which is in effect already, is done anyway and the stale record is logged.
   */
  private async recorded(granting: AccessRequest, parent: AccessRequest): Promise<AccessRequest> {
    const grant = parent.grant;
    if (grant) {
      try {
        await providerOf(this.s, grant.kind).recordExpiry?.(parent, grant, new Date(parent.expiresAt!));
      } catch (err) {
        const message = errorText(err);
        const code = failureCodeOfError(err);
        const ref = newFailureRef(this.s.random);
        const log = requestLog(this.s, granting);
        const retryable = !(err instanceof GrantError) || err.retryable;
        if (retryable && this.s.clock.now().getTime() - Date.parse(granting.decidedAt ?? granting.createdAt) < this.s.grantRetryBudgetMs) {
          log.warn({ event: 'extension.record_retry', err: message, code, ref }, 'the grant is extended; AWS does not show its new end yet, will retry');
          return this.t.apply(granting, { type: 'grant-retry', error: message, code, ref, retryAt: this.retryAt(granting.attempts ?? 0) });
        }
        log.error({ event: 'extension.record_failed', err: message, code, ref, parentId: parent.id }, 'the grant is extended, but AWS still shows its old end');
      }
    }
    return this.t.apply(granting, { type: 'extended', parentId: parent.id, expiresAt: parent.expiresAt! });
  }

  /**
   * Ends a grant: the provider ends its sessions, then revokes (for a shared resource, only the
   * last holder revokes in AWS; the others are released); the revoke is accepted only once a
   * re-read confirms it took. Failures are retried with backoff for as long as it takes; humans
   * are alerted once the retry budget is spent.
   */
  async revoke(revoking: AccessRequest): Promise<AccessRequest> {
    const log = requestLog(this.s, revoking);
    this.fault('after-revoke-intent', revoking);
    const grant = revoking.grant;
    let removed = false;
    let holders: string[] = [];
    let sessions: string[] = [];
    try {
      if (grant) {
        const provider = providerOf(this.s, grant.kind);
        // The target as configured now (undefined when removed since): revocation works from the grant.
        const target = findTarget(this.s.config, revoking.targetName);
        // Cut what the rule alone would leave running, before giving up our hold on it.
        sessions = (await provider.endSessions?.(revoking, target, grant)) ?? [];
        const result = await provider.revoke(revoking, target, grant);
        if (!result.verified) throw new GrantError(provider.unverifiedRevoke?.(grant) ?? 'AWS does not yet confirm that the access was removed (or could not be asked)', true, 'revoke-unverified');
        removed = result.removed;
        holders = result.holders ?? [];
        sessions = [...sessions, ...(result.sessions ?? [])];
        if (holders.length === 0) this.fault('after-revoke-aws', revoking);
      }
    } catch (err) {
      const message = errorText(err);
      const code = failureCodeOfError(err);
      const ref = newFailureRef(this.s.random);
      const attempts = (revoking.attempts ?? 0) + 1;
      const permanent = err instanceof GrantError && !err.retryable;
      // The alert carries the code and the reference; AWS's message is in the log and the audit under it.
      const alert =
        attempts === this.s.revokeAlertAfter || (permanent && attempts === 1)
          ? problem('revoke-failing', { id: revoking.id, target: revoking.targetName, failure: code, ref })
          : undefined;
      log.error({ event: 'revoke.retry', err: message, code, ref, attempts }, 'revoke failed, will retry');
      this.s.telemetry.revocation(revoking.kind, 'retried');
      if (alert) this.s.telemetry.revocation(revoking.kind, 'failed');
      return this.t.apply(revoking, { type: 'revoke-retry', error: message, code, ref, retryAt: this.retryAt(revoking.attempts ?? 0), ...(alert ? { alert } : {}) });
    }
    const outcome = holders.length > 0 ? 'released' : 'verified';
    log.info({ event: 'revoke.done', removed, outcome, holders, grant }, outcome === 'verified' ? 'access revoked and verified' : 'access ended; shared rule kept for other grants');
    const revoked = await this.t.apply(revoking, { type: 'revoked', removed, outcome, holders, sessions });
    this.s.telemetry.revocation(revoking.kind, outcome);
    if (revoked.endReason === 'expired' && revoked.expiresAt && revoked.endedAt) this.s.telemetry.revokeLateness(revoking.kind, (Date.parse(revoked.endedAt) - Date.parse(revoked.expiresAt)) / 1000);
    return revoked;
  }

  /** Ends a request the policy now refuses: one conditional write (DENIED by "policy"), the requester told, the approval message updated. */
  async refuse(request: AccessRequest, decision: { code: Extract<PolicyDecision, { outcome: 'deny' }>['code']; rule?: string; reasons: string[] }): Promise<AccessRequest> {
    requestLog(this.s, request).warn({ event: 'request.refused_by_policy', status: request.status, code: decision.code, rule: decision.rule, approvals: request.approvals?.length ?? 0 }, 'the policy decided again and refuses the request');
    return this.t.apply(request, { type: 'refuse', code: decision.code, ...(decision.rule ? { rule: decision.rule } : {}), message: decision.reasons.at(-1) ?? decision.code });
  }

  /** Exponential backoff with full jitter, capped. */
  private retryAt(previousAttempts: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** previousAttempts);
    return this.s.clock.now().getTime() + Math.round(ceiling / 2 + (this.s.random() * ceiling) / 2);
  }

  private fault(point: Parameters<FaultHook>[0], request: AccessRequest): void {
    this.s.faults?.(point, request.id);
  }
}
