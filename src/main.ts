/**
 * The composition root: the only place that reads the environment and wires adapters to the
 * core. `npm start` runs main(); tests and the demo call startBot() with overrides (clock, AWS
 * clients) and drive the very same wiring.
 */
import './compile-cache'; // first: caches what the imports below compile
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { STSClient } from '@aws-sdk/client-sts';
import { App, HTTPReceiver, type Receiver, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { boltLogger } from '../slack/bolt-logger';
import { registerListeners } from '../handlers';
import { HomeViewers } from '../slack/home-viewers';
import { leanFetch } from '../slack/lean-fetch';
import { InFlight } from '../slack/in-flight';
import { withAfterAckLane } from '../slack/after-ack';
import { timeAnswers } from '../slack/answer-timing';
import { AFTER_ACK_SLOTS, YieldLane } from './yield-lane';
import { EVENTS_PATH, guardRequests, REQUEST_BODY_LIMIT } from '../slack/request-guard';
import { SlackNotifier } from '../slack/notifier';
import { SlackGroupDirectory } from '../slack/group-directory';
import { SlackUserDirectory } from '../slack/user-directory';
import { SlackDoctor } from '../slack/doctor';
import { AwsDoctor } from './aws/doctor';
import { type Check, type CheckOutcome, type DoctorReport, pass, runDoctor } from './doctor';
import { arnParts, roleArnsOf } from './aws/sts-session';
import { embeddedStoreCheck, embeddedStoreCheckOf, tableCheck } from './store/doctor';
import { Ec2SshProvider } from './aws/ec2-ssh';
import { ec2Client } from './aws/ec2-rule-listing';
import { Ec2Pacer } from './aws/pacing';
import { EC2_DOCUMENTED_BUCKETS } from './domain/revocation-limits';
import { SsmSessionProvider } from './aws/ssm-session';
import { SsoPermissionSetProvider } from './aws/sso-permission-set';
import { AssumedRoles } from './aws/assume-role';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AssumeRole, Target } from './domain/types';
import { StsRoleProvider } from './aws/sts-role';
import { StsSessions } from './aws/sts-session';
import { countAwsErrors, withoutSdkLogging } from './aws/instrument';
import { ConfigError, type EnvConfig, type JitConfig, loadBotConfig, loadEnv } from './config';
import { cachedCheck, DEFAULT_READY_OUTBOX_MAX, Health, type HealthProbes } from './health';
import { createLogger } from './logger';
import { BACKLOG_BOUND, Metrics } from './metrics';
import { opsRoutes, startOpsServer } from './ops-http';
import { OutboxProcessor } from './outbox';
import { type Clock, crashSpecMatches, type FaultPoint, type RequestStore, type StoreAdapter, systemClock } from './ports';
import { Scheduler } from './scheduler';
import { AccessService } from './service';
import { checkTable, DynamoRequestStore, INDEX } from './store/dynamo';
import { embeddedState, openEmbeddedStore, openInDir, sqlitePathOf } from './store/local';
const DEFAULT_REGION = 'us-east-1';

export interface BotOverrides {
  clock?: Clock;
  log?: Logger;
  /** Builds the EC2 client for a region (default: SDK default config, so AWS_ENDPOINT_URL_EC2 works). */
  ec2ClientFor?: (region: string, assumeRole?: AssumeRole) => EC2Client;
  /** Identity Center clients (the demo points them at its stand-in); default: the SDK's, per Region. */
  ssoAdminFor?: (region: string) => SSOAdminClient;
  identityStoreFor?: (region: string) => IdentitystoreClient;
  /** Replica id used in leases (default: host name + random suffix). */
  owner?: string;
  /** Lease on GRANTING / REVOKING intents. */
  leaseMs?: number;
  /** The shortest time between two App Home publishes of one user (default 1 s; tests: 0). */
  homeRefreshIntervalMs?: number;
  /** Start the cron sweep and outbox poller (tests drive them by hand when false). */
  background?: boolean;
  /** Use an in-memory embedded store (SQLite) instead of JIT_DATA_DIR. */
  inMemoryStore?: boolean;
  /** Wall clock of the Slack signature window and replay cache (default: the system clock, as Bolt's). */
  signatureClock?: Clock;
}

