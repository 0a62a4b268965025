/**
 * The dependency rules of the code base, checked on the import statements themselves:
 *   - the core (src/) never imports Slack; only src/main.ts, the composition root, wires it;
 *   - only adapters (src/aws, src/store) import the AWS SDK;
 *   - blocks/ are pure builders: no Slack client, no AWS, no I/O;
 *   - handlers/ never talk to AWS directly;
 *   - nothing but src/main.ts reads process.env (config.ts parses what main hands it).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..');

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return files(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

const violations = (dir: string, forbidden: RegExp, except: (file: string) => boolean = () => false) =>
  files(dir)
    .filter((f) => !except(f))
    .flatMap((f) => imports(f).filter((i) => forbidden.test(i)).map((i) => `${relative(ROOT, join(ROOT, f))} imports ${i}`));

it('the core never imports Slack (only the composition root does)', () => {
  expect(violations('src', /^@slack\/|\.\.\/handlers|\.\.\/blocks/, (f) => f === join('src', 'main.ts'))).toEqual([]);
});

it('only adapters import the AWS SDK', () => {
  const adapter = (f: string) => f.startsWith(join('src', 'aws')) || f.startsWith(join('src', 'store')) || f === join('src', 'main.ts');
  expect(violations('src', /^@aws-sdk\//, adapter)).toEqual([]);
  expect(violations('handlers', /^@aws-sdk\//)).toEqual([]);
});

it('blocks are pure: no clients, no AWS, no I/O', () => {
  expect(violations('blocks', /^@slack\/(bolt|web-api)$|^@aws-sdk\/|^node:(fs|http|https|net|child_process)$|\.\.\/handlers|\.\.\/src\/(service|store|aws|main)/)).toEqual([]);
});

it('nothing outside the composition root reads process.env', () => {
  const code = (f: string) => readFileSync(join(ROOT, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const readers = [...files('src'), ...files('handlers'), ...files('blocks')].filter((f) => f !== join('src', 'main.ts') && /process\.env/.test(code(f)));
  expect(readers).toEqual([]);
});
