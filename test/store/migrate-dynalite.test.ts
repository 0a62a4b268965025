/**
 * The upgrade from the dynalite store to SQLite: a data directory written by the DynamoDB adapter
 * on dynalite (requests in every kind of state, live grants with their due times, undelivered
 * notifications, shared-rule holders, a rule being revoked, leases) is copied into jit.sqlite,
 * which then answers exactly as the old store did; the old files are kept in a backup folder; a
 * second start does not migrate again; a migration cut short starts over.
 */
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { decide, type LifecycleContext } from '../../src/lifecycle';
import type { AccessRequest } from '../../src/domain/types';
import type { StoreAdapter } from '../../src/ports';
import { DynamoRequestStore, ensureTable } from '../../src/store/dynamo';
import { DataDirLockedError, startEmbeddedDynamo } from '../../src/store/embedded';
import { openEmbeddedStore, SQLITE_FILE } from '../../src/store/local';
import { hasLegacyStore, LEGACY_TABLE, migrateDynaliteStore } from '../../src/store/migrate-dynalite';
import { openSqliteStore } from '../../src/store/sqlite';
import { pendingRequest } from '../support/requests';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'jit-migrate-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

let ids = 0;
const T0 = '2026-11-22T10:00:00.000Z';
const ctx = (now = '2026-11-22T10:05:00.000Z'): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 300_000, owner: 'replica-a', newId: () => `n${++ids}` });
const grantOf = (rule: string) => ({ kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: rule, cidr: '203.0.113.7/32', port: 22 });

interface OldStore {
  ids: Record<'pending' | 'granting' | 'active1' | 'active2' | 'activeOther' | 'denied' | 'revoked', string>;
}

/** Writes a store with the DynamoDB adapter on dynalite into `dir`, as a bot of an earlier version did. */
async function writeOldStore(dir: string): Promise<OldStore> {
  const db = await startEmbeddedDynamo(dir);
  const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  try {
    await ensureTable(client, LEGACY_TABLE);
    const store = new DynamoRequestStore(client, LEGACY_TABLE);
    const make = async (requester: string, target = 'prod-bastion') => {
      const r = pendingRequest({ requesterId: requester, targetName: target, createdAt: T0 });
      await store.create(r);
      return r;
    };
    const approve = (r: AccessRequest) => store.transition(decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, ctx()));
    const activate = async (r: AccessRequest, rule: string, expiresAt: string) => store.transition(decide(await approve(r), { type: 'granted', grant: grantOf(rule), expiresAt }, ctx()));

    const pending = await make('U0ALICE');
    const granting = await approve(await make('U0BOB'));
    // Two live grants share one rule (same group, port and address); a third holds its own.
    const active1 = await activate(await make('U0CAROL'), 'sgr-shared', '2026-11-22T10:35:00.000Z');
    const active2 = await activate(await make('U0DAVE'), 'sgr-shared', '2026-11-22T10:40:00.000Z');
    const activeOther = await activate(await make('U0ERIN', 'db-bastion'), 'sgr-other', '2026-11-22T10:20:00.000Z');
    await store.join('eu-west-1#sgr-shared', active1.id);
    await store.join('eu-west-1#sgr-shared', active2.id);
    await store.join('eu-west-1#sgr-other', activeOther.id);
    await store.beginRevoke('eu-west-1#sgr-gone'); // a rule being revoked: takes no new holder
    const denied = await store.transition(decide(await make('U0FRANK'), { type: 'deny', actor: 'U0APPROVER' }, ctx()));
    const toRevoke = await activate(await make('U0GRACE'), 'sgr-revoked', '2026-11-22T10:30:00.000Z');
    const revoking = await store.transition(decide(toRevoke, { type: 'revoke', actor: 'U0GRACE' }, ctx('2026-11-22T10:10:00.000Z')));
    const revoked = await store.transition(decide(revoking, { type: 'revoked', removed: true, outcome: 'verified' }, ctx('2026-11-22T10:11:00.000Z')));
    // One notification delivered, one attempted and claimed: the outbox keeps the rest.
    const firstNote = Object.keys((await store.get(active1.id))!.outbox)[0]!;
    await store.ackNotification(active1.id, firstNote);
    const otherNote = Object.keys((await store.get(active2.id))!.outbox)[0]!;
    await store.recordNotificationAttempt(active2.id, otherNote, 2);
    await store.claimNotification(active2.id, otherNote, 'replica-a', Date.parse(T0), Date.parse(T0) + 15_000);
    await store.setApprovalMessage(pending.id, { channel: 'C0APPROVERS', ts: '1700000000.000100' });
    await store.tryLease('drift', 'replica-a', Date.parse(T0), Date.parse(T0) + 60_000);
    // Something this version does not know: kept in the backup, not copied.
    await client.send(new PutItemCommand({ TableName: LEGACY_TABLE, Item: { pk: { S: 'FUTURE#x' } } }));
    return { ids: { pending: pending.id, granting: granting.id, active1: active1.id, active2: active2.id, activeOther: activeOther.id, denied: denied.id, revoked: revoked.id } };
  } finally {
    client.destroy();
    await db.close();
  }
}

