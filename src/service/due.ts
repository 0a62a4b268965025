/**
 * Due work: moves a request on when its time comes (approval timeout, reminder, lapsed grant or
 * revoke lease, expiry warning, expiry). Safe from any replica at any time: every step is a
 * conditional write and only its winner touches AWS.
 */
import { ConflictError, InvalidTransitionError } from '../domain/errors';
import type { AccessRequest } from '../domain/types';
import type { LifecycleEvent } from '../lifecycle';
import { findTarget } from '../policy';
import type { Execution } from './execution';
import { nextReminder } from './requests';
import type { Settings } from './shared';
import type { Transitions } from './transitions';

export class DueWork {
  constructor(
    private readonly s: Settings,
    private readonly t: Transitions,
    private readonly execution: Execution,
  ) {}

  /** Requests due now (or within `aheadMs`), oldest first. */
  async list(limit: number, aheadMs = 0): Promise<AccessRequest[]> {
    return this.s.store.listDue(this.s.clock.now().getTime() + Math.max(0, aheadMs), limit);
  }

  /**
   * Moves one due request on. Returns the request as left, or undefined if someone else won.
   * `known`: the caller's copy (a timer's, a sweep's), used instead of a first read; every step is
   * conditional on its version, so a stale copy only loses its write, and is then read afresh.
   */
  async process(id: string, known?: AccessRequest): Promise<AccessRequest | undefined> {
    if (known && known.id === id) {
      try {
        return await this.step(known, true);
      } catch (err) {
        if (!(err instanceof StaleCopyError)) throw err;
      }
    }
    return this.step(await this.s.store.get(id), false);
  }

  private async step(request: AccessRequest | undefined, copy: boolean): Promise<AccessRequest | undefined> {
    if (!request || request.dueAt === undefined) return request;
    const now = this.s.clock.now().getTime();
    if (request.dueAt > now) return request;
    // The first write is made from `request`: when that is the caller's copy and the write loses,
    // the copy was stale (or someone moved it): read it again and decide afresh.
    const first = async (event: LifecycleEvent): Promise<AccessRequest> => {
      try {
        return await this.t.apply(request, event);
      } catch (err) {
        if (copy && (err instanceof ConflictError || err instanceof InvalidTransitionError)) throw new StaleCopyError();
        throw err;
      }
    };
    try {
      switch (request.status) {
        case 'PENDING':
          if (now >= Date.parse(request.approvalDeadline)) return await first({ type: 'approval-timeout' });
          return await first({ type: 'remind', nextAt: nextReminder(this.s.config, request, (request.remindersSent ?? 0) + 1) });
        case 'GRANTING': {
          const claimed = await first({ type: 'claim', owner: this.s.owner });
          // A target gone since is refused by the re-decision in the grant.
          return await this.execution.grant(claimed, findTarget(this.s.config, claimed.targetName));
        }
        case 'ACTIVE':
          if (request.expiresAt && now >= Date.parse(request.expiresAt)) {
            return await this.execution.revoke(await first({ type: 'expire' }));
          }
          return await first({ type: 'warn' });
        case 'REVOKING':
          return await this.execution.revoke(await first({ type: 'claim', owner: this.s.owner }));
        default:
          return request;
      }
    } catch (err) {
      if (err instanceof ConflictError || err instanceof InvalidTransitionError) return undefined; // another replica or click moved it first
      throw err;
    }
  }
}

/** The caller's copy of a due request lost its first write: it was stale (read it again). */
class StaleCopyError extends Error {}
