/**
 * The store contract: every behaviour any StoreAdapter must have (DynamoDB, the embedded SQLite
 * store, any later one): conditional writes on (status, version) with exactly one winner, resolved
 * requests immutable, audit and outbox in the same write, leases and claims, the rule registry,
 * and the indexes (due, outbox, byRequester, byTarget, byChange) with their order and paging.
 *
 * Run from test/store/<adapter>-contract.test.ts: `storeContract('sqlite', async () => …)`. Each
 * test gets a fresh, empty store from `makeStore`. Adapter-only things (DynamoDB table creation
 * and migration, due shards, BatchGet paging; SQLite file, lock and schema) stay in their own files.
 */
import { ConflictError, NotFoundError } from '../../src/domain/errors';
import type { AccessRequest } from '../../src/domain/types';
import { decide, type LifecycleContext } from '../../src/lifecycle';
import type { StoreAdapter } from '../../src/ports';
import { pendingRequest } from '../support/requests';

let ids = 0;
const ctx = (now = '2026-11-22T10:05:00.000Z'): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 300_000, owner: 'replica-a', newId: () => `n${++ids}` });
const grant = { kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: 'sgr-0abc', cidr: '203.0.113.7/32', port: 22 };
const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const note = (at: string) => ({ [`${at}-+post`]: { id: `${at}-+post`, kind: 'approval.post' as const, createdAt: at } });

/**
 * A deterministic mix of requests for the index tests: due times in an order unrelated to the ids,
 * several statuses, three requesters and targets, creation and change times over two months.
 */
export function indexFixture(n = 60): AccessRequest[] {
  return Array.from({ length: n }, (_, i) => {
    const createdAt = new Date(Date.parse('2026-10-20T00:00:00.000Z') + ((i * 7919) % n) * 3_600_000 * 7).toISOString();
    const changedAt = new Date(Date.parse(createdAt) + (i % 5) * 60_000).toISOString();
    return pendingRequest({
      id: `jit-fix${String(i).padStart(6, '0')}`,
      status: i % 3 === 0 ? 'ACTIVE' : 'PENDING',
      requesterId: `U0REQ${i % 3}`,
      targetName: `target-${i % 4}`,
      createdAt,
      dueAt: i % 7 === 6 ? undefined : T0 + ((i * 37) % n) * 1_000,
      audit: [{ at: changedAt, actor: 'U0A', action: 'request', from: null, to: 'PENDING' }],
    });
  });
}

/** Every page of the history of one requester, following `next`. */
export async function allHistoryPages(store: StoreAdapter, requesterId: string, sinceIso: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after;
  do {
    const page = await store.historyOfRequester(requesterId, sinceIso, limit, after);
    pages.push(page.requests.map((r) => r.id));
    after = page.next;
  } while (after && pages.length < 1_000);
  return pages;
}

/** Every page of changedSince, following `next`. */
export async function allChangePages(store: StoreAdapter, sinceIso: string, untilIso: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let after;
  do {
    const page = await store.changedSince(sinceIso, untilIso, limit, after);
    pages.push(page.requests.map((r) => r.id));
    after = page.next;
  } while (after && pages.length < 1_000);
  return pages;
}

