/** The bot's Node flags have one home (src/node-flags.ts): the image, `npm start` and the bench run with exactly those. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../src/node-flags';

const REPO = join(__dirname, '..');

it('the image starts the bot with the flags, nothing else between node and main.js', () => {
  const cmd = readFileSync(join(REPO, 'Dockerfile'), 'utf8').trim().split('\n').filter((l) => l.startsWith('CMD ')).at(-1)!;
  expect(JSON.parse(cmd.slice(4))).toEqual(['node', ...NODE_FLAGS, 'dist/src/main.js']);
});

it('npm start runs the built bot with the same flags', () => {
  const start: string = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.start;
  expect(start.split(' && ').at(-1)).toBe(['node', ...NODE_FLAGS, 'dist/src/main.js'].join(' '));
});

it('the bench runs the built bot with the same flags', () => {
  const bench = readFileSync(join(REPO, 'bench', 'bot-process.ts'), 'utf8');
  expect(bench).toMatch(/\[process\.execPath, \.\.\.NODE_FLAGS, join\(REPO, 'dist', 'src', 'main\.js'\)\]/);
});

it('the flags bound the young generation and cap the old one', () => {
  const mib = (flag: string) => Number(NODE_FLAGS.find((f) => f.startsWith(`--${flag}=`))?.split('=')[1]);
  expect(mib('max-semi-space-size')).toBeLessThanOrEqual(16);
  expect(mib('max-old-space-size')).toBeGreaterThanOrEqual(256);
});
