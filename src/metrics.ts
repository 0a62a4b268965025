/**
 * Prometheus metrics: the one home of every metric name (all start with `jit_`). One registry
 * per bot instance (tests run several bots in one process), never prom-client's global one.
 * The core reports through the Telemetry port; main.ts adds the AWS and Slack counters and the
 * backlog source, and serves `render()` at /metrics.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AccessKind } from './domain/types';
import type { GrantOutcome, RequestOutcome, RevocationOutcome, Telemetry } from './ports';

export const METRIC_PREFIX = 'jit_';

/** Backlog counts stop here: a scrape never reads more than this many index entries per count. */
export const BACKLOG_BOUND = 1000;

/** What the store holds that needs attention, counted up to a bound per scrape. */
export interface Backlog {
  /** Requests whose dueAt <= now (capped at the bound). */
  due: number;
  /** Requests with undelivered notifications (capped at the bound). */
  outbox: number;
  /** When the oldest of them first had something undelivered (epoch ms). */
  outboxOldestAt?: number;
}

export interface MetricsOptions {
  /** Epoch ms (the bot's clock), for ages. */
  now: () => number;
  /** Read on every scrape; failures leave the backlog gauges as they were (the AWS error counter sees them). */
  backlog?: () => Promise<Backlog>;
  /** Node process metrics (jit_process_*, jit_nodejs_*), shared by every bot in the process; default true. */
  defaultMetrics?: boolean;
}

let processMetrics: Registry | undefined;

