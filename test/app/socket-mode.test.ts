/**
 * The bot in Socket Mode: startBot with `slack: { mode: 'socket' }` against the local Slack
 * stand-in, which answers apps.connections.open with its own WebSocket endpoint and pushes
 * envelopes the way Slack does. Same core, same embedded store, EC2 mocked at the SDK client.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { WebSocket } from 'ws';
import { ACTION_APPROVE, ACTION_APPROVE_WITH, ACTION_DENY, ACTION_DENY_WITH, BLOCK_DECISION } from '../../blocks/ids';
import { type EnvConfig, parseConfig } from '../../src/config';
import { type RunningBot, startBot } from '../../src/main';
import { APPROVER, APPROVER_CHANNEL, CONFIG_YAML, REQUESTER } from '../support/harness';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';

const ec2 = mockClient(EC2Client);
const RULE_ID = 'sgr-0aaa1111bbbb2222c';
const BOT_TOKEN = 'xoxb-test';
const APP_TOKEN = 'xapp-test';

const ec2Client = new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the bot in Socket Mode', () => {
  let standIn: SlackStandIn;
  let bot: RunningBot;

  beforeAll(async () => {
    ec2.reset();
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: RULE_ID, GroupId: 'sg-0123456789abcdef0' }] });
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });

    standIn = await startSlackStandIn();
    const env: EnvConfig = {
      slackBotToken: BOT_TOKEN,
      slack: { mode: 'socket', appToken: APP_TOKEN },
      slackApiUrl: standIn.url,
      configPath: '(inline)',
      dataDir: '(memory)',
      logLevel: 'info',
    };
    bot = await startBot(env, parseConfig(CONFIG_YAML, 'test config'), {
      inMemoryStore: true,
      background: false,
      log: pino({ level: 'silent' }),
      ec2ClientFor: () => ec2Client,
    });
  });

  afterAll(async () => {
    await bot?.stop();
    await sleep(300); // app.stop() resolves before the WebSocket close handshake finishes
    await standIn?.close();
    ec2Client.destroy();
  });

  it('connects with the app-level token: apps.connections.open, WebSocket, hello', async () => {
    await standIn.socket.waitForConnection();
    expect(standIn.socket.connected()).toBe(true);
    expect(standIn.socket.connectionCount()).toBe(1);
    const opens = standIn.callsTo('apps.connections.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]?.token).toBe(APP_TOKEN);
    // The bot token still drives the Web API.
    expect(standIn.callsTo('auth.test').every((c) => c.token === BOT_TOKEN)).toBe(true);
  });

  it('/jit request → ack over the socket → ephemeral reply → approval message → Approve → rule added, ACTIVE', async () => {
    await standIn.socket.waitForConnection();

    // 1. The slash command arrives as a slash_commands envelope.
    const commandResponseUrl = standIn.responseUrl('command');
    const commandAck = await standIn.socket.send('slash_commands', {
      token: 'legacy-verification-token',
      team_id: 'T1',
      team_domain: 't1',
      channel_id: 'C_REQ',
      channel_name: 'jit-requests',
      user_id: REQUESTER,
      user_name: REQUESTER.toLowerCase(),
      command: '/jit',
      text: 'request prod-bastion 30m 203.0.113.7 debugging',
      api_app_id: 'A1',
      is_enterprise_install: 'false',
      response_url: commandResponseUrl,
      trigger_id: '1337.42.socket-trigger',
    });
    expect(commandAck.envelopeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(commandAck.ack).toEqual({}); // a bare ack(): the reply goes to the response URL

    await bot.listenersIdle();
    const reply = await waitFor(() => standIn.responses.find((r) => r.url === commandResponseUrl), { message: 'no ephemeral reply at the response URL' });
    const replyBody = reply.body as { response_type?: string; text?: string };
    expect(replyBody.response_type).toBe('ephemeral');
    const id = /jit-[0-9a-z]{10}/.exec(replyBody.text ?? '')?.[0];
    if (!id) throw new Error(`no request id in the reply: ${JSON.stringify(replyBody)}`);

    // 2. The approval message lands in the approver channel with Approve / Deny carrying the id.
    await bot.outbox.idle();
    const post = await standIn.waitForCall('chat.postMessage', (c) => c.args.channel === APPROVER_CHANNEL && JSON.stringify(c.args.blocks ?? '').includes(id));
    expect(post.token).toBe(BOT_TOKEN);
    const blocks = post.args.blocks as { type: string; block_id?: string; elements?: { action_id: string; value: string }[] }[];
    const buttons = blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      [ACTION_APPROVE, id],
      [ACTION_APPROVE_WITH, id],
      [ACTION_DENY, id],
      [ACTION_DENY_WITH, id],
    ]);
    const message = standIn.messagesIn(APPROVER_CHANNEL).find((m) => JSON.stringify(m.blocks ?? '').includes(id));
    expect(message).toBeDefined();
    expect(await bot.service.get(id)).toMatchObject({ status: 'PENDING' });
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);

    // 3. An approver clicks Approve: an interactive block_actions envelope.
    const blockId = blocks.find((b) => b.type === 'actions')?.block_id ?? BLOCK_DECISION;
    const clickResponseUrl = standIn.responseUrl('click');
    const clickAck = await standIn.socket.send('interactive', {
      type: 'block_actions',
      user: { id: APPROVER, username: APPROVER.toLowerCase(), name: APPROVER.toLowerCase(), team_id: 'T1' },
      api_app_id: 'A1',
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: message!.ts, channel_id: APPROVER_CHANNEL, is_ephemeral: false },
      trigger_id: '1337.43.socket-trigger',
      team: { id: 'T1', domain: 't1' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: APPROVER_CHANNEL, name: APPROVER_CHANNEL.toLowerCase() },
      message: { type: 'message', ts: message!.ts, user: 'UBOT', bot_id: 'B1', blocks: message!.blocks },
      state: { values: {} },
      response_url: clickResponseUrl,
      actions: [
        {
          action_id: ACTION_APPROVE,
          block_id: blockId,
          value: id,
          type: 'button',
          text: { type: 'plain_text', text: 'Approve', emoji: true },
          action_ts: (Date.now() / 1000).toFixed(6),
        },
      ],
    });
    expect(clickAck.envelopeId).not.toBe(commandAck.envelopeId);

    await bot.listenersIdle();
    await waitFor(async () => (await bot.service.get(id))?.status === 'ACTIVE', { message: `request ${id} never became ACTIVE` });
    await bot.outbox.idle();

    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
    expect(ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
      GroupId: 'sg-0123456789abcdef0',
      IpPermissions: [expect.objectContaining({ FromPort: 22, ToPort: 22, IpRanges: [expect.objectContaining({ CidrIp: '203.0.113.7/32' })] })],
    });
    expect(await bot.service.get(id)).toMatchObject({ status: 'ACTIVE', decidedBy: APPROVER });
    // No refusal was sent to the approver, and the approval message lost its buttons.
    expect(standIn.responses.filter((r) => r.url === clickResponseUrl)).toEqual([]);
    await waitFor(() => !JSON.stringify(standIn.messagesIn(APPROVER_CHANNEL).find((m) => m.ts === message!.ts)?.blocks ?? '').includes(ACTION_APPROVE), {
      message: 'approval message still shows the buttons',
    });
    // Every envelope was acked, exactly once.
    expect(standIn.socket.acks.map((a) => a.envelopeId)).toEqual([commandAck.envelopeId, clickAck.envelopeId]);
  });
});

describe('the stand-in Socket Mode endpoint (raw WebSocket client)', () => {
  let standIn: SlackStandIn;

  beforeEach(async () => {
    standIn = await startSlackStandIn();
  });
  afterEach(async () => {
    await standIn.close();
  });

  const open = async (token = APP_TOKEN) => {
    const res = await fetch(`${standIn.url}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as { ok: boolean; url?: string; error?: string };
  };
  const connect = async () => {
    const { url } = await open();
    const ws = new WebSocket(url!);
    const messages: Record<string, unknown>[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Record<string, unknown>));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, messages };
  };

  it('apps.connections.open wants an app-level token; the bot token is refused, and xapp- is refused elsewhere', async () => {
    expect(await open()).toMatchObject({ ok: true, url: expect.stringMatching(new RegExp(`^ws://127\\.0\\.0\\.1:${standIn.port}/socket`)) });
    expect(await open(BOT_TOKEN)).toEqual({ ok: false, error: 'not_allowed_token_type' });
    const post = await fetch(`${standIn.url}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${APP_TOKEN}` } });
    expect(await post.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });

  it('sends hello first, pushes envelopes, resolves send() with the ack payload; close() terminates the client', async () => {
    expect(standIn.socket.connected()).toBe(false);
    await expect(standIn.socket.send('slash_commands', { text: 'x' })).rejects.toThrow(/no Socket Mode client/);

    const { ws, messages } = await connect();
    await standIn.socket.waitForConnection();
    await waitFor(() => messages.length > 0, { message: 'no hello' });
    expect(messages[0]).toEqual({
      type: 'hello',
      num_connections: 1,
      debug_info: expect.objectContaining({ host: expect.any(String), approximate_connection_time: expect.any(Number) }),
      connection_info: { app_id: 'A1' },
    });

    ws.on('message', (d) => {
      const env = JSON.parse(String(d)) as { envelope_id?: string; type: string };
      if (env.envelope_id) ws.send(JSON.stringify({ envelope_id: env.envelope_id, payload: { text: `got ${env.type}` } }));
    });
    const acked = await standIn.socket.send('slash_commands', { command: '/jit', text: 'help' });
    expect(acked.ack).toEqual({ text: 'got slash_commands' });
    expect(messages[1]).toEqual({
      envelope_id: acked.envelopeId,
      type: 'slash_commands',
      payload: { command: '/jit', text: 'help' },
      accepts_response_payload: true,
    });
    await standIn.socket.send('interactive', { type: 'block_actions' });
    expect(messages[2]).toMatchObject({ type: 'interactive', payload: { type: 'block_actions' }, accepts_response_payload: false });

    // An envelope that is never acked times out; one still pending when the client goes away fails.
    ws.removeAllListeners('message');
    await expect(standIn.socket.send('interactive', { type: 'block_actions' }, { timeoutMs: 100 })).rejects.toThrow(/not acked within 100ms/);
    const pending = standIn.socket.send('interactive', { type: 'block_actions' });
    const closed = new Promise((resolve) => ws.once('close', resolve));
    await standIn.close();
    await expect(pending).rejects.toThrow(/closed/);
    await closed;
    expect(standIn.socket.connected()).toBe(false);
    standIn = await startSlackStandIn(); // afterEach closes this one
  });
});
