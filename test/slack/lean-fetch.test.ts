/**
 * The WebClient on the lean transport behaves as on the global fetch: a call's arguments arrive
 * (blocks and all), results come back, a 429 is still the rate-limited error with Retry-After,
 * a platform error is still a platform error, a 500 is retried, and an abort ends the call.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as webApi from '@slack/web-api';
import { leanFetch } from '../../slack/lean-fetch';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';

let standIn: SlackStandIn;
beforeAll(async () => {
  standIn = await startSlackStandIn();
});
afterAll(async () => {
  await standIn.close();
});

const client = (retries = 0) =>
  new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, rejectRateLimitedCalls: true, retryConfig: { retries, minTimeout: 1, maxTimeout: 1 }, fetch: leanFetch as unknown as typeof fetch });

it('posts a message with its blocks and returns the result', async () => {
  const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'héllo ✓ *bold*' } }];
  const result = await client().chat.postMessage({ channel: 'C0LEAN', text: 'héllo ✓', blocks });
  expect(result.ok).toBe(true);
  expect(typeof result.ts).toBe('string');
  const call = standIn.callsTo('chat.postMessage').at(-1)!;
  expect(call.token).toBe('xoxb-test');
  expect(call.args).toMatchObject({ channel: 'C0LEAN', text: 'héllo ✓', blocks });
  expect(standIn.messagesIn('C0LEAN').map((m) => m.ts)).toContain(result.ts);
});

it('a 429 is the rate-limited error carrying Retry-After', async () => {
  standIn.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
  const err = await client().chat.postMessage({ channel: 'C0LEAN', text: 'x' }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: webApi.ErrorCode.RateLimitedError, retryAfter: 7 });
});

it('a platform error stays a platform error', async () => {
  standIn.failNext('chat.update', { error: 'message_not_found' });
  const err = await client().chat.update({ channel: 'C0LEAN', ts: '1.2', text: 'x' }).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: webApi.ErrorCode.PlatformError, data: { error: 'message_not_found' } });
});

it('a 500 is retried by the client and then succeeds', async () => {
  const before = standIn.callsTo('views.publish').length;
  standIn.failNext('views.publish', { status: 500 });
  const result = await client(2).views.publish({ user_id: 'U0LEAN', view: { type: 'home', blocks: [] } });
  expect(result.ok).toBe(true);
  expect(standIn.callsTo('views.publish').length - before).toBe(2);
});

it('answers a plain GET and reads status, headers and body; an abort ends a hung call', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    res.writeHead(201, { 'content-type': 'application/json', 'x-many': ['a', 'b'] });
    res.end(JSON.stringify({ method: req.method, len: req.headers['content-length'] ?? null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const res = await leanFetch(`${base}/x`, { method: 'POST', body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(201);
    expect(res.ok).toBe(true);
    expect(res.headers.get('Content-Type')).toBe('application/json');
    expect(res.headers.get('x-many')).toBe('a, b');
    expect(res.headers.get('absent')).toBeNull();
    expect(await res.json()).toEqual({ method: 'POST', len: '3' });
    const controller = new AbortController();
    const hung = leanFetch(`${base}/hang`, { method: 'POST', body: '', signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(hung).rejects.toThrow('gave up');
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
