/** The embedded store's data directory is its owner's alone: created 0700, an open one closed. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerOnlyDir, startEmbeddedDynamo } from '../../src/store/embedded';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'jit-datadir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (p: string) => statSync(p).mode & 0o777;

it('creates a missing data directory (and its parents) 0700', () => {
  const dir = join(root, 'a', 'data');
  expect(ownerOnlyDir(dir)).toBeUndefined();
  expect(modeOf(dir)).toBe(0o700);
});

it('leaves an owner-only directory alone', () => {
  const dir = join(root, 'data');
  mkdirSync(dir, { mode: 0o700 });
  expect(ownerOnlyDir(dir)).toBeUndefined();
  expect(modeOf(dir)).toBe(0o700);
});

it.each([0o755, 0o750, 0o777, 0o705])('closes an existing directory with mode %o to 0700 and returns the old mode', (mode) => {
  const dir = join(root, 'data');
  mkdirSync(dir);
  chmodSync(dir, mode);
  expect(ownerOnlyDir(dir)).toBe(mode);
  expect(modeOf(dir)).toBe(0o700);
});

it('the embedded store starts on a directory it tightened, and says so', async () => {
  const dir = join(root, 'data');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  const store = await startEmbeddedDynamo(dir);
  try {
    expect(store.tightenedFrom).toBe(0o755);
    expect(modeOf(dir)).toBe(0o700);
  } finally {
    await store.close();
  }
});
