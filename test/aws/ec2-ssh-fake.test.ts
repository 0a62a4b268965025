/**
 * The real Ec2SshProvider and a real EC2Client, over HTTP, against the simulated EC2 endpoint.
 */
import { AuthorizeSecurityGroupIngressCommand, EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { Ec2SshProvider } from '../../src/aws/ec2-ssh';
import { Ec2Pacer } from '../../src/aws/pacing';
import { EC2_DOCUMENTED_BUCKETS } from '../../src/domain/revocation-limits';
import { GrantError } from '../../src/domain/errors';
import type { Ec2SshTarget } from '../../src/domain/types';
import { startFakeEc2, type FakeEc2 } from '../../testkit/fake-ec2';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { ec2Target, pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const SG = 'sg-0fake00000000001';
const EXPIRES = new Date('2026-11-22T11:00:00.000Z');
const target: Ec2SshTarget = ec2Target({ securityGroupId: SG });

const dynamo = useEmbeddedDynamo();
let fake: FakeEc2;
let clients: EC2Client[];
let registry: DynamoRequestStore;
let table = 0;

function providerWith(config: Partial<EC2ClientConfig> = {}): { provider: Ec2SshProvider; client: EC2Client } {
  const client = new EC2Client({
    region: 'eu-west-1',
    endpoint: fake.url,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    ...config,
  });
  clients.push(client);
  return { provider: new Ec2SshProvider(() => client, { defaultRegion: 'eu-west-1', registry }), client };
}

function actions(): string[] {
  return fake.calls.map((call) => call.action);
}

beforeEach(async () => {
  fake = await startFakeEc2();
  clients = [];
  registry = await dynamo.newStore(`ec2-fake-${++table}`);
});

afterEach(async () => {
  for (const client of clients) client.destroy();
  await fake.close();
});

it('grant creates one tagged rule, a repeated grant adopts it, revoke removes it once', async () => {
  const { provider } = providerWith();
  const request = pendingRequest({ id: 'jit-fake1', requesterId: 'U0ALICE' });

  const grant = await provider.grant(request, target, EXPIRES);

  expect(grant).toEqual({
    kind: 'ec2-ssh',
    region: 'eu-west-1',
    securityGroupId: SG,
    securityGroupRuleId: expect.stringMatching(/^sgr-[0-9a-f]+$/),
    cidr: '203.0.113.7/32',
    port: 22,
  });
  expect(fake.rules()).toEqual([
    {
      securityGroupRuleId: grant.securityGroupRuleId,
      groupId: SG,
      ipProtocol: 'tcp',
      fromPort: 22,
      toPort: 22,
      cidrIpv4: '203.0.113.7/32',
      description: 'jit jit-fake1 U0ALICE until 2026-11-22T11:00:00.000Z',
      tags: {
        'jit:request-id': 'jit-fake1',
        'jit:requester': 'U0ALICE',
        'jit:expires-at': '2026-11-22T11:00:00.000Z',
        'jit:managed-by': 'jit-access-bot',
      },
    },
  ]);

  const again = await provider.grant(request, target, EXPIRES);
  expect(again).toEqual(grant);
  expect(fake.rules()).toHaveLength(1);
  expect(actions()).toEqual(['DescribeSecurityGroupRules', 'AuthorizeSecurityGroupIngress', 'DescribeSecurityGroupRules']);

  await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: true });
  expect(fake.rules()).toEqual([]);
  await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: false, verified: true });
});

