/**
 * Fault-injection support: runs the REAL bot (compiled once, `node dist/src/main.js`) as child
 * processes against shared infrastructure that lives in the jest process:
 *   - one dynalite server (the DynamoDB endpoint every bot of a scenario shares; a fresh table
 *     per scenario),
 *   - one fake EC2 endpoint, reached through a recording pass-through that pairs every call with
 *     its HTTP outcome (so "a throttled call is not a success" can be checked exactly),
 *   - one Slack Web API stand-in.
 * Bots are driven with signed Slack requests, exactly as Slack would, and observed through the
 * store, the fake EC2 and the stand-in. Nothing here sleeps to synchronise: every wait polls an
 * observable state.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { ACTION_APPROVE } from '../../blocks/ids';
import { ConflictError } from '../../src/domain/errors';
import type { AccessRequest, RequestStatus } from '../../src/domain/types';
import type { FaultPoint } from '../../src/ports';
import { DynamoRequestStore, tableDefinition } from '../../src/store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';
import { type FakeEc2, startFakeEc2 } from '../../testkit/fake-ec2';
import { blockAction, slashCommand } from '../../testkit/slack-requests';
import { type SlackStandIn, type StoredMessage, startSlackStandIn } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';

export const REPO = resolve(__dirname, '..', '..');
export const APPROVER_CHANNEL = 'C0APPROVERS';
export const APPROVER = 'U0APPROVER1';
export const APPROVER2 = 'U0APPROVER2';
export const SIGNING_SECRET = 'fault-signing-secret-51d2';
export const BOT_TOKEN = 'xoxb-fault';
export const SECURITY_GROUP = 'sg-0123456789abcdef0';
export const REGION = 'eu-west-1';
const REQUEST_TAG = 'jit:request-id';

/** The fault suite's policy up to its targets: approvers, second-scale timings, a generous rate limit. */
export const CONFIG_HEAD = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${APPROVER}, ${APPROVER2}]
defaults:
  minDuration: 1s
  maxDuration: 1h
  approvalTimeout: 5m
  expiryWarning: 1s
revocation:
  sweepInterval: 1s
  lease: 3s
  driftInterval: 10m
# One requester sends up to 50 requests in seconds here: far over the default 10 per hour.
rateLimits:
  requests: { max: 100, per: 1m }
targets:
`;

export const CONFIG_YAML = `${CONFIG_HEAD}  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: ${SECURITY_GROUP}
    port: 22
    region: ${REGION}
`;

// ---------------------------------------------------------------- EC2 recorder

/** One EC2 call as a bot made it, with the answer the fake gave. */
export interface Ec2Exchange {
  action: string;
  params: Record<string, string>;
  /** HTTP status of the answer (0 while in flight). */
  status: number;
  /** AWS error code of a failed answer. */
  code?: string;
  at: number;
}

export interface Ec2Recorder {
  url: string;
  exchanges: Ec2Exchange[];
  /** From now on, calls of `action` are held: never forwarded, never answered (EC2 hanging). */
  hold(action: string): void;
  /** How many calls are being held. */
  held(): number;
  /** Stops holding; the held calls are cut (their connections closed) without reaching EC2. */
  dropHeld(): void;
  close(): Promise<void>;
}

/**
 * A transparent pass-through in front of the fake EC2 that records each call together with its
 * outcome (the fake's own `calls` list records requests only). Bots point AWS_ENDPOINT_URL_EC2 here.
 */
export async function startEc2Recorder(upstream: string): Promise<Ec2Recorder> {
  const exchanges: Ec2Exchange[] = [];
  const holding = new Set<string>();
  const held: Array<{ entry: Ec2Exchange; res: ServerResponse }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { Action = '', Version: _v, ...params } = Object.fromEntries(new URLSearchParams(body));
      const entry: Ec2Exchange = { action: Action, params, status: 0, at: Date.now() };
      exchanges.push(entry);
      if (holding.has(Action)) {
        held.push({ entry, res });
        return;
      }
      fetch(`${upstream}${req.url ?? '/'}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' }, body: req.method === 'POST' ? body : undefined })
        .then(async (up) => {
          const text = await up.text();
          entry.status = up.status;
          const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
          if (code) entry.code = code;
          res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/xml', 'x-amzn-requestid': up.headers.get('x-amzn-requestid') ?? '' });
          res.end(text);
        })
        .catch((err: unknown) => {
          entry.status = 599;
          entry.code = `recorder: ${String(err)}`;
          res.destroy();
        });
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    hold: (action) => void holding.add(action),
    held: () => held.length,
    dropHeld: () => {
      holding.clear();
      for (const h of held.splice(0)) {
        h.entry.status = 599;
        h.entry.code = 'recorder: held, then dropped';
        h.res.destroy();
      }
    },
    close: () => closeServer(server),
  };
}

