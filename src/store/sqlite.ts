/**
 * The embedded store on SQLite (the built-in `node:sqlite`, Node 22.13+ / 24): one file on one
 * host, no server, no native module of our own. Same port and same semantics as the DynamoDB
 * adapter (src/store/dynamo.ts); both pass test/store/contract.ts.
 *
 * Tables:
 *   requests (id, body = the request as JSON, and real columns for the indexes: status, version,
 *             due_at, outbox_at, requester_id, target_name, created_at, changed_at)
 *             partial indexes on due_at and outbox_at (`WHERE … IS NOT NULL`): an idle sweep
 *             reads nothing, however many requests are live
 *   rules    (rule_key, holders = sorted JSON array, revoking 0/1): the rule registry
 *   leases   (name, owner, until_ms)
 *   meta     (key, value): the schema version, for future migrations
 *
 * Every write method is one statement, or one read and one conditional statement in the same
 * synchronous call (nothing else can run in between: DatabaseSync is synchronous and the file is
 * held exclusively by this process). A state change is ONE UPDATE conditioned on (status,
 * version) that writes the audit record, the outbox and the index columns with the new body.
 *
 * Durability: WAL with synchronous=NORMAL. A commit does not fsync; the WAL is synced at each
 * checkpoint. A crash of the process loses nothing (the WAL is in the OS cache); a power loss can
 * lose the last commits, which the crash-safe intent states (GRANTING / REVOKING re-driven from
 * the due index) and the drift sweep (tagged rules nobody holds are removed) cover. FULL would
 * fsync on every commit, on the event loop that answers Slack (DatabaseSync is synchronous):
 * measured on a busy 2-core machine, 5.7–7.3 ms per transition with FULL against 0.9–1.4 ms with
 * NORMAL (CPU 0.56 ms against 0.2 ms).
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { AccessRequest, AuditEntry, RequestStatus, SlackMessageRef } from '../domain/types';
import type { ChangeCursor, ChangePage, HistoryCursor, HistoryPage, NotificationClaim, StoreAdapter, StoreBacklog, Transition } from '../ports';
import { DataDirLockedError } from './embedded';

type SqliteModule = typeof import('node:sqlite');

/** The schema this code writes; `meta.schema_version`. A later version migrates from the ones before. */
export const SQLITE_SCHEMA_VERSION = 1;

/** Page cache bound: 8,000 KiB (negative cache_size is KiB). Memory stays flat however many requests pass. */
const CACHE_KIB = 8_000;
/** How long a statement waits for a lock (only this process uses the file; a safety net). */
const BUSY_TIMEOUT_MS = 5_000;

let sqlite: SqliteModule | undefined;

export const SQLITE_MISSING = `the embedded store needs node:sqlite, built into Node 22.13 and later (this is Node ${process.versions.node}): upgrade Node, or set JIT_DYNAMODB_TABLE to use a DynamoDB table`;

/**
 * Loads node:sqlite on first use. Node prints "ExperimentalWarning: SQLite is an experimental
 * feature" when the module loads; that one warning (and only it) is dropped, for the duration of
 * the load: every other warning passes through to the original process.emitWarning.
 */
export function loadSqlite(load: (id: string) => unknown = require): SqliteModule {
  if (sqlite) return sqlite;
  const emit = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (isSqliteExperimentalWarning(warning, rest[0])) return;
    return (emit as (...args: unknown[]) => void).apply(process, [warning, ...rest]);
  } as typeof process.emitWarning;
  try {
    sqlite = load('node:sqlite') as SqliteModule;
    return sqlite;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_BUILTIN_MODULE') throw new Error(SQLITE_MISSING);
    throw err;
  } finally {
    process.emitWarning = emit;
  }
}

/** The one warning loadSqlite drops: an ExperimentalWarning about SQLite. */
export function isSqliteExperimentalWarning(warning: string | Error, typeOrOptions: unknown): boolean {
  const type = typeof typeOrOptions === 'string' ? typeOrOptions : (typeOrOptions as { type?: string } | undefined)?.type;
  const name = typeof warning === 'string' ? type : (warning.name ?? type);
  const message = typeof warning === 'string' ? warning : warning.message;
  return name === 'ExperimentalWarning' && /^SQLite is an experimental feature/.test(message);
}

