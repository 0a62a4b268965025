/** The embedded SQLite adapter passes the store contract: a fresh in-memory database per test. */
import { openSqliteStore, type SqliteRequestStore } from '../../src/store/sqlite';
import { storeContract } from './contract';

const opened: SqliteRequestStore[] = [];
afterAll(() => {
  for (const s of opened) s.close();
});

storeContract('sqlite', async () => {
  const store = openSqliteStore(undefined);
  opened.push(store);
  return store;
});
