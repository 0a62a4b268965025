/**
 * The embedded store in its data directory: one SQLite file, `<JIT_DATA_DIR>/jit.sqlite`, for one
 * process on one host (store/sqlite.ts). The directory is its owner's alone (0700). A directory of
 * an earlier version (dynalite's LevelDB files) is moved to SQLite the first time (migrate-dynalite.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StoreAdapter } from '../ports';
import { DynamoRequestStore, ensureTable } from './dynamo';
import { DataDirLockedError, ownerOnlyDir, startEmbeddedDynamo } from './embedded';
import { hasLegacyStore, LEGACY_TABLE, type MigrationReport, migrateDynaliteStore, moveLegacyFiles } from './migrate-dynalite';
import { loadSqlite, openSqliteStore, type SqliteRequestStore } from './sqlite';

/** The store's file in the data directory. */
export const SQLITE_FILE = 'jit.sqlite';

export const sqlitePathOf = (dir: string): string => join(dir, SQLITE_FILE);

/**
 * What a data directory holds: nothing yet, only the store of an earlier version (dynalite; the
 * bot migrates it at start), or the SQLite store.
 */
export function embeddedState(dir: string): 'new' | 'legacy' | 'sqlite' {
  if (existsSync(sqlitePathOf(dir))) return 'sqlite';
  return hasLegacyStore(dir) ? 'legacy' : 'new';
}

export interface EmbeddedStore {
  store: StoreAdapter & { close(): void | Promise<void> };
  /** Which engine holds it: SQLite, or (in memory on a Node without node:sqlite) dynalite. */
  engine: 'SQLite' | 'dynalite';
  /** The SQLite file; undefined in memory. */
  path?: string;
  /** The data directory was open to group or others (its old mode) and was closed to 0700. */
  tightenedFrom?: number;
  /** The directory held a dynalite store, copied into the SQLite file at this start. */
  migrated?: MigrationReport;
  /** Old dynalite files found beside the SQLite file (a migration cut short after its copy), moved to this folder. */
  movedAside?: string;
}

/**
 * Opens the embedded store under `dir` (created 0700), migrating a dynalite store found there, or
 * in memory when `dir` is undefined. DataDirLockedError when another process holds it;
 * LegacyStoreError when an old store needs dynalite and it is not installed.
 */
export async function openEmbeddedStore(dir: string | undefined, now: () => Date = () => new Date()): Promise<EmbeddedStore> {
  if (dir === undefined) return sqliteAvailable() ? { store: openSqliteStore(undefined), engine: 'SQLite' } : { store: await inMemoryDynalite(), engine: 'dynalite' };
  const tightenedFrom = ownerOnlyDir(dir);
  const path = sqlitePathOf(dir);
  let migrated: MigrationReport | undefined;
  if (!existsSync(path) && hasLegacyStore(dir)) migrated = await migrateDynaliteStore(dir, { open: (p) => openSqliteStore(p), file: SQLITE_FILE, now });
  const store = openInDir(path, dir);
  // Old files beside the SQLite file: a migration whose copy was complete but whose move of the
  // old files was cut short. The SQLite file is the store (held by now); move them aside, never delete.
  let movedAside: string | undefined;
  if (!migrated && hasLegacyStore(dir)) {
    try {
      movedAside = moveLegacyFiles(dir, now());
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return { store, engine: 'SQLite', path, ...(tightenedFrom !== undefined ? { tightenedFrom } : {}), ...(migrated ? { migrated } : {}), ...(movedAside ? { movedAside } : {}) };
}

/** Opens the SQLite file of `dir`; DataDirLockedError names the directory (what the operator set). */
export function openInDir(path: string, dir: string): SqliteRequestStore {
  try {
    return openSqliteStore(path);
  } catch (err) {
    throw err instanceof DataDirLockedError ? new DataDirLockedError(dir) : err;
  }
}

/** node:sqlite is built into this Node (22.13 and later). */
function sqliteAvailable(): boolean {
  try {
    loadSqlite();
    return true;
  } catch {
    return false;
  }
}

/**
 * The in-memory store on a Node without node:sqlite (the demo and tests on an older Node): dynalite
 * in this process, nothing on disk. A data directory always needs SQLite (openSqliteStore says so).
 */
async function inMemoryDynalite(): Promise<StoreAdapter & { close(): Promise<void> }> {
  const db = await startEmbeddedDynamo(undefined);
  const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' } });
  // The table the dynalite store always used (the migration reads the same one).
  await ensureTable(client, LEGACY_TABLE);
  const store = new DynamoRequestStore(client, LEGACY_TABLE);
  return Object.assign(store, {
    close: async () => {
      client.destroy();
      await db.close();
    },
  });
}
