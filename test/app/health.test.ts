/**
 * /healthz, /readyz and /metrics on the real bot: beside /slack/events in HTTP mode, on
 * HEALTH_PORT in Socket Mode. Readiness turns 503 naming the check when the store goes away,
 * the Slack socket drops, the token is refused, or the outbox backs up.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { ACTION_APPROVE } from '../../blocks/ids';
import { type EnvConfig, parseConfig } from '../../src/config';
import type { ReadinessReport } from '../../src/health';
import { type RunningBot, startBot } from '../../src/main';
import { tableDefinition } from '../../src/store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';
import { APPROVER, CONFIG_YAML, Harness, REQUESTER } from '../support/harness';
import { sample } from '../support/metrics';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';

const ec2 = mockClient(EC2Client);
const MIN = 60_000;

function mockEc2() {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0aaa1111bbbb2222c', GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
}

async function get(base: string, path: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}
async function ready(base: string): Promise<{ status: number; body: ReadinessReport }> {
  const r = await get(base, '/readyz');
  return { status: r.status, body: JSON.parse(r.text) as ReadinessReport };
}
const metricNames = (text: string) => [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);

describe('HTTP mode: the endpoints beside /slack/events on PORT', () => {
  let h: Harness;
  let base: string;

  beforeEach(async () => {
    mockEc2();
    h = await Harness.start({ readyOutboxMax: 3 });
    base = `http://127.0.0.1:${h.bot.port}`;
  });
  afterEach(async () => {
    await h.stop();
  });

  it('/healthz, /readyz and /metrics answer; /slack/events still refuses an unsigned request', async () => {
    expect(await get(base, '/healthz')).toEqual({ status: 200, type: expect.stringMatching(/^application\/json/), text: '{"status":"ok"}' });
    const r = await ready(base);
    expect(r.status).toBe(200);
    // No sweeper check: background work is off in this harness.
    expect(r.body).toEqual({ status: 'ok', checks: { store: { ok: true }, slack: { ok: true }, outbox: { ok: true, backlog: 0, max: 3 } } });
    const m = await get(base, '/metrics');
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const names = metricNames(m.text);
    expect(names.filter((n) => !n.startsWith('jit_'))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['jit_requests_total', 'jit_grants_total', 'jit_revocations_total', 'jit_revoke_lateness_seconds', 'jit_due_backlog', 'jit_outbox_backlog', 'jit_slack_ack_seconds', 'jit_process_resident_memory_bytes']));
    const unsigned = await fetch(`${base}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'command=%2Fjit&text=help' });
    expect(unsigned.status).toBe(401);
  });

  it('after request → approve → grant → expiry → revoke, /metrics counts each step and the lateness', async () => {
    const id = await h.request('request prod-bastion 30m 203.0.113.7 investigating checkout latency');
    h.clock.advance(2 * MIN);
    expect((await h.click(APPROVER, ACTION_APPROVE, id)).status).toBe(200);
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE' });
    // Expiry passed 5 s ago; the sweep warns, then expires and revokes (verified).
    h.clock.advance(30 * MIN + 5_000);
    await waitFor(async () => {
      await h.sweep();
      return (await h.bot.service.get(id))?.status === 'REVOKED';
    }, { message: `${id} was not revoked` });
    await h.command(REQUESTER, 'request nowhere 30m 203.0.113.7 typo'); // refused: no such target
    await h.settle();

    const text = (await get(base, '/metrics')).text;
    expect(sample(text, 'jit_requests_total{kind="ec2-ssh",outcome="pending"}')).toBe(1);
    expect(sample(text, 'jit_requests_total{kind="unknown",outcome="invalid"}')).toBe(1);
    expect(sample(text, 'jit_approvals_total{quorum="met"}')).toBe(1);
    expect(sample(text, 'jit_grants_total{kind="ec2-ssh",outcome="ok"}')).toBe(1);
    expect(sample(text, 'jit_revocations_total{kind="ec2-ssh",outcome="verified"}')).toBe(1);
    expect(sample(text, 'jit_revocations_total{kind="ec2-ssh",outcome="failed"}')).toBe(0);
    expect(sample(text, 'jit_revoke_lateness_seconds_count{kind="ec2-ssh"}')).toBe(1);
    expect(sample(text, 'jit_revoke_lateness_seconds_sum{kind="ec2-ssh"}')).toBe(5); // the injected clock: exactly 5 s late
    expect(sample(text, 'jit_revoke_lateness_seconds_bucket{le="5",kind="ec2-ssh"}')).toBe(1);
    expect(sample(text, 'jit_approve_to_active_seconds_count{kind="ec2-ssh"}')).toBe(1);
    expect(sample(text, 'jit_sweeps_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'jit_notifications_total{outcome="sent"}')).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'jit_due_backlog')).toBe(0);
    expect(sample(text, 'jit_outbox_backlog')).toBe(0);
    expect(sample(text, 'jit_outbox_oldest_age_seconds')).toBe(0);
    // Every signed request the harness sent was answered and timed at the edge.
    expect(sample(text, 'jit_slack_ack_seconds_count')).toBe(3);
    expect(sample(text, 'jit_slack_ack_seconds_bucket{le="3"}')).toBe(3);
  });

  it('readiness fails on an outbox backlog at the threshold (JIT_READY_OUTBOX_MAX) and /metrics shows it', async () => {
    h.slack.failNext('chat.postMessage', { error: 'channel_not_found', times: 1_000 });
    for (const ip of ['203.0.113.7', '203.0.113.8', '203.0.113.9']) {
      expect((await h.command(REQUESTER, `request prod-bastion 30m ${ip} stuck messages`)).status).toBe(200);
    }
    const r = await waitFor(async () => {
      const x = await ready(base);
      return x.status === 503 && x;
    }, { message: 'readiness never failed on the outbox' });
    expect(r.body.failing).toEqual(['outbox: backlog 3 at or above 3']);
    expect(r.body.checks.outbox).toEqual({ ok: false, reason: 'backlog 3 at or above 3', backlog: 3, max: 3 });
    expect(r.body.checks.store).toEqual({ ok: true });

    h.clock.advance(2 * MIN);
    const text = (await get(base, '/metrics')).text;
    expect(sample(text, 'jit_outbox_backlog')).toBe(3);
    expect(sample(text, 'jit_outbox_oldest_age_seconds')).toBe(120);
    expect(sample(text, 'jit_notifications_total{outcome="retried"}')).toBeGreaterThanOrEqual(3);
  });

  it('counts Slack rate limits by method (HTTP 429 with Retry-After)', async () => {
    h.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await h.command(REQUESTER, 'request prod-bastion 30m 203.0.113.7 rate limited');
    const text = await waitFor(async () => {
      const t = (await get(base, '/metrics')).text;
      return sample(t, 'jit_slack_rate_limited_total{method="chat.postMessage"}') === 1 && t;
    }, { message: 'no rate-limit sample' });
    expect(sample(text, 'jit_notifications_total{outcome="retried"}')).toBe(1);
  });

  it('readiness fails naming Slack when the token stops being accepted (re-checked at most once a minute)', async () => {
    h.slack.failNext('auth.test', { error: 'invalid_auth' });
    expect((await ready(base)).status).toBe(200); // checked at start, not again yet
    expect(h.slack.callsTo('auth.test').filter((c) => c.failed)).toHaveLength(0);
    h.clock.advance(61_000);
    const r = await ready(base);
    expect(r.status).toBe(503);
    expect(r.body.failing).toEqual(['slack: invalid_auth']);
    expect(JSON.stringify(r.body)).not.toContain('xoxb-');
    h.clock.advance(61_000);
    expect((await ready(base)).status).toBe(200); // accepted again on the next check
  });
});

describe('HTTP mode: readiness when the store goes away', () => {
  let ddb: EmbeddedDynamo;
  let admin: DynamoDBClient;
  let slack: SlackStandIn;
  let bot: RunningBot | undefined;
  const saved = { ...process.env };

  beforeAll(async () => {
    ddb = await startEmbeddedDynamo(undefined);
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    admin = new DynamoDBClient({});
    await admin.send(new CreateTableCommand(tableDefinition('jit-health')));
    slack = await startSlackStandIn();
  });
  afterAll(async () => {
    await bot?.stop();
    process.env = saved;
    admin.destroy();
    await slack.close();
  });

  it('503 naming the store once it is unreachable; /healthz and /metrics still answer and count the DynamoDB errors', async () => {
    const env: EnvConfig = { slackBotToken: 'xoxb-t', slack: { mode: 'http', signingSecret: 's', port: 0 }, slackApiUrl: slack.url, configPath: '-', dataDir: '/nonexistent/never-used', dynamoTable: 'jit-health', awsRegion: 'eu-west-1', logLevel: 'silent' };
    bot = await startBot(env, parseConfig(CONFIG_YAML), { log: pino({ level: 'silent' }), background: false });
    const base = `http://127.0.0.1:${bot.port}`;
    expect((await ready(base)).status).toBe(200);

    await ddb.close();
    const r = await waitFor(async () => {
      const x = await ready(base);
      return x.status === 503 && x;
    }, { message: 'readiness never failed after the store stopped', timeoutMs: 15_000 });
    expect(r.body.status).toBe('fail');
    expect(r.body.checks.store).toMatchObject({ ok: false, reason: expect.any(String) });
    expect(r.body.failing).toEqual(expect.arrayContaining([expect.stringMatching(/^store: /)]));
    expect(r.body.checks.slack).toEqual({ ok: true });

    expect((await get(base, '/healthz')).status).toBe(200);
    const m = await get(base, '/metrics');
    expect(m.status).toBe(200);
    const errors = m.text.split('\n').filter((l) => l.startsWith('jit_aws_errors_total{service="DynamoDB"'));
    expect(errors.length).toBeGreaterThan(0);
  }, 30_000);
});

describe('Socket Mode: the endpoints on HEALTH_PORT', () => {
  let standIn: SlackStandIn;
  let bot: RunningBot;

  beforeAll(async () => {
    mockEc2();
    standIn = await startSlackStandIn();
    const env: EnvConfig = { slackBotToken: 'xoxb-test', slack: { mode: 'socket', appToken: 'xapp-test' }, slackApiUrl: standIn.url, configPath: '(inline)', dataDir: '(memory)', logLevel: 'silent', healthPort: 0 };
    bot = await startBot(env, parseConfig(CONFIG_YAML, 'test config'), { inMemoryStore: true, background: true, log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await bot?.stop();
    await waitFor(() => !standIn.socket.connected(), { message: 'the bot did not close its socket' });
    await standIn?.close();
  });

  it('serves /healthz, /readyz (with the sweeper) and /metrics on its own port; 404 elsewhere', async () => {
    expect(bot.healthPort).toEqual(expect.any(Number));
    expect(bot.port).toBeUndefined();
    const base = `http://127.0.0.1:${bot.healthPort}`;
    expect(await get(base, '/healthz')).toMatchObject({ status: 200, text: '{"status":"ok"}' });
    const r = await ready(base);
    expect(r).toMatchObject({ status: 200, body: { status: 'ok', checks: { store: { ok: true }, slack: { ok: true }, sweeper: { ok: true, maxSeconds: 10 }, outbox: { ok: true, backlog: 0, max: 500 } } } });
    const m = await get(base, '/metrics');
    expect(m.status).toBe(200);
    expect(metricNames(m.text).filter((n) => !n.startsWith('jit_'))).toEqual([]);
    expect(sample(m.text, 'jit_sweeps_total')).toBeGreaterThanOrEqual(1);
    expect((await get(base, '/slack/events')).status).toBe(404);
    expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  it('503 naming Slack while the socket is closed, ready again once the client reconnects', async () => {
    const base = `http://127.0.0.1:${bot.healthPort}`;
    await standIn.socket.waitForConnection();
    const before = standIn.socket.connectionCount();
    standIn.socket.drop();
    const r = await waitFor(async () => {
      const x = await ready(base);
      return x.status === 503 && x;
    }, { message: 'readiness never failed after the socket dropped' });
    expect(r.body.failing).toEqual(['slack: Socket Mode connection is not open']);
    expect(r.body.checks.store).toEqual({ ok: true });
    // The Socket Mode client reconnects by itself (after ~5 s here).
    await waitFor(async () => (await ready(base)).status === 200, { timeoutMs: 25_000, message: 'not ready again after the reconnect' });
    expect(standIn.socket.connectionCount()).toBe(before + 1);
  }, 40_000);
});

describe('Socket Mode: stop() closes the health listener', () => {
  it('the port stops answering', async () => {
    const standIn = await startSlackStandIn();
    const env: EnvConfig = { slackBotToken: 'xoxb-test', slack: { mode: 'socket', appToken: 'xapp-test' }, slackApiUrl: standIn.url, configPath: '(inline)', dataDir: '(memory)', logLevel: 'silent', healthPort: 0 };
    const bot = await startBot(env, parseConfig(CONFIG_YAML, 'test config'), { inMemoryStore: true, background: false, log: pino({ level: 'silent' }) });
    const base = `http://127.0.0.1:${bot.healthPort}`;
    expect((await get(base, '/healthz')).status).toBe(200);
    await bot.stop();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    await waitFor(() => !standIn.socket.connected(), { message: 'the bot did not close its socket' });
    await standIn.close();
  });
});
