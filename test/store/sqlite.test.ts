/**
 * What is the SQLite store's own (its behaviour as a store is in the contract suite): the file is
 * its owner's alone, one process at a time (an exclusive lock, DataDirLockedError for the second),
 * the durability settings, the schema version, the sparse indexes the sweeps read, and the
 * ExperimentalWarning of node:sqlite dropped at load and nothing else.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { DataDirLockedError } from '../../src/store/embedded';
import { isSqliteExperimentalWarning, loadSqlite, openSqliteStore, SQLITE_SCHEMA_VERSION, type SqliteRequestStore } from '../../src/store/sqlite';
import { waitFor } from '../../testkit/wait';
import { pendingRequest } from '../support/requests';

const ROOT = resolve(__dirname, '../..');
const SQLITE_TS = join(ROOT, 'src/store/sqlite.ts');
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jit-sqlite-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (p: string) => statSync(p).mode & 0o777;
const dbOf = (s: SqliteRequestStore) => (s as unknown as { db: DatabaseSync }).db;
const pragma = (s: SqliteRequestStore, name: string) => Object.values(dbOf(s).prepare(`PRAGMA ${name}`).get()!)[0];

/** Node running TypeScript sources (through @swc/core, as jest does), with `code` after the hook. */
function node(code: string): { child: ChildProcessWithoutNullStreams; out: () => string; err: () => string } {
  const hook = `const swc = require('@swc/core'); const fs = require('node:fs');
require.extensions['.ts'] = (m, f) => m._compile(swc.transformSync(fs.readFileSync(f, 'utf8'), { filename: f, jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }).code, f);\n`;
  const child = spawn(process.execPath, ['-e', hook + code], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err };
}