it('sends the EC2 Query wire format the fake parses', async () => {
  const { provider } = providerWith();
  const request = pendingRequest({ id: 'jit-fake2', requesterId: 'U0ALICE' });
  const grant = await provider.grant(request, target, EXPIRES);
  await provider.revoke(request, target, grant);

  const [describe, authorize, revoke, verify] = fake.calls;
  expect(describe!.params).toEqual({
    'Filter.1.Name': 'group-id',
    'Filter.1.Value.1': SG,
    'Filter.2.Name': 'tag:jit:request-id',
    'Filter.2.Value.1': 'jit-fake2',
  });
  expect(authorize!.params).toMatchObject({
    GroupId: SG,
    'IpPermissions.1.IpProtocol': 'tcp',
    'IpPermissions.1.FromPort': '22',
    'IpPermissions.1.ToPort': '22',
    'IpPermissions.1.IpRanges.1.CidrIp': '203.0.113.7/32',
    'TagSpecification.1.ResourceType': 'security-group-rule',
    'TagSpecification.1.Tag.1.Key': 'jit:request-id',
    'TagSpecification.1.Tag.1.Value': 'jit-fake2',
  });
  expect(revoke!.params).toEqual({ GroupId: SG, 'SecurityGroupRuleId.1': grant.securityGroupRuleId });
  expect(verify).toEqual({
    action: 'DescribeSecurityGroupRules',
    params: { 'Filter.1.Name': 'security-group-rule-id', 'Filter.1.Value.1': grant.securityGroupRuleId },
  });
});

it('round-trips an IPv6 host and characters that need XML escaping', async () => {
  const { provider } = providerWith();
  const request = pendingRequest({ id: 'jit-fake3', requesterId: 'U0A&B', cidr: '2001:db8::7/128' });

  const grant = await provider.grant(request, { ...target, port: 2222 }, EXPIRES);

  expect(grant).toMatchObject({ cidr: '2001:db8::7/128', port: 2222 });
  const [rule] = fake.rules();
  expect(rule).toMatchObject({ cidrIpv6: '2001:db8::7/128', fromPort: 2222, description: expect.stringContaining('U0A&B') });
  expect(rule!.tags['jit:requester']).toBe('U0A&B');
  // The tag lookup parses the escaped XML back, so the grant is adopted, not duplicated.
  await expect(provider.grant(request, { ...target, port: 2222 }, EXPIRES)).resolves.toEqual(grant);
});

it('never adopts a rule for the same address and port that this request did not create', async () => {
  const { provider, client } = providerWith();
  await client.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: SG,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32' }] }],
    }),
  );
  const [manual] = fake.rules();

  const err = await provider.grant(pendingRequest({ id: 'jit-fake4' }), target, EXPIRES).catch((e: unknown) => e);

  expect(err).toBeInstanceOf(GrantError);
  expect(err).toMatchObject({
    retryable: false,
    message: `${SG} already has a rule for 203.0.113.7/32 on port 22 (rule ${manual!.securityGroupRuleId}), not created by this request; nothing was changed`,
  });
  expect(fake.rules()).toEqual([manual]);
});

it('never adopts, nor revokes, a rule tagged with the request id whose address or port differs', async () => {
  const { provider } = providerWith();
  const tags = { 'jit:request-id': 'jit-fake6', 'jit:managed-by': 'jit-access-bot' };
  const wide = fake.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0', tags });

  const err = await provider.grant(pendingRequest({ id: 'jit-fake6' }), target, EXPIRES).catch((e: unknown) => e);

  expect(err).toBeInstanceOf(GrantError);
  expect(err).toMatchObject({ retryable: false, message: expect.stringContaining(`${wide.securityGroupRuleId} tcp/22 from 0.0.0.0/0`) });
  expect(fake.rules()).toEqual([wide]);
  expect(actions()).toEqual(['DescribeSecurityGroupRules']);
});

it('throttling surfaces as a retryable GrantError when the client does not retry', async () => {
  const { provider } = providerWith({ maxAttempts: 1 });
  const request = pendingRequest({ id: 'jit-fake5' });
  fake.throttleNext(1);

  const err = await provider.grant(request, target, EXPIRES).catch((e: unknown) => e);

  expect(err).toBeInstanceOf(GrantError);
  expect(err).toMatchObject({ retryable: true, message: expect.stringContaining('RequestLimitExceeded') });
  expect(fake.rules()).toEqual([]);
  await expect(provider.grant(request, target, EXPIRES)).resolves.toMatchObject({ cidr: '203.0.113.7/32' });
});

