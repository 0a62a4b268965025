/**
 * The bench's live grants (bench/seed.ts) through the bench's one store opener (bench/store.ts):
 * each is ACTIVE as a real grant leaves it (grant, expiry, due at its warning, three audit
 * records), holds its rule in the registry, has its rule at EC2, and an idle sweep reads nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ruleKey } from '../../src/aws/ec2-ssh';
import { isRequestId } from '../../src/domain/ids';
import { type BenchStore, openBenchStore } from '../../bench/store';
import { seedId, seedLiveGrants } from '../../bench/seed';
import { type FakeEc2, startFakeEc2 } from '../../testkit/fake-ec2';

let dir: string;
let db: BenchStore;
let ec2: FakeEc2;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jit-seed-test-'));
  db = await openBenchStore(dir);
  ec2 = await startFakeEc2();
}, 30_000);
afterAll(async () => {
  await Promise.allSettled([db.close(), ec2.close()]);
  rmSync(dir, { recursive: true, force: true });
});

it('seed ids are distinct request ids', () => {
  const ids = Array.from({ length: 40_000 }, (_, i) => seedId(i));
  expect(ids.every(isRequestId)).toBe(true);
  expect(new Set(ids).size).toBe(ids.length);
});

it('seeds N ACTIVE grants with their rules and holders; an idle sweep reads no item', async () => {
  const target = { name: 'seed-bastion', securityGroupId: 'sg-0be0c0000000000e1', port: 22, region: 'eu-west-1' };
  const before = Date.now();
  const ids = await seedLiveGrants(db.store, 12, {
    target,
    expiresInMs: 3_600_000,
    warningMs: 300_000,
    approver: 'U0SEEDAPPR',
    concurrency: 4,
    openRule: (r) => ec2.seedRule({ groupId: r.groupId, ipProtocol: 'tcp', fromPort: r.port, toPort: r.port, cidrIpv4: r.cidr, description: r.description, tags: r.tags }).securityGroupRuleId,
  });
  expect(ids).toHaveLength(12);
  const stored = await db.store.getMany(ids);
  expect(stored.size).toBe(12);
  const rules = ec2.rules().filter((r) => r.groupId === target.securityGroupId);
  expect(rules).toHaveLength(12);
  for (const id of ids) {
    const r = stored.get(id)!;
    expect(r).toMatchObject({ status: 'ACTIVE', kind: 'ec2-ssh', targetName: target.name, warned: false, outbox: {} });
    expect(r.audit.map((a) => a.to)).toEqual(['PENDING', 'GRANTING', 'ACTIVE']);
    expect(Date.parse(r.expiresAt!)).toBeGreaterThan(before + 3_500_000);
    expect(r.dueAt).toBe(Date.parse(r.warnAt!));
    if (r.grant?.kind !== 'ec2-ssh') throw new Error('no ec2-ssh grant');
    const rule = rules.find((x) => x.securityGroupRuleId === (r.grant as { securityGroupRuleId: string }).securityGroupRuleId);
    expect(rule).toMatchObject({ cidrIpv4: r.cidr, tags: { 'jit:request-id': id, 'jit:managed-by': 'jit-access-bot' } });
    expect(await db.store.holders(ruleKey(r.grant))).toEqual([id]);
  }
  db.resetItemsRead();
  expect(await db.store.listDue(Date.now(), 200)).toEqual([]);
  expect(db.itemsRead()).toBe(0);
  // Counted when there is something to read: at its warning time every grant is due.
  expect(await db.store.listDue(before + 3_600_000, 200)).toHaveLength(12);
  expect(db.itemsRead()).toBeGreaterThanOrEqual(12);
}, 30_000);
