/**
 * `npm run bench` (`-- --quick` for a smaller run; `-- --lifecycles=N` for fewer than 20,000
 * lifecycles in (viii)): performance targets of jit-access-bot. They live here and never in unit
 * tests. The LAST line printed is one JSON object with every figure of issue 13 item 6 (ack_p99_ratio,
 * ack_p99_ratio_help, cpu_ms_per_lifecycle, revoke_p99_ms, revoke_max_ms, throttled_revoke_overhead,
 * sweep_items_read_idle, drift_cpu_ms_10k, rss_mb_10k, rss_mb_after_20k, ready_ms_10k; null when not
 * measured) and raw figures beside them (bench/result-line.ts); the table above it says PASS / FAIL.
 *
 * (i)–(iv): real parts, as in `npm run demo`: signed HTTP to the real Bolt receiver, the real core
 * with its node-cron sweep and timers on the real clock, the embedded SQLite store in memory, the Slack
 * stand-in over HTTP and the SIMULATED EC2 over HTTP through a real @aws-sdk/client-ec2. All of it,
 * and the load generator, share this one Node process, so the figures are a pessimistic bound
 * for the bot alone. (v) and (viii) run the BUILT bot (dist/src/main.js) as its own process.
 *
 *   (i)   /jit request: HTTP ack, ephemeral reply, approval message posted
 *   (ii)  Approve click: HTTP ack, rule created at EC2, ACTIVE stored
 *   (iii) revocation lateness: N grants expiring together; rule removed at EC2 − expiresAt
 *   (iv)  20 concurrent Approve clicks on one request → exactly one rule (correctness)
 *   (vi)  1,000 rules (--quick 220) revoked at once under EC2's documented token buckets (bench/throttled-revoke.ts)
 *   (vii) one drift sweep over 10,000 bot rules (--quick 1,000): the bot's CPU and its store reads
 *         (bench/drift.ts; the store and EC2 stand-ins in a child process)
 *   (v)   start-up: the built bot as a process (embedded store on disk, HTTP mode), spawn → ready
 *         and SIGTERM → exit; and `npm start` on a current build (it must not recompile)
 *   (viii) scale (bench/scale.ts), the built bot as its own process on an embedded store on disk
 *         (opened in ONE place, bench/store.ts), the Slack and EC2 stand-ins and the load here:
 *         - ack_p99_ratio(_help): 2,000 signed `/jit request …` (`/jit help`) at 50 concurrent,
 *           p99 of the acks ÷ the same against a bare Bolt app acking `/jit` (bench/bare-bolt.ts,
 *           also its own process), interleaved bare, bot, bare, bot in halves (--quick: 200)
 *         - cpu_ms_per_lifecycle, rss_mb_after_20k: 20,000 closed-loop lifecycles at 50 concurrent
 *           (request → approve → grant → `/jit revoke`, verified; --quick: 40 at 20): the bot's
 *           main-thread CPU (/proc/<pid>/task/<pid>/stat) per lifecycle, its RSS after them
 *         - 10,000 ACTIVE grants (--quick 500) seeded through the store port (bench/seed.ts),
 *           rules at the EC2 stand-in and in the registry: sweep_items_read_idle (one due-index
 *           read, nothing due), then the built bot spawned on them: ready_ms_10k (spawn → /readyz
 *           200) and rss_mb_10k (VmRSS 2 s after ready)
 *   (ix)  revoke_p99_ms / revoke_max_ms: 1,000 of 10,000 live grants (--quick: 200 of 2,000)
 *         expiring within 1 s, the bot in this process (bench/mass-expiry.ts): lateness = rule
 *         gone at the EC2 stand-in − expiresAt, each request REVOKED, verified and audited
 *
 * Load is closed-loop: each of C workers starts its next operation when its previous one has
 * fully completed (approval message posted, or ACTIVE stored), so at most C are in flight.
 * Exit 1 when a target is missed or a correctness check fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, cpus, platform, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ACTION_APPROVE } from '../blocks/ids';
import type { AccessRequest } from '../src/domain/types';
import { APPROVER_CHANNEL, nowMs, requestIdOfAuthorize, type Stack, startStack } from '../demo/stack';
import { startSlackStandIn } from '../testkit/slack-stand-in';
import { throttledRevoke } from './throttled-revoke';
import { driftSweepBench } from './drift';
import { massExpiry } from './mass-expiry';
import { emptyFigures, type IssueFigures, issueVerdicts, resultLine } from './result-line';
import { type ScaleFigures, scaleBench, UNTHROTTLED_EC2_YAML } from './scale';
import { startFakeEc2 } from '../testkit/fake-ec2';

// ---------------------------------------------------------------- parameters

const QUICK = process.argv.includes('--quick');
/** `--lifecycles=N`: fewer than the issue's 20,000 (a slow store makes that part long); the JSON line says how many. */
const LIFECYCLES_ARG = Number(/^--lifecycles=(\d+)$/.exec(process.argv.find((a) => a.startsWith('--lifecycles=')) ?? '')?.[1] ?? NaN);
const P = QUICK
  ? { submitN: 50, submitC: 10, approveN: 25, approveC: 5, revokeN: 50, raceRounds: 3, raceClicks: 20, throttledN: 220, ackN: 200, ackC: 50, lifecycles: 40, lifecycleC: 20, live: 500, expiryLive: 2_000, expiring: 200 }
  : { submitN: 200, submitC: 20, approveN: 100, approveC: 10, revokeN: 200, raceRounds: 10, raceClicks: 20, throttledN: 1_000, ackN: 2_000, ackC: 50, lifecycles: 20_000, lifecycleC: 50, live: 10_000, expiryLive: 10_000, expiring: 1_000 };