/** What a store answers about everything in OldStore: the two stores must answer the same. */
async function answers(store: StoreAdapter, old: OldStore) {
  const all = Object.values(old.ids);
  const many = await store.getMany(all);
  return {
    requests: Object.fromEntries(await Promise.all(all.map(async (id) => [id, await store.get(id)]))),
    many: all.map((id) => many.get(id)),
    due: (await store.listDue(Date.parse('2026-11-23T00:00:00.000Z'), 100)).map((r) => r.id),
    dueSoon: (await store.listDue(Date.parse('2026-11-22T10:36:00.000Z'), 100)).map((r) => r.id),
    pending: (await store.listPending(Date.parse('2026-11-23T00:00:00.000Z'), 100, 1_000)).map((r) => r.id),
    outbox: (await store.listWithOutbox(100)).map((r) => r.id).sort(),
    holders: Object.fromEntries(await Promise.all(['eu-west-1#sgr-shared', 'eu-west-1#sgr-other', 'eu-west-1#sgr-gone', 'eu-west-1#sgr-none'].map(async (k) => [k, await store.holders(k)]))),
    holdersOf: [...(await store.holdersOf(['eu-west-1#sgr-shared', 'eu-west-1#sgr-other', 'eu-west-1#sgr-none'])).entries()],
    byRequester: (await store.historyOfRequester('U0CAROL', '2026-11-01T00:00:00.000Z', 10)).requests.map((r) => r.id),
    byTarget: (await store.historyOfTarget('db-bastion', '2026-11-01T00:00:00.000Z', 10)).requests.map((r) => r.id),
    changed: (await store.changedSince('2026-11-22T00:00:00.000Z', '2026-11-30T00:00:00.000Z', 100)).requests.map((r) => r.id).sort(),
    backlog: await store.backlog(Date.parse('2026-11-22T10:36:00.000Z'), 100),
  };
}