it('a missing group is a non-retryable GrantError naming the group and the code', async () => {
  const { provider } = providerWith();

  const err = await provider
    .grant(pendingRequest({ id: 'jit-fake6' }), { ...target, securityGroupId: 'not-a-group' }, EXPIRES)
    .catch((e: unknown) => e);

  expect(err).toBeInstanceOf(GrantError);
  expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/not-a-group.*InvalidGroup\.NotFound/) });
});

it('a revoke EC2 silently ignores is reported as not verified, and a second revoke removes the rule', async () => {
  const { provider } = providerWith();
  const request = pendingRequest({ id: 'jit-fake7' });
  const grant = await provider.grant(request, target, EXPIRES);
  fake.ignoreNextRevoke();

  await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: false });
  expect(fake.rules()).toHaveLength(1);

  await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: true });
  expect(fake.rules()).toEqual([]);
});

it('two requests for the same group, port and address share one rule', async () => {
  const { provider } = providerWith();
  const first = pendingRequest({ id: 'jit-fake8a', requesterId: 'U0ALICE' });
  const second = pendingRequest({ id: 'jit-fake8b', requesterId: 'U0BOB' });

  const a = await provider.grant(first, target, EXPIRES);
  const b = await provider.grant(second, target, EXPIRES);

  expect(a.shared).toBeUndefined();
  expect(b).toEqual({ ...a, shared: true });
  expect(fake.rules()).toHaveLength(1);
  expect(fake.rules()[0]!.tags['jit:request-id']).toBe('jit-fake8a');
});

