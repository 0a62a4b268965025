/**
 * A production install (no optional dependencies) meets a data directory of an earlier version:
 * it stops with a message saying what to do, and touches nothing (no SQLite file, the old files
 * where they were).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/store/local';
import { LegacyStoreError } from '../../src/store/migrate-dynalite';

// dynalite is loaded on first use (store/embedded.ts loadOptional), after this mock is in place.
jest.mock('dynalite', () => {
  throw Object.assign(new Error("Cannot find module 'dynalite' from 'src/store/embedded.ts'"), { code: 'MODULE_NOT_FOUND' });
});

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'jit-migrate-nodyn-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

it('fails fast naming what to do, and leaves the old store as it was', async () => {
  const dir = join(root, 'data');
  mkdirSync(dir, { mode: 0o700 });
  for (const f of ['CURRENT', 'LOCK', 'LOG', 'MANIFEST-000002', '000003.log']) writeFileSync(join(dir, f), 'old');
  const before = readdirSync(dir).sort();
  const opening = openEmbeddedStore(dir);
  await expect(opening).rejects.toThrow(LegacyStoreError);
  await expect(openEmbeddedStore(dir)).rejects.toThrow(
    `the data directory ${dir} (JIT_DATA_DIR) holds the embedded store of an earlier version (dynalite), which this version moves to SQLite at start, but dynalite, needed once to read it, is not installed here: start the bot once from a full install (npm ci, with the optional dependencies) to migrate it`,
  );
  expect(readdirSync(dir).sort()).toEqual(before);
});

it('without an old store, the embedded store needs no dynalite', async () => {
  const opened = await openEmbeddedStore(join(root, 'fresh'));
  try {
    await opened.store.ping();
    expect(opened.migrated).toBeUndefined();
  } finally {
    opened.store.close();
  }
});
