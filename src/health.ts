/**
 * Liveness and readiness. `evaluateReadiness` is pure: observations in, a report out. `Health`
 * gathers the observations from probes that main.ts wires (store, Slack, sweeper, outbox), each
 * bounded by a short timeout so a hung dependency makes /readyz answer 503, never hang.
 * Reports carry check names, numbers and short reasons only: never tokens, URLs with secrets,
 * or request bodies.
 */
import type { Clock } from './ports';

/** One probe's outcome: ok, or the short reason it is not. */
export type ProbeResult = { ok: true } | { ok: false; reason: string };

export interface Observations {
  store: ProbeResult;
  slack: ProbeResult;
  /** Absent when background work does not run on this replica (nothing to check). */
  sweeper?: { lastRunAtMs?: number; startedAtMs: number; intervalMs: number };
  outbox: { backlog: number } | { ok: false; reason: string };
}

export interface Check {
  ok: boolean;
  reason?: string;
  [detail: string]: unknown;
}

export interface ReadinessReport {
  status: 'ok' | 'fail';
  checks: Record<string, Check>;
  /** "<check>: <reason>" for every failing check (only when status is fail). */
  failing?: string[];
}

/** Default for JIT_READY_OUTBOX_MAX. */
export const DEFAULT_READY_OUTBOX_MAX = 500;

export interface ReadinessLimits {
  /** Not ready at or above this many requests with undelivered notifications. */
  outboxMax: number;
}

/** Readiness from what the probes saw, at `nowMs`. */
export function evaluateReadiness(o: Observations, nowMs: number, limits: ReadinessLimits): ReadinessReport {
  const checks: Record<string, Check> = {
    store: o.store.ok ? { ok: true } : { ok: false, reason: o.store.reason },
    slack: o.slack.ok ? { ok: true } : { ok: false, reason: o.slack.reason },
  };
  if (o.sweeper) {
    const { lastRunAtMs, startedAtMs, intervalMs } = o.sweeper;
    const maxMs = 2 * intervalMs;
    // Before the first sweep, the clock starts at start-up.
    const sinceMs = nowMs - (lastRunAtMs ?? startedAtMs);
    const detail = { lastRunSecondsAgo: lastRunAtMs === undefined ? null : round(sinceMs / 1000), maxSeconds: round(maxMs / 1000) };
    checks.sweeper =
      sinceMs <= maxMs
        ? { ok: true, ...detail }
        : { ok: false, reason: lastRunAtMs === undefined ? `no sweep since start ${round(sinceMs / 1000)}s ago (max ${round(maxMs / 1000)}s)` : `last sweep ${round(sinceMs / 1000)}s ago (max ${round(maxMs / 1000)}s)`, ...detail };
  }
  if ('backlog' in o.outbox) {
    const { backlog } = o.outbox;
    checks.outbox = backlog < limits.outboxMax ? { ok: true, backlog, max: limits.outboxMax } : { ok: false, reason: `backlog ${backlog} at or above ${limits.outboxMax}`, backlog, max: limits.outboxMax };
  } else {
    checks.outbox = { ok: false, reason: o.outbox.reason };
  }
  const failing = Object.entries(checks)
    .filter(([, c]) => !c.ok)
    .map(([name, c]) => `${name}: ${c.reason ?? 'failed'}`);
  return failing.length === 0 ? { status: 'ok', checks } : { status: 'fail', checks, failing };
}

export interface HealthProbes {
  /** A cheap store call (DescribeTable); throws when unreachable. */
  store(signal: AbortSignal): Promise<void>;
  /** Throws, with a short reason, when Slack is not usable (socket closed, token refused). */
  slack(signal: AbortSignal): Promise<void>;
  /** The sweeper's last run, or undefined when background work is off. */
  sweeper(): Observations['sweeper'];
  /** Requests with undelivered notifications (bounded count). */
  outboxBacklog(signal: AbortSignal): Promise<number>;
}

export interface HealthOptions extends ReadinessLimits {
  clock: Clock;
  /** Per probe (default 2 s). */
  timeoutMs?: number;
}

export class Health {
  constructor(
    private readonly probes: HealthProbes,
    private readonly o: HealthOptions,
  ) {}

  /** The event loop answered: that is all liveness means. */
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  async readiness(): Promise<ReadinessReport> {
    const timeoutMs = this.o.timeoutMs ?? 2_000;
    const [store, slack, outbox] = await Promise.all([
      probe((s) => this.probes.store(s), timeoutMs),
      probe((s) => this.probes.slack(s), timeoutMs),
      probe((s) => this.probes.outboxBacklog(s), timeoutMs),
    ]);
    const sweeper = this.probes.sweeper();
    return evaluateReadiness(
      {
        store: store.ok ? { ok: true } : store,
        slack: slack.ok ? { ok: true } : slack,
        ...(sweeper ? { sweeper } : {}),
        outbox: outbox.ok ? { backlog: outbox.value } : { ok: false, reason: `cannot count the backlog: ${outbox.reason}` },
      },
      this.o.clock.now().getTime(),
      { outboxMax: this.o.outboxMax },
    );
  }
}

/**
 * A check too costly to run on every probe (e.g. Slack auth.test): runs at most once per
 * `everyMs` on the clock, shares a run in progress, and otherwise answers the last outcome.
 * `initial` is the outcome known at start (auth.test passed before the bot started).
 */
export function cachedCheck(run: () => Promise<unknown>, everyMs: number, clock: Clock, initial: { atMs: number; error?: string }): () => Promise<void> {
  let last = initial;
  let running: Promise<void> | undefined;
  return async () => {
    if (clock.now().getTime() - last.atMs >= everyMs) {
      running ??= run().then(
        () => void (last = { atMs: clock.now().getTime() }),
        (err: unknown) => void (last = { atMs: clock.now().getTime(), error: shortReason(err) }),
      );
      try {
        await running;
      } finally {
        running = undefined;
      }
    }
    if (last.error) throw new Error(last.error);
  };
}

/** A short, secret-free reason: a code if the error has one, else its first line, capped. */
export function shortReason(err: unknown): string {
  const e = err as { data?: { error?: unknown }; code?: unknown; name?: unknown; message?: unknown };
  const slackCode = typeof e?.data?.error === 'string' ? e.data.error : undefined;
  const text = slackCode ?? (err instanceof Error ? err.message || err.name : String(err));
  // The AWS SDK wraps network errors: "AWS SDK error wrapper for Error: connect ECONNREFUSED …".
  const line = (text.split('\n')[0] ?? '').replace(/^AWS SDK error wrapper for (Error: )?/, '');
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

async function probe<T>(run: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<{ ok: true; value: T } | { ok: false; reason: string }> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return { ok: true, value: await Promise.race([run(controller.signal), timeout]) };
  } catch (err) {
    return { ok: false, reason: shortReason(err) };
  } finally {
    clearTimeout(timer);
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
