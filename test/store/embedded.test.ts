/** dynalite is optional (only the migration of an old data directory and the tests use it): loaded on first use, with a clear error when absent. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynaliteMissingError, loadDynalite } from '../../src/store/embedded';

const notFound = (id: string) => Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/dist/src/store/embedded.js`), { code: 'MODULE_NOT_FOUND' });

it('says what it is for and how to install it when dynalite is not installed', () => {
  expect(() =>
    loadDynalite(() => {
      throw notFound('dynalite');
    }),
  ).toThrow(DynaliteMissingError);
  expect(() =>
    loadDynalite(() => {
      throw notFound('dynalite');
    }),
  ).toThrow(/^dynalite is not installed in this image .*: it is needed only to read the embedded store of an earlier version \(dynalite\); install the optional dependencies \(npm ci\)/);
});

it('keeps the original error when dynalite is there but one of its own dependencies is missing', () => {
  const nested = notFound('classic-level');
  expect(() =>
    loadDynalite(() => {
      throw nested;
    }),
  ).toThrow(nested);
});

it('loads dynalite when it is installed (the dev install)', () => {
  expect(typeof loadDynalite()).toBe('function');
});

it('no shipped code (src, handlers, blocks, slack) imports dynalite or classic-level at load time: only the lazy loader names them', () => {
  const root = join(__dirname, '..', '..');
  const files = (dir: string): string[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : []));
  const importers = ['src', 'handlers', 'blocks', 'slack']
    .flatMap(files)
    .filter((f) => /(?:from\s+|require\(\s*|import\(\s*|import\s+)['"](dynalite|classic-level)['"]/.test(readFileSync(join(root, f), 'utf8').replace(/import type [^;]+;|typeof import\('(dynalite|classic-level)'\)/g, '')));
  expect(importers).toEqual([]);
  const embedded = readFileSync(join(root, 'src', 'store', 'embedded.ts'), 'utf8');
  expect(embedded).toContain("loadOptional('dynalite'");
  expect(embedded).toContain("loadOptional('classic-level')");
});
