/**
 * The ONE place the bench opens the embedded store on disk (the directory the built bot is then
 * started on, JIT_DATA_DIR), for seeding and for counting what a sweep reads: the SQLite file the
 * bot opens there (src/store/local.ts), opened the same way. The rest of the bench takes any
 * StoreAdapter.
 */
import type { AccessRequest } from '../src/domain/types';
import type { StoreAdapter } from '../src/ports';
import { openEmbeddedStore } from '../src/store/local';

export interface BenchStore {
  /** Which engine this is, for the report. */
  engine: string;
  store: StoreAdapter;
  /**
   * Items the store has read since it was opened (or since resetItemsRead): what a sweep costs.
   * SQLite reads its sweeps' rows through partial indexes by range (test/store/sqlite.test.ts shows
   * the query plans), so the rows a read returns are the rows it read.
   */
  itemsRead(): number;
  resetItemsRead(): void;
  close(): Promise<void>;
}

/** The reads a sweep or a lookup makes, each counted by the requests it returns. */
const COUNTED = new Set(['get', 'getMany', 'listDue', 'listPending', 'listWithOutbox', 'listByRequester']);

/** Opens (creating it when new) the embedded store in `dir`, as the built bot would open it there. */
export async function openBenchStore(dir: string): Promise<BenchStore> {
  const { store } = await openEmbeddedStore(dir);
  let read = 0;
  const count = (out: AccessRequest | AccessRequest[] | Map<string, AccessRequest> | undefined): void => {
    read += out === undefined ? 0 : Array.isArray(out) ? out.length : out instanceof Map ? out.size : 1;
  };
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && COUNTED.has(prop)) {
        return async (...args: unknown[]) => {
          const out = (await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)) as Parameters<typeof count>[0];
          count(out);
          return out;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return {
    engine: 'SQLite (embedded, on disk)',
    store: counted,
    itemsRead: () => read,
    resetItemsRead: () => void (read = 0),
    close: async () => store.close(),
  };
}
