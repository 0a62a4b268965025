/**
 * The service against real adapters: embedded dynalite, the real EC2 provider over a mocked
 * EC2 client. Covers what happens when AWS misbehaves or a replica dies mid-way.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { Ec2SshProvider } from '../../src/aws/ec2-ssh';
import { notificationText } from '../../blocks/errors';
import { parseConfig } from '../../src/config';
import { CannotDecideError, NotFoundError } from '../../src/domain/errors';
import type { AccessRequest } from '../../src/domain/types';
import { decide } from '../../src/lifecycle';
import { AccessService } from '../../src/service';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { FakeClock } from '../support/clock';
import { useEmbeddedDynamo } from '../support/store';
import { waitFor } from '../../testkit/wait';

const ec2 = mockClient(EC2Client);
const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
rateLimits: { requests: { max: 100, per: 1m } }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: eu-west-1 }
`);
const MIN = 60_000;
const throttled = () => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
const denied = () => Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });

const dynamo = useEmbeddedDynamo();
let store: DynamoRequestStore;
let clock: FakeClock;

function replica(owner: string): AccessService {
  const provider = new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  return new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner, leaseMs: 30_000, random: () => 0.5 });
}

async function submitted(service: AccessService): Promise<AccessRequest> {
  return service.submit({ requesterId: 'U0REQUESTER', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'debugging' });
}

beforeAll(async () => {
  store = await dynamo.newStore('svc');
});
let ruleId: string;
let rules = 0;
beforeEach(() => {
  clock = new FakeClock();
  ruleId = `sgr-${String(++rules).padStart(4, '0')}`; // the registry lives in the shared table: one rule per test
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: ruleId }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});

it('retries a throttled grant with backoff until it succeeds, with one rule', async () => {
  const svc = replica('a');
  const r = await submitted(svc);
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({ SecurityGroupRules: [{ SecurityGroupRuleId: ruleId }] });
  const first = await svc.approve(r.id, 'U0APPROVER');
  expect(first).toMatchObject({ status: 'GRANTING', attempts: 1, failure: 'aws-throttled', failureRef: expect.stringMatching(/^[0-9A-Z]{8}$/) });
  // AWS's message is kept in the audit under the reference, not on the request.
  expect(first.audit.at(-1)?.details).toMatchObject({ code: 'aws-throttled', ref: first.failureRef, error: expect.stringMatching(/Request limit exceeded|RequestLimitExceeded/) });
  expect(first.dueAt).toBe(clock.now().getTime() + 750); // backoff 1 s with jitter 0.5 → 750 ms
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'GRANTING' }); // not due yet: untouched
  clock.advance(1_000);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'GRANTING', attempts: 2 });
  clock.advance(2_000);
  const active = await svc.processDue(r.id);
  expect(active).toMatchObject({ status: 'ACTIVE', grant: { securityGroupRuleId: ruleId } });
  expect(active!.attempts).toBeUndefined();
  expect(active!.audit.map((a) => a.action)).toEqual(['request', 'approve', 'grant-retry', 'claim-grant', 'grant-retry', 'claim-grant', 'grant']);
});

it('gives up granting after the retry budget: FAILED, audited, requester told', async () => {
  const svc = replica('a');
  const r = await submitted(svc);
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(throttled());
  await svc.approve(r.id, 'U0APPROVER');
  clock.advance(6 * MIN);
  const failed = await svc.processDue(r.id);
  expect(failed).toMatchObject({ status: 'FAILED' });
  expect(Object.values(failed!.outbox).map((n) => n.kind)).toEqual(expect.arrayContaining(['dm.failed', 'approval.update']));
});

it('a non-retryable AWS error fails the grant at once', async () => {
  const svc = replica('a');
  const r = await submitted(svc);
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(denied());
  expect(await svc.approve(r.id, 'U0APPROVER')).toMatchObject({ status: 'FAILED', failure: 'aws-denied' });
  expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
});

it('keeps retrying a failing revoke, alerts the approver channel once, then finishes', async () => {
  const svc = replica('a');
  const r = await submitted(svc);
  await svc.approve(r.id, 'U0APPROVER');
  ec2.on(RevokeSecurityGroupIngressCommand).rejects(throttled());
  clock.advance(30 * MIN);
  let current = await svc.processDue(r.id);
  for (let i = 0; i < 6; i++) {
    clock.advance(MIN);
    current = await svc.processDue(r.id);
  }
  expect(current).toMatchObject({ status: 'REVOKING', attempts: 7 });
  const alerts = Object.values(current!.outbox).filter((n) => n.kind === 'channel.alert');
  expect(alerts).toHaveLength(1);
  expect(notificationText(alerts[0]!)).toMatch(/keeps failing/);
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  clock.advance(MIN);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'REVOKED', endReason: 'expired' });
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 8);
});

it('crash after the intent was stored: another replica takes over when the lease lapses', async () => {
  const a = replica('a');
  const r = await submitted(a);
  // Replica a stored GRANTING and died before calling AWS.
  await store.transition(decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, { now: clock.now(), leaseMs: 30_000, expiryWarningMs: 5 * MIN, owner: 'a', newId: () => 'n1' }));
  const b = replica('b');
  expect(await b.processDue(r.id)).toMatchObject({ status: 'GRANTING', leaseOwner: 'a' }); // lease still held
  expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
  clock.advance(31_000);
  const active = await b.processDue(r.id);
  expect(active).toMatchObject({ status: 'ACTIVE' });
  expect(active!.audit.find((x) => x.action === 'claim-grant')!.details).toEqual({ owner: 'b' });
  expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
});

it('shutdown mid-grant: the replica hands its lease back and another grants at once, not when the lease lapses', async () => {
  const a = replica('a');
  const r = await submitted(a);
  let answer!: () => void;
  const created = { Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: ruleId }] };
  ec2
    .on(AuthorizeSecurityGroupIngressCommand)
    .callsFakeOnce(() => new Promise((resolve) => (answer = () => resolve(created))))
    .resolves(created);
  const approving = a.approve(r.id, 'U0APPROVER').catch((err: Error) => err);
  await waitFor(() => answer !== undefined, { message: 'the grant reached EC2' });
  expect(await store.get(r.id)).toMatchObject({ status: 'GRANTING', leaseOwner: 'a' });

  // The process is stopping while EC2 has not answered: it hands the intent back.
  expect(await a.releaseLeases()).toEqual([r.id]);
  const released = (await store.get(r.id))!;
  expect(released).toMatchObject({ status: 'GRANTING', dueAt: clock.now().getTime() });
  expect(released.leaseOwner).toBeUndefined();
  expect(released.audit.at(-1)).toMatchObject({ action: 'release-grant', actor: 'system', from: 'GRANTING', to: 'GRANTING', details: { owner: 'a' } });
  expect(await a.releaseLeases()).toEqual([]); // nothing held any more

  // Replica b takes it over at once (no clock advance); it adopts nothing and creates the rule.
  const active = await replica('b').processDue(r.id);
  expect(active).toMatchObject({ status: 'ACTIVE' });
  expect(active!.audit.filter((x) => x.action === 'claim-grant').map((x) => x.details?.owner)).toEqual(['b']);
  // a's late answer loses its conditional write: still one outcome.
  answer();
  expect(await approving).toBeInstanceOf(Error);
  expect((await store.get(r.id))!.audit.filter((x) => x.to === 'ACTIVE')).toHaveLength(1);
});

it('crash after the AWS call: the recovering replica adopts our tagged rule instead of adding another', async () => {
  const a = replica('a');
  const r = await submitted(a);
  await store.transition(decide(r, { type: 'approve', actor: 'U0APPROVER', required: 1 }, { now: clock.now(), leaseMs: 30_000, expiryWarningMs: 5 * MIN, owner: 'a', newId: () => 'n1' }));
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0early', GroupId: 'sg-0123456789abcdef0', IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIpv4: '203.0.113.7/32', Tags: [{ Key: 'jit:request-id', Value: r.id }] }],
  });
  clock.advance(31_000);
  const active = await replica('b').processDue(r.id);
  expect(active).toMatchObject({ status: 'ACTIVE', grant: { securityGroupRuleId: 'sgr-0early' } });
  expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
});

it('two replicas sweeping the same expiry: one revoke, one REVOKED record', async () => {
  const a = replica('a');
  const b = replica('b');
  const r = await submitted(a);
  await a.approve(r.id, 'U0APPROVER');
  clock.advance(30 * MIN);
  await Promise.all([a.processDue(r.id), b.processDue(r.id), a.processDue(r.id), b.processDue(r.id)]);
  const done = await store.get(r.id);
  expect(done).toMatchObject({ status: 'REVOKED' });
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
  expect(done!.audit.filter((x) => x.to === 'REVOKED')).toHaveLength(1);
});

it('re-checks policy before AWS: a request that no longer fits is refused at approval', async () => {
  const svc = replica('a');
  const r = await submitted(svc);
  // Someone edited the stored item to widen the address.
  const stored = (await store.get(r.id))!;
  await store.transition({ id: r.id, expectStatus: 'PENDING', expectVersion: stored.version, status: 'PENDING', set: { cidr: '0.0.0.0/0' } });
  // Re-decided at the click: the request ends, refused by policy, and nothing reaches AWS.
  expect(await svc.approve(r.id, 'U0APPROVER')).toMatchObject({ status: 'DENIED', refusal: { code: 'address-invalid' } });
  expect(ec2.calls()).toHaveLength(0);
  expect(await store.get(r.id)).toMatchObject({ status: 'DENIED' });
});

it('ends live sessions through the provider hook before removing access, and audits them', async () => {
  const order: string[] = [];
  class SessionAwareProvider extends Ec2SshProvider {
    async endSessions(): Promise<string[]> {
      order.push('endSessions');
      return ['session-1', 'session-2'];
    }
  }
  ec2.on(RevokeSecurityGroupIngressCommand).callsFake(() => {
    order.push('revoke');
    return { Return: true };
  });
  const provider = new SessionAwareProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  const svc = new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner: 'a' });
  const r = await submitted(svc);
  await svc.approve(r.id, 'U0APPROVER');
  const done = await svc.revoke(r.id, 'U0REQUESTER');
  expect(order).toEqual(['endSessions', 'revoke']);
  expect(done.audit.at(-1)!.details).toMatchObject({ sessionsEnded: 'session-1,session-2', outcome: 'verified' });
});

it('an extension is done once AWS shows the new end: a failed record is retried on the extension, whose grant stays extended', async () => {
  let failures = 1;
  const recorded: Array<{ id: string; end: string }> = [];
  class RecordingProvider extends Ec2SshProvider {
    override async recordExpiry(request: AccessRequest, _grant: unknown, expiresAt: Date): Promise<void> {
      if (failures-- > 0) throw throttled();
      recorded.push({ id: request.id, end: expiresAt.toISOString() });
    }
  }
  const provider = new RecordingProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  const svc = new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner: 'a' });
  const r = await submitted(svc);
  const active = await svc.approve(r.id, 'U0APPROVER');
  const ext = await svc.extend(r.id, 'U0REQUESTER', { duration: '15m', reason: 'almost done' });
  const decided = ext.status === 'PENDING' ? await svc.approve(ext.id, 'U0APPROVER') : ext;
  const newEnd = new Date(Date.parse(active.expiresAt!) + 15 * MIN).toISOString();
  // The grant is extended; the extension waits for AWS to show it (a retry is scheduled).
  expect(decided).toMatchObject({ status: 'GRANTING', attempts: 1 });
  expect(await store.get(r.id)).toMatchObject({ status: 'ACTIVE', expiresAt: newEnd, extensions: [expect.objectContaining({ id: ext.id })] });
  expect(recorded).toEqual([]);
  // The retry finds the grant already extended (not twice) and records the end.
  clock.advance(5 * MIN);
  expect(await svc.processDue(ext.id)).toMatchObject({ status: 'EXTENDED' });
  expect(recorded).toEqual([{ id: r.id, end: newEnd }]);
  expect((await store.get(r.id))!.extensions).toHaveLength(1);
});

it('the core never hands the store an id that is not a request id (whatever the edge let through)', async () => {
  const svc = replica('a');
  const get = jest.spyOn(store, 'get');
  try {
    for (const bad of ['x'.repeat(3_000), '<@U0EVIL>', 'lease#drift', '']) {
      expect(await svc.get(bad)).toBeUndefined();
      await expect(svc.revoke(bad, 'U0REQUESTER')).rejects.toThrow(NotFoundError);
      await expect(svc.approve(bad, 'U0APPROVER')).rejects.toThrow(CannotDecideError); // the neutral refusal, as for any request that does not exist
    }
    expect(get).not.toHaveBeenCalled();
  } finally {
    get.mockRestore();
  }
});

describe('re-decide, not re-check (issue 10 item 1)', () => {
  const teamConfig = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
rateLimits: { requests: { max: 100, per: 1m } }
denyRules:
  - { name: no-nights, targets: [prod-*], window: { from: "10:20", to: "23:00", timezone: UTC } }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: eu-west-1 }
  - { name: team-box, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef1, region: eu-west-1, requesters: { groups: [S0TEAM] } }
`);
  /** A group directory that answers from `members` and records whether each read asked to be fresh. */
  function groups(members: Map<string, string[]>, reads: boolean[]) {
    return {
      members: async (g: string, o?: { fresh?: boolean }) => (reads.push(o?.fresh === true), members.get(g) ?? []),
      groupsOf: async (u: string, ids: readonly string[], o?: { fresh?: boolean }) => (reads.push(o?.fresh === true), new Set(ids.filter((g) => members.get(g)?.includes(u)))),
    };
  }
  function svcWith(members: Map<string, string[]>, reads: boolean[]): AccessService {
    const provider = new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
    return new AccessService({ config: teamConfig, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner: 'a', leaseMs: 30_000, random: () => 0.5, groups: groups(members, reads) });
  }

  it('the approval reads the requester\'s groups fresh; one removed since is refused, nothing reaches AWS', async () => {
    const members = new Map([['S0TEAM', ['U0REQUESTER']]]);
    const reads: boolean[] = [];
    const svc = svcWith(members, reads);
    const r = await svc.submit({ requesterId: 'U0REQUESTER', targetName: 'team-box', duration: '30m', address: '203.0.113.7', reason: 'build agent' });
    members.set('S0TEAM', []);
    reads.length = 0;
    const after = await svc.approve(r.id, 'U0APPROVER');
    expect(after).toMatchObject({ status: 'DENIED', refusal: { code: 'not-requester' } });
    expect(reads).toContain(true);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
    expect(Object.values(after.outbox).map((n) => n.kind)).toEqual(expect.arrayContaining(['approval.update', 'dm.denied']));
  });

  it('a retried grant that the sweeper resumes inside a deny window ends DENIED without a second AWS call', async () => {
    const svc = svcWith(new Map(), []);
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(throttled());
    const r = await svc.submit({ requesterId: 'U0REQUESTER', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'deploy' });
    clock.advance(19 * MIN);
    expect(await svc.approve(r.id, 'U0APPROVER')).toMatchObject({ status: 'GRANTING', failure: 'aws-throttled' });
    clock.advance(2 * MIN);
    expect(await svc.processDue(r.id)).toMatchObject({ status: 'DENIED', refusal: { code: 'deny-rule', rule: 'no-nights' } });
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
  });

  it('concurrent approvals of a request the policy now refuses give one outcome', async () => {
    const svc = svcWith(new Map(), []);
    const other = svcWith(new Map(), []);
    const r = await svc.submit({ requesterId: 'U0REQUESTER', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'deploy' });
    clock.advance(21 * MIN);
    const results = await Promise.allSettled([svc.approve(r.id, 'U0APPROVER'), other.approve(r.id, 'U0APPROVER')]);
    const stored = (await store.get(r.id))!;
    expect(stored).toMatchObject({ status: 'DENIED', refusal: { code: 'deny-rule' } });
    expect(stored.audit.filter((a) => a.action === 'policy-refuse')).toHaveLength(1);
    expect(results.some((x) => x.status === 'fulfilled')).toBe(true);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
  });
});

