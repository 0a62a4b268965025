/**
 * Drives the real bot (startBot: Bolt HTTP receiver, core, the embedded SQLite store) through signed
 * Slack requests, with the Web API pointed at the local Slack stand-in. AWS is whatever the
 * test mocks (aws-sdk-client-mock on EC2Client) or the fake EC2 endpoint.
 */
import { Writable } from 'node:stream';
import type { EC2Client } from '@aws-sdk/client-ec2';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import type { EnvConfig } from '../../src/config';
import { type RunningBot, startBot } from '../../src/main';
import { FakeClock } from './clock';
import { blockAction, slashCommand, viewSubmission } from '../../testkit/slack-requests';
import { type SlackStandIn, type StoredMessage, startSlackStandIn } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';

export const APPROVER_CHANNEL = 'C0APPROVERS';
export const REQUESTER = 'U0REQUESTER';
export const APPROVER = 'U0APPROVER1';
export const APPROVER2 = 'U0APPROVER2';
export const OUTSIDER = 'U0OUTSIDER';
export const SIGNING_SECRET = 'test-signing-secret-3f9a';
export const BOT_TOKEN = 'xoxb-test-token-7c1e';

export const CONFIG_YAML = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${APPROVER}, ${APPROVER2}, ${REQUESTER}]
defaults:
  minDuration: 5m
  maxDuration: 4h
  approvalTimeout: 30m
  expiryWarning: 5m
targets:
  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    port: 22
    region: eu-west-1
    host: bastion.prod.example.com
    maxDuration: 2h
  - name: staging-db
    kind: ec2-ssh
    securityGroupId: sg-0fedcba9876543210
    port: 5432
