/**
 * Revocation guarantees against a simulated EC2 endpoint over real HTTP (the real SDK client and
 * provider), with the real store on dynalite: overlapping grants share one rule, a revoke is only
 * done when AWS confirms it, and the drift sweep cleans up what no live grant holds.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import pino from 'pino';
import { Ec2SshProvider } from '../src/aws/ec2-ssh';
import { parseConfig } from '../src/config';
import type { AccessRequest } from '../src/domain/types';
import { decide } from '../src/lifecycle';
import { AccessService } from '../src/service';
import type { DynamoRequestStore } from '../src/store/dynamo';
import { FakeClock } from './support/clock';
import { type FakeEc2, startFakeEc2 } from '../testkit/fake-ec2';
import { useEmbeddedDynamo } from './support/store';

const SG = 'sg-0123456789abcdef0';
const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: ${SG}, region: eu-west-1 }
  - { name: prod-bastion-2, kind: ec2-ssh, securityGroupId: ${SG}, region: eu-west-1 }
`);
const MIN = 60_000;

const dynamo = useEmbeddedDynamo();
let ec2: FakeEc2;
let ec2Client: EC2Client;
let store: DynamoRequestStore;
let clock: FakeClock;
let svc: AccessService;
let table = 0;

beforeEach(async () => {
  ec2 = await startFakeEc2();
  ec2Client = new EC2Client({ region: 'eu-west-1', endpoint: ec2.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  store = await dynamo.newStore(`rev-${++table}`);
  clock = new FakeClock();
  svc = new AccessService({ config, store, providers: { 'ec2-ssh': new Ec2SshProvider(() => ec2Client, { defaultRegion: 'eu-west-1', registry: store }) }, clock, log: pino({ level: 'silent' }), owner: 'a', random: () => 0.5 });
});
afterEach(async () => {
  ec2Client.destroy();
  await ec2.close();
});

async function granted(requester: string, duration = '30m', target = 'prod-bastion', address = '203.0.113.7'): Promise<AccessRequest> {
  const r = await svc.submit({ requesterId: requester, targetName: target, duration, address, reason: 'debugging' });
  return svc.approve(r.id, 'U0APPROVER');
}

function ec2Rule(r: AccessRequest): string {
  if (r.grant?.kind !== 'ec2-ssh') throw new Error(`${r.id} has no ec2 grant`);
  return r.grant.securityGroupRuleId;
}

async function runDue(until: number): Promise<void> {
  for (const r of await store.listDue(until, 100)) await svc.processDue(r.id);
}

it('two live grants for the same address and port share one rule; it goes when the last ends', async () => {
  const first = await granted('U0ALICE', '30m');
  clock.advance(10 * MIN);
  const second = await granted('U0ALICE', '30m', 'prod-bastion-2');
  expect(first.status).toBe('ACTIVE');
  expect(second).toMatchObject({ status: 'ACTIVE', grant: { securityGroupRuleId: ec2Rule(first), shared: true } });
  expect(ec2.rules()).toHaveLength(1);

  // The first grant expires: the rule stays, because the second still holds it.
  clock.advance(20 * MIN);
  await runDue(clock.now().getTime());
  const firstDone = await store.get(first.id);
  expect(firstDone).toMatchObject({ status: 'REVOKED', revokeOutcome: 'released' });
  expect(firstDone!.audit.at(-1)!.details).toMatchObject({ outcome: 'released', stillHeldBy: second.id });
  expect(ec2.rules()).toHaveLength(1);

  // The second expires: now the rule is removed and verified gone.
  clock.advance(10 * MIN);
  await runDue(clock.now().getTime());
  expect(await store.get(second.id)).toMatchObject({ status: 'REVOKED', revokeOutcome: 'verified' });
  expect(ec2.rules()).toHaveLength(0);
  expect(ec2.calls.filter((c) => c.action === 'RevokeSecurityGroupIngress')).toHaveLength(1);
});

it('a revoke AWS accepts but does not carry out is not done: retried, alerted, then verified', async () => {
  const r = await granted('U0ALICE');
  ec2.ignoreNextRevoke();
  clock.advance(30 * MIN);
  await runDue(clock.now().getTime());
  const stuck = await store.get(r.id);
  // People see a code and a reference; the detail is in the audit under the reference.
  expect(stuck).toMatchObject({ status: 'REVOKING', attempts: 1, failure: 'revoke-unverified' });
  expect(stuck!.audit.at(-1)?.details).toMatchObject({ code: 'revoke-unverified', ref: stuck!.failureRef, error: expect.stringMatching(/still lists rule/) });
  expect(ec2.rules()).toHaveLength(1);
  clock.advance(MIN);
  await runDue(clock.now().getTime());
  const done = await store.get(r.id);
  expect(done).toMatchObject({ status: 'REVOKED', revokeOutcome: 'verified' });
  expect(ec2.rules()).toHaveLength(0);
  expect(Object.values(done!.outbox).map((n) => n.kind)).toContain('thread.revoked');
});

it('revoking keeps going through throttling and alerts once past the budget', async () => {
  const r = await granted('U0ALICE');
  clock.advance(30 * MIN);
  ec2.throttleNext(6);
  for (let i = 0; i < 10; i++) {
    await runDue(clock.now().getTime());
    clock.advance(MIN);
  }
  const done = await store.get(r.id);
  expect(done).toMatchObject({ status: 'REVOKED', revokeOutcome: 'verified', flagged: true });
  expect(done!.audit.filter((a) => a.action === 'revoke-retry').length).toBeGreaterThanOrEqual(5);
  expect(ec2.rules()).toHaveLength(0);
});

it('drift sweep: removes our tagged rules no live grant holds, reports untagged ones, leaves live grants alone', async () => {
  const live = await granted('U0ALICE', '30m', 'prod-bastion', '198.51.100.1');
  const orphan = ec2.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.9/32', tags: { 'jit:managed-by': 'jit-access-bot', 'jit:request-id': 'jit-gone000000' } });
  const standing = ec2.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '10.0.0.0/8' });
  const report = await svc.driftSweep();
  expect(report.removed.map((r) => r.securityGroupRuleId)).toEqual([orphan.securityGroupRuleId]);
  expect(report.untagged.map((r) => r.securityGroupRuleId)).toEqual([standing.securityGroupRuleId]);
  expect(ec2.rules().map((r) => r.securityGroupRuleId).sort()).toEqual([ec2Rule(live), standing.securityGroupRuleId].sort());
  // A second sweep finds nothing more to remove.
  expect((await svc.driftSweep()).removed).toEqual([]);
});

it('drift sweep leaves a rule alone while its grant is still being made', async () => {
  const r = await svc.submit({ requesterId: 'U0ALICE', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'x' });
  ec2.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '203.0.113.7/32', tags: { 'jit:managed-by': 'jit-access-bot', 'jit:request-id': r.id } });
  // Stored intent, AWS rule created, outcome not yet stored (as after a crash).
  await store.transition(decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, { now: clock.now(), leaseMs: 30_000, expiryWarningMs: 5 * MIN, owner: 'a', newId: () => 'n' }));
  expect((await svc.driftSweep()).removed).toEqual([]);
  clock.advance(31_000);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'ACTIVE' }); // adopts the tagged rule
  expect(ec2.rules()).toHaveLength(1);
});

it('drift sweep: a request-id tag that is not a request id is no grant of ours (removed, never looked up)', async () => {
  const forged = ['x'.repeat(256), 'lease#drift', '<@U0ALICE>'].map((tag, i) =>
    ec2.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: `198.51.100.${20 + i}/32`, tags: { 'jit:managed-by': 'jit-access-bot', 'jit:request-id': tag } }),
  );
  const get = jest.spyOn(store, 'get');
  const report = await svc.driftSweep();
  expect(report.removed.map((r) => r.securityGroupRuleId).sort()).toEqual(forged.map((r) => r.securityGroupRuleId).sort());
  expect(get).not.toHaveBeenCalled();
  expect(ec2.rules()).toEqual([]);
});
