/**
 * Exactly once as people see it (issue 15 item 3), against the REAL bot: a replica is killed
 * (SIGKILL) between Slack's answer and the record of it, once for each kind of message, and
 * every message still shows once in Slack.
 *
 * A supervisor runs one bot at a time on one table, as a deployment would restart a crashed pod.
 * Each bot is told to die right after the first message of any kind not yet crashed on
 * (JIT_TEST_CRASH_AT=after-message-sent:<kind>,…); when it dies the next one starts with the
 * kinds that remain. The flows drive every kind of message a request can send: an approval that
 * runs to its expiry (approval post and updates, audit lines, granted, warning and ended DMs,
 * the thread reply), a denial, a reminder (thread reply and DMs) and a timeout, break-glass, a
 * grant that fails, and a revoke that alerts the approvers.
 *
 * What must hold: the bot died after each kind; every message the bot posted carries its key;
 * no key shows twice in any channel, thread or DM; nothing is left undelivered.
 */
import { ACTION_DENY } from '../../blocks/ids';
import { ConflictError } from '../../src/domain/errors';
import { type NotificationKind } from '../../src/domain/types';
import { blockAction, slashCommand } from '../../testkit/slack-requests';
import type { StoredMessage } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';
import {
  APPROVER,
  APPROVER2,
  APPROVER_CHANNEL,
  approvalMessage,
  approve,
  type BotProcess,
  CONFIG_HEAD,
  killAll,
  LONG_GRANT,
  moveExpiry,
  newScenario,
  nextAddress,
  type Scenario,
  SECURITY_GROUP,
  setUpInfra,
  shared,
  SIGNING_SECRET,
  tearDownInfra,
  waitForStatus,
  withBotLogs,
} from './support';

const REQUESTER = 'U0REQUESTER';
const AUDIT_CHANNEL = 'C0AUDIT';
const GONE_GROUP = 'sg-0000000000000dead';
const LOCKED_GROUP = 'sg-00000000000000bad';

const CONFIG = `${CONFIG_HEAD.replace('targets:\n', `auditChannel: ${AUDIT_CHANNEL}\ntargets:\n`)}  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: ${SECURITY_GROUP}
    port: 22
    region: eu-west-1
    requesters: { users: [${REQUESTER}] }
    breakGlass: true
    reminders: { every: 1m, dm: true }
  - name: gone-bastion
    kind: ec2-ssh
    securityGroupId: ${GONE_GROUP}
    port: 22
    region: eu-west-1
  - name: locked-bastion
    kind: ec2-ssh
    securityGroupId: ${LOCKED_GROUP}
    port: 22
    region: eu-west-1
`;

/** Every kind these flows send. dm.submitted and dm.extended take the same DM path as the other DMs. */
const KINDS: NotificationKind[] = [
  'approval.post', 'channel.audit', 'home.refresh', 'approval.update', 'dm.granted', 'dm.warning', 'dm.ended', 'thread.revoked',
  'dm.denied', 'approval.reminder', 'dm.timeout', 'channel.break-glass', 'dm.failed', 'channel.alert',
];

/** Restarts the bot whenever it dies, each time without the kinds it already died after. */
class Supervisor {
  readonly crashedAfter: string[] = [];
  private remaining: NotificationKind[];
  private bot?: Promise<BotProcess>;
  private n = 0;
  stopped = false;

  constructor(private readonly s: Scenario, kinds: NotificationKind[]) {
    this.remaining = [...kinds];
  }

  /** The running bot (started, or restarted after a crash, and answering). */
  live(): Promise<BotProcess> {
    this.bot ??= this.start();
    return this.bot;
  }

  private async start(): Promise<BotProcess> {
    const bot = await this.s.startBot(`bot-${++this.n}`, { configYaml: CONFIG, env: this.remaining.length ? { JIT_TEST_CRASH_AT: this.remaining.map((k) => `after-message-sent:${k}`).join(',') } : {} });
    void bot.exited.then(() => {
      const kind = /JIT_TEST_CRASH_AT=after-message-sent:([a-z.-]+): killing/.exec(bot.output.join('\n'))?.[1];
      if (kind) {
        this.crashedAfter.push(kind);
        this.remaining = this.remaining.filter((k) => k !== kind);
      }
      this.bot = undefined;
      if (!this.stopped) void this.live();
    });
    return bot;
  }