// ---------------------------------------------------------------- shared infrastructure

export interface Infra {
  dir: string;
  distMain: string;
  configPath: string;
  dynamo: EmbeddedDynamo;
  dynamoClient: DynamoDBClient;
  fakeEc2: FakeEc2;
  ec2: Ec2Recorder;
  slack: SlackStandIn;
}

let infra: Infra | undefined;

export function shared(): Infra {
  if (!infra) throw new Error('fault infrastructure not started (call setUpInfra() in beforeAll)');
  return infra;
}

/** Compiles the bot once into a temp dir and starts the shared store, EC2 and Slack stand-ins. */
export async function setUpInfra(): Promise<Infra> {
  const dir = mkdtempSync(join(tmpdir(), 'jit-fault-'));
  const outDir = join(dir, 'dist');
  await new Promise<void>((ok, fail) => {
    execFile('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`compiling the bot failed (${err.message}):\n${stdout}\n${stderr}`));
      else ok();
    });
  });
  // The compiled code resolves its dependencies from <dir>/node_modules.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const configPath = join(dir, 'jit.config.yaml');
  writeFileSync(configPath, CONFIG_YAML);
  mkdirSync(join(dir, 'cwd'));
  const dynamo = await startEmbeddedDynamo(undefined);
  const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const fakeEc2 = await startFakeEc2();
  const ec2 = await startEc2Recorder(fakeEc2.url);
  const slack = await startSlackStandIn();
  infra = { dir, distMain: join(outDir, 'src', 'main.js'), configPath, dynamo, dynamoClient, fakeEc2, ec2, slack };
  return infra;
}

