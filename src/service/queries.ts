/**
 * What the Slack edge asks before it renders: the caller's open requests, the targets they may
 * request and how each would be decided, whether they are an approver and may see the whole
 * policy, whom to remind and whether to offer Extend. Nothing here changes a request.
 */
import type { PolicyView, ReminderAudience } from '../domain/policy-terms';
import { type AccessRequest, isTerminal, type Target } from '../domain/types';
import { canExtendGrant, findTarget, isAnyApprover, reminderAudienceFor, summarizeFor, type TargetSummary, visibleTargets } from '../policy';
import { describePolicy } from '../policy-report';
import type { Actors } from './actors';
import type { Settings } from './shared';

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

  /** Approvers of any target (or the default approvers) may see the whole policy. */
  async isApprover(userId: string): Promise<boolean> {
    await this.actors.checkActor(userId);
    return isAnyApprover(this.s.config, userId, await this.actors.groupsOf(userId));
  }

  /** `/jit policy check`: approvers see the whole effective policy; anyone else only their own targets. */
  async policyView(userId: string): Promise<PolicyView> {
    return (await this.isApprover(userId)) ? { scope: 'all', lines: describePolicy(this.s.config) } : { scope: 'own' };
  }

  /** Whom to remind of a pending request now (approver groups resolved as cached); the notifier renders and sends. */
  async reminderAudience(request: AccessRequest): Promise<ReminderAudience> {
    const target = findTarget(this.s.config, request.targetName);
    return reminderAudienceFor(this.s.config, request, target?.policy.reminders?.dm ? await this.actors.membersOf(target) : undefined);
  }

  /** Does the expiry warning offer "Extend" (live grant, target unchanged, headroom left)? */
  extensionOffered(request: AccessRequest): boolean {
    return canExtendGrant(this.s.config, request);
  }
}
