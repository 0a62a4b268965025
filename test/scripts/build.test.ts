/**
 * scripts/build.js in a scratch project (its own tsconfig and sources, this repo's TypeScript):
 * it builds only when a source changed, and a build starts from an empty dist/, so a module that
 * was moved from `x.ts` to `x/index.ts` is not shadowed by its stale `x.js`.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jit-build-'));
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(join(REPO, 'scripts', 'build.js'), join(dir, 'scripts', 'build.js'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'es2022', module: 'commonjs', outDir: 'dist', rootDir: '.', strict: true, types: [] } }));
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', include: ['src'] }));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'main.ts'), "import { name } from './service';\nexport const main = name;\n");
  writeFileSync(join(dir, 'src', 'service.ts'), "export const name = 'old';\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build = () => execFileSync(process.execPath, [join(dir, 'scripts', 'build.js')], { cwd: dir, encoding: 'utf8' });
const load = () => execFileSync(process.execPath, ['-p', "require('./dist/src/main.js').main"], { cwd: dir, encoding: 'utf8' }).trim();

it('builds, and a module moved into a folder replaces its old build instead of being shadowed by it', () => {
  build();
  expect(load()).toBe('old');
  rmSync(join(dir, 'src', 'service.ts'));
  mkdirSync(join(dir, 'src', 'service'));
  writeFileSync(join(dir, 'src', 'service', 'index.ts'), "export const name = 'new';\n");
  // Newer than the stamp, whatever the file system's time resolution.
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(dir, 'src', 'service', 'index.ts'), later, later);
  utimesSync(join(dir, 'src'), later, later);
  build();
  expect(existsSync(join(dir, 'dist', 'src', 'service.js'))).toBe(false);
  expect(load()).toBe('new');
}, 60_000);