export async function tearDownInfra(): Promise<void> {
  const i = infra;
  infra = undefined;
  if (!i) return;
  await killAll();
  i.dynamoClient.destroy();
  await Promise.allSettled([i.slack.close(), i.ec2.close(), i.fakeEc2.close(), i.dynamo.close()]);
  rmSync(i.dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- one table per scenario

let tableSeq = 0;

export interface Scenario {
  table: string;
  store: DynamoRequestStore;
  /** Every bot started for this scenario, for the failure report. */
  bots: BotProcess[];
  startBot(name: string, opts?: { crashAt?: FaultPoint[]; configYaml?: string; env?: Record<string, string> }): Promise<BotProcess>;
}

export async function newScenario(label: string): Promise<Scenario> {
  const { dynamoClient } = shared();
  const table = `jit-fault-${++tableSeq}-${label.replace(/[^a-zA-Z0-9]+/g, '-').slice(0, 40)}`;
  await dynamoClient.send(new CreateTableCommand(tableDefinition(table)));
  await waitFor(async () => (await dynamoClient.send(new DescribeTableCommand({ TableName: table }))).Table?.TableStatus === 'ACTIVE', { message: `table ${table} active` });
  const bots: BotProcess[] = [];
  return {
    table,
    store: new DynamoRequestStore(dynamoClient, table),
    bots,
    async startBot(name, opts = {}) {
      const bot = await BotProcess.start(name, table, opts.crashAt, opts.configYaml, opts.env);
      bots.push(bot);
      return bot;
    },
  };
}

/** Raw items of a table other than requests (rule-holder records, leases). */
export async function bookkeepingItems(table: string): Promise<Record<string, unknown>[]> {
  const doc = DynamoDBDocumentClient.from(shared().dynamoClient);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.filter((i) => !String(i.pk).startsWith('REQ#'));
}

// ---------------------------------------------------------------- bot processes

const running = new Set<BotProcess>();

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class BotProcess {
  readonly output: string[] = [];
  readonly exited: Promise<Exit>;
  exit?: Exit;
  readyAt = 0;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
    readonly spawnedAt: number,
  ) {
    const line = (stream: string) => (chunk: Buffer) => {
      for (const l of String(chunk).split('\n')) if (l) this.output.push(`[${this.name} ${stream}] ${l}`);
    };
    child.stdout?.on('data', line('out'));
    child.stderr?.on('data', line('err'));
    this.exited = new Promise<Exit>((ok) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        ok(this.exit);
      });
    });
  }

  static async start(name: string, table: string, crashAt?: FaultPoint[], configYaml?: string, extraEnv: Record<string, string> = {}): Promise<BotProcess> {
    const i = shared();
    const port = await freePort();
    let configPath = i.configPath;
    if (configYaml !== undefined) {
      configPath = join(i.dir, `jit.config.${table}.${name}.yaml`);
      writeFileSync(configPath, configYaml);
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      PORT: String(port),
      SLACK_API_URL: i.slack.url,
      JIT_CONFIG: configPath,
      JIT_DYNAMODB_TABLE: table,
      AWS_ENDPOINT_URL_DYNAMODB: i.dynamo.endpoint,
      AWS_ENDPOINT_URL_EC2: i.ec2.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_EC2_METADATA_DISABLED: 'true',
      LOG_LEVEL: 'info',
      ...(crashAt?.length ? { JIT_TEST_CRASH_AT: crashAt.join(',') } : {}),
      ...extraEnv,
    };
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [i.distMain], { cwd: join(i.dir, 'cwd'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    const bot = new BotProcess(name, port, child, spawnedAt);
    running.add(bot);
    try {
      await waitFor(
        async () => {
          if (bot.exit) throw new Error(`exited before it was ready: ${JSON.stringify(bot.exit)}`);
          return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
        },
        { timeoutMs: 15_000, intervalMs: 25, message: `bot ${name} answering /healthz on ${port}` },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${bot.output.slice(-40).join('\n')}`);
    }
    bot.readyAt = Date.now();
    return bot;
  }

  /** The replica id the bot uses in leases (from its start-up log line). */
  owner(): string | undefined {
    for (const l of this.output) {
      const json = l.slice(l.indexOf('{'));
      if (!json.includes('jit-access-bot started')) continue;
      try {
        return (JSON.parse(json) as { owner?: string }).owner;
      } catch {
        // not a JSON line
      }
    }
    return undefined;
  }

  get eventsUrl(): string {
    return `http://127.0.0.1:${this.port}/slack/events`;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exit) this.child.kill(signal);
  }

  /** Waits for the process to end on its own (e.g. a crash point), with a clear failure otherwise. */
  async waitForExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`bot ${this.name} did not exit within ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Kills every bot still running (SIGKILL) and waits for them to go. */
export async function killAll(): Promise<void> {
  const bots = [...running];
  for (const b of bots) b.kill('SIGKILL');
  await Promise.all(bots.map((b) => b.exited));
}

// ---------------------------------------------------------------- Slack flows

let addressSeq = 0;

/** A fresh documentation-range address per call, so no two grants of the suite share a rule. */
export function nextAddress(): string {
  const n = addressSeq++;
  return `${n < 250 ? '203.0.113' : '198.51.100'}.${(n % 250) + 1}`;
}

/**
 * `/jit request prod-bastion <duration> <address> …` sent to `bot`; returns the request id from
 * the ephemeral reply, once the approval message is posted and its reference stored (so nothing
 * of the request is half-delivered when a crash follows).
 */
export function request(s: Scenario, bot: BotProcess, user: string, duration: string, address: string): Promise<string> {
  return requestWith(s, bot, user, `request prod-bastion ${duration} ${address} fault injection run`);
}

/** Sends `/jit <text>` (a request) and waits until its approval message is posted and acknowledged; its id. */
export async function requestWith(s: Scenario, bot: BotProcess, user: string, text: string): Promise<string> {
  const { slack } = shared();
  const responseUrl = slack.responseUrl();
  const res = await slashCommand(bot.eventsUrl, SIGNING_SECRET, { userId: user, text, responseUrl });
  if (res.status !== 200) throw new Error(`/jit request answered HTTP ${res.status}: ${res.body}`);
  const reply = await waitFor(() => slack.responses.find((r) => r.url === responseUrl), { timeoutMs: 10_000, message: `reply to /jit request from ${bot.name}` });
  const replyText = (reply.body as { text?: string }).text ?? '';
  const id = /jit-[0-9a-z]{10}/.exec(replyText)?.[0];
  if (!id) throw new Error(`no request id in the reply: ${JSON.stringify(reply.body)}`);
  await waitFor(
    async () => {
      const r = await s.store.get(id);
      return r?.approvalMessage !== undefined && Object.keys(r.outbox).length === 0 && approvalMessage(id) !== undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50, message: `approval message of ${id} posted and acknowledged` },
  );
  return id;
}

/**
 * Clicks Approve as `approver`. Bolt acks before the grant runs, so this returns once the click
 * was accepted; with `crashing`, a connection cut by the dying bot is fine too.
 */
export async function approve(bot: BotProcess, approver: string, id: string, opts: { crashing?: boolean } = {}): Promise<void> {
  const { slack } = shared();
  const msg = approvalMessage(id);
  try {
    const res = await blockAction(bot.eventsUrl, SIGNING_SECRET, { userId: approver, actionId: ACTION_APPROVE, value: id, channel: APPROVER_CHANNEL, messageTs: msg?.ts ?? '0', responseUrl: slack.responseUrl(), messageBlocks: (msg?.blocks as unknown[]) ?? [] });
    if (res.status !== 200) throw new Error(`Approve answered HTTP ${res.status}: ${res.body}`);
  } catch (err) {
    if (!opts.crashing) throw err;
  }
}

/**
 * Ends injected Slack failures for `method` without forgetting what the stand-in recorded:
 * calls it (as another client, on a scratch channel) until it answers ok, which uses up the
 * queued failures. Returns how many were used up here.
 */
export async function useUpSlackFailures(method: string): Promise<number> {
  const { slack } = shared();
  for (let n = 0; n < 1_000; n++) {
    const res = await fetch(`${slack.url}${method}`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-fault-drain', 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C0SCRATCH', ts: '1.000000', text: 'drain' }),
    });
    const body = (await res.json()) as { ok?: boolean };
    if (res.status === 200 && body.ok) return n;
  }
  throw new Error(`${method} kept failing`);
}

/** The approval message of a request as the stand-in holds it now (after updates). */
export function approvalMessage(id: string): StoredMessage | undefined {
  return shared()
    .slack.messagesIn(APPROVER_CHANNEL)
    .find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? '').includes(id));
}

export function hasApproveButton(m: StoredMessage | undefined): boolean {
  return JSON.stringify(m?.blocks ?? []).includes(ACTION_APPROVE);
}

export async function waitForStatus(s: Scenario, ids: string[], status: RequestStatus, timeoutMs: number): Promise<AccessRequest[]> {
  let last: AccessRequest[] = [];
  await waitFor(
    async () => {
      last = await Promise.all(ids.map(async (id) => (await s.store.get(id))!));
      return last.every((r) => r?.status === status);
    },
    { timeoutMs, intervalMs: 100, message: () => `all ${ids.length} request(s) ${status}; now: ${JSON.stringify(last.map((r) => [r?.id, r?.status]))}` },
  );
  return last;
}

/** A grant long enough that no set-up, however slow the machine, can race its expiry. */
export const LONG_GRANT = '30m';

/**
 * Brings an ACTIVE grant's expiry forward to `expiresAtMs`: the test's stand-in for time passing.
 * Scenarios request LONG_GRANT, get everything in place, and only then let the grant run out, so
 * a busy machine cannot make a grant expire during set-up. The expiry warning falls due at
 * `warnAtMs` (default 500 ms before), unless it was already sent. One conditional write on
 * (status, version), as the bot's own; no audit entry (nothing happened to the request). The
 * bot's timer for the old time is stale: its sweep finds the new one.
 */
export async function moveExpiry(s: Scenario, id: string, expiresAtMs: number, warnAtMs = expiresAtMs - 500): Promise<void> {
  for (;;) {
    const r = (await s.store.get(id))!;
    if (r.status !== 'ACTIVE') throw new Error(`moveExpiry: ${id} is ${r.status}, not ACTIVE`);
    const dueAt = r.warned ? expiresAtMs : warnAtMs;
    try {
      await s.store.transition({ id, expectStatus: 'ACTIVE', expectVersion: r.version, status: 'ACTIVE', set: { expiresAt: new Date(expiresAtMs).toISOString(), warnAt: new Date(warnAtMs).toISOString(), dueAt } });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err; // the bot wrote meanwhile: read again
    }
  }
}

/** Runs `fn` with up to `limit` at once, in order of `items`. */
export async function inBatches<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------- assertions

export interface LeftBehindOptions {
  /** Max allowed revoke lateness (revoked audit time − expiresAt), ms. */
  boundMs: number;
  /** Lateness group for the report. */
  group: string;
}

/**
 * The invariant of the suite, per request:
 *  (1) it ended REVOKED, out of the due index, with no lease left;
 *  (2) exactly one successful AuthorizeSecurityGroupIngress carried its tag (throttled or refused
 *      calls do not count), exactly one successful RevokeSecurityGroupIngress removed its rule, no
 *      rule carrying its tag is left in EC2, and no rule-holder record is left in the table;
 *  (3) its audit chain is contiguous: null → PENDING first, each `from` is the previous `to`
 *      (in-state entries such as claims and retries have from === to), REVOKED last;
 *  (4) lateness (revoked audit time − expiresAt) is within the bound.
 * Returns the lateness values (ms), also recorded under `group`.
 */
export async function assertNothingLeftBehind(s: Scenario, ids: string[], o: LeftBehindOptions): Promise<number[]> {
  const { ec2, fakeEc2 } = shared();
  const problems: string[] = [];
  const lateness: number[] = [];
  const requests = await Promise.all(ids.map((id) => s.store.get(id)));
  const rules = fakeEc2.rules();
  for (const [i, id] of ids.entries()) {
    const r = requests[i];
    if (!r) {
      problems.push(`${id}: not in the store`);
      continue;
    }
    // (1)
    if (r.status !== 'REVOKED') problems.push(`${id}: ended ${r.status}, not REVOKED`);
    if (r.dueAt !== undefined) problems.push(`${id}: still due at ${r.dueAt}`);
    if (r.leaseOwner !== undefined) problems.push(`${id}: lease still held by ${r.leaseOwner}`);
    // (2)
    const authorizes = ec2.exchanges.filter((x) => x.action === 'AuthorizeSecurityGroupIngress' && Object.values(x.params).includes(id));
    const granted = authorizes.filter((x) => x.status === 200);
    if (granted.length !== 1) problems.push(`${id}: ${granted.length} successful AuthorizeSecurityGroupIngress (of ${authorizes.length} attempts: ${authorizes.map((x) => x.code ?? x.status).join(', ')}); want exactly 1`);
    const ruleId = r.grant?.kind === 'ec2-ssh' ? r.grant.securityGroupRuleId : undefined;
    if (!ruleId) problems.push(`${id}: no grant recorded`);
    else {
      const revokes = ec2.exchanges.filter((x) => x.action === 'RevokeSecurityGroupIngress' && Object.values(x.params).includes(ruleId));
      const removed = revokes.filter((x) => x.status === 200);
      if (removed.length !== 1) problems.push(`${id}: ${removed.length} successful RevokeSecurityGroupIngress of ${ruleId} (attempts: ${revokes.map((x) => x.code ?? x.status).join(', ')}); want exactly 1`);
    }
    const left = rules.filter((rule) => rule.tags[REQUEST_TAG] === id || (ruleId !== undefined && rule.securityGroupRuleId === ruleId));
    if (left.length > 0) problems.push(`${id}: rule(s) left in EC2: ${left.map((x) => x.securityGroupRuleId).join(', ')}`);
    // (3)
    const chain = auditProblems(r);
    if (chain) problems.push(`${id}: ${chain}`);
    // (4)
    const revokedAt = r.audit.find((a) => a.to === 'REVOKED' && a.from === 'REVOKING')?.at;
    if (revokedAt && r.expiresAt) {
      const late = Date.parse(revokedAt) - Date.parse(r.expiresAt);
      lateness.push(late);
      if (late > o.boundMs) problems.push(`${id}: revoked ${late}ms after expiry (bound ${o.boundMs}ms)`);
      if (late < 0) problems.push(`${id}: revoked ${-late}ms BEFORE expiry`);
    } else problems.push(`${id}: no revoked audit entry or no expiresAt`);
  }
  const leftovers = (await bookkeepingItems(s.table)).filter((item) => String(item.pk).startsWith('RULE#'));
  if (leftovers.length > 0) problems.push(`rule-holder records left in the table: ${JSON.stringify(leftovers, (_k, v: unknown) => (v instanceof Set ? [...v] : v))}`);
  recordLateness(o.group, lateness, o.boundMs);
  if (problems.length > 0) {
    const audits = requests.map((r) => `${r?.id}: ${(r?.audit ?? []).map((a) => `${a.at} ${a.action} ${a.from}→${a.to}${a.details?.owner ? ` (${a.details.owner})` : ''}`).join(' | ')}`);
    throw new Error(`something was left behind:\n  - ${problems.join('\n  - ')}\naudit:\n  ${audits.join('\n  ')}`);
  }
  return lateness;
}

/** Why a request's audit chain is not contiguous, or undefined when it is. */
export function auditProblems(r: AccessRequest): string | undefined {
  const a = r.audit;
  if (a.length === 0) return 'empty audit';
  if (a[0]!.from !== null || a[0]!.to !== 'PENDING') return `audit starts ${a[0]!.from} → ${a[0]!.to}, not null → PENDING`;
  for (let i = 1; i < a.length; i++) {
    if (a[i]!.from !== a[i - 1]!.to) return `audit gap at #${i} (${a[i]!.action}): from ${a[i]!.from} after ${a[i - 1]!.to}`;
    if (Date.parse(a[i]!.at) < Date.parse(a[i - 1]!.at)) return `audit time goes back at #${i} (${a[i]!.action})`;
  }
  const last = a[a.length - 1]!;
  if (last.to !== 'REVOKED') return `audit ends in ${last.to}, not REVOKED`;
  if (last.to !== r.status) return `audit ends in ${last.to} but the request is ${r.status}`;
  return undefined;
}

// ---------------------------------------------------------------- lateness report

interface LatenessGroup {
  values: number[];
  boundMs: number;
}

const latenessGroups = new Map<string, LatenessGroup>();

export function recordLateness(group: string, values: number[], boundMs: number): void {
  const g = latenessGroups.get(group) ?? { values: [], boundMs };
  g.values.push(...values);
  latenessGroups.set(group, g);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Prints p50/p99/max per group and writes them as JSON to the OS temp dir; returns the path. */
export function writeLatenessReport(): string | undefined {
  if (latenessGroups.size === 0) return undefined;
  const rows = [...latenessGroups].map(([group, g]) => {
    const sorted = [...g.values].sort((x, y) => x - y);
    return { group, n: sorted.length, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted[sorted.length - 1] ?? NaN, boundMs: g.boundMs };
  });
  const path = join(tmpdir(), 'jit-fault-lateness.json');
  writeFileSync(path, `${JSON.stringify({ at: new Date().toISOString(), groups: rows }, null, 2)}\n`);
  const width = Math.max(...rows.map((r) => r.group.length));
  const lines = [
    `${'group'.padEnd(width)}  ${'n'.padStart(3)}  ${'p50'.padStart(6)}  ${'p99'.padStart(6)}  ${'max'.padStart(6)}  ${'bound'.padStart(6)}   (ms)`,
    ...rows.map((r) => `${r.group.padEnd(width)}  ${String(r.n).padStart(3)}  ${String(r.p50Ms).padStart(6)}  ${String(r.p99Ms).padStart(6)}  ${String(r.maxMs).padStart(6)}  ${String(r.boundMs).padStart(6)}`),
    `written to ${path}`,
  ];
  process.stdout.write(`\nrevocation lateness (revoked audit time − reference)\n${lines.join('\n')}\n`);
  return path;
}

// ---------------------------------------------------------------- failure reports

function writeBotLogs(s: Scenario): string {
  const path = join(tmpdir(), `${s.table}.log`);
  writeFileSync(path, s.bots.map((b) => b.output.join('\n')).join('\n\n'));
  return path;
}

/**
 * Runs a scenario body; on failure, writes the bots' output to the OS temp dir and appends its
 * last lines to the error. JIT_FAULT_LOGS=1 writes the output of passing scenarios too.
 */
export async function withBotLogs(s: Scenario | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    if (s && process.env.JIT_FAULT_LOGS) process.stdout.write(`bot output of ${s.table}: ${writeBotLogs(s)}\n`);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    if (s && s.bots.length > 0) {
      const path = writeBotLogs(s);
      const tail = s.bots.map((b) => `--- ${b.name} (exit ${JSON.stringify(b.exit ?? 'running')}), last lines:\n${b.output.slice(-25).join('\n')}`).join('\n');
      e.message += `\n\nfull bot output: ${path}\n${tail}`;
    }
    throw e;
  }
}

// ---------------------------------------------------------------- helpers

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

function listen(server: Server): Promise<number> {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
}