if (Number.isFinite(LIFECYCLES_ARG) && LIFECYCLES_ARG > 0) P.lifecycles = LIFECYCLES_ARG;
/** Grants of (iii) last this long (from their own grant time). */
/**
 * (iii) approves in batches of this size. Batch b gets a grant one second shorter than batch b-1
 * and is approved a little over a second later, so the batches' expiries spread evenly over
 * about REVOKE_SPREAD_MS (plus the spread of approvals within one batch): all N grants expire
 * within a 2 s window.
 */
const REVOKE_BATCH = 25;
const REVOKE_SPREAD_MS = 1_500;
/** (iii) the last batch's grants last this long; each earlier batch one second longer. */
const REVOKE_LAST_GRANT_S = 5;
const SWEEP_S = 5;
const REVOKE_C = 20;
const APPROVER = 'U0BENCHAPPR';
const RACERS = Array.from({ length: 20 }, (_, i) => `U0RACER${String(i + 1).padStart(2, '0')}`);
const requesterOf = (i: number) => `U0BENCHREQ${String(i % 20).padStart(2, '0')}`;
const SG = 'sg-0be0c0000000000a1';

/**
 * Targets, set at roughly 2–3x the p99s this bench measured on a shared 2-core machine (AMD EPYC,
 * Node 20, other jobs running; eight full runs): (i) ack 150–290 ms, reply 295–520 ms, posted
 * 470–800 ms, 43–68 req/s; (ii) ack 36–85 ms, rule 220–400 ms, ACTIVE 320–650 ms, 21–45 grants/s;
 * (iii) with verified revokes, lateness p50 1.6–1.8 s and p99 1.9–2.1 s: revocations complete at
 * ~55/s here while 200 expiries arrive at ~110/s, so they queue. The revocation maximum is the
 * design bound: a lost timer is caught by the next sweep, so no grant may outlive its expiry by
 * more than a sweep interval + 2 s. (Slack's own limit for the ack is 3 s.)
 */
const TARGETS = {
  submitAckP99: 500,
  submitReplyP99: 1_000,
  submitPostedP99: 1_500,
  submitThroughput: 20,
  approveAckP99: 150,
  approveRuleP99: 800,
  approveActiveP99: 1_500,
  approveThroughput: 10,
  lateP50: 4_000,
  lateP99: 5_000,
  lateMax: SWEEP_S * 1000 + 2000,
  /** (v) median of spawn → ready of the built bot (issue 9); `npm start` adds npm's own start-up. */
  startReadyMedian: 1_500,
  npmStartReadyMedian: 2_500,
  /** (v) SIGTERM → exit with nothing in flight. */
  stopMedian: 1_000,
};
/** (v) start-ups measured of each kind. */
const STARTS = QUICK ? 3 : 5;
const REPO = join(__dirname, '..', '..');

const CONFIG_YAML = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${[APPROVER, ...RACERS].join(', ')}]
defaults:
  minDuration: 1s
  maxDuration: 4h
  approvalTimeout: 30m
  expiryWarning: 2s
revocation:
  sweepInterval: ${SWEEP_S}s
# Each bench requester sends many requests in a few seconds: far over the default 10 per hour.
rateLimits:
  requests: { max: 100, per: 1m }
# The simulated EC2 here does not throttle, and (i)-(iv) measure the bot, not EC2's buckets: with
# the documented ones (Authorize 200 + 5/s) the bot paces itself after 200 grants, so (iii)'s
# last batches took 5 s each and its first grants expired before the set-up was done. (vi)
# measures the documented buckets.
${UNTHROTTLED_EC2_YAML}targets:
  - name: bench-bastion
    kind: ec2-ssh
    securityGroupId: ${SG}
    port: 22
    region: eu-west-1
    host: bastion.bench.example.com
