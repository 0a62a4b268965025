/**
 * State transitions: every change to a request is one conditional write (status + version) of a
 * lifecycle event, announced to the listeners (the scheduler arms timers, the outbox delivers).
 * Also keeps the intent leases (GRANTING, REVOKING) this replica holds, to hand back on shutdown.
 */
import { randomBytes } from 'node:crypto';
import { ConflictError, InvalidTransitionError } from '../domain/errors';
import type { AccessRequest } from '../domain/types';
import { applyTransition, decide, type LifecycleContext, type LifecycleEvent } from '../lifecycle';
import { errorText, requestLog, type Settings } from './shared';

export type ChangeListener = (request: AccessRequest) => void;

export class Transitions {
  private readonly listeners: ChangeListener[] = [];
  /** Requests whose intent lease (GRANTING, REVOKING) this replica holds: handed back on shutdown. */
  private readonly held = new Set<string>();

  constructor(private readonly s: Settings) {}

  /** Called after every stored change. */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /**
   * Applies an event as one conditional write. On a lost race the `onConflict` mapper turns the
   * current state into the error the caller should see; without one, the ConflictError propagates.
   */
  async apply(request: AccessRequest, event: LifecycleEvent, onConflict?: (current: AccessRequest) => Error): Promise<AccessRequest> {
    const transition = decide(request, event, this.context());
    let next: AccessRequest;
    try {
      next = await this.s.store.transition(transition);
    } catch (err) {
      if (err instanceof ConflictError && onConflict) {
        const current = await this.s.store.get(request.id);
        throw current ? onConflict(current) : err;
      }
      throw err;
    }
    requestLog(this.s, next).info({ event: 'request.transition', action: transition.audit?.action, from: transition.expectStatus, to: next.status, actor: transition.audit?.actor, version: next.version }, `${transition.expectStatus} → ${next.status}`);
    this.changed(next);
    return next;
  }

  /**
   * Stores a new request (ConflictError if the id exists), after applying `event` to it first when
   * given: a request decided at once is stored already decided, in the same write.
   */
  async create(request: AccessRequest, event?: LifecycleEvent): Promise<AccessRequest> {
    const stored = event ? applyTransition(request, decide(request, event, this.context())) : request;
    await this.s.store.create(stored);
    this.changed(stored);
    return stored;
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
        const request = await this.s.store.get(id);
        if (request?.leaseOwner !== this.s.owner) continue;
        await this.apply(request, { type: 'release', owner: this.s.owner });
        released.push(id);
      } catch (err) {
        if (err instanceof ConflictError || err instanceof InvalidTransitionError) continue; // moved on: nothing held
        this.s.log.warn({ event: 'lease.release_failed', requestId: id, err: errorText(err) }, 'could not hand back a lease; it lapses on its own');
      }
    }
    return released;
  }

  private context(): LifecycleContext {
    return { now: this.s.clock.now(), leaseMs: this.s.leaseMs, retentionMs: this.s.config.retentionMs, expiryWarningMs: this.s.config.defaults.expiryWarningMs, owner: this.s.owner, newId: () => randomBytes(4).toString('hex'), ...this.edge() };
  }

  /** Which edge surfaces are on (the audit channel, the App Home): what each transition also owes them. */
  edge(): Pick<LifecycleContext, 'auditLines' | 'homeRefresh'> {
    return { auditLines: this.s.config.auditChannel !== undefined, homeRefresh: this.s.homeTab === true };
  }

  private changed(request: AccessRequest): void {
    if (request.leaseOwner === this.s.owner) this.held.add(request.id);
    else this.held.delete(request.id);
    for (const listener of this.listeners) {
      try {
        listener(request);
      } catch (err) {
        requestLog(this.s, request).error({ err: errorText(err) }, 'change listener failed');
      }
    }
  }
}
