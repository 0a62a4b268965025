/** On a Node without node:sqlite (the machine's Node 20), the in-memory embedded store is dynalite; a data directory still needs SQLite. */
import { openEmbeddedStore } from '../../src/store/local';
import { pendingRequest } from '../support/requests';

jest.mock('../../src/store/sqlite', () => ({
  ...jest.requireActual('../../src/store/sqlite'),
  loadSqlite: () => {
    throw new Error('the embedded store needs node:sqlite');
  },
}));

it('in memory without node:sqlite: a working dynalite store, closed cleanly', async () => {
  const embedded = await openEmbeddedStore(undefined);
  try {
    expect(embedded.engine).toBe('dynalite');
    const r = pendingRequest();
    await embedded.store.create(r);
    expect((await embedded.store.get(r.id))?.id).toBe(r.id);
  } finally {
    await embedded.store.close();
  }
});