`;

// ---------------------------------------------------------------- helpers

const out = (s = '') => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Issue 13's figures as they are measured (the JSON line; bench/result-line.ts), and raw figures beside them. */
const FIGURES: IssueFigures = emptyFigures();
const RAW: Record<string, unknown> = {};

let addressSeq = 0;
/** A fresh single host in the benchmarking range 198.18.0.0/15 (one rule per address). */
function nextAddress(): string {
  const n = ++addressSeq;
  return `198.${18 + ((n >> 16) & 1)}.${(n >> 8) & 255}.${n & 255}`;
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

const ms = (v: number) => (Number.isNaN(v) ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);

function table(rows: [string, Stats][]): void {
  const head = ['', 'n', 'p50', 'p95', 'p99', 'max'];
  const cells = rows.map(([name, s]) => [name, String(s.n), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]) => '  ' + c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('   ');
  out(fmt(head));
  for (const c of cells) out(fmt(c));
}

/** Runs `count` operations, at most `concurrency` at a time. */
async function pool(count: number, concurrency: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await op(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

class BenchError extends Error {}

/** The security-group rule of an ec2-ssh grant (the bench only requests ec2-ssh targets). */
function ruleIdOf(r: AccessRequest): string {
  if (r.grant?.kind !== 'ec2-ssh') throw new BenchError(`${r.id} has no ec2-ssh grant (${r.grant?.kind ?? 'none'})`);
  return r.grant.securityGroupRuleId;
}

/**
 * Turns what the stack recorded (Slack calls, response-URL posts, EC2 calls, stored changes)
 * into keyed events with their own timestamps, and lets workers wait for them. Timestamps come
 * from the recording, so the 2 ms scan interval never adds to a measured latency.
 */
class Events {
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, ((at: number) => void)[]>();
  /** Reason token (e.g. "bn-s-17") → request id, from the approval message. */
  readonly idOfToken = new Map<string, string>();
  /** Request id → rule id, from AuthorizeSecurityGroupIngress answers. */
  readonly ruleOf = new Map<string, string>();
  /** Request id → Authorize calls made for it. */
  readonly authorizeCalls = new Map<string, number>();
  /** Rule id → Revoke calls made for it. */
  readonly revokeCalls = new Map<string, number>();
  private callIdx = 0;
  private responseIdx = 0;
  private ec2Idx = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly s: Stack) {
    s.bot.service.onChange((r) => this.mark(`status:${r.id}:${r.status}`, nowMs()));
    this.timer = setInterval(() => this.scan(), 2);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  at(key: string): number | undefined {
    return this.seen.get(key);
  }

  wait(key: string, timeoutMs: number): Promise<number> {
    const seen = this.seen.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new BenchError(`timed out after ${timeoutMs} ms waiting for ${key}`)), timeoutMs);
      const list = this.waiters.get(key) ?? [];
      list.push((at) => {
        clearTimeout(timer);
        resolve(at);
      });
      this.waiters.set(key, list);
    });
  }

  private mark(key: string, at: number): void {
    if (this.seen.has(key)) return;
    this.seen.set(key, at);
    const list = this.waiters.get(key);
    if (list) {
      this.waiters.delete(key);
      for (const w of list) w(at);
    }
  }

  /** Reads what arrived since the last scan (also every 2 ms on its own). */
  scan(): void {
    const { calls, responses } = this.s.slack;
    for (; this.callIdx < calls.length; this.callIdx++) {
      const c = calls[this.callIdx]!;
      if (c.method !== 'chat.postMessage' || c.args.channel !== APPROVER_CHANNEL || c.args.thread_ts) continue;
      const json = JSON.stringify(c.args.blocks ?? '');
      const token = /\bbn-[a-z0-9]+-\d+\b/.exec(json)?.[0];
      const id = /jit-[0-9a-z]{10}/.exec(json)?.[0];
      if (token && id) {
        this.idOfToken.set(token, id);
        this.mark(`posted:${token}`, c.at);
      }
    }
    for (; this.responseIdx < responses.length; this.responseIdx++) {
      const r = responses[this.responseIdx]!;
      if (r.name) this.mark(`reply:${r.name}`, r.at);
    }
    const ec2 = this.s.ec2Events;
    for (; this.ec2Idx < ec2.length; this.ec2Idx++) {
      const e = ec2[this.ec2Idx]!;
      if (e.error) continue;
      if (e.command === 'AuthorizeSecurityGroupIngressCommand') {
        const id = requestIdOfAuthorize(e.input);
        const ruleId = ((e.output?.SecurityGroupRules ?? []) as { SecurityGroupRuleId?: string }[])[0]?.SecurityGroupRuleId;
        if (!id || !ruleId) continue;
        this.authorizeCalls.set(id, (this.authorizeCalls.get(id) ?? 0) + 1);
        this.ruleOf.set(id, ruleId);
        this.mark(`rule:${id}`, e.at);
      } else if (e.command === 'RevokeSecurityGroupIngressCommand') {
        for (const ruleId of (e.input.SecurityGroupRuleIds ?? []) as string[]) {
          this.revokeCalls.set(ruleId, (this.revokeCalls.get(ruleId) ?? 0) + 1);
          this.mark(`revoked:${ruleId}`, e.at);
        }
      }
    }
  }
}

/** How busy the one shared process was during a phase: CPU used and event-loop delay. */
function loopMonitor() {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const cpu = process.cpuUsage();
  const wall = nowMs();
  return () => {
    h.disable();
    const used = process.cpuUsage(cpu);
    const share = (used.user + used.system) / 1000 / (nowMs() - wall);
    return `process CPU ${(share * 100).toFixed(0)}% of a core, event-loop delay p99 ${(h.percentile(99) / 1e6).toFixed(0)} ms`;
  };
}

/** Waits until the bot has nothing under way (listeners, deliveries), so phases do not overlap. */
async function settle(s: Stack): Promise<void> {
  await s.bot.listenersIdle();
  await s.bot.outbox.idle();
  await sleep(300);
  await s.bot.outbox.idle();
}

// ---------------------------------------------------------------- phases

interface Submitted {
  token: string;
  id: string;
  ack: number;
  reply: number;
  posted: number;
  sentAt: number;
}

/** Sends `count` `/jit request`s (closed loop), each done when its approval message is posted. */
async function submitMany(s: Stack, ev: Events, phase: string, count: number, concurrency: number, duration: (i: number) => string): Promise<{ items: Submitted[]; wallMs: number }> {
  const items: Submitted[] = [];
  const started = nowMs();
  await pool(count, concurrency, async (i) => {
    const token = `bn-${phase}-${i}`;
    const name = `${phase}:${i}`;
    const sentAt = nowMs();
    const res = await s.command(requesterOf(i), `request bench-bastion ${duration(i)} ${nextAddress()} bench ${token}`, s.slack.responseUrl(name));
    const ack = nowMs() - sentAt;
    if (res.status !== 200) throw new BenchError(`/jit request ${token}: HTTP ${res.status}`);
    const [replyAt, postedAt] = await Promise.all([ev.wait(`reply:${name}`, 15_000), ev.wait(`posted:${token}`, 15_000)]);
    items.push({ token, id: ev.idOfToken.get(token)!, ack, reply: replyAt - sentAt, posted: postedAt - sentAt, sentAt });
  });
  return { items, wallMs: nowMs() - started };
}

interface Approved {
  id: string;
  ack: number;
  rule: number;
  active: number;
}

/** Clicks Approve on each request (closed loop), each done when ACTIVE is stored. */
async function approveMany(s: Stack, ev: Events, ids: string[], concurrency: number): Promise<{ items: Approved[]; wallMs: number; refused: string[] }> {
  const items: Approved[] = [];
  const refused: string[] = [];
  const started = nowMs();
  await pool(ids.length, concurrency, async (i) => {
    const id = ids[i]!;
    const url = s.slack.responseUrl(`approve:${id}`);
    const sentAt = nowMs();
    const res = await s.click(APPROVER, ACTION_APPROVE, id, url);
    const ack = nowMs() - sentAt;
    if (res.status !== 200) throw new BenchError(`approve ${id}: HTTP ${res.status}`);
    const activeAt = await ev.wait(`status:${id}:ACTIVE`, 15_000).catch((err: unknown) => {
      const refusal = s.slack.responses.find((r) => r.url === url)?.body as { text?: string } | undefined;
      throw refusal ? new BenchError(`approve ${id} was refused: ${refusal.text}`) : err;
    });
    const ruleAt = ev.at(`rule:${id}`) ?? (await ev.wait(`rule:${id}`, 1_000));
    items.push({ id, ack, rule: ruleAt - sentAt, active: activeAt - sentAt });
  });
  await s.bot.listenersIdle();
  for (const id of ids) {
    const r = s.slack.responses.find((x) => x.name === `approve:${id}`);
    if (r) refused.push(`${id}: ${(r.body as { text?: string }).text}`);
  }
  return { items, wallMs: nowMs() - started, refused };
}

interface Verdict {
  name: string;
  measured: string;
  target: string;
  pass: boolean;
}

const under = (name: string, value: number, limit: number): Verdict => ({ name, measured: ms(value), target: `< ${ms(limit)}`, pass: value < limit });
const atLeast = (name: string, value: number, limit: number, unit: string): Verdict => ({ name, measured: `${value.toFixed(0)} ${unit}`, target: `≥ ${limit} ${unit}`, pass: value >= limit });
const holds = (name: string, ok: boolean, measured: string): Verdict => ({ name, measured, target: 'must hold', pass: ok });

async function run(s: Stack, ev: Events, verdicts: Verdict[]): Promise<void> {
  // ---- (i) submit
  out(`\n(i) /jit request → ack, ephemeral reply, approval message posted: ${P.submitN} requests, ${P.submitC} concurrent`);
  let loop = loopMonitor();
  const sub = await submitMany(s, ev, 's', P.submitN, P.submitC, () => '1h');
  const subNote = loop();
  const subAck = stats(sub.items.map((x) => x.ack));
  const subReply = stats(sub.items.map((x) => x.reply));
  const subPosted = stats(sub.items.map((x) => x.posted));
  table([
    ['HTTP ack', subAck],
    ['ephemeral reply', subReply],
    ['approval message posted', subPosted],
  ]);
  const subRate = (sub.items.length / sub.wallMs) * 1000;
  out(`  throughput ${subRate.toFixed(0)} requests/s end to end (${sub.items.length} in ${(sub.wallMs / 1000).toFixed(2)} s); ${subNote}`);
  verdicts.push(
    under('(i)   ack p99', subAck.p99, TARGETS.submitAckP99),
    under('(i)   ephemeral reply p99', subReply.p99, TARGETS.submitReplyP99),
    under('(i)   approval message posted p99', subPosted.p99, TARGETS.submitPostedP99),
    atLeast('(i)   throughput', subRate, TARGETS.submitThroughput, 'req/s'),
  );

  // ---- (ii) approve
  await settle(s);
  out(`\n(ii) Approve click → rule created at EC2 → ACTIVE stored: ${P.approveN} approvals, ${P.approveC} concurrent`);
  loop = loopMonitor();
  const appr = await approveMany(s, ev, sub.items.slice(0, P.approveN).map((x) => x.id), P.approveC);
  const apprNote = loop();
  const apAck = stats(appr.items.map((x) => x.ack));
  const apRule = stats(appr.items.map((x) => x.rule));
  const apActive = stats(appr.items.map((x) => x.active));
  table([
    ['HTTP ack', apAck],
    ['rule created (EC2 answered)', apRule],
    ['ACTIVE stored', apActive],
  ]);
  const apRate = (appr.items.length / appr.wallMs) * 1000;
  out(`  throughput ${apRate.toFixed(0)} grants/s end to end (${appr.items.length} in ${(appr.wallMs / 1000).toFixed(2)} s); ${apprNote}`);
  ev.scan();
  const oneRuleEach = appr.items.every((x) => ev.authorizeCalls.get(x.id) === 1);
  verdicts.push(
    under('(ii)  ack p99', apAck.p99, TARGETS.approveAckP99),
    under('(ii)  rule created p99', apRule.p99, TARGETS.approveRuleP99),
    under('(ii)  ACTIVE stored p99', apActive.p99, TARGETS.approveActiveP99),
    atLeast('(ii)  throughput', apRate, TARGETS.approveThroughput, 'grants/s'),
    holds('(ii)  one rule per approval, no refusals', oneRuleEach && appr.refused.length === 0, `${appr.items.length} approvals, ${appr.refused.length} refused`),
  );

  // ---- (iii) revocation lateness
  await settle(s);
  const batches = Math.ceil(P.revokeN / REVOKE_BATCH);
  const firstGrantS = REVOKE_LAST_GRANT_S + batches - 1;
  out(`\n(iii) revocation lateness: ${P.revokeN} grants expiring within a 2 s window; timers + sweep every ${SWEEP_S}s`);
  const slotMs = batches > 1 ? 1000 + REVOKE_SPREAD_MS / (batches - 1) : 1000;
  out(`  set-up: ${batches} batch${batches === 1 ? '' : 'es'} of ${REVOKE_BATCH}, one approved every ${(slotMs / 1000).toFixed(2)} s (${REVOKE_C} concurrent), grants of ${firstGrantS}s down to ${REVOKE_LAST_GRANT_S}s`);
  const batchOf = (i: number) => Math.floor(i / REVOKE_BATCH);
  const rsub = await submitMany(s, ev, 'r', P.revokeN, 20, (i) => `${firstGrantS - batchOf(i)}s`);
  const byIndex = new Map(rsub.items.map((x) => [Number(x.token.split('-')[2]), x.id]));
  const grantsStarted = nowMs();
  let overran = 0;
  for (let b = 0; b < batches; b++) {
    const slot = grantsStarted + b * slotMs;
    if (nowMs() < slot) await sleep(slot - nowMs());
    else if (b > 0) overran += 1;
    const ids = Array.from({ length: REVOKE_BATCH }, (_, k) => byIndex.get(b * REVOKE_BATCH + k)).filter((id) => id !== undefined);
    const res = await approveMany(s, ev, ids, REVOKE_C);
    if (res.refused.length > 0) throw new BenchError(`(iii) approvals refused: ${res.refused[0]}`);
  }
  const grants = await Promise.all(rsub.items.map(async (x) => (await s.bot.service.get(x.id)) as AccessRequest));
  if (grants.some((g) => g.status !== 'ACTIVE')) throw new BenchError(`(iii) not every grant is ACTIVE: ${grants.find((g) => g.status !== 'ACTIVE')?.status}`);
  const expiries = grants.map((g) => Date.parse(g.expiresAt!));
  const window = Math.max(...expiries) - Math.min(...expiries);
  out(
    `  ${grants.length} ACTIVE grants expire within a ${(window / 1000).toFixed(2)} s window, the first ${((Math.min(...expiries) - Date.now()) / 1000).toFixed(1)} s from now` +
      (window > 2000 ? ` (wider than the 2 s aimed for: ${overran} approval batch${overran === 1 ? '' : 'es'} overran its slot)` : ''),
  );
  const deadline = Math.max(...expiries) - Date.now() + TARGETS.lateMax + 5_000;
  const ruleGoneP = Promise.all(grants.map((g) => ev.wait(`revoked:${ruleIdOf(g)}`, deadline)));
  const revokedStoredP = Promise.all(grants.map((g) => ev.wait(`status:${g.id}:REVOKED`, deadline)));
  // Watch the process from the first expiry on (not while it idles until then).
  await sleep(Math.max(0, Math.min(...expiries) - Date.now()));
  loop = loopMonitor();
  const ruleGone = await ruleGoneP;
  const revokedStored = await revokedStoredP;
  const lateNote = loop();
  const late = stats(grants.map((g, i) => ruleGone[i]! - Date.parse(g.expiresAt!)));
  const lateStored = stats(grants.map((g, i) => revokedStored[i]! - Date.parse(g.expiresAt!)));
  table([
    ['rule removed at EC2 − expiresAt', late],
    ['REVOKED stored − expiresAt', lateStored],
  ]);
  const spread = Math.max(...ruleGone) - Math.min(...ruleGone);
  out(`  ${grants.length} rules removed within ${(spread / 1000).toFixed(2)} s (${((grants.length / Math.max(spread, 1)) * 1000).toFixed(0)} revocations/s); ${lateNote}`);
  const left = s.ec2.rules().filter((r) => grants.some((g) => g.id === r.tags['jit:request-id']));
  ev.scan();
  const revokedOnce = grants.every((g) => ev.revokeCalls.get(ruleIdOf(g)) === 1);
  const early = grants.filter((g, i) => ruleGone[i]! < Date.parse(g.expiresAt!)).length;
  verdicts.push(
    under('(iii) lateness p50', late.p50, TARGETS.lateP50),
    under('(iii) lateness p99', late.p99, TARGETS.lateP99),
    under(`(iii) lateness max (sweep ${SWEEP_S}s + 2 s)`, late.max, TARGETS.lateMax),
    holds('(iii) every rule gone, revoked once, none early', left.length === 0 && revokedOnce && early === 0, `${left.length} left, ${early} early, ${revokedOnce ? 'one' : 'NOT one'} Revoke call per rule`),
  );

  // ---- (iv) concurrent approvals of one request
  await settle(s);
  out(`\n(iv) ${P.raceClicks} approvers click Approve on the same request at once, ${P.raceRounds} rounds`);
  let allGood = true;
  for (let round = 0; round < P.raceRounds; round++) {
    const { items } = await submitMany(s, ev, `x${round}`, 1, 1, () => '1h');
    const id = items[0]!.id;
    const clickers = shuffle(RACERS.slice(0, P.raceClicks));
    const urls = clickers.map((u) => s.slack.responseUrl(`race:${id}:${u}`));
    const sentAt = nowMs();
    const results = await Promise.all(clickers.map((u, i) => s.click(u, ACTION_APPROVE, id, urls[i]!)));
    const activeAt = await ev.wait(`status:${id}:ACTIVE`, 10_000);
    await s.bot.listenersIdle();
    const refusals = urls.map((url) => s.slack.responses.find((r) => r.url === url)).filter((r) => r !== undefined);
    const final = (await s.bot.service.get(id)) as AccessRequest;
    const rules = s.ec2.rules().filter((r) => r.tags['jit:request-id'] === id);
    // The store answers without I/O now (SQLite): no timer turn may have passed since the grant.
    ev.scan();
    const authorize = ev.authorizeCalls.get(id) ?? 0;
    const texts = new Set(refusals.map((r) => ((r.body as { text?: string }).text ?? '').replace(/(&lt;|<)@U0RACER\d+(&gt;|>)/, '@…').replace(id, '<id>')));
    const ok =
      results.every((r) => r.status === 200) &&
      final.status === 'ACTIVE' &&
      clickers.includes(final.decidedBy ?? '') &&
      rules.length === 1 &&
      authorize === 1 &&
      refusals.length === P.raceClicks - 1 &&
      [...texts].every((t) => /already approved/.test(t));
    allGood &&= ok;
    out(
      `  round ${String(round + 1).padStart(2)}: ${ok ? 'ok  ' : 'FAIL'} ${rules.length} rule, ${authorize} Authorize call, approved by ${final.decidedBy}, ` +
        `${refusals.length} refused${round === 0 || !ok ? ` (${[...texts].join(' | ')})` : ''}; ACTIVE after ${ms(activeAt - sentAt)}`,
    );
  }
  verdicts.push(holds(`(iv)  exactly one rule per request under ${P.raceClicks} concurrent approvals`, allGood, `${P.raceRounds} rounds ${allGood ? 'all correct' : 'NOT all correct'}`));
}

// ---------------------------------------------------------------- (v) start-up

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Spawns the bot as a newcomer or a container would, times spawn → /readyz answering 200 and
 * SIGTERM → exit. Each start gets a fresh data directory (the embedded store creates its table).
 */
async function startOnce(command: string[], slackUrl: string, configPath: string): Promise<{ readyMs: number; stopMs: number }> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: 'bench-signing-secret-9e1f',
    SLACK_API_URL: slackUrl,
    PORT: String(port),
    JIT_CONFIG: configPath,
    JIT_DATA_DIR: mkdtempSync(join(tmpdir(), 'jit-bench-start-')),
    AWS_REGION: 'eu-west-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    LOG_LEVEL: 'warn',
  };
  const spawnedAt = nowMs();
  // Its own process group, so SIGTERM reaches the bot under `npm start` (npm → sh → node) too.
  const child = spawn(command[0]!, command.slice(1), { cwd: REPO, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += String(c)));
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(nowMs())));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  for (;;) {
    if (exitedEarly) throw new Error(`${command.join(' ')} exited before it was ready: ${stderr.slice(-500)}`);
    if (nowMs() - spawnedAt > 30_000) throw new Error(`${command.join(' ')} not ready within 30 s`);
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(5);
  }
  const readyMs = nowMs() - spawnedAt;
  const stopAt = nowMs();
  process.kill(-child.pid!, 'SIGTERM');
  const exitAt = await exited;
  return { readyMs, stopMs: exitAt - stopAt };
}

async function startup(verdicts: Verdict[]): Promise<void> {
  out(`\n(v) start-up, ${STARTS} times each: spawn → /readyz answers 200 (embedded store on disk, fresh; HTTP mode), SIGTERM → exit`);
  const slack = await startSlackStandIn();
  const configPath = join(mkdtempSync(join(tmpdir(), 'jit-bench-config-')), 'jit.config.yaml');
  writeFileSync(configPath, CONFIG_YAML);
  try {
    const built = { ready: [] as number[], stop: [] as number[] };
    const npmStart = { ready: [] as number[], stop: [] as number[] };
    for (let i = 0; i < STARTS; i++) {
      const a = await startOnce([process.execPath, join(REPO, 'dist', 'src', 'main.js')], slack.url, configPath);
      built.ready.push(a.readyMs);
      built.stop.push(a.stopMs);
      const b = await startOnce(['npm', 'start', '--silent'], slack.url, configPath);
      npmStart.ready.push(b.readyMs);
      npmStart.stop.push(b.stopMs);
    }
    const [r, n, st] = [stats(built.ready), stats(npmStart.ready), stats([...built.stop, ...npmStart.stop])];
    table([
      ['node dist/src/main.js: spawn → ready', r],
      ['npm start (current build): spawn → ready', n],
      ['SIGTERM → exit', st],
    ]);
    verdicts.push(
      under('(v)   built bot: spawn → ready, median', r.p50, TARGETS.startReadyMedian),
      under('(v)   npm start (no recompile): spawn → ready, median', n.p50, TARGETS.npmStartReadyMedian),
      under('(v)   SIGTERM → exit, median', st.p50, TARGETS.stopMedian),
    );
  } finally {
    await slack.close();
  }
}

async function driftBench(verdicts: Verdict[]): Promise<void> {
  const rules = QUICK ? 1_000 : 10_000;
  out(`\n(vii) one drift sweep over ${rules.toLocaleString('en')} bot rules, all held (after a warm-up sweep; store and EC2 stand-ins in a child process)`);
  const f = await driftSweepBench(rules);
  out(`  bot CPU ${ms(f.cpuMs)} · stand-ins' CPU ${ms(f.standInCpuMs)} · wall ${ms(f.wallMs)} · ${f.readCalls} store read calls · ${f.removed} removed`);
  // Judged with the other issue-13 figures (the JSON line); --quick sweeps 1,000 rules and says so.
  FIGURES.drift_cpu_ms_10k = f.cpuMs;
  RAW.drift_rules = rules;
  verdicts.push(
    holds('(vii)  drift sweep store reads: batched (≤ 1 call per 50 rules), nothing removed', f.readCalls <= rules / 50 && f.removed === 0, `${f.readCalls} read calls, ${f.removed} removed`),
  );
}

