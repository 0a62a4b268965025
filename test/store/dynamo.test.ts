import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { ConflictError } from '../../src/domain/errors';
import { decide, type LifecycleContext } from '../../src/lifecycle';
import { DynamoRequestStore, ensureTable } from '../../src/store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';
import { pendingRequest } from '../support/requests';

let db: EmbeddedDynamo;
let client: DynamoDBClient;
let store: DynamoRequestStore;
let ids = 0;
const ctx = (now = '2026-11-22T10:05:00.000Z'): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 300_000, owner: 'replica-a', newId: () => `n${++ids}` });
const grant = { kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: 'sgr-0abc', cidr: '203.0.113.7/32', port: 22 };

beforeAll(async () => {
  db = await startEmbeddedDynamo(undefined);
  client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  expect(await ensureTable(client, 'jit-test')).toBe('created');
  expect(await ensureTable(client, 'jit-test')).toBe('exists');
  store = new DynamoRequestStore(client, 'jit-test');
});
afterAll(async () => {
  client.destroy();
  await db.close();
});

it('creates once and reads back exactly what was stored', async () => {
  const r = pendingRequest();
  await store.create(r);
  expect(await store.get(r.id)).toEqual(r);
  await expect(store.create(r)).rejects.toBeInstanceOf(ConflictError);
  expect(await store.get('jit-missing')).toBeUndefined();
});

it('applies a transition with its audit record and notifications in one write', async () => {
  const r = pendingRequest();
  await store.create(r);
  const next = await store.transition(decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, ctx()));
  expect(next).toMatchObject({ status: 'GRANTING', version: 2, decidedBy: 'U0APPROVER', leaseOwner: 'replica-a' });
  expect(next.audit.map((a) => [a.from, a.to, a.actor])).toEqual([
    [null, 'PENDING', 'U0REQUESTER'],
    ['PENDING', 'GRANTING', 'U0APPROVER'],
  ]);
  expect(Object.values(next.outbox).map((n) => n.kind)).toEqual(['approval.update']);

  const active = await store.transition(decide(next, { type: 'granted', grant, expiresAt: '2026-11-22T10:35:00.000Z' }, ctx()));
  expect(active).toMatchObject({ status: 'ACTIVE', version: 3, grant, expiresAt: '2026-11-22T10:35:00.000Z', warnAt: '2026-11-22T10:30:00.000Z' });
  expect(active.leaseOwner).toBeUndefined();
  expect(active.audit[2]).toMatchObject({ action: 'grant', details: { securityGroupRuleId: 'sgr-0abc' } });
});

it('refuses a stale write: resolved requests cannot be changed again', async () => {
  const r = pendingRequest();
  await store.create(r);
  await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
  await expect(store.transition(decide(r, { type: 'approve', actor: 'U0OTHER', required: 1 }, ctx()))).rejects.toBeInstanceOf(ConflictError);
  const stored = await store.get(r.id);
  expect(stored).toMatchObject({ status: 'DENIED', version: 2, decidedBy: 'U0APPROVER' });
  expect(stored!.dueAt).toBeUndefined();
});

it('stores purgeAt (the TTL attribute, a Number of epoch seconds) in the write that resolves a request, and not before', async () => {
  const r = pendingRequest();
  await store.create(r);
  const raw = async () => (await client.send(new GetItemCommand({ TableName: 'jit-test', Key: { pk: { S: `REQ#${r.id}` } }, ConsistentRead: true }))).Item!;
  expect((await raw()).purgeAt).toBeUndefined();
  await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, { ...ctx(), retentionMs: 30 * 86_400_000 }));
  expect((await raw()).purgeAt).toEqual({ N: String(Math.floor(Date.parse('2026-11-22T10:05:00.000Z') / 1000) + 30 * 86_400) });
});

it('20 concurrent approvals: exactly one winner, one audit record', async () => {
  const r = pendingRequest();
  await store.create(r);
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.transition(decide(r, { type: 'approve', actor: `U0APPROVER${i}`, required: 1 }, ctx()))));
  const won = results.filter((x) => x.status === 'fulfilled');
  const lost = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(19);
  for (const l of lost) expect(l.reason).toBeInstanceOf(ConflictError);
  const stored = await store.get(r.id);
  expect(stored!.version).toBe(2);
  expect(stored!.audit.filter((a) => a.action === 'approve')).toHaveLength(1);
});