/**
 * Opens (or creates) the store at `path`, a file created 0600 (its directory 0700 if missing);
 * in memory when `path` is undefined. Throws DataDirLockedError when another process holds it.
 */
export function openSqliteStore(path: string | undefined): SqliteRequestStore {
  const { DatabaseSync } = loadSqlite();
  if (path !== undefined) ownerOnlyFile(path);
  const db = new DatabaseSync(path ?? ':memory:');
  try {
    // One process at a time: the exclusive lock is taken by the first write below and kept until close.
    db.exec('PRAGMA locking_mode = EXCLUSIVE');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('BEGIN IMMEDIATE');
    db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT');
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if (path !== undefined && isBusy(err)) throw new DataDirLockedError(path);
    throw err;
  }
  try {
    db.exec(`PRAGMA synchronous = NORMAL; PRAGMA cache_size = -${CACHE_KIB}; PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY`);
    migrate(db);
    return new SqliteRequestStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
}

function isBusy(err: unknown): boolean {
  const e = err as { errcode?: number; message?: string };
  return (e.errcode !== undefined && (e.errcode & 0xff) === 5) || /database is locked/i.test(e.message ?? '');
}

/** The database file holds every request: created 0600; an existing one open to others is closed to 0600. */
function ownerOnlyFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  const version = row ? Number(row.value) : 0;
  if (version > SQLITE_SCHEMA_VERSION) throw new Error(`the embedded store was written by a newer version of the bot (schema ${version}, this one knows ${SQLITE_SCHEMA_VERSION}): upgrade the bot`);
  if (version === SQLITE_SCHEMA_VERSION) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`
      CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        due_at INTEGER,
        outbox_at INTEGER,
        requester_id TEXT NOT NULL,
        target_name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        changed_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX requests_due ON requests (due_at, id) WHERE due_at IS NOT NULL;
      CREATE INDEX requests_outbox ON requests (outbox_at, id) WHERE outbox_at IS NOT NULL;
      CREATE INDEX requests_by_requester ON requests (requester_id, created_at, id);
      CREATE INDEX requests_by_target ON requests (target_name, created_at, id);
      CREATE INDEX requests_by_change ON requests (changed_at, id);
      CREATE TABLE rules (rule_key TEXT PRIMARY KEY, holders TEXT NOT NULL, revoking INTEGER NOT NULL DEFAULT 0) STRICT;
      CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until_ms INTEGER NOT NULL) STRICT;
    `);
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SQLITE_SCHEMA_VERSION));
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

/** The byChange bucket of a time: its UTC month, "YYYY-MM" (as the DynamoDB adapter's changeMonthOf). */
function monthOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 7);
}

function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

function changedAtOf(request: AccessRequest): string {
  return new Date(request.audit.at(-1)?.at ?? request.createdAt).toISOString();
}

interface Row {
  body: string;
}

export class SqliteRequestStore implements StoreAdapter {
  private readonly s: ReturnType<typeof prepareAll>;
  private readonly shapes = new Map<string, StatementSync>();
  private closed = false;

  constructor(private readonly db: DatabaseSync) {
    this.s = prepareAll(db);
  }

