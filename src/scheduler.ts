/**
 * Durable scheduling of lifecycle work. The source of truth is the store's due index: every
 * request that needs attention later (approval deadline, expiry warning, expiry, a lapsed
 * grant/revoke lease, a retry) carries `dueAt`. Two things read it:
 *   - a node-cron sweep every few seconds (and once at start, so a bot that was down through
 *     an expiry revokes as soon as it is back), on every replica;
 *   - in-process timers for to-the-second exactness on this replica, armed on each change and by
 *     each sweep, but only for what is due within the look-ahead (armAheadMs): memory follows
 *     what is due soon, not what is live (10,000 grants expiring in hours hold no timer).
 * Losing a timer (crash, deploy) costs at most one sweep interval. No DynamoDB TTL involved.
 * Due work runs in two lanes with their own limits (see laneOf): revocations, and the rest.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { DEFAULT_REVOCATION_CONCURRENCY } from './domain/revocation-limits';
import type { AccessRequest } from './domain/types';
import { type Clock, type NotificationSender, noTelemetry, type RequestStore, type Telemetry } from './ports';
import type { AccessService } from './service';

export interface SchedulerOptions {
  service: AccessService;
  clock: Clock;
  log: Logger;
  sweepIntervalSeconds: number;
  /** Due requests read per sweep (the rest wait for the next one); default DUE_BATCH. */
  batchSize?: number;
  /** Grants, approval timeouts, reminders and expiry warnings handled at once (the general lane); default 8. */
  concurrency?: number;
  /** Revocations (expiring ACTIVE, REVOKING) handled at once, in their own lane; default DEFAULT_REVOCATION_CONCURRENCY. */
  revocationConcurrency?: number;
  /** How often one replica (holding the drift lease) runs the drift sweep; 0 disables it. */
  driftIntervalMs?: number;
  store?: RequestStore;
  owner?: string;
  notifier?: Pick<NotificationSender, 'alert'>;
  /** On stop, how long work already started may run on before the process lets go of it. */
  stopGraceMs?: number;
  /** Sweep runs and drift removals, for metrics; default: none. */
  telemetry?: Telemetry;
  /**
   * Timers are armed only for requests due within this window (default: ARM_AHEAD_MS, at least
   * two sweep intervals); each sweep also reads what falls due within it and arms those.
   */
  armAheadMs?: number;
}

/**
 * A timer armed from a sweep (work this replica saw, not wrote) fires this much after the due
 * time: every replica's sweep arms the same requests, so the replica that wrote the change (its
 * own timer, at the due time) goes first and the others are its backup, instead of all of them
 * racing for one conditional write at the same instant.
 */
export const SWEEP_ARMED_GRACE_MS = 100;

/** Default look-ahead of the in-process timers. */
export const ARM_AHEAD_MS = 60_000;

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Due requests read per sweep (soonest first), what is due now and what falls due within the
 * look-ahead together: enough that a mass expiry (1,000 grants within a second) is armed by one
 * sweep, not spread over five. Bounded, so one sweep's read stays a few MB.
 */
export const DUE_BATCH = 2_000;

/** Which lane due work runs in: revocations have their own, so a burst of grants never delays an expiry. */
export type Lane = 'revocation' | 'general';

/**
 * The lane of a due request: REVOKING, or ACTIVE whose due time is its expiry (not the warning
 * before it), is revocation work; everything else (grants, approval timeouts, reminders,
 * warnings) is general.
 */
export function laneOf(request: Pick<AccessRequest, 'status' | 'dueAt' | 'expiresAt'>): Lane {
  if (request.status === 'REVOKING') return 'revocation';
  if (request.status === 'ACTIVE' && request.expiresAt !== undefined && request.dueAt !== undefined && request.dueAt >= Date.parse(request.expiresAt)) return 'revocation';
  return 'general';
}

/** One concurrency limit with its queue of waiting work. */
class Gate {
  active = 0;
  readonly waiting: Array<() => void> = [];
  constructor(readonly limit: number) {}
}

