/**
 * Bench scenario (issue 13, item 3): `live` ACTIVE ec2-ssh grants, `expiring` of them expiring
 * within `withinMs` a few seconds from now, the rest hours away. The real bot starts first
 * (startBot: scheduler, lanes, provider, outbox; embedded store in memory; EC2 stand-in
 * testkit/fake-ec2.ts, no throttling); the grants are then written through its store port as a
 * real grant leaves them (the request ACTIVE, the expiring ones warned; the holder in the rule
 * registry; the tagged rule at the stand-in), behind the bot's back: as another replica, or this
 * one before a restart, would have left them, so no timer of this process knows them. The drift
 * sweep is moved out of the way (1 h): bench/drift.ts measures it.
 *
 * Lateness of a grant = when its rule disappeared at the stand-in (the stand-in's own clock,
 * FakeEc2.removedAt) − its expiresAt. Also checked: every expiring request ends REVOKED with a
 * verified outcome and its audit record; none is removed early; no other rule is touched.
 *
 *   node scripts/build.js && node dist/bench/mass-expiry.js [live] [expiring] [withinMs]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EC2Client } from '@aws-sdk/client-ec2';
import pino from 'pino';
import { ruleKey, ruleTagKeys } from '../src/aws/ec2-ssh';
import { seedRuleTags } from './seed';
import { UNTHROTTLED_EC2_YAML } from './scale';
import { type EnvConfig, parseConfig } from '../src/config';
import type { AccessRequest, Ec2Grant } from '../src/domain/types';
import { newRequestId } from '../src/domain/ids';
import { applyTransition, decide, type LifecycleContext, type LifecycleEvent } from '../src/lifecycle';
import { startBot } from '../src/main';
import type { RequestStore, RuleRegistry } from '../src/ports';
import { startFakeEc2 } from '../testkit/fake-ec2';
import { startSlackStandIn } from '../testkit/slack-stand-in';
import { ec2Client as botEc2Client } from '../src/aws/ec2-rule-listing';

export interface MassExpiryOptions {
  live: number;
  expiring: number;
  withinMs: number;
}

export interface MassExpiryResult {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Expiring requests found REVOKED, outcome verified, with their audit record, and their rule gone. */
  verified: number;
  /** First expiry → last rule gone (ms); Infinity (null in JSON) when some were still there at the deadline. */
  tookMs: number;
  /** Expiring rules still at EC2 at the deadline (lateness counts them as Infinity). */
  left: number;
  /** EC2 calls the bot made during the expiry, by action. */
  ec2Calls?: Record<string, number>;
}

const SG = 'sg-0be0c0000000000e1';
const REGION = 'eu-west-1';
const TARGET = 'mass-bastion';
const OWNER = 'bench-replica';
/** The bot's sweep interval here (set in CONFIG_YAML; the default). */
const SWEEP_MS = 5_000;
/**
 * The first expiry at least this long after the last grant is written: one sweep interval and a
 * second, so that a sweep sees every grant before it expires and arms its timer (the look-ahead),
 * as it does for any real grant (the shortest lasts a minute). With 3 s, shorter than a sweep
 * interval, the figure measured where the 5 s sweep happened to fall: when none fell between the
 * writes and the expiries, a later one found all 1,000 already due (p99 144, 842 and 1,071 ms in
 * three runs of the same code). A sweep that finds grants already due is the bound for timers
 * lost to a restart (a sweep interval), not what this measures.
 */
const LEAD_MS = SWEEP_MS + 1_000;
const HOUR = 3_600_000;

const CONFIG_YAML = `
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
defaults:
  maxDuration: 12h
# The drift sweep (its own bench: bench/drift.ts) stays out of this one.
revocation:
  sweepInterval: ${SWEEP_MS / 1000}s
  driftInterval: 1h
# The stand-in does not throttle, and the bot's own buckets are raised to match: this part
# measures the bot. At EC2's documented 200 + 5/s for revokes, a burst the batcher split into more
# than 200 calls waited on the refill (p99 up to 3.8 s with 222 calls); phase (vi) measures that.
${UNTHROTTLED_EC2_YAML}targets:
  - { name: ${TARGET}, kind: ec2-ssh, securityGroupId: ${SG}, port: 22, region: ${REGION} }
`;

/** Request ids by seed index (real ids: the core refuses anything else). */
const ids: string[] = [];

const debug = (line: string) => void (process.env.MASS_EXPIRY_DEBUG && process.stderr.write(`${line}\n`));

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function address(i: number): string {
  return `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}/32`;
}

