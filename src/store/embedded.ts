/**
 * The embedded store: dynalite (a DynamoDB-compatible server in pure JS) run in-process and
 * persisted under a directory, so `npm start` needs no AWS account. The bot talks to it with the
 * real @aws-sdk/client-dynamodb over loopback, exactly as it would talk to DynamoDB.
 *
 * dynalite is an optional dependency, loaded only here and only when the embedded store starts:
 * the production image (`npm ci --omit=dev --omit=optional`) runs against DynamoDB
 * (JIT_DYNAMODB_TABLE) and carries neither dynalite nor its native LevelDB build.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

type Dynalite = typeof import('dynalite');

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

export const EMBEDDED_STORE_MISSING =
  'the embedded store (dynalite) is not installed in this image: set JIT_DYNAMODB_TABLE to use a DynamoDB table, or install the dev/optional dependencies (npm ci) to use the embedded store';

/** Loads dynalite on first use; a clear error when it is not installed (a production install). */
export function loadDynalite(load: (id: string) => unknown = require): Dynalite {
  try {
    return load('dynalite') as Dynalite;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Only dynalite itself missing; a broken install of one of its dependencies keeps its own message.
    if (e.code === 'MODULE_NOT_FOUND' && /['"]dynalite['"]/.test(e.message)) throw new Error(EMBEDDED_STORE_MISSING);
    throw err;
  }
}

/** Starts dynalite on 127.0.0.1 with a random port; in memory when `path` is undefined. */
export async function startEmbeddedDynamo(path: string | undefined): Promise<EmbeddedDynamo> {
  const dynalite = loadDynalite();
  if (path) mkdirSync(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