export interface RunningBot {
  app: App;
  /** Port of the HTTP receiver (HTTP mode). */
  port?: number;
  /** Port of the /healthz, /readyz, /metrics listener (Socket Mode; HTTP mode serves them on `port`). */
  healthPort?: number;
  metrics: Metrics;
  health: Health;
  service: AccessService;
  /** The store the bot uses (the demo exports its audit from it, as npm run audit:export does). */
  store: Pick<RequestStore, 'changedSince'>;
  scheduler: Scheduler;
  outbox: OutboxProcessor;
  log: Logger;
  /** Resolves when no Slack listener is running. */
  listenersIdle(): Promise<void>;
  stop(): Promise<void>;
}

type Destroyable = { destroy(): void };

/**
 * SDK clients made on first use, each remembered in `clients` so that stopping destroys them all:
 * one per Region of the bot's own account, and (with `assumed`) one per Region of each account a
 * target reaches through `assumeRole` (credentials from AssumedRoles, shared by every client of
 * that role). Clients come from the SDK's default config, so AWS_ENDPOINT_URL_<SERVICE> works.
 */
function accountClients(clients: Destroyable[], assumed?: AssumedRoles) {
  return <C extends Destroyable>(make: (region: string, credentials?: AwsCredentialIdentityProvider) => C) => {
    const byKey = new Map<string, C>();
    return (region: string, role?: AssumeRole): C => {
      const key = role ? `${role.roleArn}|${role.externalId ?? ''}|${region}` : region;
      let c = byKey.get(key);
      if (!c) {
        if (role && !assumed) throw new Error(`no credentials for clients reached through ${role.roleArn}`);
        byKey.set(key, (c = make(region, role ? assumed!.provider(role) : undefined)));
        clients.push(c);
      }
      return c;
    };
  };
}