/** An ACTIVE (and, for the expiring ones, warned) grant as the lifecycle leaves it, its outbox already delivered. */
function activeRequest(i: number, grant: Ec2Grant, expiresAt: number, durationMs: number, warned: boolean): AccessRequest {
  const grantedAt = expiresAt - durationMs;
  const ctx = (now: number): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 5 * 60_000, owner: OWNER, newId: () => `b${i.toString(36)}${Math.random().toString(36).slice(2, 8)}` });
  const id = ids[i]!;
  const created = new Date(grantedAt - 60_000).toISOString();
  let r: AccessRequest = {
    id,
    version: 1,
    status: 'PENDING',
    kind: 'ec2-ssh',
    targetName: TARGET,
    requesterId: `U0BENCH${i % 500}`,
    reason: 'mass expiry bench',
    durationMs,
    cidr: grant.cidr,
    createdAt: created,
    approvalDeadline: new Date(grantedAt + 30 * 60_000).toISOString(),
    approvalsRequired: 1,
    dueAt: grantedAt + 30 * 60_000,
    audit: [{ at: created, actor: `U0BENCH${i % 500}`, action: 'request', from: null, to: 'PENDING', details: { target: TARGET } }],
    outbox: {},
  };
  const step = (event: LifecycleEvent, at: number) => {
    r = applyTransition(r, decide(r, event, ctx(at)));
    r.outbox = {};
  };
  step({ type: 'approve', actor: 'U0APPROVER', required: 1 }, grantedAt - 1_000);
  step({ type: 'granted', grant, expiresAt: new Date(expiresAt).toISOString() }, grantedAt);
  if (warned) step({ type: 'warn' }, Math.max(grantedAt, expiresAt - 5 * 60_000));
  return r;
}

async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