  /** Closes the database (and releases the file's lock). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  async create(request: AccessRequest): Promise<void> {
    const outboxAt = Object.keys(request.outbox).length > 0 ? Date.parse(request.createdAt) : null;
    const changedAt = changedAtOf(request);
    const done = this.s.insert.run(request.id, JSON.stringify(request), request.status, request.version, request.dueAt ?? null, outboxAt, request.requesterId, request.targetName, request.createdAt, changedAt);
    if (Number(done.changes) === 0) throw new ConflictError(`request ${request.id} already exists`);
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    const row = this.s.get.get(id) as Row | undefined;
    return row ? toRequest(row) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, AccessRequest>> {
    const found = new Map<string, AccessRequest>();
    if (ids.length === 0) return found;
    for (const row of this.s.getMany.all(JSON.stringify([...new Set(ids)])) as unknown as Row[]) {
      const request = toRequest(row);
      found.set(request.id, request);
    }
    return found;
  }

  async transition(t: Transition): Promise<AccessRequest> {
    const conflict = () => new ConflictError(`request ${t.id} changed (expected ${t.expectStatus} v${t.expectVersion})`);
    const row = this.s.getIf.get(t.id, t.expectStatus, t.expectVersion) as (Row & { outbox_at: number | null }) | undefined;
    if (!row) throw conflict();
    const next = toRequest(row) as unknown as Record<string, unknown> & AccessRequest;
    next.status = t.status;
    next.version = t.expectVersion + 1;
    for (const [field, value] of Object.entries(t.set)) {
      if (value === undefined) delete next[field];
      else next[field] = value;
    }
    let changedAt: string | null = null;
    if (t.audit) {
      next.audit = [...next.audit, t.audit];
      changedAt = new Date(t.audit.at).toISOString();
    }
    let outboxAt = row.outbox_at;
    const notify = t.notify ?? [];
    if (notify.length > 0) {
      next.outbox = { ...next.outbox };
      for (const n of notify) next.outbox[n.id] = n;
      outboxAt ??= Date.parse(notify[0]!.createdAt);
    }
    // The one conditional write: status and version checked again in the statement itself.
    const done = this.s.transition.run(JSON.stringify(next), next.status, next.version, next.dueAt ?? null, outboxAt, changedAt, t.id, t.expectStatus, t.expectVersion);
    if (Number(done.changes) !== 1) throw conflict();
    return next;
  }

  async listDue(nowMs: number, limit: number): Promise<AccessRequest[]> {
    return (this.s.listDue.all(nowMs, sqlLimit(limit)) as unknown as Row[]).map(toRequest);
  }

  async listPending(untilMs: number, limit: number, maxRead: number): Promise<AccessRequest[]> {
    return (this.s.listPending.all(untilMs, sqlLimit(maxRead), sqlLimit(limit)) as unknown as Row[]).map(toRequest);
  }

  async listByRequester(requesterId: string, limit: number): Promise<AccessRequest[]> {
    return (this.s.byRequester.all(requesterId, sqlLimit(limit)) as unknown as Row[]).map(toRequest);
  }

  async historyOfRequester(requesterId: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage> {
    return this.history(this.s.historyOfRequester, this.s.historyOfRequesterAfter, requesterId, sinceIso, limit, after);
  }

  async historyOfTarget(targetName: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage> {
    return this.history(this.s.historyOfTarget, this.s.historyOfTargetAfter, targetName, sinceIso, limit, after);
  }

  /** Newest first, created at or after `sinceIso`; reads one more than it returns so `next` means there is more. */
  private history(first: StatementSync, following: StatementSync, keyValue: string, sinceIso: string, limit: number, after?: HistoryCursor): HistoryPage {
    const rows = (after ? following.all(keyValue, sinceIso, after.createdAt, after.createdAt, after.id, sqlLimit(limit + 1)) : first.all(keyValue, sinceIso, sqlLimit(limit + 1))) as unknown as Row[];
    const requests = rows.slice(0, limit).map(toRequest);
    const last = requests.at(-1);
    return rows.length > limit && last ? { requests, next: { createdAt: last.createdAt, id: last.id } } : { requests };
  }

  /**
   * The DynamoDB adapter's paging, bucket by bucket (UTC month of the latest audit record), so the
   * cursors mean the same: a page that fills up inside a month ends with (month, changedAt, id);
   * one that fills up exactly at a month's end continues with the next month.
   */
  async changedSince(sinceIso: string, untilIso: string, limit: number, after?: ChangeCursor): Promise<ChangePage> {
    const lastMonth = monthOf(untilIso);
    let month = after?.month ?? monthOf(sinceIso);
    let cursor = after?.changedAt && after.id ? { changedAt: after.changedAt, id: after.id } : undefined;
    const requests: AccessRequest[] = [];
    while (month <= lastMonth) {
      const from = `${month}-01T00:00:00.000Z`;
      const to = `${nextMonth(month)}-01T00:00:00.000Z`;
      const want = limit - requests.length;
      const since = sinceIso > from ? sinceIso : from;
      const rows = (cursor ? this.s.changedAfter.all(since, to, cursor.changedAt, cursor.changedAt, cursor.id, sqlLimit(want)) : this.s.changed.all(since, to, sqlLimit(want))) as unknown as (Row & { changed_at: string })[];
      requests.push(...rows.map(toRequest));
      if (rows.length < want) {
        month = nextMonth(month);
        cursor = undefined;
        continue;
      }
      // The page is full. Like a DynamoDB Query that stopped at its Limit: more may follow in this month.
      return { requests, next: { month, changedAt: rows.at(-1)!.changed_at, id: requests.at(-1)!.id } };
    }
    return { requests };
  }

