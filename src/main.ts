/**
 * The composition root: the only place that reads the environment and wires adapters to the
 * core. `npm start` runs main(); tests and the demo call startBot() with overrides (clock, AWS
 * clients) and drive the very same wiring.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { App, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import { boltLogger } from '../handlers/bolt-logger';
import { registerListeners } from '../handlers';
import { InFlight } from '../handlers/in-flight';
import { SlackNotifier } from '../handlers/notifier';
import { SlackGroupDirectory } from '../handlers/group-directory';
import { SlackUserDirectory } from '../handlers/user-directory';
import { Ec2SshProvider } from './aws/ec2-ssh';
import { SsmSessionProvider } from './aws/ssm-session';
import { StsRoleProvider } from './aws/sts-role';
import { StsSessions } from './aws/sts-session';
import { ConfigError, type EnvConfig, type JitConfig, loadBotConfig, loadEnv } from './config';
import { createLogger } from './logger';
import { OutboxProcessor } from './outbox';
import { type Clock, type FaultPoint, systemClock } from './ports';
import { Scheduler } from './scheduler';
import { AccessService } from './service';
import { checkTable, DynamoRequestStore, ensureTable } from './store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from './store/embedded';

export const EMBEDDED_TABLE = 'jit-access-requests';
const DEFAULT_REGION = 'us-east-1';

export interface BotOverrides {
  clock?: Clock;
  log?: Logger;
  /** Builds the EC2 client for a region (default: SDK default config, so AWS_ENDPOINT_URL_EC2 works). */
  ec2ClientFor?: (region: string) => EC2Client;
  /** Replica id used in leases (default: host name + random suffix). */
  owner?: string;
  /** Lease on GRANTING / REVOKING intents. */
  leaseMs?: number;
  /** Start the cron sweep and outbox poller (tests drive them by hand when false). */
  background?: boolean;
  /** Use an in-memory embedded store instead of JIT_DATA_DIR. */
  inMemoryStore?: boolean;
}