export async function startBot(env: EnvConfig, config: JitConfig, overrides: BotOverrides = {}): Promise<RunningBot> {
  const log = overrides.log ?? createLogger(env.logLevel);
  const clock = overrides.clock ?? systemClock;
  const owner = overrides.owner ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
  const region = env.awsRegion ?? DEFAULT_REGION;
  // ---- metrics (a registry per bot) and AWS error counting on every client built here
  const metrics = new Metrics({ now: () => clock.now().getTime(), backlog: () => store.backlog(clock.now().getTime(), BACKLOG_BOUND) });
  const counted = <C extends Parameters<typeof countAwsErrors>[0]>(service: string, client: C): C => countAwsErrors(withoutSdkLogging(client), service, (s, code) => metrics.awsError(s, code));

  // ---- store: DynamoDB (JIT_DYNAMODB_TABLE: replicas, production) or the embedded SQLite store
  let store: StoreAdapter;
  let storeCheck: () => Promise<CheckOutcome>;
  let closeStore: () => void | Promise<void>;
  if (env.dynamoTable) {
    const dynamo = counted('DynamoDB', new DynamoDBClient({}));
    const table = env.dynamoTable;
    const { missingOptional } = await checkTable(dynamo, table);
    if (missingOptional.length > 0) log.warn({ table, missing: missingOptional }, 'the table lacks an optional index: the drift sweep reads every rule\'s holders in batches until it is added (README, upgrade notes)');
    // Requests written before the due index was sharded move to their shard (README, upgrade notes).
    const dynamoStore = new DynamoRequestStore(dynamo, table, { heldIndex: !missingOptional.includes(INDEX.held) });
    const resharded = await dynamoStore.reshardDue();
    log.info({ table, ...(resharded > 0 ? { resharded } : {}) }, 'using DynamoDB table');
    store = dynamoStore;
    storeCheck = () => tableCheck(dynamo, table);
    closeStore = () => dynamo.destroy();
  } else {
    const dir = overrides.inMemoryStore ? undefined : resolve(env.dataDir);
    const embedded = await openEmbeddedStore(dir);
    if (embedded.tightenedFrom !== undefined) log.warn({ dataDir: dir, mode: embedded.tightenedFrom.toString(8), now: '700' }, 'the data directory was readable by group or others: closed it to its owner (0700)');
    if (embedded.migrated) {
      const { backup, ...counts } = embedded.migrated;
      log.info({ event: 'store.migrated', dataDir: dir, file: embedded.path, ...counts, backup }, 'moved the embedded store of an earlier version (dynalite) to SQLite; the old files are kept in the backup folder');
    }
    if (embedded.movedAside) log.warn({ event: 'store.migrated', dataDir: dir, backup: embedded.movedAside }, 'moved the files of the earlier embedded store (dynalite) left beside the SQLite store into a backup folder');
    log.info({ dataDir: dir ?? '(memory)', file: embedded.path ?? '(memory)', engine: embedded.engine }, `using the embedded store (${embedded.engine})`);
    store = embedded.store;
    storeCheck = () => embeddedStoreCheckOf(embedded.store, embedded.path);
    closeStore = () => embedded.store.close();
  }

  // ---- AWS providers (clients from the SDK's default config, so AWS_ENDPOINT_URL_<SERVICE> works)
  const clients: Destroyable[] = [];
  const perRegion = accountClients(clients);
  // Targets in other accounts: their clients act through the role the target names (cross-account).
  const assumed = new AssumedRoles(counted('STS', new STSClient({ region })), clock);
  const perAccount = accountClients(clients, assumed);
  const ec2ClientFor = overrides.ec2ClientFor ?? perAccount((r, credentials) => counted('EC2', ec2Client({ region: r, ...(credentials ? { credentials } : {}) })));
  const iam = counted('IAM', new IAMClient({ region }));
  clients.push(iam);
  const stsFor = perRegion((r) => counted('STS', new STSClient({ region: r })));
  const ssmFor = perAccount((r, credentials) => counted('SSM', new SSMClient({ region: r, ...(credentials ? { credentials } : {}) })));
  // IAM is global: one client per account (the Region only names the endpoint's partition).
  const iamVia = perAccount((r, credentials) => counted('IAM', new IAMClient({ region: r, ...(credentials ? { credentials } : {}) })));
  const ssoAdminFor = overrides.ssoAdminFor ?? perRegion((r) => counted('SSOAdmin', new SSOAdminClient({ region: r })));
  const identityStoreFor = overrides.identityStoreFor ?? perRegion((r) => counted('IdentityStore', new IdentitystoreClient({ region: r })));
  // Named leases in the store: one writer at a time across replicas of a role's deny policy and of
  // a permission set's inline policy.
  const lease = {
    take: (name: string, forMs: number) => store.tryLease(name, owner, clock.now().getTime(), clock.now().getTime() + forMs),
    release: (name: string) => store.releaseLease(name, owner),
  };
  const sessions = new StsSessions(stsFor, iam, clock, (via) => iamVia(region, via), lease);
  const providers = {
    // EC2 calls wait for their token in the bot's own bucket (EC2's, per account and Region), revocations first.
    'ec2-ssh': new Ec2SshProvider(ec2ClientFor, { defaultRegion: region, registry: store, pacer: new Ec2Pacer(config.aws?.ec2RateLimits ?? EC2_DOCUMENTED_BUCKETS) }),
    'aws-role': new StsRoleProvider(sessions, { defaultRegion: region }),
    'ssm-session': new SsmSessionProvider(sessions, ssmFor, { defaultRegion: region }),
    // Claims on Identity Center assignments live in the same registry as shared rules (standing access is never removed).
    'sso-permission-set': new SsoPermissionSetProvider(ssoAdminFor, identityStoreFor, {
      defaultRegion: region,
      registry: store,
      now: () => clock.now().getTime(),
      lease,
    }),
  };

  // ---- Slack
  // The outbox owns retries: a rate-limited call fails at once (with its Retry-After) instead of
  // pausing the client's whole queue, and a failing call is retried briefly, not for half an hour,
  // so one send fits well inside a delivery claim.
  const clientOptions = {
    ...(env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    timeout: 10_000,
    // The transport only: keep-alive node:http instead of the global fetch (slack/lean-fetch.ts).
    fetch: leanFetch as unknown as typeof fetch,
  };
  // ---- health (probes read what is wired below; nothing is served before start)
  let slackProbe: HealthProbes['slack'];
  let sweeperStartedAt = 0;
  const outboxMax = env.readyOutboxMax ?? DEFAULT_READY_OUTBOX_MAX;
  const health = new Health(
    {
      store: (signal) => store.ping(signal),
      slack: (signal) => slackProbe(signal),
      sweeper: () => (scheduler.isRunning ? { lastRunAtMs: scheduler.lastSweepAt, startedAtMs: sweeperStartedAt, intervalMs: scheduler.intervalMs } : undefined),
      outboxBacklog: (signal) => store.outboxCount(outboxMax, signal),
    },
    { clock, outboxMax },
  );
  const routes = opsRoutes(health, metrics, (err, path) => log.error({ event: 'ops.failed', path, err: (err as Error).message }, 'health or metrics endpoint failed'));

  let receiver: Receiver;
  if (env.slack.mode === 'http') {
    const http = new HTTPReceiver({
      signingSecret: env.slack.signingSecret,
      endpoints: EVENTS_PATH,
      logger: boltLogger(log),
      customRoutes: routes,
      bodyLimit: REQUEST_BODY_LIMIT,
    });
    // Signature window both ways and a replay cache, before Bolt's own verification (which stays on).
    // Timed from arrival to the end of the answer (jit_slack_ack_seconds), refusals included.
    http.requestListener = timeAnswers(guardRequests(http.requestListener, { signingSecret: env.slack.signingSecret, clock: overrides.signatureClock ?? systemClock, log }), (s) => metrics.slackAnswered(s));
    receiver = http;
  } else {
    receiver = new SocketModeReceiver({ appToken: env.slack.appToken, logger: boltLogger(log), installerOptions: { clientOptions } });
  }
  // Initialise explicitly (auth.test) so a bad token or an unreachable Slack stops start-up with a
  // clear message instead of an unhandled rejection later.
  // convoStore: false: no listener keeps conversation state (context.conversation); Bolt's default
  // in-memory store would look each request's channel up anyway (and build an Error for the miss).
  const app = new App({ token: env.slackBotToken, receiver, logger: boltLogger(log), clientOptions, deferInitialization: true, convoStore: false });
  try {
    await app.init();
  } catch (err) {
    await closeStore();
    for (const c of clients) c.destroy();
    throw new Error(`Slack did not accept the bot token (auth.test: ${(err as Error).message}); check SLACK_BOT_TOKEN${env.slackApiUrl ? ` and SLACK_API_URL (${env.slackApiUrl})` : ''}`);
  }
  app.client.on(webApi.WebClientEvent.RATE_LIMITED, (_retrySec: number, info: { url?: string }) => metrics.slackRateLimited(info?.url ?? ''));
  if (receiver instanceof SocketModeReceiver) {
    // Connected from Slack's hello until the socket closes (the client then reconnects by itself).
    const socket = receiver.client;
    let connected = false;
    socket.on('connected', () => void (connected = true));
    for (const event of ['close', 'disconnecting', 'disconnected', 'reconnecting']) socket.on(event, () => void (connected = false));
    slackProbe = async () => {
      if (!connected || !socket.websocket?.isActive()) throw new Error('Socket Mode connection is not open');
    };
  } else {
    // The token was accepted at start (auth.test in init); re-checked at most once a minute.
    slackProbe = cachedCheck(() => app.client.auth.test(), 60_000, clock, { atMs: clock.now().getTime() });
  }
  app.error(async (err) => {
    log.error({ event: 'bolt.error', err: err.message, code: (err as { code?: string }).code }, 'unhandled listener error');
  });

  // ---- core
  const crashAt = env.testCrashAt ?? [];
  const faults =
    crashAt.length > 0
      ? (point: FaultPoint, requestId: string, detail?: string) => {
          const spec = crashAt.find((c) => crashSpecMatches(c, point, detail));
          if (!spec) return;
          process.stderr.write(`jit-access-bot: JIT_TEST_CRASH_AT=${spec}: killing the process (request ${requestId})\n`);
          process.kill(process.pid, 'SIGKILL');
        }
      : undefined;
  if (faults) log.warn({ crashAt }, 'fault injection is ON (JIT_TEST_CRASH_AT): this process will kill itself');
  const groups = new SlackGroupDirectory(app.client, clock, log);
  const service = new AccessService({
    config,
    store,
    providers,
    clock,
    log,
    owner,
    leaseMs: overrides.leaseMs ?? config.revocation.leaseMs,
    faults,
    users: new SlackUserDirectory(app.client, log),
    groups,
    telemetry: metrics,
    homeTab: true,
  });

  // ---- listeners and background work
  const inFlight = new InFlight();
  inFlight.install(app);
  // /jit doctor: the same checks as npm run doctor, through the bot's own clients and store.
  const doctor = (): Promise<DoctorReport> =>
    runDoctor(
      doctorChecks(env, config, {
        slack: new SlackDoctor(app.client),
        aws: new AwsDoctor({ ec2For: ec2ClientFor, ssmFor, stsFor, iam, iamVia: (via) => iamVia(region, via), ssoAdminFor, defaultRegion: region }),
        store: storeCheck,
      }),
    );
  const homeViewers = new HomeViewers();
  // Post-ack work and outbox passes start only after pending I/O (new requests' acks) had its turn,
  // a few at a time (JIT_AFTER_ACK_LANE, default AFTER_ACK_SLOTS): the acks stay as quick as bare Bolt's.
  const laneSlots = env.afterAckLane ?? AFTER_ACK_SLOTS;
  registerListeners(withAfterAckLane(app, new YieldLane(laneSlots)), { service, log, doctor, homeViewers });
  const notifier = new SlackNotifier(app.client, config, clock, service, log, { homeRefreshIntervalMs: overrides.homeRefreshIntervalMs ?? 1_000, homeViewers });
  // A claim outlasts one send (≤ ~12 s with the client settings above) and is never longer than the lease.
  // Revocation goes first: delivery passes wait while the revocation lane has work (bounded).
  const outbox = new OutboxProcessor({ store, sender: notifier, config, clock, log, owner, faults, claimMs: Math.min(config.revocation.leaseMs, 15_000), telemetry: metrics, yieldTo: () => scheduler.revocationsIdle(), lane: new YieldLane(laneSlots) });
  const scheduler = new Scheduler({ service, clock, log, sweepIntervalSeconds: config.revocation.sweepIntervalSeconds, revocationConcurrency: config.revocation.concurrency, driftIntervalMs: config.revocation.driftIntervalMs, stopGraceMs: config.revocation.shutdownGraceMs, store, owner, notifier, telemetry: metrics });

  // ---- start
  let port: number | undefined;
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  if (env.slack.mode === 'http') {
    const server = (await app.start({ port: env.slack.port, host: '0.0.0.0' })) as import('node:http').Server;
    port = (server.address() as import('node:net').AddressInfo).port;
    log.info({ port, mode: 'http', endpoint: '/slack/events' }, 'listening for Slack requests');
  } else {
    // Health first: /healthz answers and /readyz says "not connected" while the socket opens.
    try {
      ops = await startOpsServer(routes, env.healthPort ?? 0);
    } catch (err) {
      throw new Error(`HEALTH_PORT ${env.healthPort ?? 0}: cannot listen (${(err as Error).message})`);
    }
    log.info({ healthPort: ops.port, paths: ['/healthz', '/readyz', '/metrics'] }, 'serving health and metrics');
    try {
      await app.start();
    } catch (err) {
      await ops.close();
      throw err;
    }
    log.info({ mode: 'socket' }, 'connected to Slack in Socket Mode');
  }
  outbox.attach(service);
  if (overrides.background !== false) {
    // Without background work, tests step the sweep and the outbox drain by hand.
    sweeperStartedAt = clock.now().getTime();
    await scheduler.start();
    outbox.start();
  }
  log.info({ owner, targets: config.targets.length, sweepIntervalSeconds: config.revocation.sweepIntervalSeconds }, 'jit-access-bot started');

  let stopped = false;
  return {
    app,
    port,
    healthPort: ops?.port,
    metrics,
    health,
    service,
    store,
    scheduler,
    outbox,
    log,
    listenersIdle: () => inFlight.idle(),
    async stop() {
      if (stopped) return;
      stopped = true;
      // Deploy-friendly: no new Slack work, let started work finish (bounded), then hand back
      // every lease this process holds so the next one resumes at once, not when leases lapse.
      await app.stop();
      await ops?.close();
      await inFlight.idle();
      await scheduler.stop();
      const released = await service.releaseLeases();
      if (released.length > 0) log.info({ event: 'lease.released', requestIds: released }, 'handed back the work in progress');
      await outbox.stop();
      for (const c of clients) c.destroy();
      await closeStore();
    },
  };
}

/**
 * The environment and the policy file, as main() reads them (npm run doctor reads them the same
 * way). ConfigError names the key.
 */
export function loadSettings(envFile = '.env'): { env: EnvConfig; config: JitConfig } {
  // .env is optional; variables already set in the environment win over it.
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const env = loadEnv(process.env);
  const config = loadBotConfig(env);
  return { env, config };
}

export async function main(envFile = '.env'): Promise<void> {
  let env: EnvConfig;
  let config: JitConfig;
  try {
    ({ env, config } = loadSettings(envFile));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`jit-access-bot: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const bot = await startBot(env, config);
  const shutdown = (signal: string) => {
    bot.log.info({ signal }, 'shutting down');
    bot.stop().then(
      () => process.exit(0),
      (err) => {
        bot.log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

// ------------------------------------------------------------------ the doctor

/** What the doctor's checks probe through: the Slack and AWS adapters, and the store. */
export interface DoctorParts {
  slack: SlackDoctor;
  aws: AwsDoctor;
  store: () => Promise<CheckOutcome>;
}

/** Every check of `npm run doctor` and `/jit doctor`, in report order. */
export function doctorChecks(env: EnvConfig, config: JitConfig, parts: DoctorParts): Check[] {
  const { slack, aws } = parts;
  const named = namedPrincipals(config);
  const region = env.awsRegion ?? DEFAULT_REGION;
  const checks: Check[] = [
    { name: 'config valid', run: async () => pass(`${env.configPath}: ${config.targets.length} target${config.targets.length === 1 ? '' : 's'}, approver channel ${config.approverChannel}`) },
    { name: 'Slack token', run: () => slack.tokenCheck() },
    { name: 'Slack scopes', run: () => slack.scopesCheck() },
    { name: 'approver channel', run: () => slack.channelCheck(config.approverChannel) },
  ];
  const auditChannel = config.auditChannel;
  if (auditChannel) checks.push({ name: 'audit channel', run: () => slack.channelCheck(auditChannel, 'auditChannel', 'audit lines') });
  if (named.users.length > 0) checks.push({ name: 'Slack users in the policy', run: () => slack.usersCheck(named.users) });
  if (named.groups.length > 0) checks.push({ name: 'Slack user groups in the policy', run: () => slack.groupsCheck(named.groups) });
  checks.push({ name: 'store', run: parts.store });
  checks.push({ name: 'AWS identity', run: () => aws.identityCheck() });
  for (const target of config.targets) {
    const name = `target ${target.name} (${target.kind}, ${target.region ?? region})`;
    if (target.kind === 'ec2-ssh') checks.push({ name, run: () => aws.securityGroupCheck(target) });
    else if (target.kind === 'aws-role') checks.push({ name, run: () => aws.roleCheck(target) });
    else if (target.kind === 'ssm-session') checks.push({ name, run: () => bothChecks(aws.nodesCheck(target), aws.roleCheck(target)) });
    else checks.push({ name, run: () => aws.permissionSetCheck(target) });
  }
  // The bot writes deny policies with its own role on roles of its own account; in another account
  // through the role it assumes there (its permissions are that role's: infra/ MemberAccountRoleStack),
  // one check per such role.
  const byVia = new Map<string, { via?: AssumeRole; targets: Target[] }>();
  for (const t of config.targets) {
    const via = 'assumeRole' in t ? t.assumeRole : undefined;
    const key = via ? `${via.roleArn}\n${via.externalId ?? ''}` : '';
    const group = byVia.get(key) ?? { via, targets: [] };
    group.targets.push(t);
    byVia.set(key, group);
  }
  for (const { via, targets } of [...byVia.keys()].sort().map((k) => byVia.get(k)!)) {
    const roles = [...new Set([...roleArnsOf(targets, 'aws-role'), ...roleArnsOf(targets, 'ssm-session')])];
    if (roles.length === 0) continue;
    const name = via ? `IAM deny policies (account ${arnParts(via.roleArn).account} through ${via.roleArn})` : 'IAM deny policies';
    checks.push({ name, run: () => aws.denyPoliciesCheck(roles, via) });
  }
  return checks;
}

/** The doctor outside the bot (npm run doctor): its own clients, built as startBot builds them, and close(). */
export function openDoctor(env: EnvConfig, config: JitConfig): { checks: Check[]; close(): void } {
  const region = env.awsRegion ?? DEFAULT_REGION;
  const clients: Destroyable[] = [];
  const perRegion = accountClients(clients);
  const iam = new IAMClient({ region });
  clients.push(iam);
  let dynamo: DynamoDBClient | undefined;
  const store = env.dynamoTable
    ? () => tableCheck((dynamo ??= new DynamoDBClient({})), env.dynamoTable!)
    : () => embeddedStoreCheck(resolve(env.dataDir));
  const slackClient = new webApi.WebClient(env.slackBotToken, {
    ...(env.slackApiUrl ? { slackApiUrl: env.slackApiUrl } : {}),
    logger: boltLogger(createLogger('fatal')),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 1, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
    timeout: 10_000,
  });
  // Targets in other accounts are checked through the role they name, as the bot reaches them.
  const perAccount = accountClients(clients, new AssumedRoles(new STSClient({ region }), systemClock));
  const iamVia = perAccount((r, credentials) => new IAMClient({ region: r, ...(credentials ? { credentials } : {}) }));
  const checks = doctorChecks(env, config, {
    slack: new SlackDoctor(slackClient),
    aws: new AwsDoctor({
      ec2For: perAccount((r, credentials) => ec2Client({ region: r, ...(credentials ? { credentials } : {}) })),
      ssmFor: perAccount((r, credentials) => new SSMClient({ region: r, ...(credentials ? { credentials } : {}) })),
      iamVia: (via) => iamVia(region, via),
      stsFor: perRegion((r) => new STSClient({ region: r })),
      iam,
      ssoAdminFor: perRegion((r) => new SSOAdminClient({ region: r })),
      defaultRegion: region,
    }),
    store,
  });
  return {
    checks,
    close() {
      dynamo?.destroy();
      for (const c of clients) c.destroy();
    },
  };
}

// ------------------------------------------------------------------ the audit export

/** The embedded data directory holds no store yet: nothing was ever written there. */
export class NoStoreError extends Error {
  constructor(readonly path: string) {
    super(`there is no embedded store in ${path} (JIT_DATA_DIR): nothing has been stored there yet; set JIT_DATA_DIR to the bot's data directory, or JIT_DYNAMODB_TABLE to its table`);
    this.name = 'NoStoreError';
  }
}

/** The data directory still holds the store of an earlier version (dynalite): the bot moves it to SQLite at its next start. */
export class UnmigratedStoreError extends Error {
  constructor(readonly path: string) {
    super(`the data directory ${path} (JIT_DATA_DIR) holds the embedded store of an earlier version (dynalite), which the bot moves to SQLite when it starts: start the bot once, stop it, and run the export again`);
    this.name = 'UnmigratedStoreError';
  }
}

/**
 * The bot's store for the audit export (npm run audit:export), opened as startBot opens it: the
 * DynamoDB table (JIT_DYNAMODB_TABLE, checked for its indexes) or the embedded store's SQLite file.
 * NoStoreError when there is no file yet (nothing is created), DataDirLockedError when a running
 * bot holds it, UnmigratedStoreError when only an earlier version's store is there.
 */
export async function openAuditStore(env: EnvConfig): Promise<{ store: Pick<RequestStore, 'changedSince'>; where: string; close(): Promise<void> }> {
  if (env.dynamoTable) {
    const dynamo = new DynamoDBClient({});
    try {
      await checkTable(dynamo, env.dynamoTable);
    } catch (err) {
      dynamo.destroy();
      throw err;
    }
    return { store: new DynamoRequestStore(dynamo, env.dynamoTable), where: `DynamoDB table ${env.dynamoTable}`, close: async () => dynamo.destroy() };
  }
  const dir = resolve(env.dataDir);
  const state = embeddedState(dir);
  if (state === 'new') throw new NoStoreError(dir);
  if (state === 'legacy') throw new UnmigratedStoreError(dir);
  const store = openInDir(sqlitePathOf(dir), dir);
  return {
    store,
    where: `embedded store ${sqlitePathOf(dir)}`,
    async close() {
      await store.close();
    },
  };
}

/** Every Slack user and group the policy names (approvers, requesters, rule requesters), once each. */
function namedPrincipals(config: JitConfig): { users: string[]; groups: string[] } {
  const all = [
    config.approvers,
    ...config.targets.flatMap((t) => [t.policy.approvers, t.policy.requesters]),
    ...config.denyRules.map((r) => r.requesters),
    ...config.autoApprove.map((r) => r.requesters),
  ];
  return {
    users: [...new Set(all.flatMap((p) => p?.users ?? []))],
    groups: [...new Set(all.flatMap((p) => p?.groups ?? []))],
  };
}

/** Two checks as one line: both must pass. */
async function bothChecks(a: Promise<CheckOutcome>, b: Promise<CheckOutcome>): Promise<CheckOutcome> {
  const outcomes = await Promise.all([a, b]);
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length === 0) return pass(outcomes.map((o) => o.detail).join('; '));
  const fixes = [...new Set(failed.flatMap((o) => (o.fix ? [o.fix] : [])))];
  return { ok: false, detail: [...new Set(failed.map((o) => o.detail))].join('; '), ...(fixes.length > 0 ? { fix: fixes.join('; ') } : {}) };
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`jit-access-bot: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
