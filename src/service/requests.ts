/**
 * New requests and extensions: validated, decided by the policy and stored — PENDING with the
 * approval message queued, or (auto-approval, break-glass) stored already GRANTING and granted
 * now. Each submission is counted once for the metrics, however it ends.
 */
import type { JitConfig } from '../config-types';
import { formatDuration } from '../domain/duration';
import { AlreadyResolvedError, NotAllowedError, NotFoundError, ValidationError } from '../domain/errors';
import { newRequestId } from '../domain/ids';
import { ticketOf } from '../domain/reason';
import { type AccessRequest, isTerminal, type Target } from '../domain/types';
import { creationNotifications, type LifecycleEvent } from '../lifecycle';
import { checkExtensionDuration, checkExtensionWithin, checkReason, evaluateRequest, type ExtensionHeadroom, extensionHeadroom, findTarget, grantedMsOf, type PolicyDecision, type SubmissionInput, type ValidSubmission, validateSubmission } from '../policy';
import type { RequestOutcome } from '../ports';
import type { Actors } from './actors';
import type { Execution } from './execution';
import { requestLog, resolvedError, type Settings } from './shared';
import type { Transitions } from './transitions';

/** An ACTIVE grant as stored: it has started and has an expiry. */
type LiveGrant = AccessRequest & { expiresAt: string; grantedAt: string };

/** What a submission came to, for the requests metric (filled in as it goes). */
export interface Submission {
  kind: string;
  outcome: RequestOutcome;
}

export class Requests {
  constructor(
    private readonly s: Settings,
    private readonly t: Transitions,
    private readonly actors: Actors,
    private readonly execution: Execution,
  ) {}

  /**
   * Checks a new request against the input rules and the approval policy without storing
   * anything (the request form calls this before it closes). Throws ValidationError naming the
   * field, or the rule that refuses it.
   */
  async precheck(input: SubmissionInput, seen?: Submission): Promise<{ valid: ValidSubmission; decision: PolicyDecision }> {
    await this.actors.checkActor(input.requesterId);
    const groups = await this.actors.groupsOf(input.requesterId);
    const valid = validateSubmission(this.s.config, input, groups);
    const decision = evaluateRequest(
      this.s.config,
      { target: valid.target, requesterId: input.requesterId, durationMs: valid.durationMs, breakGlass: input.breakGlass },
      { now: this.s.clock.now(), requesterGroups: groups, groupMembers: await this.actors.membersOf(valid.target) },
    );
    if (decision.outcome === 'deny') {
      if (seen) seen.outcome = 'refused-by-policy';
      throw new ValidationError(decision.problem.code, decision.problem.params, 'target');
    }
    await this.actors.checkRate(input.requesterId, decision.outcome === 'break-glass');
    return { valid, decision };
  }

