/**
 * What the Slack edge asks before it renders: the caller's open requests, the targets they may
 * request and how each would be decided, whether they are an approver, and how much longer a
 * grant may run. Nothing here changes a request.
 */
import { ValidationError } from '../domain/errors';
import { type AccessRequest, isTerminal, type Target } from '../domain/types';
import { type ExtensionHeadroom, extensionHeadroom, findTarget, grantedMsOf, isAnyApprover, summarizeFor, type TargetSummary, visibleTargets } from '../policy';
import type { Actors } from './actors';
import { resolvedError, type Settings } from './shared';

export class Queries {
  constructor(
    private readonly s: Settings,
    private readonly actors: Actors,
  ) {}

  /** The caller's pending and active requests, newest first. */
  async listOpen(userId: string): Promise<AccessRequest[]> {
    const mine = await this.s.store.listByRequester(userId, 100);
    return mine.filter((r) => !isTerminal(r.status));
  }

  /** The targets `userId` may request (the rest are hidden from them). */
  async targetsFor(userId: string): Promise<Target[]> {
    await this.actors.checkActor(userId);
    return visibleTargets(this.s.config, userId, await this.actors.groupsOf(userId));
  }

  /** What `/jit targets` shows the caller: what they may request and how it would be decided now. */
  async targetSummaries(userId: string): Promise<TargetSummary[]> {
    await this.actors.checkActor(userId);
    return summarizeFor(this.s.config, userId, await this.actors.groupsOf(userId), this.s.clock.now());
  }

  /**
   * Checks that the requester may extend their ACTIVE grant now and returns how much longer it
   * may run (the target's maxDuration, within what maxTotalDuration leaves).
   */
  async extensionLimit(grantId: string, userId: string): Promise<{ request: AccessRequest; target: Target } & ExtensionHeadroom> {
    const grant = await this.actors.visibleTo(grantId, (r) => userId === r.requesterId, 'extend');
    if (grant.status !== 'ACTIVE' || !grant.expiresAt || !grant.grantedAt) throw resolvedError(grant);
    const target = findTarget(this.s.config, grant.targetName);
    if (!target || target.kind !== grant.kind) throw new ValidationError(`Target \`${grant.targetName}\` is no longer configured, so \`${grantId}\` cannot be extended.`);
    return { request: grant, target, ...extensionHeadroom(target, grantedMsOf(grant) ?? 0) };
  }

  /** Approvers of any target (or the default approvers) may see the whole policy. */
  async isApprover(userId: string): Promise<boolean> {
    await this.actors.checkActor(userId);
    return isAnyApprover(this.s.config, userId, await this.actors.groupsOf(userId));
  }
}