it('finds due work by the due index, oldest first, and drops resolved requests from it', async () => {
  const base = Date.parse('2030-01-01T00:00:00.000Z');
  const a = pendingRequest({ dueAt: base + 1000 });
  const b = pendingRequest({ dueAt: base + 500 });
  const later = pendingRequest({ dueAt: base + 10_000 });
  for (const r of [a, b, later]) await store.create(r);
  const due = (await store.listDue(base + 2000, 100)).filter((r) => r.dueAt! >= base);
  expect(due.map((r) => r.id)).toEqual([b.id, a.id]);
  await store.transition(decide(b, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
  expect((await store.listDue(base + 2000, 100)).map((r) => r.id)).not.toContain(b.id);
});

it('keeps undelivered notifications until acknowledged, then leaves the outbox index', async () => {
  const r = pendingRequest({ requesterId: 'U0OUTBOX' });
  await store.create(r);
  const denied = await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
  const pending = await store.listWithOutbox(100);
  expect(pending.map((p) => p.id)).toContain(r.id);
  const [first, second] = Object.keys(denied.outbox);
  await store.recordNotificationAttempt(r.id, first!, 2);
  expect((await store.get(r.id))!.outbox[first!]!.attempts).toBe(2);
  await store.ackNotification(r.id, first!);
  await store.ackNotification(r.id, first!); // a second ack is harmless
  expect((await store.listWithOutbox(100)).map((p) => p.id)).toContain(r.id);
  await store.ackNotification(r.id, second!);
  expect((await store.listWithOutbox(100)).map((p) => p.id)).not.toContain(r.id);
  expect((await store.get(r.id))!.outbox).toEqual({});
});

it('lists a requester’s requests newest first and remembers the approval message', async () => {
  const old = pendingRequest({ requesterId: 'U0LIST', createdAt: '2026-11-20T10:00:00.000Z' });
  const recent = pendingRequest({ requesterId: 'U0LIST', createdAt: '2026-11-21T10:00:00.000Z' });
  await store.create(old);
  await store.create(recent);
  expect((await store.listByRequester('U0LIST', 10)).map((r) => r.id)).toEqual([recent.id, old.id]);
  await store.setApprovalMessage(old.id, { channel: 'C0APPROVE', ts: '1.2' });
  expect((await store.get(old.id))!.approvalMessage).toEqual({ channel: 'C0APPROVE', ts: '1.2' });
  expect((await store.get(old.id))!.version).toBe(old.version);
});

describe('rule registry', () => {
  it('shares a rule between holders and lets only the last one revoke it', async () => {
    const rule = 'eu-west-1#sgr-shared1';
    await store.join(rule, 'jit-a');
    await store.join(rule, 'jit-b');
    await store.join(rule, 'jit-b'); // idempotent
    expect(await store.holders(rule)).toEqual(['jit-a', 'jit-b']);
    expect(await store.leave(rule, 'jit-a')).toEqual(['jit-b']);
    expect(await store.beginRevoke(rule)).toBe(false); // jit-b still holds it
    expect(await store.leave(rule, 'jit-b')).toEqual([]);
    expect(await store.leave(rule, 'jit-b')).toEqual([]); // idempotent
    expect(await store.beginRevoke(rule)).toBe(true);
    expect(await store.beginRevoke(rule)).toBe(true); // a retry after a crash passes again
    await expect(store.join(rule, 'jit-c')).rejects.toBeInstanceOf(ConflictError); // no newcomer during a revoke
    await store.forget(rule);
    expect(await store.holders(rule)).toEqual([]);
    await store.join(rule, 'jit-c'); // a later rule with the same id (never in practice) starts afresh
    expect(await store.holders(rule)).toEqual(['jit-c']);
  });

  it('leaveLast: the only holder leaves and begins the revoke in one write; with other holders (or none) nothing changes', async () => {
    const rule = 'eu-west-1#sgr-last1';
    await store.join(rule, 'jit-a');
    await store.join(rule, 'jit-b');
    expect(await store.leaveLast(rule, 'jit-a')).toBe(false); // jit-b holds it too: untouched
    expect(await store.holders(rule)).toEqual(['jit-a', 'jit-b']);
    expect(await store.leave(rule, 'jit-b')).toEqual(['jit-a']);
    expect(await store.leaveLast(rule, 'jit-b')).toBe(false); // not a holder
    expect(await store.leaveLast(rule, 'jit-a')).toBe(true);
    expect(await store.holders(rule)).toEqual([]);
    await expect(store.join(rule, 'jit-c')).rejects.toBeInstanceOf(ConflictError); // being revoked: no newcomer
    expect(await store.leaveLast('eu-west-1#sgr-unknown2', 'jit-a')).toBe(false);
  });

  it('20 concurrent joins and the last holder leaving: either the revoke began with no holder, or every join landed and nothing is revoked', async () => {
    const rule = 'eu-west-1#sgr-lastrace';
    await store.join(rule, 'jit-last');
    const results = await Promise.allSettled([store.leaveLast(rule, 'jit-last'), ...Array.from({ length: 20 }, (_, i) => store.join(rule, `jit-${i}`))]);
    const revoking = (results[0] as PromiseFulfilledResult<boolean>).value;
    const joined = results.slice(1).filter((r) => r.status === 'fulfilled').length;
    if (revoking) expect(await store.holders(rule)).toEqual([]);
    else expect(joined).toBe(20);
    expect(revoking && joined > 0).toBe(false);
  });

  it('leaving an unknown rule is harmless', async () => {
    expect(await store.leave('eu-west-1#sgr-unknown', 'jit-a')).toEqual([]);
    expect(await store.holders('eu-west-1#sgr-unknown')).toEqual([]);
  });

  it('20 concurrent joins and one revoke: the revoke wins only if it saw no holder', async () => {
    const rule = 'eu-west-1#sgr-race';
    const results = await Promise.allSettled([store.beginRevoke(rule), ...Array.from({ length: 20 }, (_, i) => store.join(rule, `jit-${i}`))]);
    const revoked = (results[0] as PromiseFulfilledResult<boolean>).value;
    const joined = results.slice(1).filter((r) => r.status === 'fulfilled').length;
    if (revoked) expect(await store.holders(rule)).toEqual([]);
    else expect(joined).toBe(20);
    expect(revoked && joined > 0).toBe(false);
  });
});

describe('claims and leases', () => {
  it('lets one replica claim a notification until the claim lapses', async () => {
    const r = pendingRequest();
    await store.create(r);
    const denied = await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
    const [n] = Object.keys(denied.outbox);
    expect(await store.claimNotification(r.id, n!, 'replica-a', 1_000, 31_000)).toBe(true);
    expect(await store.claimNotification(r.id, n!, 'replica-b', 2_000, 32_000)).toBe(false);
    expect(await store.claimNotification(r.id, n!, 'replica-a', 2_000, 32_000)).toBe(true); // renew own claim
    expect(await store.claimNotification(r.id, n!, 'replica-b', 40_000, 70_000)).toBe(true); // lapsed
    await store.ackNotification(r.id, n!);
    expect(await store.claimNotification(r.id, n!, 'replica-a', 80_000, 90_000)).toBe(false); // delivered
  });

  it('grants a named lease to one owner at a time', async () => {
    expect(await store.tryLease('drift', 'a', 1_000, 61_000)).toBe(true);
    expect(await store.tryLease('drift', 'b', 2_000, 62_000)).toBe(false);
    expect(await store.tryLease('drift', 'a', 30_000, 90_000)).toBe(true);
    expect(await store.tryLease('drift', 'b', 91_000, 151_000)).toBe(true);
  });

  it('hands a named lease back only for its holder (shutdown), so the next owner need not wait', async () => {
    expect(await store.tryLease('handback', 'a', 1_000, 61_000)).toBe(true);
    await store.releaseLease('handback', 'b'); // not b's: nothing changes
    expect(await store.tryLease('handback', 'b', 2_000, 62_000)).toBe(false);
    await store.releaseLease('handback', 'a');
    expect(await store.tryLease('handback', 'b', 2_000, 62_000)).toBe(true);
    await store.releaseLease('never-taken', 'a'); // no such lease: a no-op
  });
});

it('ensureTable returns only once the table and its indexes are ACTIVE (a write right after succeeds)', async () => {
  const slow = dynalite({ createTableMs: 300 });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', () => resolve()));
  const c = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  try {
    expect(await ensureTable(c, 'slow')).toBe('created');
    await new DynamoRequestStore(c, 'slow').create(pendingRequest());
  } finally {
    c.destroy();
    await new Promise((resolve) => slow.close(resolve));
  }
});

describe('audit history (byRequester, byTarget) and changed-since (byChange)', () => {
  it('pages newest first within the window; "next" only when there is another page', async () => {
    const made = Array.from({ length: 5 }, (_, i) => pendingRequest({ requesterId: 'U0HIST', targetName: 'hist-target', createdAt: `2026-11-1${i}T10:00:00.000Z` }));
    for (const r of made) await store.create(r);
    const newest = [...made].reverse().map((r) => r.id);
    const first = await store.historyOfTarget('hist-target', '2026-11-11T00:00:00.000Z', 2);
    expect(first.requests.map((r) => r.id)).toEqual(newest.slice(0, 2));
    expect(first.next).toEqual({ createdAt: made[3]!.createdAt, id: made[3]!.id });
    const second = await store.historyOfTarget('hist-target', '2026-11-11T00:00:00.000Z', 2, first.next);
    expect(second.requests.map((r) => r.id)).toEqual(newest.slice(2, 4));
    expect(second.next).toBeUndefined(); // exactly the rest: no empty third page
    expect((await store.historyOfRequester('U0HIST', '2026-11-01T00:00:00.000Z', 10)).requests.map((r) => r.id)).toEqual(newest);
    expect((await store.historyOfRequester('U0HIST', '2026-12-01T00:00:00.000Z', 10)).requests).toEqual([]);
    // Index keys are never part of the request.
    expect(first.requests[0]).not.toHaveProperty('changeMonth');
    expect(first.requests[0]).not.toHaveProperty('changedAt');
  });

  it('a request moves to the month of its latest audit record; changed-since pages across months', async () => {
    const octoberGrant = pendingRequest({ targetName: 'moving', createdAt: '2026-10-30T10:00:00.000Z', audit: [{ at: '2026-10-30T10:00:00.000Z', actor: 'U0A', action: 'request', from: null, to: 'PENDING' }] });
    const novemberOnes = Array.from({ length: 3 }, (_, i) => pendingRequest({ targetName: 'moving', createdAt: `2026-11-0${i + 2}T10:00:00.000Z`, audit: [{ at: `2026-11-0${i + 2}T10:00:00.000Z`, actor: 'U0A', action: 'request', from: null, to: 'PENDING' }] }));
    for (const r of [octoberGrant, ...novemberOnes]) await store.create(r);
    const since = '2026-10-29T00:00:00.000Z';
    const ids = async (limit: number) => {
      const out: string[] = [];
      let after;
      do {
        const page = await store.changedSince(since, '2026-11-30T00:00:00.000Z', limit, after);
        expect(page.requests.length).toBeLessThanOrEqual(limit);
        out.push(...page.requests.filter((r) => r.targetName === 'moving').map((r) => r.id));
        after = page.next;
      } while (after);
      return out;
    };
    expect(await ids(1)).toEqual([octoberGrant.id, ...novemberOnes.map((r) => r.id)]);
    // Denied on 5 November: it leaves October's bucket for November's, found once, after the 4 Nov one.
    await store.transition({ id: octoberGrant.id, expectStatus: 'PENDING', expectVersion: octoberGrant.version, status: 'DENIED', set: {}, audit: { at: '2026-11-05T09:00:00.000Z', actor: 'U0B', action: 'deny', from: 'PENDING', to: 'DENIED' } });
    expect(await ids(2)).toEqual([...novemberOnes.map((r) => r.id), octoberGrant.id]);
    expect((await store.changedSince('2026-11-05T00:00:00.000Z', '2026-11-30T00:00:00.000Z', 50)).requests.filter((r) => r.targetName === 'moving').map((r) => r.id)).toEqual([octoberGrant.id]);
  });
});