  /**
   * Validates a new request, decides it by policy and stores it. A form submission also gets a
   * DM, since a form has no place for a reply.
   */
  async submit(input: SubmissionInput, opts: { notifyRequester?: boolean } = {}): Promise<AccessRequest> {
    const seen: Submission = { kind: (input.targetName ? findTarget(this.s.config, input.targetName)?.kind : undefined) ?? 'unknown', outcome: 'error' };
    return this.counted(seen, () => this.submitCounted(input, opts, seen));
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

  /** Runs a submission and counts it once, by kind and outcome, however it ends. */
  private async counted(seen: Submission, run: () => Promise<AccessRequest>): Promise<AccessRequest> {
    try {
      return await run();
    } catch (err) {
      if (seen.outcome === 'error' && (err instanceof ValidationError || err instanceof NotAllowedError || err instanceof AlreadyResolvedError || err instanceof NotFoundError)) seen.outcome = 'invalid';
      throw err;
    } finally {
      this.s.telemetry.requestSubmitted(seen.kind, seen.outcome);
    }
  }

  private async submitCounted(input: SubmissionInput, opts: { notifyRequester?: boolean }, seen: Submission): Promise<AccessRequest> {
    const { valid, decision } = await this.precheck(input, seen);
    // Ask AWS what only AWS knows (the role exists, the nodes are managed and online) before storing.
    await this.s.providers[valid.target.kind]?.checkRequest?.(valid.target);
    const request = this.newRequest({
      target: valid.target,
      requesterId: input.requesterId,
      reason: valid.reason,
      durationMs: valid.durationMs,
      cidr: valid.cidr,
      accounts: valid.accounts,
      details: input.breakGlass ? { breakGlass: 'requested' } : {},
      notifyRequester: opts.notifyRequester === true && decision.outcome === 'approval',
    });
    return this.store(request, valid.target, decision, seen);
  }

  private async extendCounted(grantId: string, userId: string, input: { duration?: string; reason?: string }, seen: Submission): Promise<AccessRequest> {
    await this.actors.checkActor(userId);
    const { grant, target } = await this.extensible(grantId, userId, seen);
    const durationMs = checkExtensionDuration(target, input.duration);
    const reason = checkReason(input.reason, target);
    const now = this.s.clock.now();
    if (now.getTime() >= Date.parse(grant.expiresAt)) throw resolvedError({ ...grant, status: 'REVOKING' });
    const waiting = (await this.s.store.listByRequester(userId, 100)).find((r) => r.extends === grantId && !isTerminal(r.status));
    if (waiting) throw new ValidationError('extension-waiting', { id: grantId, waiting: waiting.id, durationMs: waiting.durationMs }, 'duration');
    const groups = await this.actors.groupsOf(userId);
    const grantedMs = grantedMsOf(grant) ?? 0;
    const decision = evaluateRequest(this.s.config, { target, requesterId: userId, durationMs, grantedMs }, { now, requesterGroups: groups, groupMembers: await this.actors.membersOf(target) });
    if (decision.outcome === 'deny') {
      seen.outcome = 'refused-by-policy';
      throw new ValidationError(decision.problem.code, decision.problem.params, 'duration');
    }
    await this.actors.checkRate(userId, false);
    const request = this.newRequest({
      target,
      requesterId: userId,
      reason,
      durationMs,
      cidr: grant.cidr,
      accounts: grant.accounts,
      extendsId: grant.id,
      // Nobody can approve an extension after the grant ended.
      deadlineCap: Date.parse(grant.expiresAt),
      details: { extends: grant.id },
      notifyRequester: decision.outcome === 'approval',
    });
    return this.store(request, target, decision, seen);
  }

  /**
   * Checks that the requester may extend their ACTIVE grant now and returns how much longer it
   * may run (the target's maxDuration, within what maxTotalDuration leaves).
   */
  async extensionLimit(grantId: string, userId: string): Promise<{ request: AccessRequest; target: Target } & ExtensionHeadroom> {
    const { grant, target } = await this.extensible(grantId, userId);
    return { request: grant, target, ...extensionHeadroom(target, grantedMsOf(grant) ?? 0) };
  }

  /**
   * The extension form's submission, before the ack: throws ValidationError (field `duration` or
   * `reason`) for what the requester should correct: the length (a valid extension within the
   * grant's headroom), the reason, or a target no longer configured. Any other refusal (not their
   * grant, access ended) is left to `extend`, which says it after the ack.
   */
  async precheckExtension(grantId: string, userId: string, input: { duration?: string; reason?: string }): Promise<void> {
    let limit: Awaited<ReturnType<Requests['extensionLimit']>>;
    try {
      limit = await this.extensionLimit(grantId, userId);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      return;
    }
    checkExtensionWithin(limit.target, limit, input.duration);
    checkReason(input.reason, limit.target);
  }

  /** The requester's ACTIVE grant with its target as configured, if they may extend it; else the refusal. */
  private async extensible(grantId: string, userId: string, seen?: Submission): Promise<{ grant: LiveGrant; target: Target }> {
    const grant = await this.actors.visibleTo(grantId, (r) => userId === r.requesterId, 'extend');
    if (seen) seen.kind = grant.kind;
    if (grant.status !== 'ACTIVE' || !grant.expiresAt || !grant.grantedAt) throw resolvedError(grant);
    const target = findTarget(this.s.config, grant.targetName);
    if (!target || target.kind !== grant.kind) throw new ValidationError('extend-target-gone', { target: grant.targetName, id: grantId });
    return { grant: grant as LiveGrant, target };
  }

  /** A new request (or extension) as first stored: PENDING, its approval message queued. */
  private newRequest(o: { target: Target; requesterId: string; reason: string; durationMs: number; cidr?: string; accounts?: string[]; extendsId?: string; deadlineCap?: number; details: Record<string, string>; notifyRequester: boolean }): AccessRequest {
    const now = this.s.clock.now();
    const deadline = Math.min(now.getTime() + o.target.policy.approvalTimeoutMs, o.deadlineCap ?? Infinity);
    const at = now.toISOString();
    // The ticket the reason names (target's reason rule): kept on the request and in its first audit record.
    const ticket = ticketOf(o.target.policy.reason, o.reason);
    const ticketDetails = ticket ? { ticketKey: ticket.key, ...(ticket.url ? { ticketUrl: ticket.url } : {}) } : {};
    const request: AccessRequest = {
      id: newRequestId(),
      version: 1,
      status: 'PENDING',
      kind: o.target.kind,
      targetName: o.target.name,
      requesterId: o.requesterId,
      reason: o.reason,
      ...(ticket ? { ticket } : {}),
      durationMs: o.durationMs,
      ...(o.cidr ? { cidr: o.cidr } : {}),
      ...(o.accounts ? { accounts: o.accounts } : {}),
      ...(o.extendsId ? { extends: o.extendsId } : {}),
      createdAt: at,
      approvalDeadline: new Date(deadline).toISOString(),
      approvalsRequired: o.target.policy.approvalsRequired,
      dueAt: deadline,
      audit: [{ at, actor: o.requesterId, action: o.extendsId ? 'request-extension' : 'request', from: null, to: 'PENDING', details: { target: o.target.name, durationMs: String(o.durationMs), ...(o.cidr ? { cidr: o.cidr } : {}), ...(o.accounts ? { accounts: o.accounts.join(',') } : {}), ...ticketDetails, ...o.details } }],
      // "+" sorts before the transition's "<at>-0-…" ids: the approval message goes out first.
      outbox: { [`${at}-+post`]: { id: `${at}-+post`, kind: 'approval.post', createdAt: at } },
    };
    request.dueAt = nextReminder(this.s.config, request, 0);
    if (o.notifyRequester) request.outbox[`${at}-submitted`] = { id: `${at}-submitted`, kind: 'dm.submitted', createdAt: at };
    for (const n of creationNotifications(request, this.t.edge())) request.outbox[n.id] = n;
    return request;
  }

  /**
   * Stores a new request as the policy decided it. Auto-approved and break-glass requests are
   * stored already GRANTING, the policy's decision as the second audit record of the same
   * write (a crash after it is finished by the sweeper), then granted.
   */
  private async store(request: AccessRequest, target: Target, decision: PolicyDecision, seen: Submission): Promise<AccessRequest> {
    const log = requestLog(this.s, request);
    if (decision.outcome === 'approval') {
      await this.t.create(request);
      seen.outcome = 'pending';
      log.info({ event: 'request.submitted', target: request.targetName, durationMs: request.durationMs, extends: request.extends, approvalsRequired: decision.approvalsRequired }, 'request submitted');
      return request;
    }
    if (decision.outcome === 'deny') throw new ValidationError(decision.problem.code, decision.problem.params, 'target');
    const event: LifecycleEvent = decision.outcome === 'auto' ? { type: 'auto-approve', rule: decision.rule } : { type: 'break-glass' };
    const granting = await this.t.create(request, event);
    seen.outcome = decision.outcome === 'auto' ? 'auto-approved' : 'break-glass';
    log[decision.outcome === 'break-glass' ? 'warn' : 'info']({ event: `request.${decision.outcome}`, target: request.targetName, durationMs: request.durationMs, rule: decision.outcome === 'auto' ? decision.rule : undefined }, decision.outcome === 'auto' ? 'request auto-approved' : 'break-glass access taken');
    return this.execution.grant(granting, target);
  }
}

/** When the next reminder is due after `sent` reminders (the deadline when there is none). */
export function nextReminder(config: JitConfig, request: AccessRequest, sent: number): number {
  const deadline = Date.parse(request.approvalDeadline);
  const target = findTarget(config, request.targetName);
  const every = target?.policy.reminders?.everyMs;
  if (!every) return deadline;
  const next = Date.parse(request.createdAt) + (sent + 1) * every;
  return next < deadline ? next : deadline;
}