it('stores exactly the expiry the provider was given, however long AWS took (issue 11: one clock reading)', async () => {
  const given: Date[] = [];
  class SlowProvider extends Ec2SshProvider {
    override async grant(...args: Parameters<Ec2SshProvider['grant']>): ReturnType<Ec2SshProvider['grant']> {
      given.push(args[2]);
      clock.advance(7_000); // AWS answers 7 s later
      return super.grant(...args);
    }
  }
  const provider = new SlowProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  const svc = new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner: 'a' });
  const r = await submitted(svc);
  await svc.approve(r.id, 'U0APPROVER');
  const active = await store.get(r.id);
  expect(active).toMatchObject({ status: 'ACTIVE' });
  expect(given).toHaveLength(1);
  expect(active!.expiresAt).toBe(given[0]!.toISOString());
  // The grant holds exactly what was asked: nothing lost to the provider's latency.
  expect(Date.parse(active!.expiresAt!) - Date.parse(active!.grantedAt!)).toBe(30 * MIN);
  expect(Date.parse(active!.warnAt!)).toBe(given[0]!.getTime() - 5 * MIN);
});

describe("processDue with the caller's copy (a timer's or a sweep's)", () => {
  it('uses the copy instead of a first read', async () => {
    const svc = replica('a');
    const active = await svc.approve((await submitted(svc)).id, 'U0APPROVER');
    clock.advance(26 * MIN);
    const warned = (await svc.processDue(active.id))!;
    expect(warned).toMatchObject({ status: 'ACTIVE', warned: true });
    clock.advance(5 * MIN);
    const get = jest.spyOn(store, 'get');
    try {
      expect(await svc.processDue(active.id, warned)).toMatchObject({ status: 'REVOKED', endReason: 'expired' });
      expect(get).not.toHaveBeenCalled();
    } finally {
      get.mockRestore();
    }
  });

  it('a stale copy loses its conditional write and is read afresh: still revoked, and only once', async () => {
    const svc = replica('a');
    const active = await svc.approve((await submitted(svc)).id, 'U0APPROVER');
    clock.advance(26 * MIN);
    await svc.processDue(active.id); // warned: `active` is now an old version
    clock.advance(5 * MIN);
    expect(await svc.processDue(active.id, active)).toMatchObject({ status: 'REVOKED', endReason: 'expired' });
    // Moved on meanwhile (here: already revoked): the copy changes nothing.
    expect(await svc.processDue(active.id, active)).toMatchObject({ status: 'REVOKED' });
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
  });
});
