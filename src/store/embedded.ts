/**
 * The embedded store: dynalite (a DynamoDB-compatible server in pure JS) run in-process and
 * persisted under a directory, so `npm start` needs no AWS account. The bot talks to it with the
 * real @aws-sdk/client-dynamodb over loopback, exactly as it would talk to DynamoDB.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** Starts dynalite on 127.0.0.1 with a random port; in memory when `path` is undefined. */
export async function startEmbeddedDynamo(path: string | undefined): Promise<EmbeddedDynamo> {
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