export function storeContract(name: string, makeStore: () => Promise<StoreAdapter>): void {
  describe(`store contract: ${name}`, () => {
    let store: StoreAdapter;
    beforeEach(async () => {
      store = await makeStore();
    });

    describe('requests and transitions', () => {
      it('creates once and reads back exactly what was stored', async () => {
        const r = pendingRequest();
        await store.create(r);
        expect(await store.get(r.id)).toEqual(r);
        await expect(store.create(r)).rejects.toBeInstanceOf(ConflictError);
        expect(await store.get('jit-missing')).toBeUndefined();
      });

      it('getMany returns the requests found, each once, and leaves out the missing ones', async () => {
        const a = pendingRequest();
        const b = pendingRequest();
        await store.create(a);
        await store.create(b);
        const found = await store.getMany([a.id, 'jit-missing', b.id, a.id]);
        expect([...found.keys()].sort()).toEqual([a.id, b.id].sort());
        expect(found.get(b.id)).toEqual(b);
        expect((await store.getMany([])).size).toBe(0);
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
        expect(await store.get(r.id)).toEqual(next);

        const active = await store.transition(decide(next, { type: 'granted', grant, expiresAt: '2026-11-22T10:35:00.000Z' }, ctx()));
        expect(active).toMatchObject({ status: 'ACTIVE', version: 3, grant, expiresAt: '2026-11-22T10:35:00.000Z', warnAt: '2026-11-22T10:30:00.000Z' });
        expect(active.leaseOwner).toBeUndefined(); // undefined in `set` removes the field
        expect(active.audit[2]).toMatchObject({ action: 'grant', details: { securityGroupRuleId: 'sgr-0abc' } });
        expect(await store.get(r.id)).toEqual(active);
      });

      it('refuses a stale write: resolved requests cannot be changed again', async () => {
        const r = pendingRequest();
        await store.create(r);
        await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
        await expect(store.transition(decide(r, { type: 'approve', actor: 'U0OTHER', required: 1 }, ctx()))).rejects.toBeInstanceOf(ConflictError);
        const stored = await store.get(r.id);
        expect(stored).toMatchObject({ status: 'DENIED', version: 2, decidedBy: 'U0APPROVER' });
        expect(stored!.dueAt).toBeUndefined();
        expect(stored!.audit).toHaveLength(2);
      });

      it('a transition of a request that does not exist is a ConflictError, and stores nothing', async () => {
        const r = pendingRequest();
        await expect(store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()))).rejects.toBeInstanceOf(ConflictError);
        expect(await store.get(r.id)).toBeUndefined();
      });

      it('stores purgeAt in the write that resolves a request, and not before', async () => {
        const r = pendingRequest();
        await store.create(r);
        expect((await store.get(r.id))!.purgeAt).toBeUndefined();
        await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, { ...ctx(), retentionMs: 30 * 86_400_000 }));
        expect((await store.get(r.id))!.purgeAt).toBe(Math.floor(Date.parse('2026-11-22T10:05:00.000Z') / 1000) + 30 * 86_400);
      });

      it('20 concurrent transitions from the same (status, version): exactly one winner, one audit record', async () => {
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
        expect(stored!.decidedBy).toBe((won[0] as PromiseFulfilledResult<AccessRequest>).value.decidedBy);
      });

      it('appends an audit record without a state change (no version bump), only in the status named', async () => {
        const r = pendingRequest();
        await store.create(r);
        const entry = { at: '2026-11-22T10:01:00.000Z', actor: 'U0REQUESTER', action: 'credentials' as const, from: 'PENDING' as const, to: 'PENDING' as const };
        await store.appendAudit(r.id, 'PENDING', entry);
        const stored = await store.get(r.id);
        expect(stored!.version).toBe(1);
        expect(stored!.audit.at(-1)).toEqual(entry);
        await expect(store.appendAudit(r.id, 'ACTIVE', entry)).rejects.toBeInstanceOf(ConflictError);
        await expect(store.appendAudit('jit-missing', 'PENDING', entry)).rejects.toBeInstanceOf(ConflictError);
        expect((await store.get(r.id))!.audit).toHaveLength(2);
      });

      it('remembers the approval message without a version bump; NotFoundError for an unknown request', async () => {
        const r = pendingRequest();
        await store.create(r);
        await store.setApprovalMessage(r.id, { channel: 'C0APPROVE', ts: '1.2' });
        expect((await store.get(r.id))!.approvalMessage).toEqual({ channel: 'C0APPROVE', ts: '1.2' });
        expect((await store.get(r.id))!.version).toBe(r.version);
        await expect(store.setApprovalMessage('jit-missing', { channel: 'C0APPROVE', ts: '1.3' })).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.get('jit-missing')).toBeUndefined();
      });
    });

    describe('due index', () => {
      it('finds due work oldest first, and drops resolved requests from it', async () => {
        const base = Date.parse('2030-01-01T00:00:00.000Z');
        const a = pendingRequest({ dueAt: base + 1000 });
        const b = pendingRequest({ dueAt: base + 500 });
        const later = pendingRequest({ dueAt: base + 10_000 });
        for (const r of [a, b, later]) await store.create(r);
        expect((await store.listDue(base + 2000, 100)).map((r) => r.id)).toEqual([b.id, a.id]);
        await store.transition(decide(b, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
        expect((await store.listDue(base + 2000, 100)).map((r) => r.id)).toEqual([a.id]);
      });

      it('a transition moves a request on the due index and takes it off when dueAt is removed', async () => {
        const r = pendingRequest({ dueAt: T0 + 1_000 });
        await store.create(r);
        const moved = await store.transition({ id: r.id, expectStatus: 'PENDING', expectVersion: 1, status: 'PENDING', set: { dueAt: T0 + 2_000 } });
        expect(moved.dueAt).toBe(T0 + 2_000);
        expect(await store.listDue(T0 + 1_500, 10)).toEqual([]);
        expect((await store.listDue(T0 + 2_000, 10)).map((x) => x.id)).toEqual([r.id]);
        await store.transition({ id: r.id, expectStatus: 'PENDING', expectVersion: 2, status: 'DENIED', set: { dueAt: undefined } });
        expect(await store.listDue(T0 + 10_000, 10)).toEqual([]);
        expect(await store.backlog(T0 + 10_000, 10)).toMatchObject({ due: 0 });
      });

      it('listDue and listPending over many requests: soonest due first, bounded by the limit and by maxRead', async () => {
        const all = indexFixture(60);
        for (const r of all) await store.create(r);
        const byDue = all.filter((r) => r.dueAt !== undefined).sort((a, b) => a.dueAt! - b.dueAt!);

        expect((await store.listDue(T0 + 59_000, 100)).map((r) => r.id)).toEqual(byDue.map((r) => r.id));
        expect((await store.listDue(T0 + 20_000, 100)).map((r) => r.id)).toEqual(byDue.filter((r) => r.dueAt! <= T0 + 20_000).map((r) => r.id));
        expect((await store.listDue(T0 + 59_000, 7)).map((r) => r.id)).toEqual(byDue.slice(0, 7).map((r) => r.id));
        expect(await store.listDue(T0 - 1, 100)).toEqual([]);

        const pending = byDue.filter((r) => r.status === 'PENDING');
        expect((await store.listPending(T0 + 59_000, 100, 1_000)).map((r) => r.id)).toEqual(pending.map((r) => r.id));
        expect((await store.listPending(T0 + 59_000, 5, 1_000)).map((r) => r.id)).toEqual(pending.slice(0, 5).map((r) => r.id));
        expect((await store.listPending(T0 + 20_000, 100, 1_000)).map((r) => r.id)).toEqual(pending.filter((r) => r.dueAt! <= T0 + 20_000).map((r) => r.id));
        // maxRead bounds the entries read (skipped ACTIVE ones count): at most what was read comes back,
        // PENDING ones only, soonest first (which ones depends on how the adapter spreads its reads).
        const bounded = await store.listPending(T0 + 59_000, 100, 10);
        expect(bounded.length).toBeGreaterThan(0);
        expect(bounded.length).toBeLessThanOrEqual(10);
        expect(bounded.every((r) => r.status === 'PENDING')).toBe(true);
        expect(bounded.map((r) => r.dueAt)).toEqual(bounded.map((r) => r.dueAt).sort((a, b) => a! - b!));

        expect((await store.backlog(T0 + 59_000, 1_000)).due).toBe(byDue.length);
        expect((await store.backlog(T0 + 59_000, 25)).due).toBe(25);
      });
    });

    describe('outbox', () => {
      it('keeps undelivered notifications until acknowledged, then leaves the outbox index', async () => {
        const r = pendingRequest({ requesterId: 'U0OUTBOX' });
        await store.create(r);
        const denied = await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
        expect((await store.listWithOutbox(100)).map((p) => p.id)).toEqual([r.id]);
        const [first, second] = Object.keys(denied.outbox);
        await store.recordNotificationAttempt(r.id, first!, 2);
        expect((await store.get(r.id))!.outbox[first!]!.attempts).toBe(2);
        expect((await store.get(r.id))!.version).toBe(denied.version);
        await store.ackNotification(r.id, first!);
        await store.ackNotification(r.id, first!); // a second ack is harmless
        await store.recordNotificationAttempt(r.id, first!, 3); // an attempt on a delivered one is harmless
        expect((await store.listWithOutbox(100)).map((p) => p.id)).toEqual([r.id]);
        await store.ackNotification(r.id, second!);
        expect(await store.listWithOutbox(100)).toEqual([]);
        expect((await store.get(r.id))!.outbox).toEqual({});
        expect(await store.outboxCount(100)).toBe(0);
        await store.ackNotification('jit-missing', 'n1'); // unknown request: harmless
      });

      it('lists requests with undelivered notifications oldest queued first; a later notification keeps its place', async () => {
        const older = pendingRequest({ createdAt: '2026-11-22T09:00:00.000Z', outbox: note('2026-11-22T09:00:00.000Z') });
        const newer = pendingRequest({ createdAt: '2026-11-22T09:30:00.000Z', outbox: note('2026-11-22T09:30:00.000Z') });
        await store.create(newer);
        await store.create(older);
        expect((await store.listWithOutbox(100)).map((r) => r.id)).toEqual([older.id, newer.id]);
        expect((await store.listWithOutbox(1)).map((r) => r.id)).toEqual([older.id]);
        // More for the older one: it keeps the time it was first queued.
        await store.transition({ id: older.id, expectStatus: 'PENDING', expectVersion: 1, status: 'PENDING', set: {}, notify: [{ id: 'later-+dm', kind: 'dm.denied', createdAt: '2026-11-22T10:00:00.000Z' }] });
        expect((await store.listWithOutbox(100)).map((r) => r.id)).toEqual([older.id, newer.id]);
        expect(Object.keys((await store.get(older.id))!.outbox).sort()).toEqual(['2026-11-22T09:00:00.000Z-+post', 'later-+dm']);
        expect(await store.backlog(T0, 100)).toMatchObject({ outbox: 2, outboxOldestAt: Date.parse('2026-11-22T09:00:00.000Z') });
      });

      it('lets one replica claim a notification until the claim lapses', async () => {
        const r = pendingRequest();
        await store.create(r);
        const denied = await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
        const [n] = Object.keys(denied.outbox);
        const claimed = (...ids: string[]) => ({ reclaimed: new Set(ids) });
        expect(await store.claimNotification(r.id, n!, 'replica-a', 1_000, 31_000)).toEqual(claimed()); // first claim
        expect(await store.claimNotification(r.id, n!, 'replica-b', 2_000, 32_000)).toBeUndefined();
        expect(await store.claimNotification(r.id, n!, 'replica-a', 2_000, 32_000)).toEqual(claimed(n!)); // renew own claim (a pass that may have sent it)
        expect(await store.claimNotification(r.id, n!, 'replica-b', 40_000, 70_000)).toEqual(claimed(n!)); // lapsed: a taken-over pass may have sent it
        expect((await store.get(r.id))!.outbox[n!]).toMatchObject({ claimedBy: 'replica-b', claimUntil: 70_000 });
        await store.ackNotification(r.id, n!);
        expect(await store.claimNotification(r.id, n!, 'replica-a', 80_000, 90_000)).toBeUndefined(); // delivered
        expect(await store.claimNotification('jit-missing', n!, 'replica-a', 80_000, 90_000)).toBeUndefined();
      });
    });

    describe('delivery passes (one claim and one ack for all of a request\'s notifications)', () => {
      /** A request with several undelivered notifications (the approval post, then what a denial sends). */
      async function twoQueued(): Promise<{ r: AccessRequest; ns: string[] }> {
        const r = pendingRequest({ createdAt: '2026-11-22T09:00:00.000Z', outbox: note('2026-11-22T09:00:00.000Z') });
        await store.create(r);
        const denied = await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, ctx()));
        const ns = Object.keys(denied.outbox).sort();
        expect(ns.length).toBeGreaterThanOrEqual(2);
        return { r, ns };
      }

      it('says which of a pass were claimed before (a pass that stopped between send and ack), and only those', async () => {
        const { r, ns } = await twoQueued();
        expect(await store.claimNotification(r.id, ns[0]!, 'replica-b', 1_000, 31_000)).toEqual({ reclaimed: new Set() });
        // b dies holding the first; a takes the pass over once b's claim lapsed.
        expect(await store.claimNotifications!(r.id, ns, 'replica-a', 40_000, 70_000)).toEqual({ reclaimed: new Set([ns[0]]) });
        await store.ackNotifications!(r.id, [ns[0]!]);
        expect(Object.keys((await store.get(r.id))!.outbox)).not.toContain(ns[0]);
      });

      it('hands back only its own claims (a failed pass): the next claim of those is not a resend', async () => {
        const { r, ns } = await twoQueued();
        await store.claimNotifications!(r.id, ns, 'replica-a', 1_000, 31_000);
        await store.releaseNotifications!(r.id, ns, 'replica-b'); // not b's: nothing changes
        expect(await store.claimNotifications!(r.id, ns, 'replica-b', 2_000, 32_000)).toBeUndefined();
        await store.releaseNotifications!(r.id, ns.slice(1), 'replica-a');
        await store.releaseNotifications!(r.id, ['gone'], 'replica-a'); // not there: nothing changes
        expect((await store.get(r.id))!.outbox[ns[1]!]).not.toHaveProperty('claimedBy');
        expect(await store.claimNotifications!(r.id, ns.slice(1), 'replica-b', 2_000, 32_000)).toEqual({ reclaimed: new Set() });
        expect(await store.claimNotification(r.id, ns[0]!, 'replica-b', 2_000, 32_000)).toBeUndefined(); // still a's
      });

      it('claims all or none: another replica\'s unlapsed claim on one of them refuses the whole pass', async () => {
        const { r, ns } = await twoQueued();
        const claimed = (...ids: string[]) => ({ reclaimed: new Set(ids) });
        expect(await store.claimNotification(r.id, ns[1]!, 'replica-b', 1_000, 31_000)).toEqual(claimed());
        expect(await store.claimNotifications!(r.id, ns, 'replica-a', 2_000, 32_000)).toBeUndefined();
        // Nothing of the refused pass was claimed: b's claim lapses, and the first one is still free for b.
        expect(await store.claimNotification(r.id, ns[0]!, 'replica-b', 2_000, 32_000)).toEqual(claimed());
        expect(await store.claimNotifications!(r.id, ns, 'replica-a', 40_000, 70_000)).toEqual(claimed(ns[0]!, ns[1]!)); // both lapsed: taken over (the rest were never claimed)
        expect(await store.claimNotifications!(r.id, ns, 'replica-b', 41_000, 71_000)).toBeUndefined();
        expect(await store.claimNotifications!(r.id, ns, 'replica-a', 41_000, 71_000)).toEqual(claimed(...ns)); // renew own
        expect(await store.claimNotifications!(r.id, [...ns, 'gone'], 'replica-a', 42_000, 72_000)).toBeUndefined(); // one is not there
        expect(await store.claimNotifications!('jit-missing', ns, 'replica-a', 42_000, 72_000)).toBeUndefined();
        expect(await store.claimNotifications!(r.id, [], 'replica-b', 42_000, 72_000)).toEqual(claimed()); // nothing to claim
        // An id no notification has, however it is spelled (quotes, dots, a JSON path of its own).
        for (const odd of ['we"ird', 'a.b', '$.outbox']) {
          expect(await store.claimNotifications!(r.id, [ns[0]!, odd], 'replica-a', 42_000, 72_000)).toBeUndefined();
          await store.ackNotifications!(r.id, [odd]);
        }
        expect(Object.keys((await store.get(r.id))!.outbox).sort()).toEqual(ns);
      });

      it('acks a whole pass in one call, leaving the outbox index when nothing is left, and keeps where the approval was posted', async () => {
        const { r, ns } = await twoQueued();
        const at = { channel: 'C0APPROVERS', ts: '1700000000.000100' };
        await store.ackNotifications!(r.id, ns, at);
        const after = (await store.get(r.id))!;
        expect(after.outbox).toEqual({});
        expect(after.approvalMessage).toEqual(at);
        expect(await store.listWithOutbox(100)).toEqual([]);
        expect(await store.outboxCount(100)).toBe(0);
        expect(after.version).toBe(2); // bookkeeping: no state change
        await store.ackNotifications!(r.id, ns); // again: harmless
        await store.ackNotifications!('jit-missing', ns); // unknown request: harmless
      });

      it('an ack of part of the outbox leaves the rest queued, in its place', async () => {
        const { r, ns } = await twoQueued();
        await store.ackNotifications!(r.id, [ns[0]!]);
        expect(Object.keys((await store.get(r.id))!.outbox).sort()).toEqual(ns.slice(1));
        expect((await store.listWithOutbox(100)).map((p) => p.id)).toEqual([r.id]);
        expect(await store.backlog(T0, 100)).toMatchObject({ outbox: 1 });
      });
    });

    describe('leases', () => {
      it('grants a named lease to one owner at a time, until it expires', async () => {
        expect(await store.tryLease('drift', 'a', 1_000, 61_000)).toBe(true);
        expect(await store.tryLease('drift', 'b', 2_000, 62_000)).toBe(false);
        expect(await store.tryLease('drift', 'b', 61_000, 121_000)).toBe(false); // not yet lapsed at its very end
        expect(await store.tryLease('drift', 'a', 30_000, 90_000)).toBe(true); // the owner renews
        expect(await store.tryLease('drift', 'b', 91_000, 151_000)).toBe(true); // lapsed: taken over
        expect(await store.tryLease('drift', 'a', 100_000, 160_000)).toBe(false); // and now it is b's
        expect(await store.tryLease('other', 'a', 100_000, 160_000)).toBe(true); // leases are independent
      });

      it('hands a named lease back only for its holder (shutdown), so the next owner need not wait', async () => {
        expect(await store.tryLease('handback', 'a', 1_000, 61_000)).toBe(true);
        await store.releaseLease('handback', 'b'); // not b's: nothing changes
        expect(await store.tryLease('handback', 'b', 2_000, 62_000)).toBe(false);
        await store.releaseLease('handback', 'a');
        expect(await store.tryLease('handback', 'b', 2_000, 62_000)).toBe(true);
        await store.releaseLease('never-taken', 'a'); // no such lease: a no-op
        expect(await store.tryLease('never-taken', 'b', 2_000, 62_000)).toBe(true);
      });

      it('concurrent takers of a free lease: exactly one wins', async () => {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.tryLease('race', `owner-${i}`, 1_000, 61_000)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('rule registry', () => {
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

      it('shares a rule between holders and lets only the last one revoke it', async () => {
        const rule = 'eu-west-1#sgr-shared1';
        await store.join(rule, 'jit-b');
        await store.join(rule, 'jit-a');
        await store.join(rule, 'jit-b'); // idempotent
        expect(await store.holders(rule)).toEqual(['jit-a', 'jit-b']);
        expect(await store.leave(rule, 'jit-a')).toEqual(['jit-b']);
        expect(await store.beginRevoke(rule)).toBe(false); // jit-b still holds it
        await store.forget(rule); // not while held
        expect(await store.holders(rule)).toEqual(['jit-b']);
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

      it('leaving an unknown rule is harmless; revoking one nobody holds is allowed and bars newcomers', async () => {
        expect(await store.leave('eu-west-1#sgr-unknown', 'jit-a')).toEqual([]);
        expect(await store.holders('eu-west-1#sgr-unknown')).toEqual([]);
        expect(await store.beginRevoke('eu-west-1#sgr-never')).toBe(true);
        await expect(store.join('eu-west-1#sgr-never', 'jit-a')).rejects.toBeInstanceOf(ConflictError);
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

      it('holdersOf answers every key asked, [] when unknown, holders sorted', async () => {
        await store.join('r#1', 'jit-z');
        await store.join('r#1', 'jit-a');
        await store.join('r#2', 'jit-m');
        const keys = ['r#1', 'r#2', 'r#unknown', 'r#1'];
        const found = await store.holdersOf(keys);
        expect([...found.keys()].sort()).toEqual(['r#1', 'r#2', 'r#unknown']);
        expect(found.get('r#1')).toEqual(['jit-a', 'jit-z']);
        expect(found.get('r#2')).toEqual(['jit-m']);
        expect(found.get('r#unknown')).toEqual([]);
        const many = Array.from({ length: 250 }, (_, i) => `r#many-${i}`);
        for (const k of many.slice(0, 3)) await store.join(k, 'jit-x');
        const manyFound = await store.holdersOf(many);
        expect(manyFound.size).toBe(250);
        expect([...manyFound.values()].filter((h) => h.length > 0)).toHaveLength(3);
      });
    });

    describe('held rules (the drift sweep\'s list)', () => {
      it('lists every rule with holders and none without: shared, left, revoking, forgotten; 300 over every shard', async () => {
        await store.join('h#shared', 'jit-a');
        await store.join('h#shared', 'jit-b');
        await store.leave('h#shared', 'jit-a');
        await store.join('h#left', 'jit-a');
        await store.leave('h#left', 'jit-a');
        await store.join('h#last', 'jit-a');
        expect(await store.leaveLast('h#last', 'jit-a')).toBe(true);
        await store.join('h#gone', 'jit-a');
        await store.leave('h#gone', 'jit-a');
        expect(await store.beginRevoke('h#gone')).toBe(true);
        await store.forget('h#gone');
        expect(await store.beginRevoke('h#never')).toBe(true);
        const many = Array.from({ length: 300 }, (_, i) => `h#many-${i}`);
        for (const k of many) await store.join(k, `jit-${k.slice(2)}`);
        const listed = [...((await store.heldRules!()) ?? [])].filter((k) => k.startsWith('h#')).sort();
        expect(listed).toEqual(['h#shared', ...many].sort());
        // What the list shows as held, the consistent read agrees with.
        const holders = await store.holdersOf(listed);
        expect([...holders.values()].every((h) => h.length > 0)).toBe(true);
      });
    });

    describe('history and change indexes', () => {
      it('lists a requester’s requests newest first', async () => {
        const old = pendingRequest({ requesterId: 'U0LIST', createdAt: '2026-11-20T10:00:00.000Z' });
        const recent = pendingRequest({ requesterId: 'U0LIST', createdAt: '2026-11-21T10:00:00.000Z' });
        await store.create(old);
        await store.create(recent);
        await store.create(pendingRequest({ requesterId: 'U0SOMEONEELSE' }));
        expect((await store.listByRequester('U0LIST', 10)).map((r) => r.id)).toEqual([recent.id, old.id]);
        expect((await store.listByRequester('U0LIST', 1)).map((r) => r.id)).toEqual([recent.id]);
      });

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
        expect(first.requests[0]).toEqual(made[4]);
      });

      it('history pages of requests created at the same instant neither repeat nor skip one', async () => {
        const same = Array.from({ length: 7 }, () => pendingRequest({ requesterId: 'U0SAME', createdAt: '2026-11-15T10:00:00.000Z' }));
        for (const r of same) await store.create(r);
        const pages = await allHistoryPages(store, 'U0SAME', '2026-11-01T00:00:00.000Z', 3);
        expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
        expect(pages.flat().sort()).toEqual(same.map((r) => r.id).sort());
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
            out.push(...page.requests.map((r) => r.id));
            after = page.next;
          } while (after);
          return out;
        };
        expect(await ids(1)).toEqual([octoberGrant.id, ...novemberOnes.map((r) => r.id)]);
        // Denied on 5 November: it leaves October's bucket for November's, found once, after the 4 Nov one.
        await store.transition({ id: octoberGrant.id, expectStatus: 'PENDING', expectVersion: octoberGrant.version, status: 'DENIED', set: {}, audit: { at: '2026-11-05T09:00:00.000Z', actor: 'U0B', action: 'deny', from: 'PENDING', to: 'DENIED' } });
        expect(await ids(2)).toEqual([...novemberOnes.map((r) => r.id), octoberGrant.id]);
        expect((await store.changedSince('2026-11-05T00:00:00.000Z', '2026-11-30T00:00:00.000Z', 50)).requests.map((r) => r.id)).toEqual([octoberGrant.id]);
        // An audit record that is no state change moves it too.
        await store.appendAudit(novemberOnes[0]!.id, 'PENDING', { at: '2026-11-06T09:00:00.000Z', actor: 'U0A', action: 'credentials', from: 'PENDING', to: 'PENDING' });
        expect((await store.changedSince('2026-11-05T00:00:00.000Z', '2026-11-30T00:00:00.000Z', 50)).requests.map((r) => r.id)).toEqual([octoberGrant.id, novemberOnes[0]!.id]);
      });

      it('changed-since pages over requests changed at the same instant neither repeat nor skip one', async () => {
        const same = Array.from({ length: 7 }, () => pendingRequest({ createdAt: '2026-11-15T10:00:00.000Z' }));
        for (const r of same) await store.create(r);
        for (const limit of [1, 3, 7, 8]) {
          const pages = await allChangePages(store, '2026-11-01T00:00:00.000Z', '2026-11-30T00:00:00.000Z', limit);
          expect(pages.flat().sort()).toEqual(same.map((r) => r.id).sort());
        }
      });

      it('the index results over a fixture of many requests are exactly the expected ones (every adapter answers the same)', async () => {
        const all = indexFixture(60);
        for (const r of all) await store.create(r);
        const changed = (r: AccessRequest) => new Date(r.audit.at(-1)!.at).toISOString();
        // History: newest first (ties by id, descending), every page cursor round-trips.
        const of0 = all.filter((r) => r.requesterId === 'U0REQ0').sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
        const since = '2026-10-25T00:00:00.000Z';
        const pages = await allHistoryPages(store, 'U0REQ0', since, 4);
        expect(pages.flat()).toEqual(of0.filter((r) => r.createdAt >= since).map((r) => r.id));
        expect(pages.slice(0, -1).every((p) => p.length === 4)).toBe(true);
        // Changed since: oldest change first, across the October and November buckets, at any page size.
        const window = all.filter((r) => changed(r) >= since).sort((a, b) => (changed(a) === changed(b) ? (a.id < b.id ? -1 : 1) : changed(a) < changed(b) ? -1 : 1));
        for (const limit of [1, 7, 100]) expect((await allChangePages(store, since, '2026-11-30T00:00:00.000Z', limit)).flat()).toEqual(window.map((r) => r.id));
      });
    });

    describe('operational reads', () => {
      it('ping answers', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });

      it('counts due requests (dueAt <= now) and requests with undelivered notifications, up to the bound', async () => {
        expect(await store.backlog(T0, 1000)).toEqual({ due: 0, outbox: 0 });
        for (let i = 0; i < 5; i++) await store.create(pendingRequest({ dueAt: T0 - i * 1000 }));
        await store.create(pendingRequest({ dueAt: T0 + 60_000 })); // not due yet
        await store.create(pendingRequest({ dueAt: undefined, createdAt: '2026-11-22T09:58:00.000Z', outbox: note('2026-11-22T09:58:00.000Z') }));
        await store.create(pendingRequest({ dueAt: undefined, createdAt: '2026-11-22T09:59:00.000Z', outbox: note('2026-11-22T09:59:00.000Z') }));

        expect(await store.backlog(T0, 1000)).toEqual({ due: 5, outbox: 2, outboxOldestAt: Date.parse('2026-11-22T09:58:00.000Z') });
        expect(await store.backlog(T0 + 60_000, 1000)).toMatchObject({ due: 6 });
        expect(await store.backlog(T0, 3)).toMatchObject({ due: 3, outbox: 2 });
        expect(await store.outboxCount(1000)).toBe(2);
        expect(await store.outboxCount(1)).toBe(1);
      });
    });
  });
}
