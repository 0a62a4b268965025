/**
 * The outbox against the real store: ordered, claimed delivery across replicas, and retries
 * with backoff that never block anything else.
 */
import pino from 'pino';
import { parseConfig } from '../src/config';
import { SendRateLimitedError } from '../src/domain/errors';
import type { AccessRequest, Notification } from '../src/domain/types';
import { decide } from '../src/lifecycle';
import { OutboxProcessor } from '../src/outbox';
import { YieldLane } from '../src/yield-lane';
import type { FaultPoint, NotificationSender, SendOptions } from '../src/ports';
import type { DynamoRequestStore } from '../src/store/dynamo';
import { FakeClock } from './support/clock';
import { pendingRequest } from './support/requests';
import { useEmbeddedDynamo } from './support/store';
import { waitFor } from '../testkit/wait';

const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets: [{ name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }]
`);

/** Records what it was asked to deliver; can be told to fail like Slack does. */
class RecordingSender implements NotificationSender {
  readonly sent: Array<{ owner: string; kind: string; id: string }> = [];
  /** Every hand-over, with whether it came as a resend (sent or failed). */
  readonly handed: Array<{ kind: string; resend: boolean }> = [];
  failures = 0;
  /** When set, failures are the port's rate limit: try again after this long. */
  retryAfterMs?: number;
  constructor(private readonly owner: string) {}
  async send(n: Notification, r: AccessRequest, _t?: unknown, options?: SendOptions) {
    this.handed.push({ kind: n.kind, resend: options?.resend === true });
    await new Promise((resolve) => setTimeout(resolve, 5)); // a Web API round trip
    if (this.failures > 0) {
      this.failures--;
      if (this.retryAfterMs !== undefined) throw new SendRateLimitedError(this.retryAfterMs);
      throw Object.assign(new Error('An API error occurred: ratelimited'), { code: 'slack_webapi_rate_limited_error' });
    }
    this.sent.push({ owner: this.owner, kind: n.kind, id: r.id });
    return n.kind === 'approval.post' ? { channel: 'C0APPROVERS', ts: '1.1' } : undefined;
  }
  async alert() {}
}

const dynamo = useEmbeddedDynamo();
let store: DynamoRequestStore;
const clock = new FakeClock();
const log = pino({ level: 'silent' });

beforeAll(async () => {
  store = await dynamo.newStore('outbox');
});

async function deniedRequest(): Promise<AccessRequest> {
  const at = clock.now().toISOString();
  const r = pendingRequest({ outbox: { [`${at}-post`]: { id: `${at}-post`, kind: 'approval.post', createdAt: at } } });
  await store.create(r);
  clock.advance(1000);
  return store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, { now: clock.now(), leaseMs: 1000, expiryWarningMs: 1000, owner: 'x', newId: () => Math.random().toString(36).slice(2) }));
}

it('two replicas draining the same outbox deliver each message once, in order', async () => {
  const requests = await Promise.all(Array.from({ length: 10 }, () => deniedRequest()));
  const a = new RecordingSender('a');
  const b = new RecordingSender('b');
  const pa = new OutboxProcessor({ store, sender: a, config, clock, log, owner: 'a' });
  const pb = new OutboxProcessor({ store, sender: b, config, clock, log, owner: 'b' });
  for (let round = 0; round < 5; round++) await Promise.all([pa.drain(), pb.drain(), pa.drain(), pb.drain()]);
  const sent = [...a.sent, ...b.sent];
  expect(sent).toHaveLength(requests.length * 3);
  for (const r of requests) {
    const kinds = (who: RecordingSender) => who.sent.filter((s) => s.id === r.id).map((s) => s.kind);
    const all = sent.filter((s) => s.id === r.id).map((s) => s.kind);
    expect(all.sort()).toEqual(['approval.post', 'approval.update', 'dm.denied']);
    // Whichever replica sent a request's messages, each sent them in order.
    for (const who of [a, b]) expect(kinds(who)).toEqual(['approval.post', 'approval.update', 'dm.denied'].filter((k) => kinds(who).includes(k)));
    const stored = await store.get(r.id);
    expect(stored!.outbox).toEqual({});
    expect(stored!.approvalMessage).toEqual({ channel: 'C0APPROVERS', ts: '1.1' });
  }
});

it('a failing Slack keeps messages queued with backoff, then delivers them', async () => {
  const r = await deniedRequest();
  const sender = new RecordingSender('a');
  sender.failures = 2;
  const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a', claimMs: 1 });
  await p.drain();
  let stored = await store.get(r.id);
  expect(Object.values(stored!.outbox).find((n) => n.kind === 'approval.post')!.attempts).toBe(1);
  await p.drain(); // inside the backoff window: not retried yet
  expect(sender.sent).toHaveLength(0);
  clock.advance(1_500);
  await p.drain();
  clock.advance(2_500);
  await p.drain();
  stored = await store.get(r.id);
  expect(stored!.outbox).toEqual({});
  expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
});

it('a rate-limited sender (SendRateLimitedError) is retried no sooner than it asked', async () => {
  const r = await deniedRequest();
  const sender = new RecordingSender('a');
  sender.failures = 1;
  sender.retryAfterMs = 30_000;
  const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a', claimMs: 1 });
  await p.drain();
  clock.advance(5_000); // well past the first exponential step (1 s), inside the sender's 30 s
  await p.drain();
  expect(sender.sent).toHaveLength(0);
  expect(Object.values((await store.get(r.id))!.outbox).find((n) => n.kind === 'approval.post')!.attempts).toBe(1);
  clock.advance(25_001);
  await p.drain();
  expect((await store.get(r.id))!.outbox).toEqual({});
  expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
});

it('the outbox reads rate limits only from the port: a Slack-shaped retryAfter on a plain error is not honoured', async () => {
  const r = await deniedRequest();
  const slackShaped: NotificationSender = {
    send: async () => {
      throw Object.assign(new Error('An API error occurred: ratelimited'), { code: 'slack_webapi_rate_limited_error', retryAfter: 30 });
    },
    alert: async () => {},
  };
  const p = new OutboxProcessor({ store, sender: slackShaped, config, clock, log, owner: 'a', claimMs: 1 });
  await p.drain();
  clock.advance(1_001); // the first exponential step, not Slack's 30 s
  await p.drain();
  expect(Object.values((await store.get(r.id))!.outbox).find((n) => n.kind === 'approval.post')!.attempts).toBe(2);
});

it('a store failure during delivery is logged, never an unhandled rejection, and stop() waits for everything', async () => {
  const r = await deniedRequest();
  const lines: string[] = [];
  const logged = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
  const failing = Object.create(store) as DynamoRequestStore;
  failing.get = async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:1');
  };
  const unhandled = jest.fn();
  process.on('unhandledRejection', unhandled);
  try {
    const p = new OutboxProcessor({ store: failing, sender: new RecordingSender('a'), config, clock, log: logged, owner: 'a' });
    p.kick(r.id);
    p.kick(r.id);
    await p.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).not.toHaveBeenCalled();
    expect(lines.join('')).toMatch(/delivery failed; will retry.*ECONNREFUSED|ECONNREFUSED.*delivery failed/);
    p.kick(r.id); // after stop: ignored
    await p.idle();
  } finally {
    process.off('unhandledRejection', unhandled);
  }
});

describe('one claim and one ack per delivery pass', () => {
  /** The store with its outbox calls counted. */
  function counting() {
    const calls: string[] = [];
    const counted = Object.create(store) as DynamoRequestStore;
    for (const m of ['get', 'claimNotification', 'ackNotification', 'claimNotifications', 'ackNotifications', 'setApprovalMessage'] as const) {
      const f = (store[m] as (...a: unknown[]) => Promise<unknown>).bind(store);
      (counted as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
        calls.push(m);
        return f(...a);
      };
    }
    return { counted, calls };
  }

  it('a pass of three messages costs one claim and one ack, which remembers the approval message and leaves the outbox index', async () => {
    const r = await deniedRequest();
    const { counted, calls } = counting();
    const sender = new RecordingSender('a');
    const p = new OutboxProcessor({ store: counted, sender, config, clock, log, owner: 'a' });
    p.kick(r.id);
    await p.idle();
    expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
    expect(calls).toEqual(['get', 'claimNotifications', 'ackNotifications']);
    const stored = await store.get(r.id);
    expect(stored!.outbox).toEqual({});
    expect(stored!.approvalMessage).toEqual({ channel: 'C0APPROVERS', ts: '1.1' });
    expect((await store.listWithOutbox(1000)).map((x) => x.id)).not.toContain(r.id);
  });

  it('a pass that fails after posting the approval message acks what it sent with the message ref; the rest waits', async () => {
    const r = await deniedRequest();
    const sender = new RecordingSender('a');
    const failing: NotificationSender = {
      send: async (n, req) => {
        if (n.kind === 'approval.update') throw new Error('slack is down');
        return sender.send(n, req);
      },
      alert: async () => {},
    };
    const p = new OutboxProcessor({ store, sender: failing, config, clock, log, owner: 'a' });
    p.kick(r.id);
    await p.idle();
    const stored = (await store.get(r.id))!;
    expect(stored.approvalMessage).toEqual({ channel: 'C0APPROVERS', ts: '1.1' });
    expect(Object.values(stored.outbox).map((n) => [n.kind, n.attempts])).toEqual(expect.arrayContaining([['approval.update', 1], ['dm.denied', undefined]]));
    expect(Object.values(stored.outbox).map((n) => n.kind)).not.toContain('approval.post');
    expect((await store.listWithOutbox(1000)).map((x) => x.id)).toContain(r.id);
  });

  it('delivering right after this replica wrote the change starts from what it wrote: no read', async () => {
    const r = await deniedRequest();
    const written = (await store.get(r.id))!;
    const { counted, calls } = counting();
    const sender = new RecordingSender('a');
    const p = new OutboxProcessor({ store: counted, sender, config, clock, log, owner: 'a' });
    p.kick(r.id, written);
    await p.idle();
    expect(calls).toEqual(['claimNotifications', 'ackNotifications']);
    expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
    expect((await store.get(r.id))!.outbox).toEqual({});
  });

  it('a snapshot that is behind (its messages delivered since) sends nothing twice', async () => {
    const r = await deniedRequest();
    const stale = (await store.get(r.id))!;
    const sender = new RecordingSender('a');
    const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a' });
    p.kick(r.id);
    await p.idle();
    p.kick(r.id, stale); // e.g. a change event that raced the pass
    await p.idle();
    expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
  });

  it('a message queued after the pass was claimed stays queued (and indexed) for the next pass', async () => {
    const r = await deniedRequest();
    const queue = Object.keys((await store.get(r.id))!.outbox);
    expect(await store.claimNotifications(r.id, queue, 'a', clock.now().getTime(), clock.now().getTime() + 10_000)).toEqual({ reclaimed: new Set() });
    const late = { id: `${clock.now().toISOString()}-late`, kind: 'dm.denied' as const, createdAt: clock.now().toISOString() };
    await store.transition({ id: r.id, expectStatus: 'DENIED', expectVersion: (await store.get(r.id))!.version, status: 'DENIED', set: {}, notify: [late] });
    await store.ackNotifications(r.id, queue);
    expect(Object.keys((await store.get(r.id))!.outbox)).toEqual([late.id]);
    expect((await store.listWithOutbox(1000)).map((x) => x.id)).toContain(r.id);
  });

  it('a change written while a pass runs: the next pass starts from it, with neither a read nor a lost claim', async () => {
    const r = await deniedRequest();
    const { counted, calls } = counting();
    const sender = new RecordingSender('a');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const blocking: NotificationSender = {
      send: async (n, req) => {
        if (n.kind === 'approval.post') await gate;
        return sender.send(n, req);
      },
      alert: async () => {},
    };
    const p = new OutboxProcessor({ store: counted, sender: blocking, config, clock, log, owner: 'a' });
    p.kick(r.id, (await store.get(r.id))!);
    await waitFor(() => calls.includes('claimNotifications'), { message: 'the first pass claimed' });
    const late = { id: `${clock.now().toISOString()}-late`, kind: 'dm.denied' as const, createdAt: clock.now().toISOString() };
    const current = (await store.get(r.id))!;
    const written = await store.transition({ id: r.id, expectStatus: current.status, expectVersion: current.version, status: current.status, set: {}, notify: [late] });
    p.kick(r.id, written);
    release();
    await p.idle();
    expect(calls).toEqual(['claimNotifications', 'ackNotifications', 'claimNotifications', 'ackNotifications']);
    expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied', 'dm.denied']);
    expect((await store.get(r.id))!.outbox).toEqual({});
    expect((await store.listWithOutbox(1000)).map((x) => x.id)).not.toContain(r.id);
  });

  it('a message a dead replica had claimed goes as a resend (the sender looks for it first); the others of the pass do not', async () => {
    const r = await deniedRequest();
    const first = Object.values((await store.get(r.id))!.outbox).sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.id.localeCompare(y.id))[0]!;
    // b claimed the first message, then died (between Slack's answer and its ack, say).
    await store.claimNotification(r.id, first.id, 'b', clock.now().getTime(), clock.now().getTime() + 5_000);
    clock.advance(5_001);
    const sender = new RecordingSender('a');
    const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a' });
    p.kick(r.id);
    await p.idle();
    expect(sender.handed).toEqual([
      { kind: 'approval.post', resend: true },
      { kind: 'approval.update', resend: false },
      { kind: 'dm.denied', resend: false },
    ]);
  });

  it.each([
    ['an error that leaves it open whether Slack took it (a timeout, a 500)', undefined, true],
    ['a rate limit: Slack refused it, nothing was posted', 1_000, false],
  ])('a failed send, %s: the next attempt is a resend only when it may have reached Slack; the rest of the pass never is', async (_label, retryAfterMs, resend) => {
    const r = await deniedRequest();
    const sender = new RecordingSender('a');
    sender.failures = 1;
    sender.retryAfterMs = retryAfterMs;
    const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a' });
    p.kick(r.id);
    await p.idle();
    clock.advance(1_001);
    p.kick(r.id);
    await p.idle();
    expect(sender.handed).toEqual([
      { kind: 'approval.post', resend: false }, // failed
      { kind: 'approval.post', resend },
      { kind: 'approval.update', resend: false },
      { kind: 'dm.denied', resend: false },
    ]);
    expect((await store.get(r.id))!.outbox).toEqual({});
  });

  it('the crash point after-message-sent falls between Slack\'s answer and the record of it', async () => {
    const r = await deniedRequest();
    const sender = new RecordingSender('a');
    const seen: Array<[FaultPoint, string | undefined, number]> = [];
    const p = new OutboxProcessor({
      store, sender, config, clock, log, owner: 'a', claimMs: 5_000,
      faults: (point, requestId, detail) => {
        seen.push([point, detail, sender.sent.length]);
        throw new Error(`stopped at ${point} for ${requestId}`); // the pass ends here, before its ack
      },
    });
    p.kick(r.id);
    await p.idle();
    expect(seen).toEqual([['after-message-sent', 'approval.post', 1]]); // Slack had answered…
    expect(Object.values((await store.get(r.id))!.outbox).map((n) => n.kind).sort()).toEqual(['approval.post', 'approval.update', 'dm.denied']); // …and nothing was recorded
    clock.advance(5_001);
    const next = new RecordingSender('b');
    const pb = new OutboxProcessor({ store, sender: next, config, clock, log, owner: 'b' });
    pb.kick(r.id);
    await pb.idle();
    // The one Slack had answered goes as a resend. (The rest were handed back at the error; a kill
    // leaves their claims to lapse, and they go as resends too: test/fault/messages.test.ts.)
    expect(next.handed).toEqual([
      { kind: 'approval.post', resend: true },
      { kind: 'approval.update', resend: false },
      { kind: 'dm.denied', resend: false },
    ]);
  });

  it('another replica holding one message of the pass: this one sends nothing of that request until the claim lapses', async () => {
    const r = await deniedRequest();
    const first = Object.values((await store.get(r.id))!.outbox).sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.id.localeCompare(y.id))[0]!;
    expect(await store.claimNotification(r.id, first.id, 'b', clock.now().getTime(), clock.now().getTime() + 5_000)).toEqual({ reclaimed: new Set() });
    const sender = new RecordingSender('a');
    const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a' });
    p.kick(r.id);
    await p.idle();
    expect(sender.sent).toHaveLength(0);
    clock.advance(5_001);
    p.kick(r.id);
    await p.idle();
    expect(sender.sent.map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
  });

  it('at most `concurrency` passes run at once; the others wait their turn and all are delivered, changes made while waiting included', async () => {
    const requests = await Promise.all(Array.from({ length: 6 }, () => deniedRequest()));
    let running = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sender = new RecordingSender('a');
    const slow: NotificationSender = {
      send: async (n, req) => {
        running++;
        most = Math.max(most, running);
        try {
          await gate;
          return await sender.send(n, req);
        } finally {
          running--;
        }
      },
      alert: async () => {},
    };
    const p = new OutboxProcessor({ store, sender: slow, config, clock, log, owner: 'a', concurrency: 2 });
    const snapshots = await Promise.all(requests.map(async (r) => (await store.get(r.id))!));
    for (const r of snapshots) p.kick(r.id, r);
    await waitFor(() => running === 2, { message: 'two passes sending' });
    // The last request changes while its pass waits for a slot: the pass starts from the change.
    const last = requests.at(-1)!;
    const current = snapshots.at(-1)!;
    const late = { id: `${clock.now().toISOString()}-late`, kind: 'dm.denied' as const, createdAt: clock.now().toISOString() };
    p.kick(last.id, await store.transition({ id: last.id, expectStatus: current.status, expectVersion: current.version, status: current.status, set: {}, notify: [late] }));
    release();
    await p.idle();
    expect(most).toBe(2);
    for (const r of requests) expect((await store.get(r.id))!.outbox).toEqual({});
    expect(sender.sent.filter((x) => x.id === last.id).map((x) => x.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied', 'dm.denied']);
    expect(sender.sent).toHaveLength(6 * 3 + 1);
  });
});

describe('revocation goes first (yieldTo)', () => {
  it('a delivery pass waits while the work that goes first is under way, then delivers everything', async () => {
    const r = await deniedRequest();
    const sender = new RecordingSender('a');
    let release!: () => void;
    const revocations = new Promise<void>((resolve) => (release = resolve));
    let asked = 0;
    const outbox = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a', yieldTo: () => (asked++, revocations) });
    outbox.kick(r.id);
    await waitFor(() => asked === 1, { message: 'the pass asked whether revocations are under way' });
    await new Promise((done) => setTimeout(done, 50)); // several sends' worth of time
    expect(sender.sent).toEqual([]);
    release();
    await outbox.idle();
    expect(sender.sent.map((s) => s.kind).sort()).toEqual(Object.values(r.outbox).map((n) => n.kind).sort());
    expect((await store.get(r.id))!.outbox).toEqual({});
  });
});

it('with a lane, a pass starts only once the lane admits it, delivers everything, and frees its slot', async () => {
  const r = await deniedRequest();
  const sender = new RecordingSender('a');
  const deferred: Array<() => void> = [];
  const lane = new YieldLane(1, (run) => void deferred.push(run));
  const p = new OutboxProcessor({ store, sender, config, clock, log, owner: 'a', lane });
  const drained = p.drain();
  await waitFor(() => deferred.length === 1);
  expect(sender.sent).toHaveLength(0);
  expect(lane.running).toBe(1);
  let finished = false;
  void drained.then(() => (finished = true));
  // Other requests left in the outbox by earlier tests take their turns too.
  await waitFor(() => {
    deferred.splice(0).forEach((run) => run());
    return finished;
  });
  expect(sender.sent.filter((s) => s.id === r.id).map((s) => s.kind)).toEqual(['approval.post', 'approval.update', 'dm.denied']);
  expect(lane.running).toBe(0);
  expect((await store.get(r.id))!.outbox).toEqual({});
});