it('copies every request, rule holder and lease into jit.sqlite, which answers as the old store did; the old files go to a backup folder', async () => {
  const dir = join(root, 'data');
  const old = await writeOldStore(dir);
  const before = await (async () => {
    const db = await startEmbeddedDynamo(dir);
    const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      return await answers(new DynamoRequestStore(client, LEGACY_TABLE), old);
    } finally {
      client.destroy();
      await db.close();
    }
  })();
  // The fixture is what it claims to be: live grants, a shared rule, a revoking rule, an outbox.
  expect(before.requests[old.ids.active1]).toMatchObject({ status: 'ACTIVE', grant: { securityGroupRuleId: 'sgr-shared' } });
  expect(before.holders).toEqual({ 'eu-west-1#sgr-shared': [old.ids.active1, old.ids.active2].sort(), 'eu-west-1#sgr-other': [old.ids.activeOther], 'eu-west-1#sgr-gone': [], 'eu-west-1#sgr-none': [] });
  expect(before.dueSoon).toEqual(expect.arrayContaining([old.ids.active1, old.ids.activeOther]));
  expect(before.outbox.length).toBeGreaterThan(0);

  const opened = await openEmbeddedStore(dir, () => new Date('2026-12-01T09:30:00.000Z'));
  try {
    expect(opened.migrated).toMatchObject({ requests: 7, rules: 3, leases: 1, skipped: 1, byStatus: { PENDING: 1, GRANTING: 1, ACTIVE: 3, DENIED: 1, REVOKED: 1 } });
    expect(opened.migrated?.backup).toBe(join(dir, 'dynalite-2026-12-01T09-30-00-000Z.bak'));
    const after = await answers(opened.store, old);
    // The one difference: the SQLite store dates a created request's outbox from its creation,
    // DynamoDB from its first notification, so the oldest undelivered one looks a little older.
    expect(after.backlog.outboxOldestAt).toBeLessThanOrEqual(before.backlog.outboxOldestAt!);
    expect({ ...after, backlog: { ...after.backlog, outboxOldestAt: 0 } }).toEqual({ ...before, backlog: { ...before.backlog, outboxOldestAt: 0 } });
    // The rule being revoked still takes no new holder; the lease is still its old owner's.
    await expect(opened.store.join('eu-west-1#sgr-gone', 'jit-newcomer')).rejects.toThrow(/being revoked/);
    expect(await opened.store.tryLease('drift', 'replica-b', Date.parse(T0), Date.parse(T0) + 60_000)).toBe(false);
    expect(await opened.store.tryLease('drift', 'replica-a', Date.parse(T0), Date.parse(T0) + 60_000)).toBe(true);
  } finally {
    await opened.store.close();
  }
  // The old store is kept, whole, in the backup folder; nothing else is left beside the SQLite file.
  const backup = join(dir, 'dynalite-2026-12-01T09-30-00-000Z.bak');
  expect(readdirSync(backup)).toEqual(expect.arrayContaining(['CURRENT', expect.stringMatching(/^MANIFEST-/)]));
  expect(hasLegacyStore(dir)).toBe(false);
  expect(readdirSync(dir).filter((f) => !f.startsWith(SQLITE_FILE) && f !== 'dynalite-2026-12-01T09-30-00-000Z.bak')).toEqual([]);

  // A second start opens the SQLite store and migrates nothing.
  const again = await openEmbeddedStore(dir);
  try {
    expect(again.migrated).toBeUndefined();
    expect((await again.store.get(old.ids.active2))?.status).toBe('ACTIVE');
  } finally {
    await again.store.close();
  }
  // The backup can still be opened as it was (nothing was deleted).
  const restored = await startEmbeddedDynamo(backup);
  await restored.close();
}, 60_000);

it('a migration cut short (a temporary file left, no jit.sqlite) starts over from the untouched old store', async () => {
  const dir = join(root, 'data');
  const old = await writeOldStore(dir);
  writeFileSync(join(dir, `${SQLITE_FILE}.migrating`), 'half a file');
  const opened = await openEmbeddedStore(dir);
  try {
    expect(opened.migrated?.requests).toBe(7);
    expect((await opened.store.get(old.ids.active1))?.status).toBe('ACTIVE');
  } finally {
    await opened.store.close();
  }
  expect(existsSync(join(dir, `${SQLITE_FILE}.migrating`))).toBe(false);
}, 60_000);

it('a crash after the rename but before the old files moved: the SQLite file wins and the old files are moved aside, not copied again', async () => {
  const dir = join(root, 'data');
  const old = await writeOldStore(dir);
  await migrateDynaliteStore(dir, { open: (p) => openSqliteStore(p), file: SQLITE_FILE });
  // Put the old files back, as if the move had not happened.
  const backup = readdirSync(dir).find((f) => f.endsWith('.bak'))!;
  for (const f of readdirSync(join(dir, backup))) renameSync(join(dir, backup, f), join(dir, f));
  rmSync(join(dir, backup), { recursive: true });
  const opened = await openEmbeddedStore(dir);
  try {
    expect(opened.migrated).toBeUndefined();
    expect(opened.movedAside).toMatch(/dynalite-.*\.bak$/);
    expect((await opened.store.get(old.ids.active1))?.status).toBe('ACTIVE');
  } finally {
    await opened.store.close();
  }
  expect(hasLegacyStore(dir)).toBe(false);
}, 60_000);

it('an old store another process holds is refused (nothing migrated, nothing moved)', async () => {
  const dir = join(root, 'data');
  await writeOldStore(dir);
  const running = await startEmbeddedDynamo(dir);
  try {
    await expect(openEmbeddedStore(dir)).rejects.toThrow(DataDirLockedError);
  } finally {
    await running.close();
  }
  expect(hasLegacyStore(dir)).toBe(true);
  expect(readdirSync(dir).filter((f) => f.startsWith(SQLITE_FILE))).toEqual([]);
}, 60_000);