export async function massExpiry(opts: MassExpiryOptions): Promise<MassExpiryResult> {
  const { live, expiring, withinMs } = opts;
  if (expiring > live) throw new Error('expiring must not exceed live');
  ids.length = 0;
  for (let i = 0; i < live; i++) ids.push(newRequestId());
  const dataDir = mkdtempSync(join(tmpdir(), 'jit-mass-expiry-'));
  const logFile = `${dataDir}.log`;
  const ec2 = await startFakeEc2();
  const slack = await startSlackStandIn();
  const keys = ruleTagKeys();
  const config = parseConfig(CONFIG_YAML, 'mass-expiry bench config');
  let ec2Client: EC2Client | undefined;
  let bot: Awaited<ReturnType<typeof startBot>> | undefined;
  try {
    // ---- the bot (embedded store in memory), then the grants written into its store behind its
    // back, as another replica (or this one before a restart) would have left them: no timers here.
    const env: EnvConfig = { slackBotToken: 'xoxb-bench', slack: { mode: 'http', signingSecret: 'bench-signing-secret', port: 0 }, slackApiUrl: slack.url, configPath: '(inline)', dataDir: '(memory)', logLevel: 'warn' };
    const log = pino({ level: process.env.MASS_EXPIRY_DEBUG ? 'info' : 'warn' }, pino.destination({ dest: logFile, sync: Boolean(process.env.MASS_EXPIRY_DEBUG), ...(process.env.MASS_EXPIRY_DEBUG ? {} : { minLength: 8 * 1024 }) }));
    bot = await startBot(env, config, {
      log,
      owner: OWNER,
      inMemoryStore: true,
      ec2ClientFor: (region) => (ec2Client ??= botEc2Client({ region, endpoint: ec2.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 3 })),
    });
    await bot.scheduler.driftOnce(); // the start-up drift sweep (on an empty store) is over
    const store = bot.store as unknown as RequestStore & RuleRegistry;
    // Request, then holder, then the rule at EC2: a drift sweep never sees the rule unheld.
    const seedOne = async (i: number, expiresAt: number, warned: boolean): Promise<AccessRequest> => {
      const id = ids[i]!;
      const ruleId = `sgr-${randomBytes(8).toString('hex')}`;
      const grant: Ec2Grant = { kind: 'ec2-ssh', region: REGION, securityGroupId: SG, securityGroupRuleId: ruleId, cidr: address(i), port: 22 };
      const request = activeRequest(i, grant, expiresAt, warned ? HOUR : 8 * HOUR, warned);
      await store.create(request);
      await store.join(ruleKey(grant), request.id);
      ec2.seedRule({ securityGroupRuleId: ruleId, groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: address(i), tags: seedRuleTags(id, `U0BENCH${i % 500}`, new Date(expiresAt), keys) });
      return request;
    };
    const t0 = Date.now();
    const later = Array.from({ length: live - expiring }, (_, k) => expiring + k);
    await inBatches(later, 32, async (i) => {
      await seedOne(i, Date.now() + 2 * HOUR + (i % 3_600) * 1_000, false);
    });
    const perItem = later.length > 0 ? (Date.now() - t0) / later.length : 20;
    debug(`seeded ${later.length} later grants in ${Date.now() - t0} ms`);
    // The expiring ones: their expiries start LEAD_MS after they are all written (estimated from the rate so far, with room).
    const base = Date.now() + Math.round(expiring * perItem * 2.5) + LEAD_MS;
    const expiringRequests: AccessRequest[] = new Array(expiring);
    await inBatches(Array.from({ length: expiring }, (_, i) => i), 32, async (i) => {
      expiringRequests[i] = await seedOne(i, base + Math.round((i / Math.max(1, expiring - 1)) * withinMs), true);
    });
    const first = Math.min(...expiringRequests.map((r) => Date.parse(r.expiresAt!)));
    debug(`seeded ${expiring} expiring grants; the first expires in ${first - Date.now()} ms`);
    if (Date.now() > first - SWEEP_MS) throw new Error(`seeding took too long: the first expiry is ${first - Date.now()} ms away, less than a sweep interval`);
    const callsBefore = ec2.calls.length;

    // ---- wait for every expiring rule to go (the design bound plus margin)
    const deadline = base + withinMs + Math.max(60_000, expiring * 400);
    const ruleIds = expiringRequests.map((r) => (r.grant as Ec2Grant).securityGroupRuleId);
    while (Date.now() < deadline && ruleIds.some((id) => !ec2.removedAt.has(id))) await sleep(50);
    // Let the last REVOKED writes land.
    const stored = async () => Promise.all(expiringRequests.map((r) => bot!.service.get(r.id)));
    let after = await stored();
    while (Date.now() < deadline && after.some((r) => r?.status !== 'REVOKED')) {
      await sleep(100);
      after = await stored();
    }
    const late = expiringRequests.map((r, i) => (ec2.removedAt.get(ruleIds[i]!) ?? Number.POSITIVE_INFINITY) - Date.parse(r.expiresAt!)).sort((a, b) => a - b);
    const verified = after.filter((r, i) => r?.status === 'REVOKED' && r.revokeOutcome === 'verified' && r.audit.some((a) => a.to === 'REVOKED') && ec2.removedAt.has(ruleIds[i]!)).length;
    const notVerified = after.find((r) => r?.status !== 'REVOKED' || r.revokeOutcome !== 'verified');
    if (notVerified) debug(`not verified: ${JSON.stringify(notVerified)}`);
    if (process.env.MASS_EXPIRY_DEBUG) {
      const actions: Record<string, number> = {};
      for (const r of after) for (const a of r?.audit ?? []) actions[`${a.action}:${a.actor}`] = (actions[`${a.action}:${a.actor}`] ?? 0) + 1;
      debug(`audit actions: ${JSON.stringify(actions)}`);
      const slow = after.map((r, i) => ({ r, late: (ec2.removedAt.get(ruleIds[i]!) ?? Infinity) - Date.parse(r!.expiresAt!) })).sort((a, b) => b.late - a.late)[0];
      debug(`slowest (${Math.round(slow!.late)} ms): ${JSON.stringify(slow!.r!.audit.slice(-3))}`);
    }
    const ec2Calls: Record<string, number> = {};
    for (const c of ec2.calls.slice(callsBefore)) ec2Calls[c.action] = (ec2Calls[c.action] ?? 0) + 1;
    const gone = ruleIds.map((id) => ec2.removedAt.get(id) ?? Number.POSITIVE_INFINITY);
    const early = late.filter((ms) => ms < 0).length;
    if (early > 0) throw new Error(`${early} rules were removed before their expiry`);
    const expiringRules = new Set(ruleIds);
    const wrongly = [...ec2.removedAt.keys()].filter((id) => !expiringRules.has(id)).length;
    if (wrongly > 0) throw new Error(`${wrongly} rules that were not due were removed`);
    const left = ruleIds.filter((id) => !ec2.removedAt.has(id)).length;
    return { p50Ms: percentile(late, 50), p99Ms: percentile(late, 99), maxMs: late.at(-1) ?? NaN, verified, tookMs: Math.max(...gone) - first, left, ec2Calls };
  } finally {
    await bot?.stop().catch(() => undefined);
    ec2Client?.destroy();
    await Promise.allSettled([ec2.close(), slack.close()]);
    rmSync(dataDir, { recursive: true, force: true });
    if (process.env.MASS_EXPIRY_DEBUG) debug(`log: ${logFile}`);
    else rmSync(logFile, { force: true });
  }
}

if (require.main === module) {
  const [live = 10_000, expiring = 1_000, withinMs = 1_000] = process.argv.slice(2).map(Number);
  const started = nowMs();
  massExpiry({ live, expiring, withinMs }).then(
    (r) => {
      process.stdout.write(`${JSON.stringify({ live, expiring, withinMs, ...r, benchMs: Math.round(nowMs() - started) })}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`mass-expiry failed: ${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
