/**
 * The ONE place the bench opens the embedded store on disk (the directory the built bot is then
 * started on, JIT_DATA_DIR), for seeding and for counting what a sweep reads. Today that is
 * dynalite (src/store/embedded.ts, the table src/main.ts uses); when the embedded default changes
 * (e.g. a SQLite StoreAdapter), change this file alone: the rest of the bench takes any
 * StoreAdapter.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StoreAdapter } from '../src/ports';
import { DynamoRequestStore, ensureTable } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';

/** The table name src/main.ts gives the embedded store (EMBEDDED_TABLE; not imported, to keep Bolt out of this process's set-up). */
const EMBEDDED_TABLE = 'jit-access-requests';

export interface BenchStore {
  /** Which engine this is, for the report. */
  engine: string;
  store: StoreAdapter;
  /** Items the store has read since it was opened (or since resetItemsRead): what a sweep costs. */
  itemsRead(): number;
  resetItemsRead(): void;
  close(): Promise<void>;
}

/** Opens (creating it when new) the embedded store in `dir`, as the built bot would open it there. */
export async function openBenchStore(dir: string): Promise<BenchStore> {
  const db = await startEmbeddedDynamo(dir);
  const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  let read = 0;
  // Items read, as DynamoDB counts them: a Query's ScannedCount (before any filter), one per GetItem
  // that found its item, the items a BatchGetItem returned.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const out = result.output as { ScannedCount?: number; Count?: number; Item?: unknown; Responses?: Record<string, unknown[]> };
      switch (context.commandName) {
        case 'QueryCommand':
        case 'ScanCommand':
          read += out.ScannedCount ?? out.Count ?? 0;
          break;
        case 'GetItemCommand':
          read += out.Item ? 1 : 0;
          break;
        case 'BatchGetItemCommand':
          read += Object.values(out.Responses ?? {}).reduce((n, items) => n + items.length, 0);
          break;
      }
      return result;
    },
    { step: 'initialize', name: 'benchItemsRead' },
  );
  await ensureTable(client, EMBEDDED_TABLE);
  return {
    engine: 'dynalite (embedded, on disk)',
    store: new DynamoRequestStore(client, EMBEDDED_TABLE),
    itemsRead: () => read,
    resetItemsRead: () => void (read = 0),
    close: async () => {
      client.destroy();
      await db.close();
    },
  };
}