function logSummary(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const bad = lines.map((l) => JSON.parse(l) as { level?: number; msg?: string }).filter((l) => (l.level ?? 0) >= 40);
    const kinds = [...new Set(bad.map((l) => l.msg))].slice(0, 5).join('; ');
    return `${lines.length} lines, ${bad.length} warnings/errors${kinds ? ` (${kinds})` : ''}`;
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
}

// ---------------------------------------------------------------- (vi) revocation under EC2's throttling

async function throttled(verdicts: Verdict[]): Promise<void> {
  const n = P.throttledN;
  out(`\n(vi) ${n} rules revoked and verified at once against EC2's documented token buckets (stand-in throttling on), paced by the bot's own buckets`);
  const r = await throttledRevoke(n);
  const made = Object.entries(r.calls).map(([a, c]) => `${a} ${c}`).join(', ');
  out(`  took ${ms(r.elapsedMs)}; for the calls made (${made}) the buckets allow no less than ${ms(r.minimumMs)} (Revoke 200 + 5/s, Describe 100 + 20/s): throttled_revoke_overhead ${r.overhead.toFixed(3)}`);
  out(`  ${r.removedAndVerified}/${n} removed and verified; RequestLimitExceeded answered: ${r.requestLimitExceeded}; calls the pacer held for a token: ${r.pacedCalls}`);
  // Judged with the other issue-13 figures (the JSON line).
  FIGURES.throttled_revoke_overhead = r.overhead;
  RAW.throttled_revoke_n = n;
  RAW.throttled_revoke_s = r.elapsedMs / 1000;
  verdicts.push(
    holds('(vi) all revoked and verified, next to no RequestLimitExceeded', r.removedAndVerified === n && r.requestLimitExceeded <= Math.ceil(n / 100), `${r.removedAndVerified}/${n} verified, ${r.requestLimitExceeded} RequestLimitExceeded`),
  );
}