/**
 * Process metrics belong to the process, not to a bot: they are collected once, into a registry
 * of their own (never prom-client's global one), and merged into each bot's exposition. Collecting
 * them per bot would start an event-loop monitor and a GC observer per bot that nothing stops.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics, prefix: METRIC_PREFIX });
  }
  return processMetrics;
}

const KINDS: AccessKind[] = ['ec2-ssh', 'aws-role', 'ssm-session', 'sso-permission-set'];
const GRANT_OUTCOMES: GrantOutcome[] = ['ok', 'failed', 'retried'];
const REVOCATION_OUTCOMES: RevocationOutcome[] = ['verified', 'released', 'retried', 'failed'];

export class Metrics implements Telemetry {
  readonly registry = new Registry();
  private readonly requests: Counter<'kind' | 'outcome'>;
  private readonly approvals: Counter<'quorum'>;
  private readonly grants: Counter<'kind' | 'outcome'>;
  private readonly revocations: Counter<'kind' | 'outcome'>;
  private readonly lateness: Histogram<'kind'>;
  private readonly toActive: Histogram<'kind'>;
  private readonly dueBacklog: Gauge;
  private readonly outboxBacklog: Gauge;
  private readonly outboxOldest: Gauge;
  private readonly sweeps: Counter;
  private readonly lastSweep: Gauge;
  private readonly drift: Counter<'outcome'>;
  private readonly notifications: Counter<'outcome'>;
  private readonly awsErrors: Counter<'service' | 'code'>;
  private readonly slackRateLimits: Counter<'method'>;
  private readonly slackAcks: Histogram<never>;

  constructor(private readonly o: MetricsOptions) {
    const registers = [this.registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) => new Counter<L>({ name: METRIC_PREFIX + name, help, labelNames, registers });
    const gauge = (name: string, help: string) => new Gauge({ name: METRIC_PREFIX + name, help, registers });
    const histogram = <L extends string>(name: string, help: string, labelNames: L[], buckets: number[]) => new Histogram<L>({ name: METRIC_PREFIX + name, help, labelNames, buckets, registers });

    this.requests = counter('requests_total', 'Requests and extension requests submitted, by access kind and how submission ended (pending, auto-approved, break-glass, refused-by-policy, invalid, error).', ['kind', 'outcome']);
    this.approvals = counter('approvals_total', "Approvers' yes votes; quorum=met when the vote completed the quorum, waiting when more are needed.", ['quorum']);
    this.grants = counter('grants_total', 'Grant attempts in AWS by kind and outcome (ok, failed = gave up, retried = will try again).', ['kind', 'outcome']);
    this.revocations = counter('revocations_total', 'Revocations by kind and outcome: verified (gone in AWS, re-read), released (a shared rule kept for other grants), retried (an attempt failed), failed (a failure that alerted humans; retries go on).', ['kind', 'outcome']);
    this.lateness = histogram('revoke_lateness_seconds', 'Expiry to verified revocation, for grants that ended by expiring.', ['kind'], [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800]);
    this.toActive = histogram('approve_to_active_seconds', 'Final approval (or auto-approval, break-glass) to ACTIVE.', ['kind'], [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300]);
    this.dueBacklog = gauge('due_backlog', `Requests whose due time has passed (durable sweep work waiting), counted at scrape time up to ${BACKLOG_BOUND}.`);
    this.outboxBacklog = gauge('outbox_backlog', `Requests with undelivered Slack notifications, counted at scrape time up to ${BACKLOG_BOUND}.`);
    this.outboxOldest = gauge('outbox_oldest_age_seconds', 'Age of the oldest undelivered notification backlog entry (0 when none).');
    this.sweeps = counter('sweeps_total', 'Durable sweeps that read the due index.');
    this.lastSweep = gauge('sweep_last_run_timestamp_seconds', 'When this replica last read the due index (Unix seconds).');
    this.drift = counter('drift_removals_total', 'Drift sweep: tagged security-group rules no live grant held, removed or not confirmed.', ['outcome']);
    this.notifications = counter('notifications_total', 'Slack notification deliveries by outcome (sent, retried, dropped).', ['outcome']);
    this.awsErrors = counter('aws_errors_total', 'Failed AWS SDK call attempts by service (client) and error code.', ['service', 'code']);
    this.slackAcks = histogram('slack_ack_seconds', "Arrival of a Slack request (HTTP mode) to the end of the bot's answer: the ack Slack waits for (it retries and shows an error past 3 s).", [], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3]);
    this.slackRateLimits = counter('slack_rate_limited_total', 'Slack Web API answers of HTTP 429, by method.', ['method']);

    // Zero series, so rate() and increase() work from the first scrape.
    for (const kind of KINDS) {
      for (const outcome of GRANT_OUTCOMES) this.grants.inc({ kind, outcome }, 0);
      for (const outcome of REVOCATION_OUTCOMES) this.revocations.inc({ kind, outcome }, 0);
    }
    for (const outcome of ['removed', 'failed']) this.drift.inc({ outcome }, 0);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text (reads the backlog first). */
  async render(): Promise<string> {
    if (this.o.backlog) {
      try {
        const b = await this.o.backlog();
        this.dueBacklog.set(b.due);
        this.outboxBacklog.set(b.outbox);
        this.outboxOldest.set(b.outboxOldestAt === undefined ? 0 : Math.max(0, (this.o.now() - b.outboxOldestAt) / 1000));
      } catch {
        // The store is unreachable: keep the last values; jit_aws_errors_total and /readyz say why.
      }
    }
    return (this.o.defaultMetrics === false ? this.registry : Registry.merge([this.registry, processRegistry()])).metrics();
  }

  // ---- Telemetry (the core)
  requestSubmitted(kind: string, outcome: RequestOutcome): void {
    this.requests.inc({ kind, outcome });
  }
  approval(quorum: boolean): void {
    this.approvals.inc({ quorum: quorum ? 'met' : 'waiting' });
  }
  grant(kind: string, outcome: GrantOutcome): void {
    this.grants.inc({ kind, outcome });
  }
  revocation(kind: string, outcome: RevocationOutcome): void {
    this.revocations.inc({ kind, outcome });
  }
  revokeLateness(kind: string, seconds: number): void {
    this.lateness.observe({ kind }, Math.max(0, seconds));
  }
  approveToActive(kind: string, seconds: number): void {
    this.toActive.observe({ kind }, Math.max(0, seconds));
  }
  sweepRan(atMs: number): void {
    this.sweeps.inc();
    this.lastSweep.set(atMs / 1000);
  }
  driftRemoval(outcome: 'removed' | 'failed'): void {
    this.drift.inc({ outcome });
  }
  notification(outcome: 'sent' | 'retried' | 'dropped'): void {
    this.notifications.inc({ outcome });
  }

  // ---- edges (main.ts)
  awsError(service: string, code: string): void {
    this.awsErrors.inc({ service, code });
  }
  /** `url` is the Web API URL that answered 429; the label is its method name. */
  /** One Slack request answered, `seconds` after it arrived (slack/answer-timing.ts). */
  slackAnswered(seconds: number): void {
    this.slackAcks.observe(Math.max(0, seconds));
  }

  slackRateLimited(url: string): void {
    const method = /([a-zA-Z]+\.[a-zA-Z.]+)\/?$/.exec(url.split('?')[0] ?? '')?.[1] ?? 'unknown';
    this.slackRateLimits.inc({ method });
  }
}
