/**
 * The embedded store: dynalite (a DynamoDB-compatible server in pure JS) run in-process and
 * persisted under a directory, so `npm start` needs no AWS account. The bot talks to it with the
 * real @aws-sdk/client-dynamodb over loopback, exactly as it would talk to DynamoDB.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ClassicLevel } from 'classic-level';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 with a random port; in memory when `path` is undefined. */
export async function startEmbeddedDynamo(path: string | undefined): Promise<EmbeddedDynamo> {
  if (path) mkdirSync(path, { recursive: true });
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
  return { endpoint, close };
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
