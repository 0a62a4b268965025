/** The embedded store's data directory is its owner's alone: created 0700, an open one closed. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerOnlyDir } from '../../src/store/embedded';
import { openEmbeddedStore } from '../../src/store/local';

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

it('the embedded store opens on a directory it tightened, and says so; its file is 0600', async () => {
  const dir = join(root, 'data');
  mkdirSync(dir);
  chmodSync(dir, 0o755);
  const opened = await openEmbeddedStore(dir);
  try {
    expect(opened.tightenedFrom).toBe(0o755);
    expect(modeOf(dir)).toBe(0o700);
    expect(opened.path).toBe(join(dir, 'jit.sqlite'));
    expect(modeOf(join(dir, 'jit.sqlite'))).toBe(0o600);
  } finally {
    opened.store.close();
  }
});

it('creates a missing data directory 0700 for the embedded store', async () => {
  const dir = join(root, 'a', 'b');
  const opened = await openEmbeddedStore(dir);
  opened.store.close();
  expect(opened.tightenedFrom).toBeUndefined();
  expect(modeOf(dir)).toBe(0o700);
});