  /** Sends a signed request to the live bot; a bot that dies under it is replaced and the request sent again. */
  async send(fn: (bot: BotProcess) => Promise<{ status: number; body: string }>): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const bot = await this.live();
      try {
        const res = await fn(bot);
        if (res.status === 200) return;
      } catch {
        // the bot died under the request: the next one takes it
      }
      await bot.exited.catch(() => undefined);
    }
    throw new Error('no bot took the request');
  }
}

beforeAll(async () => {
  await setUpInfra();
}, 180_000);

afterAll(async () => {
  await tearDownInfra();
});

const keyOf = (m: StoredMessage) => (m.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key;

/** Sets a PENDING request's due time to now (and its deadline, for a timeout): the test's clock moving on. */
async function dueNow(s: Scenario, id: string, opts: { deadline?: boolean } = {}): Promise<void> {
  for (;;) {
    const r = (await s.store.get(id))!;
    const now = Date.now();
    try {
      await s.store.transition({ id, expectStatus: 'PENDING', expectVersion: r.version, status: 'PENDING', set: { dueAt: now, ...(opts.deadline ? { approvalDeadline: new Date(now).toISOString() } : {}) } });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}

it(
  'a replica killed between Slack\'s answer and the record, after each kind of message: every message shows once',
  async () => {
    const s = await newScenario('messages-once');
    const sup = new Supervisor(s, KINDS);
    await withBotLogs(s, async () => {
      const { slack, fakeEc2 } = shared();
      slack.channels.set(AUDIT_CHANNEL, { name: 'jit-audit', isMember: true });
      fakeEc2.removeGroup(GONE_GROUP);
      fakeEc2.deny(LOCKED_GROUP, 'RevokeSecurityGroupIngress');

      /**
       * `/jit request …` through whichever bot is up; its id, from the store (the ephemeral reply
       * is not a message the bot keeps: a bot that dies right after the request was stored never
       * sends it, as it would not in production).
       */
      const known = new Set<string>();
      const request = async (text: string): Promise<string> => {
        await sup.send((bot) => slashCommand(bot.eventsUrl, SIGNING_SECRET, { userId: REQUESTER, text, responseUrl: slack.responseUrl() }));
        const since = new Date(Date.now() - 60 * 60_000).toISOString();
        const fresh = await waitFor(async () => (await s.store.historyOfRequester(REQUESTER, since, 50)).requests.find((r) => !known.has(r.id)), { timeoutMs: 20_000, message: `request stored: /jit ${text}` });
        known.add(fresh.id);
        return fresh.id;
      };
      /** Waits until everything the request queued is delivered (through as many crashes as it takes). */
      const delivered = (id: string, what: string) =>
        waitFor(async () => Object.keys((await s.store.get(id))?.outbox ?? { x: 1 }).length === 0, { timeoutMs: 60_000, intervalMs: 100, message: `${id}: ${what} delivered` });
      const click = (id: string, action: 'approve' | 'deny') =>
        action === 'approve'
          ? sup.send(async (bot) => (await approve(bot, APPROVER, id), { status: 200, body: '' }))
          : sup.send((bot) => blockAction(bot.eventsUrl, SIGNING_SECRET, { userId: APPROVER, actionId: ACTION_DENY, value: id, channel: APPROVER_CHANNEL, messageTs: approvalMessage(id)?.ts ?? '0', responseUrl: slack.responseUrl(), messageBlocks: (approvalMessage(id)?.blocks as unknown[]) ?? [] }));

      // An approval that runs to its expiry.
      const granted = await request(`request prod-bastion ${LONG_GRANT} ${nextAddress()} messages once`);
      await delivered(granted, 'the approval message');
      await click(granted, 'approve');
      await waitForStatus(s, [granted], 'ACTIVE', 30_000);
      await delivered(granted, 'the grant messages');
      await moveExpiry(s, granted, Date.now() + 3_000, Date.now());
      await waitForStatus(s, [granted], 'REVOKED', 60_000);
      await delivered(granted, 'the warning and the end');

      // A denial.
      const denied = await request(`request prod-bastion 10m ${nextAddress()} to be denied`);
      await delivered(denied, 'the approval message');
      await click(denied, 'deny');
      await waitForStatus(s, [denied], 'DENIED', 30_000);
      await delivered(denied, 'the denial');

      // A reminder (a thread reply and a DM to each approver), then a timeout.
      const waiting = await request(`request prod-bastion 10m ${nextAddress()} nobody answers`);
      await delivered(waiting, 'the approval message');
      await dueNow(s, waiting);
      await waitFor(async () => ((await s.store.get(waiting))?.remindersSent ?? 0) >= 1, { timeoutMs: 30_000, message: 'reminder sent' });
      await delivered(waiting, 'the reminder');
      await dueNow(s, waiting, { deadline: true });
      await waitForStatus(s, [waiting], 'EXPIRED', 30_000);
      await delivered(waiting, 'the timeout');

      // Break-glass, taken at once.
      const glass = await request(`request prod-bastion 10m ${nextAddress()} --break-glass incident in progress`);
      await waitForStatus(s, [glass], 'ACTIVE', 30_000);
      await delivered(glass, 'the break-glass alert');

      // A grant that fails for good (the group is gone).
      const failed = await request(`request gone-bastion 10m ${nextAddress()} group was deleted`);
      await delivered(failed, 'the approval message');
      await click(failed, 'approve');
      await waitForStatus(s, [failed], 'FAILED', 30_000);
      await delivered(failed, 'the failure');

      // A revoke that alerts the approvers (the bot may not revoke on that group).
      const locked = await request(`request locked-bastion ${LONG_GRANT} ${nextAddress()} revoke will be refused`);
      await delivered(locked, 'the approval message');
      await click(locked, 'approve');
      await waitForStatus(s, [locked], 'ACTIVE', 30_000);
      await moveExpiry(s, locked, Date.now() + 1_000, Date.now());
      await waitFor(async () => (await s.store.get(locked))?.flagged === true, { timeoutMs: 60_000, message: 'revoke alerted' });
      await delivered(locked, 'the alert');

      // The bot died after each kind of message…
      expect([...sup.crashedAfter].sort()).toEqual([...KINDS].sort());
      sup.stopped = true;

      // …and every message the bots posted carries its key, and shows once.
      const posts = slack.callsTo('chat.postMessage').filter((c) => !c.failed);
      expect(posts.filter((c) => (c.args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key === undefined).map((c) => c.args.text)).toEqual([]);
      const channels = [APPROVER_CHANNEL, AUDIT_CHANNEL, `D${REQUESTER}`, `D${APPROVER}`, `D${APPROVER2}`];
      const messages = channels.flatMap((c) => slack.messagesIn(c));
      const seen = new Map<string, number>();
      for (const m of messages) {
        const k = keyOf(m) ?? `(no key) ${m.channel} ${m.ts}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      expect([...seen].filter(([, n]) => n > 1)).toEqual([]);
      expect(messages).toHaveLength(posts.length); // nothing posted anywhere else
      // Each request's approval message is one top-level post; the DMs arrived (one of each).
      for (const id of [granted, denied, waiting, failed, locked]) expect(slack.messagesIn(APPROVER_CHANNEL).filter((m) => !m.thread_ts && keyOf(m)?.startsWith(`${id}/approval/`))).toHaveLength(1);
      const dms = (id: string) => slack.messagesIn(`D${REQUESTER}`).filter((m) => keyOf(m)?.startsWith(`${id}/`)).length;
      expect([dms(granted), dms(denied), dms(waiting), dms(failed)]).toEqual([3, 1, 1, 1]); // granted, warning, ended; denied; timed out; failed
      expect(slack.messagesIn(`D${APPROVER}`).concat(slack.messagesIn(`D${APPROVER2}`)).filter((m) => keyOf(m)?.startsWith(`${waiting}/`))).toHaveLength(2);
      // The resends looked before they posted.
      expect(s.bots.flatMap((b) => b.output).filter((l) => l.includes('notify.already_sent')).length).toBeGreaterThanOrEqual(KINDS.length - 2); // all but the in-place ones (approval.update, home.refresh)
    }).finally(async () => {
      sup.stopped = true;
      await killAll();
    });
  },
  600_000,
);