  async listWithOutbox(limit: number): Promise<AccessRequest[]> {
    return (this.s.listOutbox.all(sqlLimit(limit)) as unknown as Row[]).map(toRequest);
  }

  async ackNotification(id: string, notificationId: string): Promise<void> {
    this.updateBody(id, (r) => {
      if (!Object.hasOwn(r.outbox, notificationId)) return false;
      const { [notificationId]: _gone, ...rest } = r.outbox;
      r.outbox = rest;
      return true;
    });
  }

  async recordNotificationAttempt(id: string, notificationId: string, attempts: number): Promise<void> {
    this.updateBody(id, (r) => {
      const n = r.outbox[notificationId];
      if (!n) return false;
      r.outbox = { ...r.outbox, [notificationId]: { ...n, attempts } };
      return true;
    });
  }

  async appendAudit(id: string, status: RequestStatus, entry: AuditEntry): Promise<void> {
    const done = this.updateBody(
      id,
      (r) => {
        if (r.status !== status) return false;
        r.audit = [...r.audit, entry];
        return true;
      },
      new Date(entry.at).toISOString(),
    );
    if (!done) throw new ConflictError(`request ${id} is no longer ${status}`);
  }

  async setApprovalMessage(id: string, ref: SlackMessageRef): Promise<void> {
    const done = this.updateBody(id, (r) => {
      r.approvalMessage = ref;
      return true;
    });
    if (!done) throw new NotFoundError('plain', { text: `request ${id} not found` });
  }

