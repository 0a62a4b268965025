/**
 * Exactly once as people see it, at the adapter: every message the notifier posts for a request
 * carries its key in Slack metadata, and a resend (the outbox's `resend`) looks for that key in
 * Slack (channel history, thread replies, the user's DM) before posting. Against the Slack
 * stand-in through the real WebClient.
 */
import * as webApi from '@slack/web-api';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import { SendRateLimitedError } from '../../src/domain/errors';
import type { AccessRequest, Notification, NotificationKind } from '../../src/domain/types';
import { SlackNotifier } from '../../slack/notifier';
import { MESSAGE_EVENT_TYPE, messageKey } from '../../slack/sent-messages';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';
import { FakeClock } from '../support/clock';
import { pendingRequest } from '../support/requests';

const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER, U0APPROVER2] }
auditChannel: C0AUDIT
targets: [{ name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }]
`);

let standIn: SlackStandIn;
beforeAll(async () => {
  standIn = await startSlackStandIn();
});
afterEach(() => standIn.reset());
afterAll(async () => {
  await standIn.close();
});

const logged: Array<Record<string, unknown>> = [];
afterEach(() => {
  logged.length = 0;
});

function notifier(dm: string[] = []): SlackNotifier {
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const facts = { reminderAudience: async () => ({ mention: { users: ['U0APPROVER'], groups: [] }, dm }), extensionOffered: () => false, home: async () => { throw new Error('no home here'); } };
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
  return new SlackNotifier(client, config, new FakeClock(), facts, log);
}

let seq = 0;
const note = (kind: NotificationKind, extra: Partial<Notification> = {}): Notification => ({ id: `${new Date().toISOString()}-${seq++}-${kind}`, kind, createdAt: new Date().toISOString(), ...extra });
const keyOf = (m: { metadata?: unknown }) => (m.metadata as { event_type?: string; event_payload?: { key?: string } } | undefined)?.event_payload?.key;
const everyMessage = () => ['C0APPROVERS', 'C0AUDIT', 'DU0REQUESTER', 'DU0APPROVER', 'DU0APPROVER2'].flatMap((c) => standIn.messagesIn(c));
const posted = () => standIn.callsTo('chat.postMessage').filter((c) => !c.failed);

function requestWithApproval(): AccessRequest {
  return pendingRequest({ id: `jit-${String(seq++).padStart(10, '0')}` });
}

it('every message posted for a request carries one key per (request, message, recipient) in its metadata', async () => {
  const n = notifier(['U0APPROVER', 'U0APPROVER2']);
  const r = requestWithApproval();
  const ref = await n.send(note('approval.post'), r, undefined);
  const withRef = { ...r, approvalMessage: ref! };
  const reminder = note('approval.reminder');
  const denied = note('dm.denied');
  await n.send(reminder, withRef, undefined);
  await n.send(denied, withRef, undefined);
  const audit = note('channel.audit', { entry: { at: new Date().toISOString(), actor: 'U0APPROVER', action: 'deny', from: 'PENDING', to: 'DENIED' } });
  await n.send(audit, withRef, undefined);
  expect(posted().map((c) => [c.args.channel, (c.args.metadata as { event_type?: string }).event_type, keyOf(c.args)])).toEqual([
    ['C0APPROVERS', MESSAGE_EVENT_TYPE, messageKey(r.id, 'approval', 'C0APPROVERS')],
    ['C0APPROVERS', MESSAGE_EVENT_TYPE, messageKey(r.id, reminder.id, 'C0APPROVERS')],
    ['U0APPROVER', MESSAGE_EVENT_TYPE, messageKey(r.id, reminder.id, 'U0APPROVER')],
    ['U0APPROVER2', MESSAGE_EVENT_TYPE, messageKey(r.id, reminder.id, 'U0APPROVER2')],
    ['U0REQUESTER', MESSAGE_EVENT_TYPE, messageKey(r.id, denied.id, 'U0REQUESTER')],
    ['C0AUDIT', MESSAGE_EVENT_TYPE, messageKey(r.id, audit.id, 'C0AUDIT')],
  ]);
  // No history is read on the usual path.
  expect(standIn.callsTo('conversations.history')).toHaveLength(0);
  expect(standIn.callsTo('conversations.replies')).toHaveLength(0);
});

it('a resend of a DM, a thread reply, a channel post and an audit line Slack already has posts nothing; the approval message found is its ref', async () => {
  const n = notifier();
  const r = requestWithApproval();
  const post = note('approval.post');
  const ref = (await n.send(post, r, undefined))!;
  const withRef = { ...r, approvalMessage: ref };
  const dm = note('dm.granted');
  const thread = note('thread.revoked');
  const glass = note('channel.break-glass');
  const audit = note('channel.audit', { entry: { at: new Date().toISOString(), actor: 'U0APPROVER', action: 'approve', from: 'PENDING', to: 'GRANTING' } });
  for (const x of [dm, thread, glass, audit]) await n.send(x, withRef, undefined);
  const before = everyMessage().length;
  const postsBefore = posted().length;

  // The replica that sent them died before recording it: each comes again as a resend.
  expect(await n.send(post, r, undefined, { resend: true })).toEqual(ref);
  for (const x of [dm, thread, glass, audit]) await n.send(x, withRef, undefined, { resend: true });
  expect(posted()).toHaveLength(postsBefore);
  expect(everyMessage()).toHaveLength(before);
  expect(standIn.callsTo('conversations.open').map((c) => c.args.users)).toEqual(['U0REQUESTER']);
  expect(standIn.callsTo('conversations.replies').map((c) => c.args.ts)).toEqual([ref.ts]);
  expect(standIn.callsTo('conversations.history').map((c) => [c.args.channel, String(c.args.include_all_metadata)])).toEqual([
    ['C0APPROVERS', 'true'],
    ['DU0REQUESTER', 'true'],
    ['C0APPROVERS', 'true'],
    ['C0AUDIT', 'true'],
  ]);
  expect(logged.filter((l) => l.event === 'notify.already_sent')).toHaveLength(5);
});

it('a resend Slack does not have is posted, once', async () => {
  const n = notifier();
  const r = requestWithApproval();
  const ref = (await n.send(note('approval.post'), r, undefined))!;
  const dm = note('dm.denied');
  await n.send(dm, { ...r, approvalMessage: ref }, undefined, { resend: true });
  expect(standIn.messagesIn('DU0REQUESTER').map(keyOf)).toEqual([messageKey(r.id, dm.id, 'U0REQUESTER')]);
  // An approval message never posted: the resend posts it and answers its ref.
  const other = requestWithApproval();
  const posted2 = await n.send(note('approval.post'), other, undefined, { resend: true });
  expect(standIn.messagesIn('C0APPROVERS').filter((m) => keyOf(m) === messageKey(other.id, 'approval', 'C0APPROVERS')).map((m) => m.ts)).toEqual([posted2!.ts]);
});

it('a lookup Slack refuses (a history scope not granted yet) still sends the message, and says so in the log; a rate-limited lookup is retried', async () => {
  const n = notifier();
  const r = requestWithApproval();
  const dm = note('dm.ended');
  standIn.failNext('conversations.history', { error: 'missing_scope' });
  await n.send(dm, r, undefined, { resend: true });
  expect(standIn.messagesIn('DU0REQUESTER').map(keyOf)).toEqual([messageKey(r.id, dm.id, 'U0REQUESTER')]);
  expect(logged.find((l) => l.event === 'notify.lookup_refused')).toMatchObject({ slackError: 'missing_scope' });

  standIn.failNext('conversations.history', { status: 429, retryAfter: 2 });
  const again = note('dm.warning');
  await expect(n.send(again, r, undefined, { resend: true })).rejects.toEqual(expect.objectContaining({ retryAfterMs: 2_000, partlySent: false }));
  expect(standIn.messagesIn('DU0REQUESTER')).toHaveLength(1); // nothing posted blind
});

it("another app's message with the same key in its metadata is not taken for the bot's", async () => {
  const n = notifier();
  const r = requestWithApproval();
  const dm = note('dm.granted');
  // Someone else's app posts into the requester's DM with our key.
  standIn.botIdOf = (token) => (token === 'xoxb-other' ? 'B0OTHER' : undefined);
  await fetch(`${standIn.url}chat.postMessage`, {
    method: 'POST',
    headers: { authorization: 'Bearer xoxb-other', 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'U0REQUESTER', text: 'not the bot', metadata: { event_type: MESSAGE_EVENT_TYPE, event_payload: { key: messageKey(r.id, dm.id, 'U0REQUESTER') } } }),
  });
  await n.send(dm, r, undefined, { resend: true });
  expect(standIn.messagesIn('DU0REQUESTER').map((m) => m.text)).toEqual(['not the bot', expect.stringContaining('is open')]);
});

it('a rate limit after part of a notification went out says so (partlySent): the next attempt looks before posting', async () => {
  const n = notifier(['U0APPROVER', 'U0APPROVER2']);
  const r = requestWithApproval();
  const ref = (await n.send(note('approval.post'), r, undefined))!;
  const withRef = { ...r, approvalMessage: ref };
  const reminder = note('approval.reminder');
  // The thread reply goes out, then Slack refuses the first DM.
  const seen = standIn.callsTo('chat.postMessage').length;
  standIn.failNext('chat.postMessage', { status: 429, retryAfter: 1, after: 1 });
  const err = await n.send(reminder, withRef, undefined).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SendRateLimitedError);
  expect((err as SendRateLimitedError).partlySent).toBe(true);
  expect(standIn.callsTo('chat.postMessage').length - seen).toBe(2);
  // The resend posts the two DMs and not the thread reply again.
  await n.send(reminder, withRef, undefined, { resend: true });
  const keys = everyMessage().map(keyOf).filter((k) => k?.includes(reminder.id));
  expect(keys.sort()).toEqual([messageKey(r.id, reminder.id, 'C0APPROVERS'), messageKey(r.id, reminder.id, 'U0APPROVER'), messageKey(r.id, reminder.id, 'U0APPROVER2')].sort());
});