// ---------------------------------------------------------------- (viii) scale: the built bot as its own process

// ---------------------------------------------------------------- (ix) mass expiry

async function expiryBurst(): Promise<void> {
  out(`\n(ix) ${P.expiring.toLocaleString('en')} of ${P.expiryLive.toLocaleString('en')} live ec2-ssh grants expiring within 1 s (the bot in this process, no throttling): lateness = rule gone at EC2 − expiresAt`);
  const m = await massExpiry({ live: P.expiryLive, expiring: P.expiring, withinMs: 1_000 });
  const calls = Object.entries(m.ec2Calls ?? {}).map(([k, v]) => `${v} ${k}`).join(', ');
  out(`  p50 ${ms(m.p50Ms)} · p99 ${ms(m.p99Ms)} · max ${ms(m.maxMs)} · ${m.verified}/${P.expiring} revoked and verified, ${m.left} left · EC2 calls: ${calls}`);
  FIGURES.revoke_p99_ms = m.p99Ms;
  FIGURES.revoke_max_ms = m.maxMs;
  RAW.revoke_p50_ms = m.p50Ms;
  RAW.revoke_live = P.expiryLive;
  RAW.revoke_expiring = P.expiring;
  RAW.revoke_verified = m.verified;
  RAW.revoke_took_ms = m.tookMs;
  RAW.revoke_ec2_calls = m.ec2Calls;
  if (m.verified !== P.expiring || m.left > 0) throw new Error(`${P.expiring - m.verified} expiring grants not revoked and verified, ${m.left} rules left`);
}