export class Scheduler {
  private task?: ScheduledTask;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private stopping = false;
  private sweeping?: Promise<number>;
  private driftTimer?: NodeJS.Timeout;
  private drifting?: Promise<void>;
  /** Untagged rules already reported by this replica (reported once per process). */
  private readonly reported = new Set<string>();
  /**
   * Two lanes, each with its own limit, so a burst of expiries does not swamp the store or AWS,
   * and neither lane can take the other's slots: grants and sweeps never starve revocations.
   */
  private readonly lanes: Record<Lane, Gate>;
  /** Work started and not finished (timers and sweeps), so stop() can let it end. */
  private readonly working = new Set<Promise<void>>();
  /** The work of each request queued or running, and whether it was asked for again meanwhile. */
  private readonly perRequest = new Map<string, { again: boolean; work: Promise<void> }>();
  private lastSweep?: number;
  /** Callers waiting for the revocation lane to be empty (revocationsIdle). */
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly o: SchedulerOptions) {
    this.lanes = { general: new Gate(o.concurrency ?? 8), revocation: new Gate(o.revocationConcurrency ?? DEFAULT_REVOCATION_CONCURRENCY) };
    o.service.onChange((r) => this.arm(r));
  }

  /**
   * Resolves when no revocation is running or waiting for a slot here (at once when none is):
   * work that must not compete with revocation (Slack deliveries) waits on it.
   */
  revocationsIdle(): Promise<void> {
    const lane = this.lanes.revocation;
    if (lane.active === 0 && lane.waiting.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** In-process timers armed now (what is due within the look-ahead), for tests and diagnostics. */
  get armedTimers(): number {
    return this.timers.size;
  }

  /** How far ahead timers are armed: at least two sweep intervals, so a sweep always arms a request before it falls due. */
  get armAheadMs(): number {
    return Math.max(this.o.armAheadMs ?? ARM_AHEAD_MS, 2 * this.intervalMs);
  }

  /** When a sweep last read the due index (epoch ms on the injected clock); undefined before the first. */
  get lastSweepAt(): number | undefined {
    return this.lastSweep;
  }

  /** The cron sweep's period (whole seconds, 1–59, as scheduled). */
  get intervalMs(): number {
    return Math.max(1, Math.min(59, Math.round(this.o.sweepIntervalSeconds))) * 1000;
  }

  /** True between start() and stop(): the cron sweep is scheduled. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Sweeps once now (catch-up after downtime), then every sweepIntervalSeconds. */
  async start(): Promise<void> {
    this.running = true;
    await this.sweepOnce();
    const seconds = this.intervalMs / 1000;
    this.task = cron.schedule(`*/${seconds} * * * * *`, () => void this.sweepOnce(), { noOverlap: true, name: 'jit-revocation-sweep' });
    const every = this.o.driftIntervalMs ?? 0;
    if (every > 0) {
      void this.driftOnce();
      this.driftTimer = setInterval(() => void this.driftOnce(), every);
      this.driftTimer.unref();
    }
  }

  /**
   * Runs the drift sweep if this replica holds the drift lease (one replica per interval), and
   * reports what it found in the approver channel. Never throws.
   */
  driftOnce(): Promise<void> {
    this.drifting ??= this.drift().finally(() => {
      this.drifting = undefined;
    });
    return this.drifting;
  }

  private async drift(): Promise<void> {
    const { store, owner, notifier } = this.o;
    const now = this.o.clock.now().getTime();
    try {
      if (store && owner && !(await store.tryLease('drift', owner, now, now + Math.max(10_000, (this.o.driftIntervalMs ?? 60_000) - 1_000)))) return;
      const report = await this.o.service.driftSweep();
      for (const _ of report.removed) this.o.telemetry?.driftRemoval('removed');
      for (const _ of report.failed) this.o.telemetry?.driftRemoval('failed');
      const lines: string[] = [];
      for (const r of report.removed) lines.push(`Removed ${r.securityGroupRuleId} on ${r.securityGroupId} (${r.region}): tagged by this bot${r.requestId ? ` for ${r.requestId}` : ''}, held by no live grant.`);
      for (const r of report.failed) lines.push(`Could not remove ${r.securityGroupRuleId} on ${r.securityGroupId} (${r.region}); will try again.`);
      lines.push(...report.cleaned);
      for (const r of report.untagged.filter((u) => !this.reported.has(u.securityGroupRuleId))) {
        lines.push(`Not managed by this bot, left alone: ${r.securityGroupRuleId} on ${r.securityGroupId} (${r.region}) ${r.protocol ?? ''} ${r.fromPort ?? ''}${r.toPort !== r.fromPort ? `-${r.toPort}` : ''} from ${r.cidr ?? 'a referenced group or prefix list'}.`);
      }
      this.o.log.info({ event: 'drift.done', removed: report.removed.length, failed: report.failed.length, untagged: report.untagged.length, cleaned: report.cleaned.length }, 'drift sweep done');
      if (lines.length > 0 && notifier) {
        await notifier.alert('Drift sweep', lines.join('\n'));
        for (const u of report.untagged) this.reported.add(u.securityGroupRuleId);
      }
    } catch (err) {
      this.o.log.error({ event: 'drift.failed', err: (err as Error).message }, 'drift sweep failed; will retry');
    }
  }

  /**
   * Stops the sweep and the timers. Work not yet started is dropped (it stays due in the store);
   * work already running gets up to `stopGraceMs` to finish. The drift lease is handed back, so
   * the next process runs its start-up drift sweep at once instead of after a drift interval.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.task) {
      await this.task.stop();
      await this.task.destroy();
    }
    if (this.driftTimer) clearInterval(this.driftTimer);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const gate of Object.values(this.lanes)) for (const wake of gate.waiting.splice(0)) wake(); // queued work sees `stopping` and skips
    const settled = Promise.allSettled([this.sweeping, this.drifting, ...this.working]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.o.stopGraceMs ?? 10_000);
    });
    const outcome = await Promise.race([settled, grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.o.log.warn({ event: 'scheduler.stop_grace', working: this.working.size }, 'work still running at shutdown; its leases are handed back');
    const { store, owner } = this.o;
    if (store && owner) {
      try {
        await store.releaseLease('drift', owner);
      } catch (err) {
        this.o.log.warn({ event: 'drift.release_failed', err: (err as Error).message }, 'could not hand back the drift lease; it lapses on its own');
      }
    }
  }

  /** Handles every due request (up to the batch size). Returns how many were looked at. */
  sweepOnce(): Promise<number> {
    this.sweeping ??= this.sweep().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweep(): Promise<number> {
    const started = Date.now();
    let listed: AccessRequest[];
    try {
      listed = await this.o.service.listDue(this.o.batchSize ?? DUE_BATCH, this.armAheadMs);
    } catch (err) {
      this.o.log.error({ event: 'sweep.failed', err: (err as Error).message }, 'could not read due requests; will retry');
      return 0;
    }
    this.lastSweep = this.o.clock.now().getTime();
    // Due now: handled by this sweep. Due within the look-ahead (listed after those, oldest first):
    // armed. Anything else the store lists is handled as due (processDue checks the time itself).
    const due: AccessRequest[] = [];
    const horizon = this.lastSweep + this.armAheadMs;
    for (const r of listed) {
      if (r.dueAt !== undefined && r.dueAt > this.lastSweep && r.dueAt <= horizon) {
        if (!this.timers.has(r.id)) this.arm(r, SWEEP_ARMED_GRACE_MS);
      } else due.push(r);
    }
    (this.o.telemetry ?? noTelemetry).sweepRan(this.lastSweep, due.length);
    await Promise.all(due.map((r) => this.process(r.id, laneOf(r), r)));
    if (due.length > 0) this.o.log.info({ event: 'sweep.done', count: due.length, ms: Date.now() - started }, 'sweep handled due requests');
    return due.length;
  }

  /**
   * `known`: the request as last read or written here (saves a read; a stale one costs a retry).
   * One piece of work per request at a time: asked again while its work is queued or running (a
   * sweep listing a request whose timer already fired), it runs once more after, from a fresh
   * read, instead of beside it. Side by side, the two raced for the same conditional write: with
   * 1,000 expiries in a second and a sweep falling among them, the loser's retry backoff (1 s and
   * up) made the tail of the revocations (p99 2-3.8 s where the rest took 150 ms), and both
   * called EC2.
   */
  private process(id: string, lane: Lane, known?: AccessRequest): Promise<void> {
    const current = this.perRequest.get(id);
    if (current) {
      current.again = true;
      return current.work;
    }
    const entry = { again: false, work: Promise.resolve() };
    this.perRequest.set(id, entry);
    const work = (async () => {
      try {
        await this.run(id, lane, known);
        while (entry.again) {
          entry.again = false;
          await this.run(id, lane);
        }
      } finally {
        this.perRequest.delete(id);
      }
    })().finally(() => this.working.delete(work));
    entry.work = work;
    this.working.add(work);
    return work;
  }

  private async run(id: string, lane: Lane, known?: AccessRequest): Promise<void> {
    const gate = this.lanes[lane];
    if (gate.active >= gate.limit) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    if (this.stopping) return; // it stays due in the store for the next process
    gate.active++;
    try {
      await this.o.service.processDue(id, known);
    } catch (err) {
      // Left due in the store: the next sweep tries again.
      this.o.log.error({ event: 'due.failed', requestId: id, err: (err as Error).message }, 'processing a due request failed; will retry');
    } finally {
      gate.active--;
      gate.waiting.shift()?.();
      if (lane === 'revocation' && gate.active === 0 && gate.waiting.length === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  /**
   * Arms (or clears) the in-process timer for a request after it changed. Nothing is armed for a
   * request due beyond the look-ahead (a sweep arms it when it comes within), so the timers (and
   * the copies of requests they keep to save a read when they fire) follow what is due soon, not
   * what is live.
   */
  private arm(request: AccessRequest, graceMs = 0): void {
    const existing = this.timers.get(request.id);
    if (existing) clearTimeout(existing);
    this.timers.delete(request.id);
    if (!this.running || request.dueAt === undefined) return;
    const wait = Math.max(0, request.dueAt - this.o.clock.now().getTime());
    if (wait > this.armAheadMs) return;
    const { id } = request;
    const lane = laneOf(request);
    const delay = Math.min(MAX_TIMER_MS, wait + 10 + graceMs);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      void this.process(id, lane, request);
    }, delay);
    timer.unref();
    this.timers.set(id, timer);
  }
}
