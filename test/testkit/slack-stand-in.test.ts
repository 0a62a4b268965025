import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, webApi } from '@slack/bolt';
import { startSlackStandIn, type SlackStandIn } from '../../testkit/slack-stand-in';
import { blockAction, sendRaw, signRequest, slashCommand, viewSubmission } from '../../testkit/slack-requests';
import { waitFor } from '../../testkit/wait';

const SECRET = 's3cret';
const BLOCKS = [{ type: 'section', text: { type: 'mrkdwn', text: '*request*' } }];

let standIn: SlackStandIn;
let app: App;
let eventsUrl: string;
const handled: string[] = [];
const appErrors: unknown[] = [];

beforeAll(async () => {
  standIn = await startSlackStandIn();
  const receiver = new HTTPReceiver({ signingSecret: SECRET, logLevel: LogLevel.ERROR });
  app = new App({
    token: 'xoxb-test',
    receiver,
    logLevel: LogLevel.ERROR,
    // No retries, so an injected 5xx surfaces as an error instead of a silent retry.
    clientOptions: { slackApiUrl: standIn.url, retryConfig: { retries: 0 } },
  });
  app.error(async (error) => {
    appErrors.push(error);
  });
  app.command('/jit', async ({ ack, respond, client, command }) => {
    await ack();
    handled.push(`command:${command.text}`);
    await respond({ response_type: 'ephemeral', text: 'hi' });
    await client.chat.postMessage({ channel: 'C1', text: `request from ${command.user_id}`, blocks: BLOCKS });
  });
  app.action('approve', async ({ ack, body, respond, action }) => {
    await ack();
    handled.push(`approve:${'value' in action ? action.value : ''}:${body.user.id}`);
    await respond({ replace_original: true, text: 'approved' });
  });
  app.view('jit_request', async ({ ack, view }) => {
    const reason = view.state.values.reason?.input?.value;
    handled.push(`view:${reason}:${view.private_metadata}`);
    await ack(reason ? undefined : { response_action: 'errors', errors: { reason: 'Required' } });
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await app?.stop();
  await new Promise((r) => setTimeout(r, 200));
  await standIn?.close();
});

beforeEach(() => {
  // auth.test is called once, from the App constructor, and its result cached.
  standIn.reset();
  handled.length = 0;
  appErrors.length = 0;
});

describe('signed requests against a real Bolt app', () => {
  it('slash command: 200, response URL gets the ephemeral reply, postMessage recorded with parsed blocks', async () => {
    const responseUrl = standIn.responseUrl('cmd');
    const res = await slashCommand(eventsUrl, SECRET, { userId: 'U123', text: 'prod-admin 1h', responseUrl });
    expect(res).toMatchObject({ status: 200, body: '' });

    const post = await standIn.waitForCall('chat.postMessage');
    expect(post.token).toBe('xoxb-test');
    expect(post.args).toMatchObject({ channel: 'C1', text: 'request from U123', blocks: BLOCKS });
    expect(standIn.responses).toEqual([
      expect.objectContaining({ url: responseUrl, name: 'cmd', body: { response_type: 'ephemeral', text: 'hi' } }),
    ]);
    expect(standIn.messagesIn('C1')).toEqual([expect.objectContaining({ text: 'request from U123', blocks: BLOCKS })]);
    expect(handled).toEqual(['command:prod-admin 1h']);
  });

  it('rejects a forged signature with 401 and runs no handler', async () => {
    const body = new URLSearchParams({ command: '/jit', text: 'x', user_id: 'U1', team_id: 'T1' }).toString();
    const res = await sendRaw(eventsUrl, body, signRequest('wrong-secret', body));
    expect(res).toMatchObject({ status: 401, body: '' });
    expect(handled).toEqual([]);
    expect(standIn.calls).toEqual([]);
  });

  it('rejects a stale timestamp (now - 301 s) and missing signature headers with 401', async () => {
    const stale = await slashCommand(eventsUrl, SECRET, {
      userId: 'U1', text: 'x', responseUrl: standIn.responseUrl(), timestampSec: Math.floor(Date.now() / 1000) - 301,
    });
    expect(stale.status).toBe(401);
    const unsigned = await sendRaw(eventsUrl, 'command=%2Fjit', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(unsigned.status).toBe(401);
    expect(handled).toEqual([]);
  });

  it('block action: handler runs and responds via the response URL', async () => {
    const responseUrl = standIn.responseUrl();
    const res = await blockAction(eventsUrl, SECRET, {
      userId: 'UAPPROVER', actionId: 'approve', value: 'req-1', channel: 'C1', messageTs: '1700000000.000100', responseUrl,
    });
    expect(res.status).toBe(200);
    await waitFor(() => standIn.responses.length === 1, { message: 'respond() to reach the response URL' });
    expect(handled).toEqual(['approve:req-1:UAPPROVER']);
    expect(standIn.responses[0]?.body).toEqual({ replace_original: true, text: 'approved' });
  });

  it('view submission: ack body (response_action errors) comes back as JSON', async () => {
    const bad = await viewSubmission(eventsUrl, SECRET, { userId: 'U1', callbackId: 'jit_request', values: {}, privateMetadata: 'pm' });
    expect(bad.status).toBe(200);
    expect(bad.json).toEqual({ response_action: 'errors', errors: { reason: 'Required' } });

    const good = await viewSubmission(eventsUrl, SECRET, {
      userId: 'U1', callbackId: 'jit_request', values: { reason: { input: { type: 'plain_text_input', value: 'incident' } } },
    });
    expect(good).toMatchObject({ status: 200, body: '' });
    expect(handled).toEqual(['view:undefined:pm', 'view:incident:']);
  });

  it('failNext(chat.postMessage, 500): with retries 0 the listener error reaches app.error', async () => {
    standIn.failNext('chat.postMessage', { status: 500 });
    const res = await slashCommand(eventsUrl, SECRET, { userId: 'U1', text: 'x', responseUrl: standIn.responseUrl() });
    expect(res.status).toBe(200); // ack() was already sent
    await waitFor(() => appErrors.length > 0, { message: 'app.error to see the failure' });
    expect(String(appErrors[0])).toMatch(/500/);
    expect(standIn.callsTo('chat.postMessage')).toEqual([expect.objectContaining({ failed: true })]);
    expect(standIn.messagesIn('C1')).toEqual([]);
  });
});

describe('stand-in Web API answers (through the real WebClient)', () => {
  it('answers auth.test, DMs, ephemeral, update, conversations.open, views, users.info and unknown methods', async () => {
    const { client } = app;
    expect(await client.auth.test()).toMatchObject({ ok: true, user_id: 'UBOT', team_id: 'T1', bot_id: 'B1' });

    const before = Math.floor(Date.now() / 1000);
    const first = await client.chat.postMessage({ channel: 'U42', text: 'one' });
    const second = await client.chat.postMessage({ channel: 'U42', text: 'two' });
    expect(first).toMatchObject({ ok: true, channel: 'DU42', ts: expect.stringMatching(/^\d{10}\.\d{6}$/), message: { text: 'one' } });
    // Like Slack's: the wall clock's seconds, increasing.
    expect(Number(first.ts)).toBeGreaterThanOrEqual(before);
    expect(Number(first.ts)).toBeLessThan(Math.floor(Date.now() / 1000) + 2);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));

    await client.chat.update({ channel: 'DU42', ts: first.ts!, text: 'one (edited)' });
    expect(standIn.messagesIn('DU42').map((m) => [m.text, m.updates])).toEqual([['one (edited)', 1], ['two', 0]]);

    const eph = await client.chat.postEphemeral({ channel: 'C1', user: 'U42', text: 'psst' });
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(standIn.messagesIn('C1')).toEqual([expect.objectContaining({ text: 'psst', ephemeralTo: 'U42' })]);

    expect((await client.conversations.open({ users: 'U42' })).channel?.id).toBe('DU42');

    const modal = { type: 'modal' as const, callback_id: 'jit_request', title: { type: 'plain_text' as const, text: 'JIT' }, blocks: [] };
    const opened = await client.views.open({ trigger_id: 'trig-1', view: modal });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/), callback_id: 'jit_request' });
    const updated = await client.views.update({ view_id: opened.view!.id!, view: modal });
    expect(updated.view?.id).toBe(opened.view?.id);
    expect(standIn.callsTo('views.open')[0]?.args.view).toEqual(modal);

    const info = await client.users.info({ user: 'U42' });
    expect(info.user).toMatchObject({ id: 'U42', name: 'u42', profile: { email: 'u42@example.com' } });

    expect(await client.apiCall('reactions.add', { channel: 'C1', timestamp: first.ts, name: 'ok' })).toMatchObject({ ok: true });
  });

  it('conversations.history and conversations.replies: newest first / thread order, oldest, pages, metadata only when asked', async () => {
    const { client } = app;
    const meta = (key: string) => ({ event_type: 'jit_test', event_payload: { key } });
    const parent = await client.chat.postMessage({ channel: 'C7', text: 'parent', metadata: meta('p') });
    await client.chat.postMessage({ channel: 'C7', text: 'reply 1', thread_ts: parent.ts!, metadata: meta('r1') });
    await client.chat.postMessage({ channel: 'C7', text: 'reply 2', thread_ts: parent.ts! });
    const later = await client.chat.postMessage({ channel: 'C7', text: 'later' });
    await client.chat.postMessage({ channel: 'C8', text: 'elsewhere' });

    const history = await client.conversations.history({ channel: 'C7', include_all_metadata: true });
    expect(history.messages?.map((m) => m.text)).toEqual(['later', 'parent']); // no replies, newest first
    expect(history.messages?.[1]).toMatchObject({ metadata: meta('p'), bot_id: 'B1' });
    expect((await client.conversations.history({ channel: 'C7' })).messages?.[1]).not.toHaveProperty('metadata');
    expect((await client.conversations.history({ channel: 'C7', oldest: parent.ts! })).messages?.map((m) => m.text)).toEqual(['later']);

    const one = await client.conversations.history({ channel: 'C7', limit: 1 });
    expect(one).toMatchObject({ messages: [{ text: 'later' }], has_more: true });
    const two = await client.conversations.history({ channel: 'C7', limit: 1, cursor: one.response_metadata!.next_cursor! });
    expect(two).toMatchObject({ messages: [{ text: 'parent' }], has_more: false });

    const thread = await client.conversations.replies({ channel: 'C7', ts: parent.ts!, include_all_metadata: true });
    expect(thread.messages?.map((m) => [m.text, (m as { metadata?: unknown }).metadata])).toEqual([['parent', meta('p')], ['reply 1', meta('r1')], ['reply 2', undefined]]);
    expect(Number(later.ts)).toBeGreaterThan(Number(parent.ts));
  });

  it('failNext: HTTP 200 { ok: false } and times', async () => {
    standIn.failNext('users.info', { error: 'user_not_found', times: 2 });
    for (let i = 0; i < 2; i++) {
      await expect(app.client.users.info({ user: 'U1' })).rejects.toMatchObject({
        code: webApi.ErrorCode.PlatformError,
        data: { ok: false, error: 'user_not_found' },
      });
    }
    expect((await app.client.users.info({ user: 'U1' })).ok).toBe(true);
  });

  it('failNext 429 sends Retry-After; WebClient retries 5xx by default', async () => {
    const rejecting = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, rejectRateLimitedCalls: true });
    standIn.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
    await expect(rejecting.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
      code: webApi.ErrorCode.RateLimitedError,
      retryAfter: 7,
    });

    const retrying = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, retryConfig: webApi.retryPolicies.rapidRetryPolicy });
    standIn.failNext('chat.postMessage', { status: 503 });
    await expect(retrying.chat.postMessage({ channel: 'C1', text: 'y' })).resolves.toMatchObject({ ok: true });
    expect(standIn.callsTo('chat.postMessage').map((c) => c.failed ?? false)).toEqual([true, true, false]);
  });

  it('answers not_authed without a token, and fails response URLs on request', async () => {
    const anonymous = new webApi.WebClient(undefined, { slackApiUrl: standIn.url, retryConfig: { retries: 0 } });
    await expect(anonymous.auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });

    standIn.failNext('response_url', { status: 404, error: 'expired_url' });
    const res = await fetch(standIn.responseUrl(), { method: 'POST', body: '{"text":"late"}' });
    expect(res.status).toBe(404);
    expect(standIn.responses[0]?.body).toEqual({ text: 'late' });
  });

  it('waitForCall resolves for later calls and times out listing the methods seen', async () => {
    const pending = standIn.waitForCall('chat.postMessage', (c) => c.args.text === 'later');
    await app.client.chat.postMessage({ channel: 'C9', text: 'later' });
    expect((await pending).args.channel).toBe('C9');

    await expect(standIn.waitForCall('views.publish', undefined, 100)).rejects.toThrow(
      /no views.publish call; methods seen: \[chat.postMessage\]/,
    );
  });
});

describe('waitFor', () => {
  it('retries through throws and falsy values, and reports the last error on timeout', async () => {
    let n = 0;
    await expect(waitFor(() => (++n < 3 ? null : n), { intervalMs: 1 })).resolves.toBe(3);
    await expect(
      waitFor(() => {
        throw new Error('still broken');
      }, { timeoutMs: 50, message: 'the thing' }),
    ).rejects.toThrow('waitFor timed out after 50ms: the thing (last error: still broken)');
  });
});
