/** dynalite is optional: loaded only when the embedded store starts, with a clear error when absent. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMBEDDED_STORE_MISSING, loadDynalite } from '../../src/store/embedded';

const notFound = (id: string) => Object.assign(new Error(`Cannot find module '${id}'\nRequire stack:\n- /app/dist/src/store/embedded.js`), { code: 'MODULE_NOT_FOUND' });

it('says to set JIT_DYNAMODB_TABLE or install the optional dependencies when dynalite is not installed', () => {
  expect(() =>
    loadDynalite(() => {
      throw notFound('dynalite');
    }),
  ).toThrow(EMBEDDED_STORE_MISSING);
  expect(EMBEDDED_STORE_MISSING).toMatch(/the embedded store \(dynalite\) is not installed in this image: set JIT_DYNAMODB_TABLE/);
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
