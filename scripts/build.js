#!/usr/bin/env node
/**
 * Builds dist/ with tsc only when it is out of date, so `npm start` (and demo, bench, the CLIs)
 * start at once on a current build instead of spending ~3 s in the compiler every time.
 *
 * Out of date = no stamp yet, or anything the build reads is newer than the stamp: the
 * directories listed in tsconfig.build.json's `include` (files and the folders themselves, so a
 * deleted file counts), the tsconfig files, package.json and package-lock.json.
 *
 *   node scripts/build.js           build if out of date
 *   node scripts/build.js --force   always build
 *
 * A build starts from an empty dist/, so nothing compiled from a file since deleted or moved stays
 * behind to be loaded instead of its replacement.
 *
 * Plain JavaScript on purpose: it has to run before anything is compiled.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const STAMP = join(DIST, '.build-stamp');
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** Newest modification time (ms) under `path`, the folders included; 0 when it does not exist. */
function newest(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules') continue;
    const m = newest(join(path, name));
    if (m > max) max = m;
  }
  return max;
}

function outOfDate() {
  if (!existsSync(STAMP)) return 'no build yet';
  const built = statSync(STAMP).mtimeMs;
  const { include = [] } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8'));
  for (const entry of [...include, ...CONFIGS]) {
    if (newest(join(ROOT, entry)) > built) return `${entry} changed`;
  }
  return undefined;
}

const reason = process.argv.includes('--force') ? 'forced' : outOfDate();
if (reason) {
  // The stamp carries the time the build started: a file saved while tsc runs is still newer.
  const started = new Date();
  // From scratch: a compiled file whose source was deleted or moved would otherwise stay and could
  // shadow its replacement (dist/src/service.js is found before dist/src/service/index.js).
  rmSync(DIST, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
  writeFileSync(STAMP, `${started.toISOString()} ${reason}\n`);
  utimesSync(STAMP, started, started);
}