async function scale(verdicts: Verdict[]): Promise<void> {
  out(`\n(viii) the built bot as its own process (embedded store on disk; Slack and EC2 stand-ins and the load in this process)`);
  const slack = await startSlackStandIn();
  const ec2 = await startFakeEc2({ pageSize: 1_000 });
  let f: ScaleFigures;
  try {
    f = await scaleBench({ slack, ec2, ackN: P.ackN, ackC: P.ackC, lifecycles: P.lifecycles, lifecycleC: P.lifecycleC, live: P.live, log: out });
  } finally {
    await Promise.allSettled([slack.close(), ec2.close()]);
  }
  const ratio = (a: { botP99Ms: number; bareP99Ms: number; ratio: number; botP50Ms: number; bareP50Ms: number; botServerP99LeMs: number }) =>
    `p99 ${ms(a.botP99Ms)} vs bare Bolt ${ms(a.bareP99Ms)} (${a.ratio.toFixed(2)}×); p50 ${ms(a.botP50Ms)} vs ${ms(a.bareP50Ms)}; inside the bot (arrival → answer sent, its jit_slack_ack_seconds) p99 ≤ ${ms(a.botServerP99LeMs)}`;
  out(`  /jit request acks (${f.ackRequest.n} at ${f.ackRequest.concurrency} concurrent): ${ratio(f.ackRequest)}; bot acks done in ${ms(f.ackRequest.botAcksTookMs)}, its backlog in ${ms(f.ackRequest.botWorkTookMs)}`);
  out(`  /jit help acks    (${f.ackHelp.n} at ${f.ackHelp.concurrency} concurrent): ${ratio(f.ackHelp)}`);
  out(`  ${f.lifecycles.toLocaleString('en')} lifecycles at ${f.lifecycleConcurrency} concurrent took ${(f.lifecyclesTookMs / 1000).toFixed(1)} s: bot main-thread CPU ${ms(f.cpuMsPerLifecycle)} per lifecycle; RSS ${f.rssMbAtStart.toFixed(0)} MiB at start → ${f.rssMbAfterLifecycles.toFixed(0)} MiB after`);
  out(`  ${f.live.toLocaleString('en')} live grants (seeded in ${(f.seedMs / 1000).toFixed(1)} s, ${f.engine}): one idle sweep read ${f.sweepItemsReadIdle} items; spawn → ready ${ms(f.readyMsLive)}; RSS once settled ${f.rssMbLive.toFixed(0)} MiB`);
  FIGURES.ack_p99_ratio = f.ackRequest.ratio;
  FIGURES.ack_p99_ratio_help = f.ackHelp.ratio;
  FIGURES.cpu_ms_per_lifecycle = f.cpuMsPerLifecycle;
  FIGURES.rss_mb_after_20k = f.rssMbAfterLifecycles;
  FIGURES.sweep_items_read_idle = f.sweepItemsReadIdle;
  FIGURES.rss_mb_10k = f.rssMbLive;
  FIGURES.ready_ms_10k = f.readyMsLive;
  Object.assign(RAW, {
    store: f.engine,
    ack_requests: f.ackRequest.n,
    ack_concurrency: f.ackRequest.concurrency,
    ack_p99_ms_bot: f.ackRequest.botP99Ms,
    ack_p99_ms_bare: f.ackRequest.bareP99Ms,
    ack_p50_ms_bot: f.ackRequest.botP50Ms,
    ack_p50_ms_bare: f.ackRequest.bareP50Ms,
    ack_help_p99_ms_bot: f.ackHelp.botP99Ms,
    ack_help_p99_ms_bare: f.ackHelp.bareP99Ms,
    ack_server_p99_le_ms: f.ackRequest.botServerP99LeMs,
    ack_help_server_p99_le_ms: f.ackHelp.botServerP99LeMs,
    ack_bot_acks_took_ms: f.ackRequest.botAcksTookMs,
    ack_bot_backlog_done_ms: f.ackRequest.botWorkTookMs,
    lifecycles: f.lifecycles,
    lifecycle_concurrency: f.lifecycleConcurrency,
    lifecycles_took_s: f.lifecyclesTookMs / 1000,
    rss_mb_at_start: f.rssMbAtStart,
    live_grants: f.live,
    seed_s: f.seedMs / 1000,
  });
  verdicts.push(holds('(viii) every lifecycle\'s rule gone at EC2, every seeded rule still there', f.rulesLeft === 0, `${f.rulesLeft} rules off`));
}