it('listRules shows every ingress rule of the groups, across pages, with the managed flag', async () => {
  await fake.close();
  fake = await startFakeEc2({ pageSize: 2 });
  const { provider } = providerWith();
  const SG2 = 'sg-0fake00000000002';
  const ours = await provider.grant(pendingRequest({ id: 'jit-fake9' }), target, EXPIRES);
  const manual = fake.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' });
  const foreign = fake.seedRule({
    groupId: SG2,
    ipProtocol: 'tcp',
    fromPort: 22,
    toPort: 22,
    cidrIpv6: '2001:db8::9/128',
    description: 'vpn',
    tags: { 'jit:managed-by': 'terraform' },
  });
  fake.seedRule({ groupId: 'sg-0fake00000000003', ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.1/32' });

  const rules = await provider.listRules([
    { region: 'eu-west-1', securityGroupId: SG },
    { region: 'eu-west-1', securityGroupId: SG2 },
  ]);

  expect(rules).toEqual([
    {
      region: 'eu-west-1',
      securityGroupId: SG,
      securityGroupRuleId: ours.securityGroupRuleId,
      managed: true,
      requestId: 'jit-fake9',
      cidr: '203.0.113.7/32',
      fromPort: 22,
      toPort: 22,
      protocol: 'tcp',
      description: expect.stringContaining('jit-fake9'),
    },
    { region: 'eu-west-1', securityGroupId: SG, securityGroupRuleId: manual.securityGroupRuleId, managed: false, cidr: '0.0.0.0/0', fromPort: 443, toPort: 443, protocol: 'tcp' },
    {
      region: 'eu-west-1',
      securityGroupId: SG2,
      securityGroupRuleId: foreign.securityGroupRuleId,
      managed: false,
      cidr: '2001:db8::9/128',
      fromPort: 22,
      toPort: 22,
      protocol: 'tcp',
      description: 'vpn',
    },
  ]);
  const lists = fake.calls.filter((call) => call.params['Filter.1.Value.2'] === SG2);
  expect(lists.map((call) => call.params.NextToken)).toEqual([undefined, '2']);
});

it('removeRule removes a rule found by the sweep and verifies it is gone', async () => {
  const { provider } = providerWith();
  const seeded = fake.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.1/32' });
  const rule = { region: 'eu-west-1', securityGroupId: SG, securityGroupRuleId: seeded.securityGroupRuleId };

  await expect(provider.removeRule(rule)).resolves.toEqual({ removed: true, verified: true });
  expect(fake.rules()).toEqual([]);
  await expect(provider.removeRule(rule)).resolves.toEqual({ removed: false, verified: true });
});

describe('paced by the client-side token bucket', () => {
  it('a burst of revocations against EC2 buckets waits for tokens: no RequestLimitExceeded, every rule gone', async () => {
    await fake.close();
    const small = { size: 2, refillPerSecond: 50 };
    const buckets = { ...EC2_DOCUMENTED_BUCKETS, RevokeSecurityGroupIngress: small, DescribeSecurityGroupRules: small };
    fake = await startFakeEc2({ rateLimits: { RevokeSecurityGroupIngress: small, DescribeSecurityGroupRules: small } });
    const client = new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    clients.push(client);
    // One rule per group: revokes of one group would share a call (see the batching tests).
    const grants = Array.from({ length: 8 }, (_, i) => fake.seedRule({ groupId: `sg-0pace${i}`, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: `203.0.113.${i + 1}/32` }));
    const provider = new Ec2SshProvider(() => client, { defaultRegion: 'eu-west-1', registry, pacer: new Ec2Pacer(buckets) });
    const results = await Promise.all(grants.map((r) => provider.removeRule({ region: 'eu-west-1', securityGroupId: r.groupId, securityGroupRuleId: r.securityGroupRuleId })));
    expect(results.every((r) => r.removed && r.verified)).toBe(true);
    expect(fake.rules()).toEqual([]);
    expect(fake.throttledByBucket()).toEqual({});
  });

  it('without the pacer the same burst is throttled by the stand-in (the test above can fail)', async () => {
    await fake.close();
    const small = { size: 2, refillPerSecond: 0.5 };
    fake = await startFakeEc2({ rateLimits: { RevokeSecurityGroupIngress: small, DescribeSecurityGroupRules: small } });
    const client = new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    clients.push(client);
    const rules = Array.from({ length: 4 }, (_, i) => fake.seedRule({ groupId: `sg-0pace${i}`, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: `203.0.113.${i + 1}/32` }));
    const provider = new Ec2SshProvider(() => client, { defaultRegion: 'eu-west-1', registry });
    await Promise.all(rules.map((r) => provider.removeRule({ region: 'eu-west-1', securityGroupId: r.groupId, securityGroupRuleId: r.securityGroupRuleId }).catch(() => undefined)));
    expect(fake.throttledByBucket().RevokeSecurityGroupIngress).toBeGreaterThan(0);
  });
});

describe('concurrent revokes of one group share their calls', () => {
  const seed = (n: number, groupId = SG) => Array.from({ length: n }, (_, i) => fake.seedRule({ groupId, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: `198.51.${100 + (i >> 8)}.${i & 255}/32`, tags: { 'jit:managed-by': 'jit-access-bot' } }));
  const ruleRef = (r: { groupId: string; securityGroupRuleId: string }) => ({ region: 'eu-west-1', securityGroupId: r.groupId, securityGroupRuleId: r.securityGroupRuleId });
  const revokedIds = (action = 'RevokeSecurityGroupIngress') =>
    fake.calls.filter((c) => c.action === action).map((c) => Object.entries(c.params).filter(([k]) => /^SecurityGroupRuleId\.\d+$/.test(k)).map(([, v]) => v));

  it('50 revokes at once: every rule id goes out in a handful of Revoke calls and is verified in as few reads; each caller gets its own answer', async () => {
    const { provider } = providerWith();
    const rules = seed(50);
    const results = await Promise.all(rules.map((r) => provider.removeRule(ruleRef(r))));
    expect(results).toEqual(rules.map(() => ({ removed: true, verified: true })));
    expect(fake.rules()).toEqual([]);
    const revokes = revokedIds();
    expect(revokes.length).toBeLessThanOrEqual(5); // at most 4 in flight, the rest in the next call
    expect(revokes.flat().sort()).toEqual(rules.map((r) => r.securityGroupRuleId).sort());
    const reads = fake.calls.filter((c) => c.action === 'DescribeSecurityGroupRules');
    expect(reads.length).toBeLessThanOrEqual(5);
    expect(reads.flatMap((c) => Object.entries(c.params).filter(([k]) => /^Filter\.1\.Value\.\d+$/.test(k)).map(([, v]) => v)).sort()).toEqual(rules.map((r) => r.securityGroupRuleId).sort());
  });

  it('a batch with one rule already gone falls back to one call per rule: the others are still revoked, the gone one counts as verified', async () => {
    const { provider } = providerWith();
    const rules = seed(6);
    const gone = { ...rules[2]!, securityGroupRuleId: 'sgr-0000000000000dead' };
    const refs = [...rules.slice(0, 2), gone, ...rules.slice(2)].map(ruleRef);
    const results = await Promise.all(refs.map((r) => provider.removeRule(r)));
    expect(results).toEqual(refs.map((r) => ({ removed: r.securityGroupRuleId !== gone.securityGroupRuleId, verified: true })));
    expect(fake.rules()).toEqual([]);
    // The batched call failed as EC2 fails it (all or nothing), then each rule went on its own.
    expect(revokedIds().filter((ids) => ids.length === 1).flat().sort()).toEqual(refs.map((r) => r.securityGroupRuleId).sort());
  });

  it('a rule that cannot be revoked fails only its own caller', async () => {
    const { provider } = providerWith({ maxAttempts: 1 });
    const [a, b] = seed(2);
    const other = seed(1, 'sg-0denied000000001')[0]!;
    fake.deny('sg-0denied000000001', 'RevokeSecurityGroupIngress');
    const outcomes = await Promise.allSettled([provider.removeRule(ruleRef(a!)), provider.removeRule(ruleRef(other)), provider.removeRule(ruleRef(b!))]);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: { removed: true, verified: true } });
    expect(outcomes[2]).toEqual({ status: 'fulfilled', value: { removed: true, verified: true } });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: expect.any(GrantError) });
    expect(fake.rules().map((r) => r.securityGroupRuleId)).toEqual([other.securityGroupRuleId]);
  });

  it('a rule EC2 still lists after the batched revoke is reported unverified, the others verified', async () => {
    const { provider } = providerWith();
    const rules = seed(3);
    fake.ignoreNextRevoke();
    const results = await Promise.all(rules.map((r) => provider.removeRule(ruleRef(r))));
    // The one batched call was "accepted" and changed nothing: none may count as verified.
    expect(results.every((r) => r.verified === false)).toBe(true);
    expect(fake.rules()).toHaveLength(3);
  });
});

