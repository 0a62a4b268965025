/**
 * Who is asking, and what the policy says about them now: the account check (guests, other
 * workspaces, deactivated, bots), per-user rate limits, group membership, which requests an actor
 * may see at all, and the policy decided again on a stored request with fresh facts.
 */
import { NotFoundError, type RequestAction } from '../domain/errors';
import { isRequestId } from '../domain/ids';
import { checkRateLimits, DEFAULT_RATE_LIMITS, ineligibleReason, NotEligibleError } from '../domain/safety';
import type { AccessRequest, Target } from '../domain/types';
import { findTarget, grantedMsOf, type PolicyDecision, redecide, referencedGroups } from '../policy';
import { noGroups } from '../ports';
import type { Settings } from './shared';

/** Requests read back to count a break-glass request against its own limit (newest first; limits are at most 100). */
const RATE_SCAN = 250;
/**
 * Beyond a limit's `max`, a few more newest requests are read for an ordinary request: ones
 * stamped a little ahead of this replica's clock do not count now and must not hide ones that do.
 */
const RATE_MARGIN = 10;

export class Actors {
  constructor(private readonly s: Settings) {}

  /**
   * Refuses guests (unless allowGuests), users of another workspace, deactivated accounts and
   * bots, before anything else is looked at; fails closed when Slack cannot be asked. Without a
   * user directory (unit tests of the core) there is nobody to ask and nothing is checked.
   */
  async checkActor(userId: string): Promise<void> {
    if (!this.s.users) return;
    let profile;
    try {
      profile = await this.s.users.profile(userId);
    } catch (err) {
      this.s.log.warn({ event: 'actor.refused', userId, reason: 'unknown', err: (err as Error).message }, 'Slack could not confirm the account: refused');
      throw new NotEligibleError('unknown');
    }
    const reason = ineligibleReason(profile, this.s.config.allowGuests === true);
    if (reason) {
      this.s.log.warn({ event: 'actor.refused', userId, reason }, `refused: ${reason} account`);
      throw new NotEligibleError(reason);
    }
  }

  /** Per-user rate limits on requests and break-glass, counted from the user's stored requests. */
  async checkRate(userId: string, breakGlass: boolean): Promise<void> {
    const limits = this.s.config.rateLimits ?? DEFAULT_RATE_LIMITS;
    // An ordinary request is refused when the newest `max` are all inside the window, so those are
    // all it needs to read (a new request is on every submission's path). Break-glass requests are
    // counted among all of the requester's, over a longer window: those read more.
    const recent = await this.s.store.listByRequester(userId, breakGlass ? RATE_SCAN : limits.requests.max + RATE_MARGIN);
    try {
      checkRateLimits(limits, recent, this.s.clock.now(), breakGlass);
    } catch (err) {
      this.s.log.warn({ event: 'request.rate_limited', userId, breakGlass }, 'refused: rate limit');
      throw err;
    }
  }

  /** The groups named in the config that the user is in (`fresh`: read now, not from the cache). */
  async groupsOf(userId: string, fresh = false): Promise<Set<string>> {
    const groups = referencedGroups(this.s.config);
    if (groups.length === 0) return new Set();
    return (this.s.groups ?? noGroups).groupsOf(userId, groups, fresh ? { fresh } : undefined);
  }

  /** Members of the target's approver groups (for the quorum check). */
  async membersOf(target: Target, fresh = false): Promise<Map<string, readonly string[]>> {
    const members = new Map<string, readonly string[]>();
    for (const g of target.policy.approvers.groups) members.set(g, await (this.s.groups ?? noGroups).members(g, fresh ? { fresh } : undefined));
    return members;
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    // The edge checks ids first; the core never hands the store anything else either.
    if (!isRequestId(id)) return undefined;
    return this.s.store.get(id);
  }

  /**
   * The request, if the actor may act on it; otherwise the same answer as for no request at all,
   * so that who may not act learns nothing (not even that it exists).
   */
  async visibleTo(id: string, may: (request: AccessRequest) => boolean | Promise<boolean>, action: RequestAction): Promise<AccessRequest> {
    if (!isRequestId(id)) throw new NotFoundError('not-a-request-id', {});
    const request = await this.s.store.get(id);
    if (!request || !(await may(request))) throw new NotFoundError('no-such-request', { id, action });
    return request;
  }

  /**
   * The policy's decision on a stored request NOW: current config, clock and freshly read group
   * membership. `quorum`: also refuse when the approvers can no longer reach the quorum (at an
   * approval; once approved, the quorum was met). Extensions are capped by the grant as it stands.
   */
  async redecision(request: AccessRequest, quorum: boolean): Promise<PolicyDecision> {
    const target = findTarget(this.s.config, request.targetName);
    const requesterGroups = await this.groupsOf(request.requesterId, true);
    const groupMembers = quorum && target ? await this.membersOf(target, true) : undefined;
    let grantedMs: number | undefined;
    if (request.extends) {
      const parent = await this.s.store.get(request.extends);
      if (parent) grantedMs = grantedMsOf(parent);
      // Already applied (a resumed extension): its own time is in the total; do not count it twice.
      if (grantedMs !== undefined && parent?.extensions?.some((x) => x.id === request.id)) grantedMs -= request.durationMs;
    }
    return redecide(this.s.config, request, { now: this.s.clock.now(), requesterGroups, ...(groupMembers ? { groupMembers } : {}) }, grantedMs);
  }
}
