/**
 * The local stack `npm run demo` and `npm run bench` run on: the real bot (startBot: Bolt HTTP
 * receiver, core, node-cron sweep and timers, the embedded SQLite store in memory) with its Slack Web API
 * pointed at the local Slack stand-in and its EC2 clients pointed at the SIMULATED EC2 endpoint.
 * No Slack workspace and no AWS account are involved.
 *
 * The EC2 clients carry one extra middleware that records every EC2 call the bot makes (command,
 * input, output, when the answer arrived), so the demo can show them and the bench can time them.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import pino, { type Logger } from 'pino';
import { type EnvConfig, parseConfig } from '../src/config';
import type { JitConfig } from '../src/config-types';
import { REDACT_PATHS } from '../src/logger';
import { type BotOverrides, type RunningBot, startBot } from '../src/main';
import { type FakeEc2, startFakeEc2 } from '../testkit/fake-ec2';
import { type FakeSso, startFakeSso } from '../testkit/fake-sso';
import { blockAction, globalShortcut, homeOpened, type SlackHttpResult, slashCommand } from '../testkit/slack-requests';
import { type SlackStandIn, startSlackStandIn } from '../testkit/slack-stand-in';
import { ec2Client } from '../src/aws/ec2-rule-listing';

export const APPROVER_CHANNEL = 'C0APPROVERS';
export const AUDIT_CHANNEL = 'C0AUDIT';

/** One EC2 call made by the bot, recorded when its answer (or final error) arrived. */
export interface Ec2Event {
  /** Epoch ms (sub-millisecond precision) when the SDK returned. */
  at: number;
  command: string;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  error?: string;
}

export interface StackOptions {
  configYaml: string;
  /** pino writes here (JSON lines); the directory is created. */
  logFile: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug';
  signingSecret?: string;
  botToken?: string;
  owner?: string;
  /** Buffer log writes (bench) instead of writing each line synchronously (demo). */
  asyncLog?: boolean;
  overrides?: Omit<BotOverrides, 'log' | 'ec2ClientFor' | 'ssoAdminFor' | 'identityStoreFor' | 'inMemoryStore' | 'background'>;
}

export interface Stack {
  slack: SlackStandIn;
  ec2: FakeEc2;
  /** Simulated IAM Identity Center (sso-permission-set targets). */
  sso: FakeSso;
  bot: RunningBot;
  config: JitConfig;
  /** The bot's Slack events endpoint. */
  url: string;
  signingSecret: string;
  ec2Events: Ec2Event[];
  log: Logger;
  logFile: string;
  /** Sends a signed `/jit <text>` as `userId`; the ephemeral reply goes to `responseUrl`. */
  command(userId: string, text: string, responseUrl: string): Promise<SlackHttpResult>;
  /** Clicks a button of the request's approval message as `userId`. */
  click(userId: string, actionId: string, requestId: string, responseUrl: string): Promise<SlackHttpResult>;
  /** Sends a signed global shortcut (the ⚡ menu) as `userId`. */
  shortcut(userId: string, callbackId: string): Promise<SlackHttpResult>;
  /** Sends a signed app_home_opened event (the user opens the bot's Home tab). */
  openHome(userId: string): Promise<SlackHttpResult>;
  stop(): Promise<void>;
}