  async claimNotification(id: string, notificationId: string, owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined> {
    return this.claimNotifications(id, [notificationId], owner, nowMs, untilMs);
  }

  async claimNotifications(id: string, notificationIds: readonly string[], owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined> {
    if (notificationIds.length === 0) return { reclaimed: new Set() };
    const ids = [...new Set(notificationIds)];
    if (ids.every(isPathSafe)) {
      // All or none, in one statement: SQLite's JSON functions check and set the claims in the
      // stored body (no parse and no re-serialisation of the whole request here). The earlier
      // claims are read first, in the same synchronous call (nothing runs in between).
      const before = this.cached(`claimed:${ids.length}`, () => `SELECT ${ids.map((_, i) => `json_extract(body, ?) AS c${i}`).join(', ')} FROM requests WHERE id = ?`);
      const sql = this.cached(`claim:${ids.length}`, () => {
        const set = ids.map(() => '?, ?, ?, ?').join(', ');
        const free = ids.map(() => "(json_type(body, ?) = 'object' AND (json_extract(body, ?) IS NULL OR json_extract(body, ?) < ? OR json_extract(body, ?) = ?))").join(' AND ');
        return `UPDATE requests SET body = json_set(body, ${set}) WHERE id = ? AND ${free}`;
      });
      const old = before.get(...ids.map((n) => outboxPath(n, 'claimedBy')), id) as Record<string, unknown> | undefined;
      const params: Array<string | number> = [];
      for (const n of ids) params.push(outboxPath(n, 'claimUntil'), untilMs, outboxPath(n, 'claimedBy'), owner);
      params.push(id);
      for (const n of ids) params.push(outboxPath(n), outboxPath(n, 'claimUntil'), outboxPath(n, 'claimUntil'), nowMs, outboxPath(n, 'claimedBy'), owner);
      if (Number(sql.run(...params).changes) !== 1) return undefined;
      return { reclaimed: new Set(ids.filter((_, i) => old?.[`c${i}`] != null)) };
    }
    // All or none, in one synchronous read-change-write.
    const reclaimed = new Set<string>();
    const done = this.updateBody(id, (r) => {
      const outbox = { ...r.outbox };
      for (const notificationId of ids) {
        const n = outbox[notificationId];
        if (!n) return false;
        if (n.claimUntil !== undefined && !(n.claimUntil < nowMs) && n.claimedBy !== owner) return false;
        if (n.claimedBy !== undefined) reclaimed.add(notificationId);
        outbox[notificationId] = { ...n, claimUntil: untilMs, claimedBy: owner };
      }
      r.outbox = outbox;
      return true;
    });
    return done ? { reclaimed } : undefined;
  }

  async releaseNotifications(id: string, notificationIds: readonly string[], owner: string): Promise<void> {
    this.updateBody(id, (r) => {
      let changed = false;
      for (const notificationId of notificationIds) {
        const n = r.outbox[notificationId];
        if (!n || n.claimedBy !== owner) continue;
        const { claimedBy: _by, claimUntil: _until, ...rest } = n;
        r.outbox = { ...r.outbox, [notificationId]: rest };
        changed = true;
      }
      return changed;
    });
  }

  async ackNotifications(id: string, notificationIds: readonly string[], approvalMessage?: SlackMessageRef): Promise<void> {
    if (notificationIds.length === 0) return;
    if (notificationIds.every(isPathSafe)) {
      // One statement: the delivered ones leave the stored body, the outbox index with them when
      // nothing is left; nothing is written when none of them was there (and no message ref).
      const ids = [...new Set(notificationIds)];
      const withRef = approvalMessage !== undefined;
      const sql = this.cached(`ack:${ids.length}:${withRef}`, () => {
        const removed = `json_remove(body, ${ids.map(() => '?').join(', ')})`;
        const next = withRef ? `json_set(${removed}, '$.approvalMessage', json(?))` : removed;
        const present = ids.map(() => 'json_type(body, ?) IS NOT NULL').join(' OR ');
        return `UPDATE requests SET body = ${next}, outbox_at = CASE WHEN (SELECT count(*) FROM json_each(${next}, '$.outbox')) = 0 THEN NULL ELSE outbox_at END WHERE id = ? AND (${withRef ? '1 OR ' : ''}${present})`;
      });
      const paths = ids.map((n) => outboxPath(n));
      const next = withRef ? [...paths, JSON.stringify(approvalMessage)] : paths;
      sql.run(...next, ...next, id, ...paths);
      return;
    }
    // One write: the delivered ones leave, the outbox index with them when nothing is left.
    this.updateBody(id, (r) => {
      const outbox = { ...r.outbox };
      let changed = false;
      for (const notificationId of notificationIds) {
        if (!Object.hasOwn(outbox, notificationId)) continue;
        delete outbox[notificationId];
        changed = true;
      }
      r.outbox = outbox;
      if (approvalMessage) r.approvalMessage = approvalMessage;
      return changed || approvalMessage !== undefined;
    });
  }

  /** A statement prepared once per shape (the number of notifications in a claim or an ack). */
  private cached(key: string, sql: () => string): StatementSync {
    let statement = this.shapes.get(key);
    if (!statement) {
      statement = this.db.prepare(sql());
      this.shapes.set(key, statement);
    }
    return statement;
  }

  /**
   * A bookkeeping change without a version bump (delivery state, message refs, an audit record
   * that is no state change): read, change, and one UPDATE of that same version, in one
   * synchronous call. `change` returns false to leave the request as it is.
   */
  private updateBody(id: string, change: (r: AccessRequest) => boolean, changedAt: string | null = null): boolean {
    const row = this.s.get.get(id) as Row | undefined;
    if (!row) return false;
    const r = toRequest(row);
    if (!change(r)) return false;
    const outboxAt = Object.keys(r.outbox).length > 0 ? undefined : null;
    const done = outboxAt === null ? this.s.updateBodyNoOutbox.run(JSON.stringify(r), changedAt, id, r.version) : this.s.updateBody.run(JSON.stringify(r), changedAt, id, r.version);
    return Number(done.changes) === 1;
  }

  async tryLease(name: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    return Number(this.s.tryLease.run(name, owner, untilMs, nowMs, owner).changes) === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.s.releaseLease.run(name, owner);
  }

  // ---------------------------------------------------------------- rule registry

  async join(ruleKey: string, requestId: string): Promise<void> {
    const row = this.s.rule.get(ruleKey) as { holders: string; revoking: number } | undefined;
    if (row?.revoking) throw new ConflictError(`rule ${ruleKey} is being revoked; it cannot take a new holder`);
    const holders = new Set<string>(row ? (JSON.parse(row.holders) as string[]) : []);
    if (row && holders.has(requestId)) return;
    holders.add(requestId);
    this.s.putRuleHolders.run(ruleKey, JSON.stringify([...holders].sort()));
  }

  async leave(ruleKey: string, requestId: string): Promise<string[]> {
    const row = this.s.rule.get(ruleKey) as { holders: string } | undefined;
    if (!row) return [];
    const holders = (JSON.parse(row.holders) as string[]).filter((h) => h !== requestId);
    this.s.setRuleHolders.run(JSON.stringify(holders), ruleKey);
    return holders;
  }

  async beginRevoke(ruleKey: string): Promise<boolean> {
    return Number(this.s.beginRevoke.run(ruleKey).changes) === 1;
  }

  async leaveLast(ruleKey: string, requestId: string): Promise<boolean> {
    return Number(this.s.leaveLast.run(ruleKey, requestId).changes) === 1;
  }

  async forget(ruleKey: string): Promise<void> {
    this.s.forget.run(ruleKey);
  }

  async holders(ruleKey: string): Promise<string[]> {
    const row = this.s.rule.get(ruleKey) as { holders: string } | undefined;
    return row ? (JSON.parse(row.holders) as string[]) : [];
  }

  async holdersOf(ruleKeys: readonly string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(ruleKeys.map((k) => [k, []]));
    if (ruleKeys.length === 0) return found;
    for (const row of this.s.rulesOf.all(JSON.stringify([...new Set(ruleKeys)])) as { rule_key: string; holders: string }[]) {
      found.set(row.rule_key, JSON.parse(row.holders) as string[]);
    }
    return found;
  }

  /** Every rule with holders, in one read (consistent: the file is the store). */
  async heldRules(): Promise<Set<string>> {
    return new Set((this.s.heldRules.all() as { rule_key: string }[]).map((row) => row.rule_key));
  }

  // ---------------------------------------------------------------- operational reads

  async ping(): Promise<void> {
    if (this.closed) throw new Error('the embedded store is closed');
    this.s.ping.get();
  }

  async backlog(nowMs: number, bound: number): Promise<StoreBacklog> {
    const due = (this.s.countDue.get(nowMs, sqlLimit(bound)) as { n: number }).n;
    const outbox = (this.s.countOutbox.get(sqlLimit(bound)) as { n: number }).n;
    const oldest = (this.s.oldestOutbox.get() as { at: number | null }).at;
    return { due, outbox, ...(oldest !== null ? { outboxOldestAt: oldest } : {}) };
  }

  async outboxCount(bound: number): Promise<number> {
    return (this.s.countOutbox.get(sqlLimit(bound)) as { n: number }).n;
  }
}

/**
 * Notification ids are "<ISO time>-<what>" ("2026-12-02T01:53:00.000Z-submitted", "…-+post"):
 * letters, digits and `_ - . : +`, none of which JSON escapes, so the quoted label of a JSON path
 * ($.outbox."<id>") names the key exactly. Any other id (never, today) goes through the
 * read-change-write path instead.
 */
const PATH_SAFE = /^[A-Za-z0-9_.:+-]{1,128}$/;
const isPathSafe = (notificationId: string): boolean => PATH_SAFE.test(notificationId);

/** The JSON path of a notification in a request's body, or of one of its fields. */
function outboxPath(notificationId: string, field?: 'claimUntil' | 'claimedBy'): string {
  return `$.outbox."${notificationId}"${field ? `.${field}` : ''}`;
}

/** A JS limit as SQL's LIMIT: whole, not negative; Infinity is no limit (-1). */
function sqlLimit(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : -1;
}

function toRequest(row: Row): AccessRequest {
  const r = JSON.parse(row.body) as AccessRequest;
  r.outbox ??= {};
  r.audit ??= [];
  return r;
}

/** Every statement, prepared once. */
function prepareAll(db: DatabaseSync) {
  const p = (sql: string) => db.prepare(sql);
  const historyBy = (column: 'requester_id' | 'target_name') => ({
    first: p(`SELECT body FROM requests WHERE ${column} = ? AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT ?`),
    after: p(`SELECT body FROM requests WHERE ${column} = ? AND created_at >= ? AND (created_at < ? OR (created_at = ? AND id < ?)) ORDER BY created_at DESC, id DESC LIMIT ?`),
  });
  const byRequester = historyBy('requester_id');
  const byTarget = historyBy('target_name');
  return {
    insert: p('INSERT INTO requests (id, body, status, version, due_at, outbox_at, requester_id, target_name, created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING'),
    get: p('SELECT body FROM requests WHERE id = ?'),
    getIf: p('SELECT body, outbox_at FROM requests WHERE id = ? AND status = ? AND version = ?'),
    getMany: p('SELECT body FROM requests WHERE id IN (SELECT value FROM json_each(?))'),
    transition: p('UPDATE requests SET body = ?, status = ?, version = ?, due_at = ?, outbox_at = ?, changed_at = coalesce(?, changed_at) WHERE id = ? AND status = ? AND version = ?'),
    updateBody: p('UPDATE requests SET body = ?, changed_at = coalesce(?, changed_at) WHERE id = ? AND version = ?'),
    updateBodyNoOutbox: p('UPDATE requests SET body = ?, changed_at = coalesce(?, changed_at), outbox_at = NULL WHERE id = ? AND version = ?'),
    listDue: p('SELECT body FROM requests WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?'),
    listPending: p("SELECT body FROM (SELECT body, status, due_at, id FROM requests WHERE due_at IS NOT NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?) WHERE status = 'PENDING' ORDER BY due_at, id LIMIT ?"),
    byRequester: p('SELECT body FROM requests WHERE requester_id = ? ORDER BY created_at DESC, id DESC LIMIT ?'),
    historyOfRequester: byRequester.first,
    historyOfRequesterAfter: byRequester.after,
    historyOfTarget: byTarget.first,
    historyOfTargetAfter: byTarget.after,
    changed: p('SELECT body, changed_at FROM requests WHERE changed_at >= ? AND changed_at < ? ORDER BY changed_at, id LIMIT ?'),
    changedAfter: p('SELECT body, changed_at FROM requests WHERE changed_at >= ? AND changed_at < ? AND (changed_at > ? OR (changed_at = ? AND id > ?)) ORDER BY changed_at, id LIMIT ?'),
    listOutbox: p('SELECT body FROM requests WHERE outbox_at IS NOT NULL ORDER BY outbox_at, id LIMIT ?'),
    tryLease: p('INSERT INTO leases (name, owner, until_ms) VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms WHERE leases.until_ms < ? OR leases.owner = ?'),
    releaseLease: p('UPDATE leases SET until_ms = 0 WHERE name = ? AND owner = ?'),
    rule: p('SELECT holders, revoking FROM rules WHERE rule_key = ?'),
    heldRules: p("SELECT rule_key FROM rules WHERE holders <> '[]'"),
    rulesOf: p('SELECT rule_key, holders FROM rules WHERE rule_key IN (SELECT value FROM json_each(?))'),
    putRuleHolders: p('INSERT INTO rules (rule_key, holders, revoking) VALUES (?, ?, 0) ON CONFLICT (rule_key) DO UPDATE SET holders = excluded.holders WHERE rules.revoking = 0'),
    setRuleHolders: p('UPDATE rules SET holders = ? WHERE rule_key = ?'),
    beginRevoke: p("INSERT INTO rules (rule_key, holders, revoking) VALUES (?, '[]', 1) ON CONFLICT (rule_key) DO UPDATE SET revoking = 1 WHERE rules.holders = '[]'"),
    // The only holder leaves and the revoke begins, in one statement (holders is a sorted JSON array).
    leaveLast: p("UPDATE rules SET holders = '[]', revoking = 1 WHERE rule_key = ? AND holders = json_array(?)"),
    forget: p("DELETE FROM rules WHERE rule_key = ? AND holders = '[]'"),
    ping: p('SELECT 1 AS ok'),
    countDue: p('SELECT count(*) AS n FROM (SELECT 1 FROM requests WHERE due_at IS NOT NULL AND due_at <= ? LIMIT ?)'),
    countOutbox: p('SELECT count(*) AS n FROM (SELECT 1 FROM requests WHERE outbox_at IS NOT NULL LIMIT ?)'),
    oldestOutbox: p('SELECT min(outbox_at) AS at FROM requests WHERE outbox_at IS NOT NULL'),
  };
}
