/**
 * The embedded store's move from dynalite (LevelDB, versions before the SQLite store) to SQLite.
 * A user upgrading must not lose a live grant: every request (with its status, version, audit,
 * outbox and leases), every holder of a shared AWS rule and every named lease is copied, so the
 * new store revokes what the old one granted.
 *
 *   1. dynalite is started on the old directory (it is an optional dependency: without it, a clear
 *      error says what to do, and nothing is touched);
 *   2. every item of the old table is read (Scan, a page at a time) and written into a NEW SQLite
 *      file under a temporary name;
 *   3. only when it is complete and closed is it renamed to its final name (a crash before that
 *      leaves no store file, and the next start migrates again from the untouched old store);
 *   4. the old LevelDB files are moved (never deleted) into `dynalite-<time>.bak/` in the directory.
 *
 * A crash between 3 and 4 leaves both: the SQLite file wins, and the old files are moved aside at
 * the next start (moveLegacyFiles), so nothing is ever deleted and nothing migrates twice.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { StoreAdapter } from '../ports';
import { ensureTable, fromRawItem } from './dynamo';
import { DynaliteMissingError, startEmbeddedDynamo } from './embedded';

/** The table the embedded dynalite store kept its items in. */
export const LEGACY_TABLE = 'jit-access-requests';
/** Items read per Scan page of the old table. */
const SCAN_PAGE = 500;

/** LevelDB's files in a data directory (what dynalite wrote there), and nothing else. */
const LEVELDB_FILE = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(ldb|log|sst))$/;

/** A data directory of an earlier version: dynalite's LevelDB store (its CURRENT file). */
export function hasLegacyStore(dir: string): boolean {
  return existsSync(join(dir, 'CURRENT'));
}

/** The old store needs dynalite to be read, and it is not installed (a production install). */
export class LegacyStoreError extends Error {
  constructor(readonly path: string) {
    super(
      `the data directory ${path} (JIT_DATA_DIR) holds the embedded store of an earlier version (dynalite), which this version moves to SQLite at start, ` +
        'but dynalite, needed once to read it, is not installed here: start the bot once from a full install (npm ci, with the optional dependencies) to migrate it, ' +
        'or point JIT_DATA_DIR at another directory (the old one is kept as it is)',
    );
    this.name = 'LegacyStoreError';
  }
}

/** What a migration copied, for the log. */
export interface MigrationReport {
  requests: number;
  /** Requests by status (ACTIVE ones are the live grants). */
  byStatus: Record<string, number>;
  rules: number;
  leases: number;
  /** Items of no kind the store knows (kept in the backup, not copied). */
  skipped: number;
  /** Where the old LevelDB files are now. */
  backup: string;
}

/** The store a migration writes into (the SQLite adapter), closed before it is renamed. */
export type MigrationTarget = StoreAdapter & { close(): void | Promise<void> };

export interface MigrateOptions {
  /** Opens the new store at a path (a new file). */
  open(path: string): MigrationTarget;
  /** The final name of the new store's file in `dir`. */
  file: string;
  /** Time for the backup folder's name. */
  now?: () => Date;
}

/**
 * Copies the dynalite store in `dir` into a new SQLite file `dir/<file>`, then moves the old files
 * into a backup folder. DataDirLockedError when another process holds the old store;
 * LegacyStoreError when dynalite is not installed.
 */
export async function migrateDynaliteStore(dir: string, o: MigrateOptions): Promise<MigrationReport> {
  const finalPath = join(dir, o.file);
  const tempPath = join(dir, `${o.file}.migrating`);
  removeSqliteFiles(tempPath); // what a crash mid-migration left: started again from the old store
  const old = await startLegacy(dir);
  const report: MigrationReport = { requests: 0, byStatus: {}, rules: 0, leases: 0, skipped: 0, backup: '' };
  const client = new DynamoDBClient({ endpoint: old.endpoint, region: 'local', credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' } });
  try {
    // Finishes what an earlier version's own upgrade left (an index migration cut short).
    await ensureTable(client, LEGACY_TABLE);
    const doc = DynamoDBDocumentClient.from(client);
    const target = o.open(tempPath);
    try {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new ScanCommand({ TableName: LEGACY_TABLE, ConsistentRead: true, Limit: SCAN_PAGE, ExclusiveStartKey: startKey }));
        for (const raw of page.Items ?? []) await copyItem(target, raw, report);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } finally {
      await target.close();
    }
  } catch (err) {
    removeSqliteFiles(tempPath);
    throw err;
  } finally {
    client.destroy();
    await old.close();
  }
  // Complete and closed: from here the new store is the store.
  renameSync(tempPath, finalPath);
  report.backup = moveLegacyFiles(dir, o.now?.() ?? new Date());
  return report;
}

async function copyItem(target: MigrationTarget, raw: Record<string, unknown>, report: MigrationReport): Promise<void> {
  const item = fromRawItem(raw);
  switch (item.kind) {
    case 'request':
      await target.create(item.request);
      report.requests += 1;
      report.byStatus[item.request.status] = (report.byStatus[item.request.status] ?? 0) + 1;
      return;
    case 'rule':
      // A rule nobody holds and nobody revokes is the same as no rule at all.
      for (const holder of item.holders) await target.join(item.ruleKey, holder);
      if (item.revoking && item.holders.length === 0) await target.beginRevoke(item.ruleKey);
      if (item.holders.length > 0 || item.revoking) report.rules += 1;
      return;
    case 'lease':
      // The new store has no lease yet: this takes it for its old owner until its old end.
      await target.tryLease(item.name, item.owner, 0, item.untilMs);
      report.leases += 1;
      return;
    default:
      report.skipped += 1;
  }
}

async function startLegacy(dir: string) {
  try {
    return await startEmbeddedDynamo(dir);
  } catch (err) {
    throw err instanceof DynaliteMissingError ? new LegacyStoreError(dir) : err;
  }
}

/**
 * Moves LevelDB's files from `dir` into `dir/dynalite-<time>.bak/` (never deletes them) and
 * returns that folder; '' when there was nothing to move.
 */
export function moveLegacyFiles(dir: string, now: Date): string {
  const files = readdirSync(dir).filter((f) => LEVELDB_FILE.test(f));
  if (files.length === 0) return '';
  // CURRENT last: until it moves, the directory still reads as an old store.
  files.sort((a, b) => Number(a === 'CURRENT') - Number(b === 'CURRENT'));
  const backup = join(dir, `dynalite-${now.toISOString().replace(/[:.]/g, '-')}.bak`);
  mkdirSync(backup, { recursive: true, mode: 0o700 });
  for (const f of files) renameSync(join(dir, f), join(backup, f));
  return backup;
}

/** An SQLite file with its WAL and shared-memory files. */
function removeSqliteFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${path}${suffix}`, { force: true });
}