/** Epoch milliseconds with sub-millisecond precision. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export async function startStack(o: StackOptions): Promise<Stack> {
  const signingSecret = o.signingSecret ?? 'demo-signing-secret-5b2d';
  const config = parseConfig(o.configYaml, 'demo config');
  mkdirSync(dirname(o.logFile), { recursive: true });
  const destination = pino.destination({ dest: o.logFile, sync: !o.asyncLog, ...(o.asyncLog ? { minLength: 8 * 1024 } : {}) });
  const log = pino(
    { level: o.logLevel ?? 'info', base: { app: 'jit-access-bot' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );

  // Started before the bot: Bolt calls auth.test while it is constructed.
  const slack = await startSlackStandIn();
  const ec2 = await startFakeEc2();
  // IAM Identity Center (SSO Admin and Identity Store), simulated on their JSON wire protocol.
  const sso = await startFakeSso();
  const ssoClient = { region: 'eu-west-1', endpoint: sso.url, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' }, maxAttempts: 3 };
  const ssoAdmin = new SSOAdminClient(ssoClient);
  const identityStore = new IdentitystoreClient(ssoClient);

  const ec2Events: Ec2Event[] = [];
  const clients = new Map<string, EC2Client>();
  const ec2ClientFor = (region: string): EC2Client => {
    let client = clients.get(region);
    if (client) return client;
    client = ec2Client({ region, endpoint: ec2.url, credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' }, maxAttempts: 3 });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        const command = context.commandName ?? 'unknown';
        try {
          const out = await next(args);
          ec2Events.push({ at: nowMs(), command, input, output: out.output as unknown as Record<string, unknown> });
          return out;
        } catch (err) {
          ec2Events.push({ at: nowMs(), command, input, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
          throw err;
        }
      },
      { step: 'initialize', name: 'jitDemoRecorder' },
    );
    clients.set(region, client);
    return client;
  };

  const env: EnvConfig = {
    slackBotToken: o.botToken ?? 'xoxb-demo',
    slack: { mode: 'http', signingSecret, port: 0 },
    slackApiUrl: slack.url,
    configPath: '(inline)',
    dataDir: '(memory)',
    logLevel: o.logLevel ?? 'info',
  };
  let bot: RunningBot;
  try {
    bot = await startBot(env, config, { ...o.overrides, log, ec2ClientFor, ssoAdminFor: () => ssoAdmin, identityStoreFor: () => identityStore, inMemoryStore: true, background: true, owner: o.owner ?? 'demo-replica' });
  } catch (err) {
    ssoAdmin.destroy();
    identityStore.destroy();
    await Promise.allSettled([slack.close(), ec2.close(), sso.close()]);
    throw err;
  }
  const url = `http://127.0.0.1:${bot.port}/slack/events`;

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    // Let what is already under way finish first: bot.stop() does not wait for a delivery that
    // is queued behind a running one, which then fails against the closed store.
    await bot.listenersIdle();
    await bot.outbox.idle();
    await bot.stop();
    for (const client of clients.values()) client.destroy();
    ssoAdmin.destroy();
    identityStore.destroy();
    await new Promise((r) => setTimeout(r, 50)); // let the last response-URL posts land
    await Promise.allSettled([slack.close(), ec2.close(), sso.close()]);
    await new Promise<void>((resolve) => {
      destination.flushSync();
      destination.end();
      destination.once('close', () => resolve());
      setTimeout(resolve, 500).unref();
    });
  };

  return {
    slack,
    ec2,
    sso,
    bot,
    config,
    url,
    signingSecret,
    ec2Events,
    log,
    logFile: o.logFile,
    command: (userId, text, responseUrl) => slashCommand(url, signingSecret, { userId, text, responseUrl }),
    click: (userId, actionId, requestId, responseUrl) => {
      // The fallback text of the approval message names the request (cheaper than searching blocks).
      const message = slack.messagesIn(APPROVER_CHANNEL).find((m) => !m.thread_ts && String(m.text ?? '').includes(requestId));
      return blockAction(url, signingSecret, { userId, actionId, value: requestId, channel: APPROVER_CHANNEL, messageTs: message?.ts ?? '0', responseUrl });
    },
    shortcut: (userId, callbackId) => globalShortcut(url, signingSecret, { userId, callbackId }),
    openHome: (userId) => homeOpened(url, signingSecret, userId),
    stop: () => (stopped ??= stop()),
  };
}

/** The value of one tag of an EC2 rule (SDK shape: Tags: [{ Key, Value }]). */
export function tagOf(rule: { Tags?: { Key?: string; Value?: string }[] } | undefined, key: string): string | undefined {
  return rule?.Tags?.find((t) => t.Key === key)?.Value;
}

/** The request id an AuthorizeSecurityGroupIngress input was tagged with. */
export function requestIdOfAuthorize(input: Record<string, unknown>): string | undefined {
  const specs = (input.TagSpecifications ?? []) as { Tags?: { Key?: string; Value?: string }[] }[];
  for (const spec of specs) {
    const id = tagOf(spec, 'jit:request-id');
    if (id) return id;
  }
  return undefined;
}