const exited = (c: ChildProcessWithoutNullStreams) => new Promise<number | null>((r) => (c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

describe('the file', () => {
  it('is created 0600 in a directory created 0700, and the files beside it are 0600 too', async () => {
    const path = join(dir, 'data', 'jit.sqlite');
    const store = openSqliteStore(path);
    try {
      await store.create(pendingRequest());
      expect(modeOf(join(dir, 'data'))).toBe(0o700);
      const files = readdirSync(join(dir, 'data'));
      expect(files).toContain('jit.sqlite');
      for (const f of files) expect([f, modeOf(join(dir, 'data', f))]).toEqual([f, 0o600]);
    } finally {
      store.close();
    }
  });

  it('an existing file open to others is closed to 0600', () => {
    const path = join(dir, 'jit.sqlite');
    writeFileSync(path, '');
    chmodSync(path, 0o644);
    openSqliteStore(path).close();
    expect(modeOf(path)).toBe(0o600);
  });

  it('keeps what was written across close and open, with the schema version recorded', async () => {
    const path = join(dir, 'jit.sqlite');
    const r = pendingRequest();
    const first = openSqliteStore(path);
    await first.create(r);
    await first.join('eu-west-1#sgr-1', r.id);
    expect(await first.tryLease('drift', 'a', 1_000, 61_000)).toBe(true);
    first.close();
    first.close(); // idempotent
    await expect(first.ping()).rejects.toThrow(/closed/);
    const again = openSqliteStore(path);
    try {
      expect(await again.get(r.id)).toEqual(r);
      expect(await again.holders('eu-west-1#sgr-1')).toEqual([r.id]);
      expect(await again.tryLease('drift', 'b', 2_000, 62_000)).toBe(false);
      expect(dbOf(again).prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: String(SQLITE_SCHEMA_VERSION) });
    } finally {
      again.close();
    }
  });

  it('refuses a file written by a newer schema, naming what to do', () => {
    const path = join(dir, 'jit.sqlite');
    const store = openSqliteStore(path);
    dbOf(store).prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    store.close();
    expect(() => openSqliteStore(path)).toThrow(/newer version of the bot \(schema 99.*upgrade the bot/);
  });

  it('runs with WAL, synchronous=NORMAL, an exclusive lock and a bounded page cache', () => {
    const store = openSqliteStore(join(dir, 'jit.sqlite'));
    try {
      expect(pragma(store, 'journal_mode')).toBe('wal');
      expect(pragma(store, 'synchronous')).toBe(1); // NORMAL
      expect(pragma(store, 'locking_mode')).toBe('exclusive');
      expect(pragma(store, 'cache_size')).toBe(-8000);
      expect(pragma(store, 'busy_timeout')).toBe(5000);
    } finally {
      store.close();
    }
  });
});

describe('one process at a time', () => {
  it('a second process is refused with DataDirLockedError while the first holds the file, and opens once it is gone', async () => {
    const path = join(dir, 'jit.sqlite');
    const holder = node(`const { openSqliteStore } = require(${JSON.stringify(SQLITE_TS)}); openSqliteStore(${JSON.stringify(path)}); console.log('open'); setInterval(() => {}, 1000);`);
    await waitFor(() => holder.out().includes('open'), { timeoutMs: 15_000, message: () => `the holder to open the store (stderr: ${holder.err()})` });
    expect(() => openSqliteStore(path)).toThrow(DataDirLockedError);
    try {
      openSqliteStore(path);
    } catch (err) {
      expect((err as DataDirLockedError).path).toBe(path);
    }
    holder.child.kill('SIGKILL'); // a crash: the lock goes with the process
    await exited(holder.child);
    const store = openSqliteStore(path);
    await store.create(pendingRequest());
    store.close();
  });

  it('while this process holds it, another process gets DataDirLockedError', async () => {
    const path = join(dir, 'jit.sqlite');
    const store = openSqliteStore(path);
    try {
      const other = node(`const { openSqliteStore } = require(${JSON.stringify(SQLITE_TS)}); try { openSqliteStore(${JSON.stringify(path)}); console.log('opened'); } catch (err) { console.log('refused:' + err.name); }`);
      expect(await exited(other.child)).toBe(0);
      expect(other.out().trim()).toBe('refused:DataDirLockedError');
      // Still ours, and still working.
      await store.create(pendingRequest());
    } finally {
      store.close();
    }
  });
});

describe("node:sqlite's ExperimentalWarning", () => {
  it('is dropped while the module loads; every other warning, and that one later, still comes through', async () => {
    const proc = node(`
process.on('warning', (w) => console.log('warning|' + w.name + '|' + w.message));
const { openSqliteStore } = require(${JSON.stringify(SQLITE_TS)});
openSqliteStore(undefined).close();
console.log('loaded');
process.emitWarning('another experimental thing', 'ExperimentalWarning');
process.emitWarning('something else', { type: 'DeprecationWarning', code: 'DEP0' });
process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
setImmediate(() => console.log('done'));
`);
    expect(await exited(proc.child)).toBe(0);
    const lines = proc.out().trim().split('\n');
    expect(lines).toEqual(['loaded', 'warning|ExperimentalWarning|another experimental thing', 'warning|DeprecationWarning|something else', 'warning|ExperimentalWarning|SQLite is an experimental feature and might change at any time', 'done']);
    expect(proc.err().match(/SQLite is an experimental feature/g)).toHaveLength(1); // only the one emitted after the load
  });

  it('the filter matches that warning only', () => {
    expect(isSqliteExperimentalWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning')).toBe(true);
    expect(isSqliteExperimentalWarning('SQLite is an experimental feature and might change at any time', { type: 'ExperimentalWarning' })).toBe(true);
    expect(isSqliteExperimentalWarning('SQLite is an experimental feature', 'DeprecationWarning')).toBe(false);
    expect(isSqliteExperimentalWarning('The Fetch API is an experimental feature', 'ExperimentalWarning')).toBe(false);
    expect(isSqliteExperimentalWarning('SQLite is an experimental feature', undefined)).toBe(false);
  });

  it('a warning emitted by the module loader other than that one passes through, and emitWarning is restored', () => {
    const seen: unknown[][] = [];
    const original = process.emitWarning;
    process.emitWarning = ((...args: unknown[]) => void seen.push(args)) as typeof process.emitWarning;
    const installed = process.emitWarning;
    try {
      // A fresh copy of the module (loadSqlite caches what it loaded), given a loader that warns twice.
      jest.isolateModules(() => {
        const { loadSqlite: fresh } = require('../../src/store/sqlite') as typeof import('../../src/store/sqlite');
        fresh((id) => {
          process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
          process.emitWarning('kept', 'ExperimentalWarning');
          return { id };
        });
      });
      expect(seen).toEqual([['kept', 'ExperimentalWarning']]);
      expect(process.emitWarning).toBe(installed);
    } finally {
      process.emitWarning = original;
    }
  });
});

describe('the sweeps read the sparse indexes, never the table', () => {
  it('listDue, listPending, the backlog counts and the outbox use the partial indexes', () => {
    const store = openSqliteStore(undefined);
    try {
      const s = (store as unknown as { s: Record<string, StatementSync> }).s;
      const plan = (name: string) =>
        (dbOf(store).prepare(`EXPLAIN QUERY PLAN ${s[name]!.sourceSQL}`).all(...Array.from({ length: (s[name]!.sourceSQL.match(/\?/g) ?? []).length }, () => 1)) as { detail: string }[]).map((r) => r.detail).join('; ');
      for (const name of ['listDue', 'listPending', 'countDue']) expect([name, plan(name)]).toEqual([name, expect.stringMatching(/USING (COVERING )?INDEX requests_due/)]);
      for (const name of ['listOutbox', 'countOutbox', 'oldestOutbox']) expect([name, plan(name)]).toEqual([name, expect.stringMatching(/USING (COVERING )?INDEX requests_outbox/)]);
      for (const name of ['listDue', 'listPending', 'countDue', 'listOutbox', 'countOutbox', 'oldestOutbox']) expect([name, plan(name)]).toEqual([name, expect.not.stringMatching(/SCAN requests(?! USING)/)]);
    } finally {
      store.close();
    }
  });

  it('10,000 live requests, none due: an idle sweep finds nothing; once due, they are found', async () => {
    const store = openSqliteStore(undefined);
    const T0 = Date.parse('2026-11-22T10:00:00.000Z');
    try {
      for (let n = 0; n < 10_000; n++) await store.create(pendingRequest({ id: `jit-${String(n).padStart(10, '0')}`, status: 'ACTIVE', dueAt: T0 + 60_000 + n }));
      expect(await store.listDue(T0, 200)).toEqual([]);
      expect(await store.backlog(T0, 1_000)).toEqual({ due: 0, outbox: 0 });
      expect(await store.listDue(T0 + 60_000 + 9, 200)).toHaveLength(10);
    } finally {
      store.close();
    }
  }, 60_000);
});

it('a Node without node:sqlite gets a message that says what to do', () => {
  jest.isolateModules(() => {
    const fresh = require('../../src/store/sqlite') as typeof import('../../src/store/sqlite');
    const missing = Object.assign(new Error('No such built-in module: node:sqlite'), { code: 'ERR_UNKNOWN_BUILTIN_MODULE' });
    expect(() =>
      fresh.loadSqlite(() => {
        throw missing;
      }),
    ).toThrow(/needs node:sqlite, built into Node 22\.13 and later \(this is Node \d+.*upgrade Node, or set JIT_DYNAMODB_TABLE/);
    const other = new Error('something else');
    expect(() =>
      fresh.loadSqlite(() => {
        throw other;
      }),
    ).toThrow(other);
  });
});

it('loadSqlite returns the same module every time', () => {
  expect(loadSqlite()).toBe(loadSqlite());
});

describe('delivery passes on the lifecycle\'s notification ids', () => {
  it('claim and ack of "<ISO time>-<what>" ids are single JSON statements: the request body is neither parsed nor re-serialised', async () => {
    const store = openSqliteStore(undefined);
    try {
      const at = '2026-12-02T01:53:00.000Z';
      const ids = [`${at}-+post`, `${at}-submitted`];
      const r = pendingRequest({ createdAt: at, outbox: Object.fromEntries(ids.map((id, i) => [id, { id, kind: i === 0 ? 'approval.post' : 'dm.submitted', createdAt: at }])) as never });
      await store.create(r);
      const stringify = jest.spyOn(JSON, 'stringify');
      const parse = jest.spyOn(JSON, 'parse');
      try {
        expect(await store.claimNotifications(r.id, ids, 'replica-a', 1_000, 31_000)).toEqual({ reclaimed: new Set() });
        await store.ackNotifications(r.id, [ids[0]!]);
        expect(stringify).not.toHaveBeenCalled();
        expect(parse).not.toHaveBeenCalled();
      } finally {
        stringify.mockRestore();
        parse.mockRestore();
      }
      const after = (await store.get(r.id))!;
      expect(Object.keys(after.outbox)).toEqual([ids[1]]);
      expect(after.outbox[ids[1]!]).toMatchObject({ claimUntil: 31_000, claimedBy: 'replica-a' });
    } finally {
      await store.close();
    }
  });
});
