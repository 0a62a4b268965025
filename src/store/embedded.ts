/**
 * dynalite (a DynamoDB-compatible server in pure JS on LevelDB) run in-process, in memory or
 * persisted under a directory: the embedded store of versions before the SQLite one
 * (store/sqlite.ts), kept to read such a directory once at the upgrade (migrate-dynalite.ts), and
 * as "DynamoDB" in tests, the bench and the demo. Also the data directory's rules, which the
 * SQLite store keeps too: owner-only (ownerOnlyDir) and one process at a time (DataDirLockedError).
 *
 * dynalite is an optional dependency, loaded only here and only when it starts: the production
 * image (`npm ci --omit=dev --omit=optional`) carries neither dynalite nor its native LevelDB build.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

type Dynalite = typeof import('dynalite');
type ClassicLevelModule = typeof import('classic-level');

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
  /** The data directory was open to group or others (its old mode) and was closed to 0700. */
  tightenedFrom?: number;
}

/**
 * dynalite is not installed (a production install leaves it out). The embedded store (SQLite) does
 * not need it: only reading a data directory of an earlier version does, once (migrate-dynalite.ts).
 */
export class DynaliteMissingError extends Error {
  constructor(readonly module: string) {
    super(`${module} is not installed in this image (a production install leaves out the optional dependencies): it is needed only to read the embedded store of an earlier version (dynalite); install the optional dependencies (npm ci) to use it`);
    this.name = 'DynaliteMissingError';
  }
}

/** Loads dynalite on first use; DynaliteMissingError when it is not installed (a production install). */
export function loadDynalite(load: (id: string) => unknown = require): Dynalite {
  return loadOptional('dynalite', load) as Dynalite;
}

/** The embedded store's optional modules (dynalite, classic-level), loaded on first use. */
function loadOptional(id: 'dynalite' | 'classic-level', load: (id: string) => unknown = require): unknown {
  try {
    return load(id);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only the module itself missing; a broken install of one of its dependencies keeps its own message.
    if (e.code === 'MODULE_NOT_FOUND' && new RegExp(`['"]${id}['"]`).test(e.message)) throw new DynaliteMissingError(id);
    throw err;
  }
}

/** Starts dynalite on 127.0.0.1 with a random port; in memory when `path` is undefined. */
export async function startEmbeddedDynamo(path: string | undefined): Promise<EmbeddedDynamo> {
  const dynalite = loadDynalite();
  const tightenedFrom = path ? ownerOnlyDir(path) : undefined;
  // dynalite would start anyway and crash the process at the first request ("Database is not open").
  if (path && (await dataDirState(path)) === 'locked') throw new DataDirLockedError(path);
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  // LevelDB opens in the background: wait for it, so the directory is held (and seen to be) once this resolves.
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' } });
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } catch (err) {
    await close();
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, close, ...(tightenedFrom !== undefined ? { tightenedFrom } : {}) };
}

/**
 * The data directory holds every request (user ids, reasons, addresses): owner-only. Created 0700;
 * an existing one open to group or others is closed to 0700, and its old mode returned so the
 * caller can say so. The embedded store is for one process on one host (LevelDB holds a lock).
 */
export function ownerOnlyDir(path: string): number | undefined {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(path, 0o700);
  return mode;
}

/** The data directory is held by another process (LevelDB allows one): most likely a running bot. */
export class DataDirLockedError extends Error {
  constructor(readonly path: string) {
    super(`the data directory ${path} is in use by another process (a running bot?); the embedded store allows one process at a time`);
    this.name = 'DataDirLockedError';
  }
}

/** 'new' when no store was ever written there, 'locked' when another process has it open, else 'free'. */
export async function dataDirState(path: string): Promise<'new' | 'locked' | 'free'> {
  if (!existsSync(join(path, 'CURRENT'))) return 'new';
  const { ClassicLevel } = loadOptional('classic-level') as ClassicLevelModule;
  const db = new ClassicLevel(path, { createIfMissing: false });
  try {
    await db.open();
    return 'free';
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED') return 'locked';
    throw err;
  } finally {
    await db.close().catch(() => undefined);
  }
}
