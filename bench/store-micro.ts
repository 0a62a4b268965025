/**
 * Store micro figures (issue 13 item 1), standalone (not part of `npm run bench`'s JSON line):
 *
 *   node dist/bench/store-micro.js micro [normal|full|memory|dynalite]
 *       µs (wall) and µs of CPU per create / get / transition / listDue, with 10,000 live
 *       requests, on a file in a fresh temporary directory (`full`: synchronous=FULL; `dynalite`:
 *       the DynamoDB adapter on the old embedded store, for comparison)
 *   node dist/bench/store-micro.js rss [memory]
 *       RSS every 5,000 of 20,000 lifecycles (create → 4 transitions → every notification acked)
 *       on the SQLite store: flat after the first thousands = bounded
 *
 * One JSON line per result. Needs Node 22.13+ (node:sqlite).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AccessRequest } from '../src/domain/types';
import { decide, type LifecycleContext } from '../src/lifecycle';
import type { StoreAdapter } from '../src/ports';
import { DynamoRequestStore, ensureTable } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';
import { openSqliteStore } from '../src/store/sqlite';

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
let seq = 0;
const grant = { kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: 'sgr-0abc', cidr: '203.0.113.7/32', port: 22 };
const mb = (n: number) => Math.round(n / 1_048_576);

function request(o: Partial<AccessRequest> = {}): AccessRequest {
  seq++;
  const createdAt = new Date(T0 + seq * 1000).toISOString();
  return {
    id: `jit-${String(seq).padStart(10, '0')}`,
    version: 1,
    status: 'PENDING',
    kind: 'ec2-ssh',
    targetName: `target-${seq % 20}`,
    requesterId: `U0REQ${seq % 300}`,
    reason: 'investigating checkout latency',
    durationMs: 1_800_000,
    cidr: '203.0.113.7/32',
    createdAt,
    approvalDeadline: new Date(T0 + seq * 1000 + 1_800_000).toISOString(),
    dueAt: T0 + seq * 1000 + 1_800_000,
    audit: [{ at: createdAt, actor: 'U0REQ', action: 'request', from: null, to: 'PENDING' }],
    outbox: {},
    ...o,
  };
}

const ctx = (now = T0 + seq * 1000): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 300_000, owner: 'bench', newId: () => `n${++seq}` });

async function per(n: number, f: (i: number) => Promise<unknown>): Promise<{ us: number; cpuUs: number }> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  for (let i = 0; i < n; i++) await f(i);
  const u = process.cpuUsage(c);
  return { us: +(Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(1), cpuUs: +((u.user + u.system) / n).toFixed(1) };
}

async function micro(label: string, store: StoreAdapter, n: number, bulk?: { begin(): void; commit(): void }): Promise<void> {
  bulk?.begin();
  for (let i = 0; i < 10_000; i++) await store.create(request({ status: 'ACTIVE', dueAt: T0 + 86_400_000 + i }));
  bulk?.commit();
  const fresh = Array.from({ length: n }, () => request());
  const create = await per(n, (i) => store.create(fresh[i]!));
  const get = await per(n, (i) => store.get(fresh[i]!.id));
  const approve = fresh.map((r) => decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, ctx()));
  const approved: AccessRequest[] = [];
  const transition = await per(n, async (i) => approved.push(await store.transition(approve[i]!)));
  const idle = await per(200, () => store.listDue(T0, 200));
  for (let i = 0; i < 100; i++) await store.create(request({ dueAt: T0 - 1_000 + i }));
  const due100 = await per(100, () => store.listDue(T0, 200));
  console.log(JSON.stringify({ label, n, live: 10_000, create, get, transition, listDueIdle: idle, listDue100: due100 }));
}

async function rss(memory: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jit-store-rss-'));
  const path = join(dir, 'jit.sqlite');
  const store = openSqliteStore(memory ? undefined : path);
  const t = Date.now();
  const c = process.cpuUsage();
  console.log(JSON.stringify({ lifecycles: 0, rss_mb: mb(process.memoryUsage().rss) }));
  try {
    for (let i = 1; i <= 20_000; i++) {
      let r = request();
      await store.create(r);
      r = await store.transition(decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, ctx()));
      r = await store.transition(decide(r, { type: 'granted', grant, expiresAt: new Date(T0 + seq * 1000 + 1_800_000).toISOString() }, ctx()));
      r = await store.transition(decide(r, { type: 'expire' }, ctx(Date.parse(r.expiresAt!) + 1)));
      r = await store.transition(decide(r, { type: 'revoked', removed: true, outcome: 'verified' }, ctx(Date.parse(r.expiresAt!) + 2)));
      for (const n of Object.keys(r.outbox)) await store.ackNotification(r.id, n);
      if (i % 5_000 === 0) {
        const m = process.memoryUsage();
        console.log(JSON.stringify({ lifecycles: i, rss_mb: mb(m.rss), heap_mb: mb(m.heapUsed), seconds: (Date.now() - t) / 1000 }));
      }
    }
    const u = process.cpuUsage(c);
    console.log(JSON.stringify({ lifecycles: 20_000, seconds: (Date.now() - t) / 1000, cpu_ms_per_lifecycle: +((u.user + u.system) / 1000 / 20_000).toFixed(2), file_mb: memory ? 0 : mb(statSync(path).size), backlog: await store.backlog(Number.MAX_SAFE_INTEGER, 100_000) }));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [what = 'micro', variant = 'normal'] = process.argv.slice(2);
  if (what === 'rss') return rss(variant === 'memory');
  const dir = mkdtempSync(join(tmpdir(), 'jit-store-micro-'));
  try {
    if (variant === 'dynalite') {
      const db = await startEmbeddedDynamo(join(dir, 'ddb'));
      const client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
      try {
        await ensureTable(client, 'jit');
        await micro('dynalite', new DynamoRequestStore(client, 'jit'), 1_000);
      } finally {
        client.destroy();
        await db.close();
      }
      return;
    }
    const store = openSqliteStore(variant === 'memory' ? undefined : join(dir, 'jit.sqlite'));
    const db = (store as unknown as { db: { exec(sql: string): void } }).db;
    if (variant === 'full') db.exec('PRAGMA synchronous = FULL');
    try {
      await micro(`sqlite-${variant}`, store, 2_000, { begin: () => db.exec('BEGIN'), commit: () => db.exec('COMMIT') });
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