describe('a target in another account', () => {
  const ROLE = { roleArn: 'arn:aws:iam::210987654321:role/jit-access-bot-member', externalId: 'jit-7f3a' };
  const remote: Ec2SshTarget = ec2Target({ name: 'member-bastion', securityGroupId: SG, assumeRole: ROLE });
  let member: FakeEc2;
  let used: Array<string | undefined>;

  beforeEach(async () => {
    member = await startFakeEc2();
    used = [];
  });
  afterEach(async () => {
    await member.close();
  });

  /** The bot's account is `fake`; the member account (reached through ROLE) is `member`. */
  function crossAccountProvider(): Ec2SshProvider {
    const home = providerWith().client;
    const other = new EC2Client({ region: 'eu-west-1', endpoint: member.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    clients.push(other);
    return new Ec2SshProvider(
      (_region, role) => {
        used.push(role?.roleArn);
        return role?.roleArn === ROLE.roleArn ? other : home;
      },
      { defaultRegion: 'eu-west-1', registry },
    );
  }

  it('opens, revokes and verifies the rule in that account, through the role the grant recorded', async () => {
    const provider = crossAccountProvider();
    const request = pendingRequest({ id: 'jit-xacct01', requesterId: 'U0ALICE' });
    const grant = await provider.grant(request, remote, EXPIRES);
    expect(grant).toMatchObject({ kind: 'ec2-ssh', securityGroupId: SG, assumeRole: ROLE });
    expect(member.rules()).toHaveLength(1);
    expect(fake.rules()).toEqual([]);
    // Revoked from what the grant carries, even with the target gone from the config.
    await expect(provider.revoke(request, undefined, grant)).resolves.toEqual({ removed: true, verified: true });
    expect(member.rules()).toEqual([]);
    expect(new Set(used)).toEqual(new Set([ROLE.roleArn]));
  });

  it('the drift sweep lists each account and removes a tagged rule no live grant holds there; the same group id at home is another group', async () => {
    const provider = crossAccountProvider();
    const tags = { 'jit:request-id': 'jit-gone00001', 'jit:managed-by': 'jit-access-bot' };
    const orphan = member.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.9/32', tags }).securityGroupRuleId;
    fake.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.10/32', tags: { ...tags, 'jit:request-id': 'jit-live00001' } });
    const findings = await provider.sweepDrift([target, remote], { now: EXPIRES, isLive: async (id) => id === 'jit-live00001' });
    expect(findings.removed.map((r) => [r.securityGroupRuleId, r.assumeRole?.roleArn])).toEqual([[orphan, ROLE.roleArn]]);
    expect(member.rules()).toEqual([]);
    expect(fake.rules()).toHaveLength(1);
  });
});

describe('an extension moves what the rule says (recordExpiry)', () => {
  const LATER = new Date('2026-11-22T13:00:00.000Z');
  const tagOf = (ruleId: string) => fake.rules().find((r) => r.securityGroupRuleId === ruleId)?.tags['jit:expires-at'];
  const descriptionOf = (ruleId: string) => fake.rules().find((r) => r.securityGroupRuleId === ruleId)?.description;

  it('the expires-at tag and the description name the new end, read back; the other tags stay', async () => {
    const { provider } = providerWith();
    const request = pendingRequest({ id: 'jit-ext0000001', requesterId: 'U0ALICE' });
    const grant = await provider.grant(request, target, EXPIRES);
    expect(tagOf(grant.securityGroupRuleId)).toBe(EXPIRES.toISOString());
    await provider.recordExpiry(request, grant, LATER);
    expect(tagOf(grant.securityGroupRuleId)).toBe(LATER.toISOString());
    expect(descriptionOf(grant.securityGroupRuleId)).toBe(`jit jit-ext0000001 U0ALICE until ${LATER.toISOString()}`);
    expect(fake.rules()[0]!.tags).toMatchObject({ 'jit:request-id': 'jit-ext0000001', 'jit:requester': 'U0ALICE', 'jit:managed-by': 'jit-access-bot' });
    // The CreateTags call sets that one tag and nothing else; a second call changes nothing.
    expect(fake.calls.filter((c) => c.action === 'CreateTags').map((c) => c.params)).toEqual([{ 'ResourceId.1': grant.securityGroupRuleId, 'Tag.1.Key': 'jit:expires-at', 'Tag.1.Value': LATER.toISOString() }]);
    const calls = fake.calls.length;
    await provider.recordExpiry(request, grant, LATER);
    expect(fake.calls.slice(calls).map((c) => c.action)).toEqual(['DescribeSecurityGroupRules']);
  });

  it('a shared rule keeps the later end of its holders; a rule that is gone has nothing to correct', async () => {
    const { provider } = providerWith();
    const first = pendingRequest({ id: 'jit-ext0000002', requesterId: 'U0ALICE' });
    const grant = await provider.grant(first, target, LATER);
    await provider.recordExpiry(first, grant, EXPIRES);
    expect(tagOf(grant.securityGroupRuleId)).toBe(LATER.toISOString());
    await provider.revoke(first, target, grant);
    await expect(provider.recordExpiry(first, grant, new Date('2026-11-22T15:00:00.000Z'))).resolves.toBeUndefined();
    expect(actions()).not.toContain('CreateTags');
  });

  it('throttled: a retryable GrantError, and the retry records the new end', async () => {
    const { provider } = providerWith({ maxAttempts: 1 });
    const request = pendingRequest({ id: 'jit-ext0000003', requesterId: 'U0ALICE' });
    const grant = await provider.grant(request, target, EXPIRES);
    fake.throttleNext(1);
    const err = await provider.recordExpiry(request, grant, LATER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrantError);
    expect(err).toMatchObject({ retryable: true });
    await provider.recordExpiry(request, grant, LATER);
    expect(tagOf(grant.securityGroupRuleId)).toBe(LATER.toISOString());
    expect(descriptionOf(grant.securityGroupRuleId)).toContain(LATER.toISOString());
  });
});