`;

export interface HarnessOptions {
  dataDir?: string;
  clock?: FakeClock;
  slack?: SlackStandIn;
  configYaml?: string;
  ec2ClientFor?: (region: string) => EC2Client;
  background?: boolean;
  owner?: string;
  /** JIT_READY_OUTBOX_MAX for /readyz. */
  readyOutboxMax?: number;
  /** JIT_DYNAMODB_TABLE (the SDK's default config: set AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION and credentials). */
  dynamoTable?: string;
}

export class Harness {
  readonly logLines: string[] = [];
  private constructor(
    readonly slack: SlackStandIn,
    readonly bot: RunningBot,
    readonly clock: FakeClock,
    private readonly ownsSlack: boolean,
    logLines: string[],
  ) {
    this.logLines = logLines;
  }

  static async start(o: HarnessOptions = {}): Promise<Harness> {
    const slack = o.slack ?? (await startSlackStandIn());
    const clock = o.clock ?? new FakeClock();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ level: 'debug' }, sink);
    const env: EnvConfig = {
      slackBotToken: BOT_TOKEN,
      slack: { mode: 'http', signingSecret: SIGNING_SECRET, port: 0 },
      slackApiUrl: slack.url,
      configPath: '(inline)',
      dataDir: o.dataDir ?? '(memory)',
      logLevel: 'debug',
      ...(o.readyOutboxMax !== undefined ? { readyOutboxMax: o.readyOutboxMax } : {}),
      ...(o.dynamoTable !== undefined ? { dynamoTable: o.dynamoTable } : {}),
    };
    const bot = await startBot(env, parseConfig(o.configYaml ?? CONFIG_YAML, 'test config'), {
      clock,
      log,
      inMemoryStore: o.dataDir === undefined,
      background: o.background ?? false,
      ec2ClientFor: o.ec2ClientFor,
      owner: o.owner ?? 'test-replica',
      leaseMs: 30_000,
      homeRefreshIntervalMs: 0,
    });
    return new Harness(slack, bot, clock, o.slack === undefined, lines);
  }

  get url(): string {
    return `http://127.0.0.1:${this.bot.port}/slack/events`;
  }

  /** Sends `/jit <text>` and returns the HTTP status and the ephemeral reply: the ack's body when it carries one, else what was posted to response_url. */
  async command(userId: string, text: string): Promise<{ status: number; reply: { text: string; blocks?: unknown[]; response_type?: string } | undefined }> {
    const responseUrl = this.slack.responseUrl();
    const res = await slashCommand(this.url, SIGNING_SECRET, { userId, text, responseUrl });
    if (res.status !== 200) return { status: res.status, reply: undefined };
    await this.bot.listenersIdle();
    const inAck = res.json as { text?: string } | undefined;
    if (typeof inAck?.text === 'string') return { status: res.status, reply: inAck as { text: string } };
    if (text.trim() === '') return { status: res.status, reply: undefined }; // opens a form instead of replying
    const response = await waitFor(() => this.slack.responses.find((r) => r.url === responseUrl), { message: `no reply to "/jit ${text}"` });
    return { status: res.status, reply: response.body as { text: string } };
  }

  /** Submits a request and returns its id (from the approval message's Approve button). */
  async request(text = 'request prod-bastion 30m 203.0.113.7 investigating checkout latency', userId = REQUESTER): Promise<string> {
    const before = this.approvalPosts().length;
    const { reply } = await this.command(userId, text);
    const id = /jit-[0-9a-z]{10}/.exec(reply?.text ?? '')?.[0];
    if (!id) {
      const errors = this.logLines.filter((l) => l.includes('unexpected error'));
      throw new Error(`no request id in reply: ${JSON.stringify(reply)}\nbot errors:\n${errors.join('')}`);
    }
    await waitFor(() => this.approvalPosts().length > before, { message: 'approval message not posted' });
    // The rest of the creation's outbox (the requester's App Home, an audit line) is delivered
    // too, so nothing of this request is still in flight when the caller starts counting.
    await this.settle();
    return id;
  }

  /** Clicks Approve or Deny on the request's approval message. Returns the ephemeral refusal, if any. */
  async click(userId: string, actionId: string, requestId: string): Promise<{ status: number; refusal?: string }> {
    const msg = this.approvalMessage(requestId);
    const responseUrl = this.slack.responseUrl();
    const res = await blockAction(this.url, SIGNING_SECRET, { userId, actionId, value: requestId, channel: APPROVER_CHANNEL, messageTs: msg?.ts ?? '0', responseUrl });
    await this.settle();
    const refusal = this.slack.responses.find((r) => r.url === responseUrl)?.body as { text?: string } | undefined;
    return { status: res.status, refusal: refusal?.text };
  }

  async submitModal(userId: string, values: Record<string, Record<string, unknown>>, callbackId: string, privateMetadata?: string) {
    const res = await viewSubmission(this.url, SIGNING_SECRET, { userId, callbackId, values, ...(privateMetadata !== undefined ? { privateMetadata } : {}) });
    await this.settle();
    return res;
  }

  /**
   * Clicks a button carrying `value` on a message in `channel` (a DM is "D" + the user id).
   * Returns the ephemeral reply posted to the response URL, if any.
   */
  async clickIn(userId: string, actionId: string, value: string, channel: string): Promise<{ status: number; reply?: string }> {
    const msg = this.slack.messagesIn(channel).find((m) => JSON.stringify(m.blocks ?? '').includes(value));
    const responseUrl = this.slack.responseUrl();
    const res = await blockAction(this.url, SIGNING_SECRET, { userId, actionId, value, channel, messageTs: msg?.ts ?? '0', responseUrl });
    await this.settle();
    const reply = this.slack.responses.find((r) => r.url === responseUrl)?.body as { text?: string } | undefined;
    return { status: res.status, reply: reply?.text };
  }

  /** The view of the latest views.open call (a modal the bot opened). */
  lastOpenedView(): { callback_id?: string; private_metadata?: string; blocks?: unknown[]; submit?: unknown } | undefined {
    const calls = this.slack.callsTo('views.open');
    return calls[calls.length - 1]?.args.view as { callback_id?: string; private_metadata?: string } | undefined;
  }

  approvalPosts() {
    return this.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === APPROVER_CHANNEL && !c.args.thread_ts);
  }

  /** The approval message of a request as it stands now (after updates). */
  approvalMessage(requestId: string): StoredMessage | undefined {
    return this.slack.messagesIn(APPROVER_CHANNEL).find((m) => JSON.stringify(m.blocks ?? '').includes(requestId));
  }

  /** Texts of every DM the bot sent a user, oldest first. */
  dms(userId: string): string[] {
    return this.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === userId).map((c) => `${String(c.args.text)}\n${JSON.stringify(c.args.blocks ?? [])}`);
  }

  /** Waits until every queued notification was delivered. */
  async settle(): Promise<void> {
    await this.bot.listenersIdle();
    await this.bot.outbox.idle();
    await this.bot.outbox.drain();
    await this.bot.outbox.idle();
  }

  /** Runs one durable sweep (what node-cron does every few seconds) and delivers what it queued. */
  async sweep(): Promise<number> {
    const n = await this.bot.scheduler.sweepOnce();
    await this.settle();
    return n;
  }

  async stop(): Promise<void> {
    await this.bot.stop();
    if (this.ownsSlack) {
      await new Promise((r) => setTimeout(r, 50));
      await this.slack.close();
    }
  }
}

export function text(message: StoredMessage | undefined): string {
  return `${String(message?.text ?? '')}\n${JSON.stringify(message?.blocks ?? [])}`;
}
