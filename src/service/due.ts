/**
 * Due work: moves a request on when its time comes (approval timeout, reminder, lapsed grant or
 * revoke lease, expiry warning, expiry). Safe from any replica at any time: every step is a
 * conditional write and only its winner touches AWS.
 */
import { ConflictError, InvalidTransitionError } from '../domain/errors';
import type { AccessRequest } from '../domain/types';
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

  /** Due requests, oldest first; with `aheadMs`, also those falling due within that window. */
  async list(limit: number, aheadMs = 0): Promise<AccessRequest[]> {
    return this.s.store.listDue(this.s.clock.now().getTime() + aheadMs, limit);
  }

  /** Moves one due request on. Returns the request as left, or undefined if someone else won. */
  async process(id: string): Promise<AccessRequest | undefined> {
    const request = await this.s.store.get(id);
    if (!request || request.dueAt === undefined) return request;
    const now = this.s.clock.now().getTime();
    if (request.dueAt > now) return request;
    try {
      switch (request.status) {
        case 'PENDING':
          if (now >= Date.parse(request.approvalDeadline)) return await this.t.apply(request, { type: 'approval-timeout' });
          return await this.t.apply(request, { type: 'remind', nextAt: nextReminder(this.s.config, request, (request.remindersSent ?? 0) + 1) });
        case 'GRANTING': {
          const claimed = await this.t.apply(request, { type: 'claim', owner: this.s.owner });
          // A target gone since is refused by the re-decision in the grant.
          return await this.execution.grant(claimed, findTarget(this.s.config, claimed.targetName));
        }
        case 'ACTIVE':
          if (request.expiresAt && now >= Date.parse(request.expiresAt)) {
            return await this.execution.revoke(await this.t.apply(request, { type: 'expire' }));
          }
          return await this.t.apply(request, { type: 'warn' });
        case 'REVOKING':
          return await this.execution.revoke(await this.t.apply(request, { type: 'claim', owner: this.s.owner }));
        default:
          return request;
      }
    } catch (err) {
      if (err instanceof ConflictError || err instanceof InvalidTransitionError) return undefined; // another replica or click moved it first
      throw err;
    }
  }
}