export interface RunningBot {
  app: App;
  /** Port of the HTTP receiver (HTTP mode). */
  port?: number;
  service: AccessService;
  scheduler: Scheduler;
  outbox: OutboxProcessor;
  log: Logger;
  /** Resolves when no Slack listener is running. */
  listenersIdle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBot(env: EnvConfig, config: JitConfig, overrides: BotOverrides = {}): Promise<RunningBot> {
  const log = overrides.log ?? createLogger(env.logLevel);
  const clock = overrides.clock ?? systemClock;
  const owner = overrides.owner ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
  const region = env.awsRegion ?? DEFAULT_REGION;

  // ---- store
  let embedded: EmbeddedDynamo | undefined;
  let dynamo: DynamoDBClient;
  let table: string;
  if (env.dynamoTable) {
    dynamo = new DynamoDBClient({});
    table = env.dynamoTable;
    await checkTable(dynamo, table);
    log.info({ table }, 'using DynamoDB table');
  } else {
    const dir = overrides.inMemoryStore ? undefined : resolve(env.dataDir);
    embedded = await startEmbeddedDynamo(dir);
    dynamo = new DynamoDBClient({ endpoint: embedded.endpoint, region: 'local', credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' } });
    table = EMBEDDED_TABLE;
    const created = await ensureTable(dynamo, table);
    log.info({ dataDir: dir ?? '(memory)', table, created: created === 'created' }, 'using the embedded store (dynalite)');
  }
  const store = new DynamoRequestStore(dynamo, table);

  // ---- AWS providers (clients from the SDK's default config, so AWS_ENDPOINT_URL_<SERVICE> works)
  const clients: Array<{ destroy(): void }> = [];
  const perRegion = <C extends { destroy(): void }>(make: (region: string) => C) => {
    const byRegion = new Map<string, C>();
    return (r: string): C => {
      let c = byRegion.get(r);
      if (!c) {
        byRegion.set(r, (c = make(r)));
        clients.push(c);
      }
      return c;
    };
  };
  const ec2ClientFor = overrides.ec2ClientFor ?? perRegion((r) => new EC2Client({ region: r }));
  const iam = new IAMClient({ region });
  clients.push(iam);
  const sessions = new StsSessions(
    perRegion((r) => new STSClient({ region: r })),
    iam,
    clock,
  );
  const targets = () => config.targets;
  const providers = {
    'ec2-ssh': new Ec2SshProvider(ec2ClientFor, { defaultRegion: region }),
    'aws-role': new StsRoleProvider(sessions, { defaultRegion: region, targets }),
    'ssm-session': new SsmSessionProvider(sessions, perRegion((r) => new SSMClient({ region: r })), { defaultRegion: region, targets }),
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
  };
  let receiver: Receiver;
  if (env.slack.mode === 'http') {
    receiver = new HTTPReceiver({
      signingSecret: env.slack.signingSecret,
      endpoints: '/slack/events',
      logger: boltLogger(log),
      customRoutes: [{ path: '/healthz', method: ['GET'], handler: (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok') }],
    });
  } else {
    receiver = new SocketModeReceiver({ appToken: env.slack.appToken, logger: boltLogger(log), installerOptions: { clientOptions } });
  }
  // Initialise explicitly (auth.test) so a bad token or an unreachable Slack stops start-up with a
  // clear message instead of an unhandled rejection later.
  const app = new App({ token: env.slackBotToken, receiver, logger: boltLogger(log), clientOptions, deferInitialization: true });
  try {
    await app.init();
  } catch (err) {
    dynamo.destroy();
    for (const c of clients) c.destroy();
    await embedded?.close();
    throw new Error(`Slack did not accept the bot token (auth.test: ${(err as Error).message}); check SLACK_BOT_TOKEN${env.slackApiUrl ? ` and SLACK_API_URL (${env.slackApiUrl})` : ''}`);
  }
  app.error(async (err) => {
    log.error({ event: 'bolt.error', err: err.message, code: (err as { code?: string }).code }, 'unhandled listener error');
  });

  // ---- core
  const crashAt = new Set(env.testCrashAt ?? []);
  const faults =
    crashAt.size > 0
      ? (point: FaultPoint, requestId: string) => {
          if (!crashAt.has(point)) return;
          process.stderr.write(`jit-access-bot: JIT_TEST_CRASH_AT=${point}: killing the process (request ${requestId})\n`);
          process.kill(process.pid, 'SIGKILL');
        }
      : undefined;
  if (faults) log.warn({ crashAt: [...crashAt] }, 'fault injection is ON (JIT_TEST_CRASH_AT): this process will kill itself');
  const groups = new SlackGroupDirectory(app.client, clock, log);
  const service = new AccessService({
    config,
    store,
    registry: store,
    providers,
    clock,
    log,
    owner,
    defaultRegion: region,
    leaseMs: overrides.leaseMs ?? config.revocation.leaseMs,
    faults,
    users: new SlackUserDirectory(app.client, log),
    groups,
  });

  // ---- listeners and background work
  const inFlight = new InFlight();
  inFlight.install(app);
  registerListeners(app, { service, log });
  const notifier = new SlackNotifier(app.client, config, clock, groups);
  // A claim outlasts one send (≤ ~12 s with the client settings above) and is never longer than the lease.
  const outbox = new OutboxProcessor({ store, sender: notifier, config, clock, log, owner, claimMs: Math.min(config.revocation.leaseMs, 15_000) });
  const scheduler = new Scheduler({ service, clock, log, sweepIntervalSeconds: config.revocation.sweepIntervalSeconds, driftIntervalMs: config.revocation.driftIntervalMs, store, owner, notifier });

  // ---- start
  let port: number | undefined;
  if (env.slack.mode === 'http') {
    const server = (await app.start({ port: env.slack.port, host: '0.0.0.0' })) as import('node:http').Server;
    port = (server.address() as import('node:net').AddressInfo).port;
    log.info({ port, mode: 'http', endpoint: '/slack/events' }, 'listening for Slack requests');
  } else {
    await app.start();
    log.info({ mode: 'socket' }, 'connected to Slack in Socket Mode');
  }
  outbox.attach(service);
  if (overrides.background !== false) {
    // Without background work, tests step the sweep and the outbox drain by hand.
    await scheduler.start();
    outbox.start();
  }
  log.info({ owner, targets: config.targets.length, sweepIntervalSeconds: config.revocation.sweepIntervalSeconds }, 'jit-access-bot started');

  let stopped = false;
  return {
    app,
    port,
    service,
    scheduler,
    outbox,
    log,
    listenersIdle: () => inFlight.idle(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      await inFlight.idle();
      await scheduler.stop();
      await outbox.stop();
      dynamo.destroy();
      for (const c of clients) c.destroy();
      await embedded?.close();
    },
  };
}

export async function main(envFile = '.env'): Promise<void> {
  let env: EnvConfig;
  let config: JitConfig;
  try {
    // .env is optional; variables already set in the environment win over it.
    if (existsSync(envFile)) process.loadEnvFile(envFile);
    env = loadEnv(process.env);
    config = loadBotConfig(env);
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

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`jit-access-bot: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
