/**
 * Approvers' decisions: approve (towards the quorum), deny, and the review of break-glass access.
 * Who may not decide hears one neutral answer, whether the request exists or not; concurrent
 * clicks retry on the fresh state, so each approver counts once and one of them completes it.
 */
import { AlreadyResolvedError, CannotDecideError, ConflictError, NotAllowedError } from '../domain/errors';
import type { AccessRequest, Target } from '../domain/types';
import type { LifecycleEvent } from '../lifecycle';
import { approvalsPhrase, checkCanDecide, checkComment, checkNarrowedDuration, findTarget, isAnyApprover, isApproverOf } from '../policy';
import type { Actors } from './actors';
import type { Execution } from './execution';
import { DECISION_ATTEMPTS, resolvedError, type Settings } from './shared';
import type { Transitions } from './transitions';

/** An approver's decision with its optional extras. */
export interface DecisionOptions {
  /** A note for the requester and the audit. */
  comment?: string;
  /** Approve for this long instead (shorter than asked). Text as typed: "45m". */
  duration?: string;
}

export class Decisions {
  constructor(
    private readonly s: Settings,
    private readonly t: Transitions,
    private readonly actors: Actors,
    private readonly execution: Execution,
  ) {}

  /**
   * One approver's yes. When it completes the quorum the request is granted (the returned
   * request is after the grant attempt); otherwise it stays PENDING with one more approval.
   */
  async approve(id: string, actorId: string, opts: DecisionOptions = {}): Promise<AccessRequest> {
    const comment = checkComment(opts.comment);
    for (let attempt = 1; ; attempt++) {
      const { request, target } = await this.pending(id, actorId);
      const mine = request.approvals?.find((a) => a.by === actorId);
      if (mine) {
        const left = target.policy.approvalsRequired - (request.approvals?.length ?? 0);
        throw new NotAllowedError('already-approved', { id, left });
      }
      // Re-decide, don't re-check: the whole policy again, now, on fresh group membership.
      const decision = await this.actors.redecision(request, true);
      if (decision.outcome === 'deny') {
        try {
          return await this.execution.refuse(request, decision);
        } catch (err) {
          if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue;
          if (err instanceof ConflictError) throw resolvedError((await this.s.store.get(id)) ?? request);
          throw err;
        }
      }
      const durationMs = checkNarrowedDuration(target, request, opts.duration);
      const event: LifecycleEvent = { type: 'approve', actor: actorId, required: target.policy.approvalsRequired, ...(comment ? { comment } : {}), ...(durationMs !== undefined ? { durationMs } : {}) };
      let next: AccessRequest;
      try {
        next = await this.t.apply(request, event);
      } catch (err) {
        if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue; // another approver wrote first: decide on the fresh state
        if (err instanceof ConflictError) throw resolvedError((await this.s.store.get(id)) ?? request);
        throw err;
      }
      this.s.telemetry.approval(next.status === 'GRANTING');
      return next.status === 'GRANTING' ? this.execution.grant(next, target) : next;
    }
  }

  /** Any approver's no ends the request (quorum or not). */
  async deny(id: string, actorId: string, opts: DecisionOptions = {}): Promise<AccessRequest> {
    const comment = checkComment(opts.comment);
    for (let attempt = 1; ; attempt++) {
      const { request } = await this.pending(id, actorId);
      try {
        return await this.t.apply(request, { type: 'deny', actor: actorId, ...(comment ? { comment } : {}) });
      } catch (err) {
        if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue; // an approval landed first: still PENDING?
        if (err instanceof ConflictError) throw resolvedError((await this.s.store.get(id)) ?? request);
        throw err;
      }
    }
  }

  /** An approver marks a break-glass request as reviewed (any status; once). */
  async review(id: string, actorId: string): Promise<AccessRequest> {
    await this.actors.checkActor(actorId);
    for (let attempt = 1; ; attempt++) {
      // Who may not review learns nothing (not whether the request exists, nor what it was).
      const request = await this.actors.get(id);
      if (!request || actorId === request.requesterId) throw new CannotDecideError();
      const target = findTarget(this.s.config, request.targetName);
      const groups = await this.actors.groupsOf(actorId);
      const approver = target ? isApproverOf(target, actorId, groups) : isAnyApprover(this.s.config, actorId, groups);
      if (!approver) throw new CannotDecideError();
      if (!request.breakGlass) throw new NotAllowedError('not-break-glass', { id });
      if (request.reviewedBy) throw new AlreadyResolvedError('already-reviewed', { id });
      try {
        return await this.t.apply(request, { type: 'review', actor: actorId });
      } catch (err) {
        if (err instanceof ConflictError && attempt < DECISION_ATTEMPTS) continue; // it moved on (granted, revoked): mark the fresh state
        throw err;
      }
    }
  }

  /**
   * The decision form's submission, before the ack: throws ValidationError (field `comment` or
   * `duration`) for what the approver should correct in the form. The shorter duration is checked
   * only for someone who may decide (nobody else hears anything about the request, not even how
   * long it asked for); every other refusal is left to approve / deny, after the ack.
   */
  async precheck(id: string, actorId: string, decision: 'approve' | 'deny', input: DecisionOptions): Promise<void> {
    checkComment(input.comment);
    if (decision !== 'approve' || input.duration === undefined) return;
    const pending = await this.pending(id, actorId).catch(() => undefined);
    if (pending) checkNarrowedDuration(pending.target, pending.request, input.duration);
  }

  /**
   * The PENDING request `actorId` may decide on now, and its target (what the decision form shows). May this actor decide at
   * all? Asked first, with one neutral answer whether the request exists or not; only deciders
   * hear about its state.
   */
  async pending(id: string, actorId: string): Promise<{ request: AccessRequest; target: Target }> {
    await this.actors.checkActor(actorId);
    const request = await this.actors.get(id);
    const target = checkCanDecide(this.s.config, request, actorId, await this.actors.groupsOf(actorId));
    if (!request) throw new CannotDecideError(); // unreachable: checkCanDecide refuses a missing request
    if (request.status !== 'PENDING') throw resolvedError(request);
    if (this.s.clock.now().getTime() >= Date.parse(request.approvalDeadline)) {
      // The sweeper has not got to it yet; the deadline still holds.
      const expired = await this.t.apply(request, { type: 'approval-timeout' }, (current) => resolvedError(current));
      throw resolvedError(expired);
    }
    return { request, target };
  }
}