async function main(): Promise<number> {
  const began = nowMs();
  const cpu = cpus();
  out(`jit-access-bot bench${QUICK ? ' (--quick)' : ''}`);
  out(`machine: ${cpu.length} CPU${cpu.length === 1 ? '' : 's'} (${cpu[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${platform()} ${arch()}, Node ${process.version}`);
  out('setup:   one Node process holds the bot (Bolt HTTP receiver, core, scheduler, outbox), the embedded SQLite store (in memory),');
  out('         the Slack stand-in, the SIMULATED EC2 (no AWS account is used) and the load generator; all traffic is HTTP');
  out('         over loopback; requests are signed as Slack signs them; load is closed-loop (C workers, next op when done)');
  const logFile = join(mkdtempSync(join(tmpdir(), 'jit-bench-')), 'bot.log');
  const s = await startStack({ configYaml: CONFIG_YAML, logFile, owner: 'bench-replica', asyncLog: true, signingSecret: 'bench-signing-secret-9e1f', botToken: 'xoxb-bench' });
  const ev = new Events(s);
  const verdicts: Verdict[] = [];
  // Each phase runs whatever happened to the ones before it, so the JSON line has every figure it can.
  const failures: string[] = [];
  const attempt = async (phase: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (err) {
      failures.push(`${phase}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  await attempt('(i)–(iv)', async () => {
    try {
      // Warm up the JIT and the connection pools so the first measured requests are not outliers.
      await submitMany(s, ev, 'w', 10, 5, () => '1h');
      await settle(s);
      await run(s, ev, verdicts);
    } finally {
      ev.stop();
      await s.stop();
    }
  });
  await attempt('(vi)', () => throttled(verdicts));
  await attempt('(v)', () => startup(verdicts));
  await attempt('(vii)', () => driftBench(verdicts));
  await attempt('(viii)', () => scale(verdicts));
  await attempt('(ix)', () => expiryBurst());
  await sleep(50);
  out(`\nlog:     ${logFile} (${logSummary(logFile)})`);
  out('\ntargets:');
  const width = Math.max(...verdicts.map((v) => v.name.length));
  const mwidth = Math.max(...verdicts.filter((v) => v.target !== 'must hold').map((v) => v.measured.length));
  for (const v of verdicts) {
    const measured = v.target === 'must hold' ? v.measured : v.measured.padStart(mwidth);
    out(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.name.padEnd(width)}  ${measured}${v.target === 'must hold' ? '' : `   target ${v.target}`}`);
  }
  for (const f of failures) out(`  FAIL  a phase did not complete: ${f}`);
  const issue = issueVerdicts(FIGURES);
  const sizes: Partial<Record<string, string>> = {
    ack_p99_ratio: `${P.ackN.toLocaleString('en')} at ${P.ackC}`,
    ack_p99_ratio_help: `${P.ackN.toLocaleString('en')} at ${P.ackC}`,
    cpu_ms_per_lifecycle: `${P.lifecycles.toLocaleString('en')} lifecycles`,
    rss_mb_after_20k: `after ${P.lifecycles.toLocaleString('en')}`,
    rss_mb_10k: `${P.live.toLocaleString('en')} live`,
    ready_ms_10k: `${P.live.toLocaleString('en')} live`,
    sweep_items_read_idle: `${P.live.toLocaleString('en')} live`,
    drift_cpu_ms_10k: `${QUICK ? '1,000' : '10,000'} rules`,
    throttled_revoke_overhead: `${P.throttledN.toLocaleString('en')} rules`,
    revoke_p99_ms: `${P.expiring.toLocaleString('en')} of ${P.expiryLive.toLocaleString('en')} within 1 s`,
    revoke_max_ms: `${P.expiring.toLocaleString('en')} of ${P.expiryLive.toLocaleString('en')} within 1 s`,
  };
  out('\nissue 13 (the JSON line below):');
  const fwidth = Math.max(...issue.map((v) => v.field.length));
  for (const v of issue) {
    const mark = v.pass === undefined ? '  — ' : v.pass ? 'PASS' : 'FAIL';
    const value = v.value === null ? 'not measured' : Number.isInteger(v.value) ? String(v.value) : v.value.toFixed(/ratio|overhead/.test(v.field) ? 3 : 1);
    out(`  ${mark}  ${v.field.padEnd(fwidth)}  ${value.padStart(12)}   target ≤ ${String(v.target).padEnd(5)}  (${sizes[v.field] ?? ''})`);
  }
  const failed = verdicts.filter((v) => !v.pass).length + issue.filter((v) => v.pass === false).length + failures.length;
  const tookS = (nowMs() - began) / 1000;
  out(`\n${failed === 0 ? 'all targets met' : `${failed} target${failed === 1 ? '' : 's'} missed`} · bench took ${tookS.toFixed(1)} s`);
  out(resultLine(FIGURES, { quick: QUICK, ...RAW, node: process.version, targets_missed: failed, completed: failures.length === 0, bench_s: tookS }));
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
