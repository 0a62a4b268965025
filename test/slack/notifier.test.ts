/**
 * The notifier's App Home refresh and audit line, against the Slack stand-in: refreshes of one
 * user coalesce; a refresh Slack refuses is dropped (logged), a rate limit is not; the audit line
 * goes to the audit channel only when one is configured.
 */
import * as webApi from '@slack/web-api';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import { SendRateLimitedError } from '../../src/domain/errors';
import type { HomeContents, Notification } from '../../src/domain/types';
import { HomeViewers } from '../../slack/home-viewers';
import { SlackNotifier } from '../../slack/notifier';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';
import { FakeClock } from '../support/clock';
import { pendingRequest } from '../support/requests';

const yaml = `
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets: [{ name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }]
`;
const config = parseConfig(yaml);
const withAudit = parseConfig(`${yaml}auditChannel: C0AUDIT\n`);

let standIn: SlackStandIn;
beforeAll(async () => {
  standIn = await startSlackStandIn();
});
afterEach(() => standIn.reset());
afterAll(async () => {
  await standIn.close();
});

function notifier(cfg = config, home: (userId: string) => Promise<HomeContents> = async (userId) => ({ userId, at: new Date().toISOString(), active: [], extendable: [], pending: [], waiting: [], waitingMore: false })) {
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const facts = { reminderAudience: async () => ({ mention: { users: [], groups: [] }, dm: [] }), extensionOffered: () => false, home };
  return new SlackNotifier(client, cfg, new FakeClock(), facts, pino({ level: 'silent' }), { homeRefreshIntervalMs: interval });
}
let interval = 0;
afterEach(() => {
  interval = 0;
});
const refresh = (userId?: string): Notification => ({ id: `n-${Math.random()}`, kind: 'home.refresh', createdAt: new Date().toISOString(), ...(userId ? { userId } : {}) });

it("a burst of refreshes of one user's home costs at most two reads and publishes (the last reads the state after all of them)", async () => {
  let reads = 0;
  const n = notifier(config, async (userId) => {
    reads += 1;
    await new Promise((r) => setTimeout(r, 20));
    return { userId, at: new Date().toISOString(), active: [], extendable: [], pending: [], waiting: [], waitingMore: false };
  });
  await Promise.all(Array.from({ length: 20 }, () => n.send(refresh(), pendingRequest(), undefined)));
  expect(reads).toBeLessThanOrEqual(2);
  expect(standIn.callsTo('views.publish').length).toBe(reads);
  expect(standIn.callsTo('views.publish').every((c) => c.args.user_id === 'U0REQUESTER')).toBe(true);
  // Another user's refresh is their own publish.
  await n.send(refresh('U0APPROVER'), pendingRequest(), undefined);
  expect(standIn.callsTo('views.publish').at(-1)?.args.user_id).toBe('U0APPROVER');
});

it('with a record of who opened the App Home, a refresh reaches only those users: no read and no publish for the others', async () => {
  let reads = 0;
  const viewers = new HomeViewers(2);
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const home = async (userId: string): Promise<HomeContents> => {
    reads += 1;
    return { userId, at: new Date().toISOString(), active: [], extendable: [], pending: [], waiting: [], waitingMore: false };
  };
  const n = new SlackNotifier(client, config, new FakeClock(), { reminderAudience: async () => ({ mention: { users: [], groups: [] }, dm: [] }), extensionOffered: () => false, home }, pino({ level: 'silent' }), { homeViewers: viewers });
  await n.send(refresh(), pendingRequest(), undefined);
  await n.send(refresh('U0APPROVER'), pendingRequest(), undefined);
  expect(reads).toBe(0);
  expect(standIn.callsTo('views.publish')).toHaveLength(0);
  viewers.opened('U0APPROVER');
  await n.send(refresh('U0APPROVER'), pendingRequest(), undefined);
  expect(standIn.callsTo('views.publish').map((c) => c.args.user_id)).toEqual(['U0APPROVER']);
  // Bounded: the least recently seen is forgotten first.
  viewers.opened('U0REQUESTER');
  viewers.opened('U0OTHER');
  expect([viewers.has('U0APPROVER'), viewers.has('U0REQUESTER'), viewers.has('U0OTHER')]).toEqual([false, true, true]);
});

it.each([
  [0, 3],
  [200, 2],
])('with an interval of %i ms, a refresh right after a publish waits for it and the next one shares it (%i publishes)', async (ms, publishes) => {
  interval = ms;
  const n = notifier();
  await n.send(refresh(), pendingRequest(), undefined);
  const second = n.send(refresh(), pendingRequest(), undefined);
  await new Promise((r) => setImmediate(r)); // without an interval the second has started by now
  await Promise.all([second, n.send(refresh(), pendingRequest(), undefined)]);
  expect(standIn.callsTo('views.publish')).toHaveLength(publishes);
});

it('a refresh Slack refuses is dropped (the home is rebuilt when opened); a rate limit is retried by the outbox', async () => {
  const n = notifier();
  standIn.failNext('views.publish', { error: 'not_enabled' });
  await expect(n.send(refresh(), pendingRequest(), undefined)).resolves.toBeUndefined();
  standIn.failNext('views.publish', { status: 429, retryAfter: 3 });
  await expect(n.send(refresh(), pendingRequest(), undefined)).rejects.toBeInstanceOf(SendRateLimitedError);
});

it('the audit line goes to the audit channel when one is set, and nowhere when not', async () => {
  const r = pendingRequest();
  const line: Notification = { id: 'n-line', kind: 'channel.audit', createdAt: r.createdAt, entry: r.audit[0]! };
  await notifier(config).send(line, r, undefined);
  expect(standIn.callsTo('chat.postMessage')).toEqual([]);
  await notifier(withAudit).send(line, r, undefined);
  expect(standIn.callsTo('chat.postMessage').map((c) => [c.args.channel, c.args.text])).toEqual([['C0AUDIT', `${r.createdAt} ${r.id} request: new → PENDING`]]);
});

it('an audit channel that cannot take lines drops them (the table has the record) and tells the approver channel once; other failures are retried', async () => {
  const r = pendingRequest();
  const line: Notification = { id: 'n-line', kind: 'channel.audit', createdAt: r.createdAt, entry: r.audit[0]! };
  const n = notifier(withAudit);
  const alerts = () => standIn.callsTo('chat.postMessage').filter((c) => c.args.channel === withAudit.approverChannel);
  standIn.failNext('chat.postMessage', { error: 'not_in_channel' });
  await expect(n.send(line, r, undefined)).resolves.toBeUndefined(); // dropped: the DMs behind it are not held up
  expect(alerts()).toHaveLength(1);
  expect(String(alerts()[0]!.args.text)).toContain('not_in_channel');
  standIn.failNext('chat.postMessage', { error: 'channel_not_found' });
  await expect(n.send(line, r, undefined)).resolves.toBeUndefined();
  expect(alerts()).toHaveLength(1); // once an hour, not once a line
  standIn.failNext('chat.postMessage', { status: 500 });
  await expect(n.send(line, r, undefined)).rejects.toThrow(); // Slack down: retried in order by the outbox
});
