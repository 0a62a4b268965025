import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  EC2ServiceException,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { Ec2SshProvider, ruleDescription, ruleKey } from '../../src/aws/ec2-ssh';
import { GrantError } from '../../src/domain/errors';
import type { Ec2Grant, Ec2SshTarget, Target } from '../../src/domain/types';
import type { RuleRegistry } from '../../src/ports';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { ec2Target, pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const ec2 = mockClient(EC2Client);
const clientFor = jest.fn((region: string) => new EC2Client({ region }));
const dynamo = useEmbeddedDynamo();
let registry: DynamoRequestStore;
let provider: Ec2SshProvider;
beforeAll(async () => {
  registry = await dynamo.newStore('ec2-ssh');
  provider = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry });
});

const SG = 'sg-0123456789abcdef0';
const EXPIRES = new Date('2026-11-22T11:00:00.000Z');
const target: Ec2SshTarget = ec2Target({ securityGroupId: SG });
const request = pendingRequest({ id: 'jit-req1', requesterId: 'U0ALICE', status: 'GRANTING' });
const TAG_FILTERS = [
  { Name: 'group-id', Values: [SG] },
  { Name: 'tag:jit:request-id', Values: ['jit-req1'] },
];
const OUR_TAGS = [
  { Key: 'jit:request-id', Value: 'jit-req1' },
  { Key: 'jit:requester', Value: 'U0ALICE' },
  { Key: 'jit:expires-at', Value: '2026-11-22T11:00:00.000Z' },
  { Key: 'jit:managed-by', Value: 'jit-access-bot' },
];
const DESCRIPTION = 'jit jit-req1 U0ALICE until 2026-11-22T11:00:00.000Z';

function awsError(name: string, httpStatusCode?: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode, attempts: 1 } });
}

function ingressRule(overrides: Partial<SecurityGroupRule> = {}): SecurityGroupRule {
  return {
    SecurityGroupRuleId: 'sgr-existing',
    GroupId: SG,
    IsEgress: false,
    IpProtocol: 'tcp',
    FromPort: 22,
    ToPort: 22,
    CidrIpv4: '203.0.113.7/32',
    ...overrides,
  };
}

async function grantError(promise: Promise<unknown>): Promise<GrantError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GrantError);
  return err as GrantError;
}

beforeEach(() => {
  ec2.reset();
  clientFor.mockClear();
});

describe('grant', () => {
  beforeEach(() => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-new' }] });
  });

  it('looks for a rule tagged with the request, then authorizes exactly one tagged IPv4 rule', async () => {
    const grant = await provider.grant(request, target, EXPIRES);

    expect(grant).toEqual<Ec2Grant>({
      kind: 'ec2-ssh',
      region: 'eu-west-1',
      securityGroupId: SG,
      securityGroupRuleId: 'sgr-new',
      cidr: '203.0.113.7/32',
      port: 22,
    });
    expect(clientFor).toHaveBeenCalledWith('eu-west-1', undefined); // the bot's own account
    expect(ec2).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupRulesCommand, { Filters: TAG_FILTERS });
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]!.args[0].input).toEqual({
      GroupId: SG,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '203.0.113.7/32', Description: DESCRIPTION }] },
      ],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: OUR_TAGS }],
    });
  });

  it('authorizes an IPv6 /128 as Ipv6Ranges, in the region of the target', async () => {
    const v6 = pendingRequest({ id: 'jit-req1', requesterId: 'U0ALICE', cidr: '2001:db8::7/128' });
    const grant = await provider.grant(v6, { ...target, region: 'us-east-1', port: 2222 }, EXPIRES);

    expect(grant).toMatchObject({ region: 'us-east-1', cidr: '2001:db8::7/128', port: 2222, securityGroupRuleId: 'sgr-new' });
    expect(clientFor).toHaveBeenCalledWith('us-east-1', undefined); // the bot's own account
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]!.args[0].input).toEqual({
      GroupId: SG,
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 2222,
          ToPort: 2222,
          Ipv6Ranges: [{ CidrIpv6: '2001:db8::7/128', Description: DESCRIPTION }],
        },
      ],
      TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: OUR_TAGS }],
    });
  });

  it('uses the configured tag prefix for tags and the lookup filter', async () => {
    const custom = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', tagPrefix: 'acme', registry });
    await custom.grant(request, target, EXPIRES);

    expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, {
      Filters: [TAG_FILTERS[0], { Name: 'tag:acme:request-id', Values: ['jit-req1'] }],
    });
    const tags = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]!.args[0].input.TagSpecifications![0]!.Tags!;
    expect(tags.map((t) => t.Key)).toEqual(['acme:request-id', 'acme:requester', 'acme:expires-at', 'acme:managed-by']);
  });

  it('adopts a rule already tagged with this request instead of creating another', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [ingressRule({ Tags: OUR_TAGS })] });

    const grant = await provider.grant(request, target, EXPIRES);

    expect(grant.securityGroupRuleId).toBe('sgr-existing');
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
  });

  describe('a rule tagged with this request but not of its shape is never adopted', () => {
    it.each<[string, Partial<SecurityGroupRule>, string]>([
      ['another address', { CidrIpv4: '0.0.0.0/0' }, 'sgr-existing tcp/22 from 0.0.0.0/0'],
      ['a wider CIDR around the address', { CidrIpv4: '203.0.113.0/24' }, 'sgr-existing tcp/22 from 203.0.113.0/24'],
      ['another port', { FromPort: 3389, ToPort: 3389 }, 'sgr-existing tcp/3389 from 203.0.113.7/32'],
      ['a port range around the port', { FromPort: 0, ToPort: 65535 }, 'sgr-existing tcp/0-65535 from 203.0.113.7/32'],
      ['another protocol', { IpProtocol: 'udp' }, 'sgr-existing udp/22 from 203.0.113.7/32'],
      ['all protocols', { IpProtocol: '-1', FromPort: -1, ToPort: -1 }, 'sgr-existing -1/-1 from 203.0.113.7/32'],
      ['an IPv6 address', { CidrIpv4: undefined, CidrIpv6: '::/0' }, 'sgr-existing tcp/22 from ::/0'],
      ['a group reference instead of an address', { CidrIpv4: undefined, ReferencedGroupInfo: { GroupId: 'sg-0aaaaaaaaaaaaaaaa' } }, 'sgr-existing tcp/22 from sg-0aaaaaaaaaaaaaaaa'],
    ])('%s: the grant fails (not retryable), naming the rule, and nothing is authorized or revoked', async (_name, shape, described) => {
      ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [ingressRule({ Tags: OUR_TAGS, ...shape })] });

      const err = await grantError(provider.grant(request, target, EXPIRES));

      expect(err.retryable).toBe(false);
      expect(err.message).toBe(
        `${SG} already has a rule tagged jit:request-id=jit-req1 that does not match tcp/22 on ${SG} (eu-west-1) for 203.0.113.7/32: ${described}; nothing was changed (inspect that rule before trying again)`,
      );
      expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
      expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    });

    it('a matching rule next to a strange one with the same tag is not adopted either', async () => {
      ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [ingressRule({ Tags: OUR_TAGS }), ingressRule({ SecurityGroupRuleId: 'sgr-wide', CidrIpv4: '0.0.0.0/0', Tags: OUR_TAGS })] });

      const err = await grantError(provider.grant(request, target, EXPIRES));

      expect(err.message).toContain('sgr-wide tcp/22 from 0.0.0.0/0');
      expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
      expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    });

    it('protocol "6" (tcp by number) and an upper-case IPv6 address still match exactly', async () => {
      ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [ingressRule({ Tags: OUR_TAGS, IpProtocol: '6', CidrIpv4: undefined, CidrIpv6: '2001:DB8::7/128' })] });

      const grant = await provider.grant({ ...request, cidr: '2001:db8::7/128' }, target, EXPIRES);

      expect(grant.securityGroupRuleId).toBe('sgr-existing');
      expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
    });
  });

  it('throws a GrantError when EC2 returns no rule id', async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [] });

    const err = await grantError(provider.grant(request, target, EXPIRES));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('no rule id');
  });

  describe('InvalidPermission.Duplicate', () => {
    beforeEach(() => {
      ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError('InvalidPermission.Duplicate', 400));
    });

    it('adopts the existing rule when it carries the tag of this request', async () => {
      ec2
        .on(DescribeSecurityGroupRulesCommand)
        .resolvesOnce({ SecurityGroupRules: [] }) // the tag lookup has not caught up yet
        .resolvesOnce({ SecurityGroupRules: [ingressRule({ SecurityGroupRuleId: 'sgr-other', FromPort: 80, ToPort: 80 })], NextToken: 'p2' })
        .resolvesOnce({ SecurityGroupRules: [ingressRule({ Tags: OUR_TAGS })] });

      const grant = await provider.grant(request, target, EXPIRES);

      expect(grant.securityGroupRuleId).toBe('sgr-existing');
      expect(ec2).toHaveReceivedNthCommandWith(3, DescribeSecurityGroupRulesCommand, { Filters: [TAG_FILTERS[0]] });
      expect(ec2).toHaveReceivedNthCommandWith(4, DescribeSecurityGroupRulesCommand, { Filters: [TAG_FILTERS[0]], NextToken: 'p2' });
    });

    it('shares a rule this bot created for another request, and changes nothing', async () => {
      const otherRequest = OUR_TAGS.map((tag) => (tag.Key === 'jit:request-id' ? { ...tag, Value: 'jit-someone-else' } : tag));
      ec2
        .on(DescribeSecurityGroupRulesCommand)
        .resolvesOnce({ SecurityGroupRules: [] })
        .resolves({ SecurityGroupRules: [ingressRule({ Tags: otherRequest })] });

      const grant = await provider.grant(request, target, EXPIRES);

      expect(grant).toEqual<Ec2Grant>({
        kind: 'ec2-ssh',
        region: 'eu-west-1',
        securityGroupId: SG,
        securityGroupRuleId: 'sgr-existing',
        cidr: '203.0.113.7/32',
        port: 22,
        shared: true,
      });
      expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
      expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    });

    it.each([
      ['another managed-by value', [{ Key: 'jit:managed-by', Value: 'some-other-tool' }]],
      ['the managed-by tag of another prefix', [{ Key: 'acme:managed-by', Value: 'jit-access-bot' }]],
      ['no tags at all', undefined],
    ])('refuses to share a rule with %s', async (_what, Tags) => {
      ec2
        .on(DescribeSecurityGroupRulesCommand)
        .resolvesOnce({ SecurityGroupRules: [] })
        .resolves({ SecurityGroupRules: [ingressRule({ Tags })] });

      const err = await grantError(provider.grant(request, target, EXPIRES));
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('not created by this request');
    });

    it('refuses to adopt a rule this request did not create, and changes nothing', async () => {
      ec2
        .on(DescribeSecurityGroupRulesCommand)
        .resolvesOnce({ SecurityGroupRules: [] })
        .resolves({ SecurityGroupRules: [ingressRule({ Tags: [{ Key: 'jit:request-id', Value: 'jit-someone-else' }] })] });

      const err = await grantError(provider.grant(request, target, EXPIRES));

      expect(err.retryable).toBe(false);
      expect(err.message).toBe(
        `${SG} already has a rule for 203.0.113.7/32 on port 22 (rule sgr-existing), not created by this request; nothing was changed`,
      );
      expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
    });

    it('is retryable when the duplicate is not listed yet', async () => {
      const err = await grantError(provider.grant(request, target, EXPIRES));
      expect(err.retryable).toBe(true);
    });
  });

  it.each(['203.0.113.0/24', '203.0.113.7/0', '2001:db8::/64', undefined])('refuses %s before calling AWS', async (cidr) => {
    const err = await grantError(provider.grant(pendingRequest({ cidr }), target, EXPIRES));

    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^Refusing to open tcp\/22 on sg-0123456789abcdef0/);
    expect(ec2.calls()).toHaveLength(0);
    expect(clientFor).not.toHaveBeenCalled();
  });

  it.each([
    ['RequestLimitExceeded', 503],
    ['Throttling', 400],
    ['InternalError', 500],
    ['ServiceUnavailable', 503],
    ['SomethingNew', 502],
  ])('%s (HTTP %s) is a retryable GrantError', async (code, status) => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError(code, status));

    const err = await grantError(provider.grant(request, target, EXPIRES));

    expect(err.retryable).toBe(true);
    expect(err.message).toContain(code);
  });

  it('a network failure with no HTTP response is retryable', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' });
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(refused);

    const err = await grantError(provider.grant(request, target, EXPIRES));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('UnauthorizedOperation is not retryable and names the group and the code', async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(
      new EC2ServiceException({
        name: 'UnauthorizedOperation',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'You are not authorized to perform this operation.',
      }),
    );

    const err = await grantError(provider.grant(request, target, EXPIRES));

    expect(err.retryable).toBe(false);
    expect(err.message).toContain(SG);
    expect(err.message).toContain('UnauthorizedOperation');
    expect(err.message).toContain('ec2:CreateTags');
  });

  it.each(['InvalidGroup.NotFound', 'InvalidParameterValue'])('%s is not retryable', async (code) => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError(code, 400));

    const err = await grantError(provider.grant(request, target, EXPIRES));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`${SG} (eu-west-1)`);
    expect(err.message).toContain(code);
  });

  it('a failing lookup is mapped too (missing Describe permission)', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(awsError('UnauthorizedOperation', 403));

    const err = await grantError(provider.grant(request, target, EXPIRES));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^Listing the rules of sg-0123456789abcdef0 \(eu-west-1\) failed \(UnauthorizedOperation/);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
  });
});

describe('ruleDescription', () => {
  it('keeps only characters EC2 accepts, at most 255 of them', () => {
    const odd = pendingRequest({ id: 'jit-ünïcode"<x>', requesterId: 'U0' + 'A'.repeat(300) });
    const text = ruleDescription(odd, EXPIRES);

    expect(text).toHaveLength(255);
    expect(text).toMatch(/^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]+$/);
    expect(text.startsWith('jit jit-_n_code__x_ U0AAA')).toBe(true);
  });
});

describe('revoke', () => {
  const grant: Ec2Grant = {
    kind: 'ec2-ssh',
    region: 'eu-central-1',
    securityGroupId: SG,
    securityGroupRuleId: 'sgr-0aaa',
    cidr: '203.0.113.7/32',
    port: 22,
  };
  const VERIFY = { Filters: [{ Name: 'security-group-rule-id', Values: ['sgr-0aaa'] }] };

  beforeEach(() => {
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  });

  it('revokes exactly the rule it created, by id, in the grant region, then re-reads it', async () => {
    await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: true });

    expect(clientFor).toHaveBeenCalledWith('eu-central-1', undefined); // the bot's own account
    expect(ec2.calls()).toHaveLength(2);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input).toEqual({
      GroupId: SG,
      SecurityGroupRuleIds: ['sgr-0aaa'],
    });
    expect(ec2).toHaveReceivedNthCommandWith(2, DescribeSecurityGroupRulesCommand, VERIFY);
  });

  it('a revoke that "succeeds" while the rule is still listed is not verified', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [ingressRule({ SecurityGroupRuleId: 'sgr-0aaa' })] });
    await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: false });
  });

  it.each([
    ['throttled', awsError('RequestLimitExceeded', 503)],
    ['denied', awsError('UnauthorizedOperation', 403)],
    ['unreachable', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('a re-read that fails (%s) is not verified, and does not throw', async (_what, error) => {
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(error);
    await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: false });
  });

  it('InvalidSecurityGroupRuleId.NotFound from the re-read means gone', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(awsError('InvalidSecurityGroupRuleId.NotFound', 400));
    await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: true, verified: true });
  });

  it.each(['InvalidSecurityGroupRuleId.NotFound', 'InvalidPermission.NotFound', 'InvalidGroup.NotFound'])(
    '%s means already gone, and is still re-read',
    async (code) => {
      ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError(code, 400));
      await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: false, verified: true });
      expect(ec2).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, VERIFY);
    },
  );

  it('UnknownIpPermissions in the answer means nothing was there', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true, UnknownIpPermissions: [{ IpProtocol: 'tcp' }] });
    await expect(provider.revoke(request, target, grant)).resolves.toEqual({ removed: false, verified: true });
  });

  it('Return=false without an error is retryable', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: false });
    const err = await grantError(provider.revoke(request, target, grant));
    expect(err.retryable).toBe(true);
  });

  it('throttling is retryable, and nothing is re-read', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError('RequestLimitExceeded', 503));
    const err = await grantError(provider.revoke(request, target, grant));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('sgr-0aaa (tcp/22 for 203.0.113.7/32)');
    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 0);
  });

  it('UnauthorizedOperation is not retryable and names the code', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError('UnauthorizedOperation', 403));
    const err = await grantError(provider.revoke(request, target, grant));
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('UnauthorizedOperation');
    expect(err.message).toContain(SG);
  });
});

describe('removeRule', () => {
  const rule = { region: 'us-west-2', securityGroupId: SG, securityGroupRuleId: 'sgr-0bbb' };

  beforeEach(() => {
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  });

  it('revokes the rule by id in its region, then re-reads it', async () => {
    await expect(provider.removeRule(rule)).resolves.toEqual({ removed: true, verified: true });

    expect(clientFor).toHaveBeenCalledWith('us-west-2', undefined); // the bot's own account
    expect(ec2).toHaveReceivedNthCommandWith(1, RevokeSecurityGroupIngressCommand, { GroupId: SG, SecurityGroupRuleIds: ['sgr-0bbb'] });
    expect(ec2).toHaveReceivedNthCommandWith(2, DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: 'security-group-rule-id', Values: ['sgr-0bbb'] }],
    });
  });

  it('already gone counts as success; still listed is not verified', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError('InvalidSecurityGroupRuleId.NotFound', 400));
    await expect(provider.removeRule(rule)).resolves.toEqual({ removed: false, verified: true });

    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [ingressRule({ SecurityGroupRuleId: 'sgr-0bbb' })] });
    await expect(provider.removeRule(rule)).resolves.toEqual({ removed: false, verified: false });
  });

  it('a failing revoke is a GrantError naming the rule, group and region', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError('UnauthorizedOperation', 403));
    const err = await grantError(provider.removeRule(rule));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^Removing rule sgr-0bbb of sg-0123456789abcdef0 \(us-west-2\) failed \(UnauthorizedOperation/);
  });
});

describe('listRules', () => {
  const SG2 = 'sg-0222222222222222';

  it('lists the ingress rules of the groups across pages, tags mapped, egress dropped', async () => {
    ec2
      .on(DescribeSecurityGroupRulesCommand)
      .resolvesOnce({
        SecurityGroupRules: [
          ingressRule({ SecurityGroupRuleId: 'sgr-ours', Description: DESCRIPTION, Tags: OUR_TAGS }),
          ingressRule({ SecurityGroupRuleId: 'sgr-egress', IsEgress: true, CidrIpv4: '0.0.0.0/0', IpProtocol: '-1' }),
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        SecurityGroupRules: [
          ingressRule({ SecurityGroupRuleId: 'sgr-manual', GroupId: SG2, CidrIpv4: undefined, CidrIpv6: '2001:db8::9/128', FromPort: 443, ToPort: 443 }),
        ],
      });

    const rules = await provider.listRules([
      { region: 'eu-west-1', securityGroupId: SG },
      { region: 'eu-west-1', securityGroupId: SG2 },
      { region: 'eu-west-1', securityGroupId: SG },
    ]);

    expect(rules).toEqual([
      {
        region: 'eu-west-1',
        securityGroupId: SG,
        securityGroupRuleId: 'sgr-ours',
        managed: true,
        requestId: 'jit-req1',
        cidr: '203.0.113.7/32',
        fromPort: 22,
        toPort: 22,
        protocol: 'tcp',
        description: DESCRIPTION,
      },
      {
        region: 'eu-west-1',
        securityGroupId: SG2,
        securityGroupRuleId: 'sgr-manual',
        managed: false,
        cidr: '2001:db8::9/128',
        fromPort: 443,
        toPort: 443,
        protocol: 'tcp',
      },
    ]);
    expect(clientFor).toHaveBeenCalledTimes(1);
    const filters = { Filters: [{ Name: 'group-id', Values: [SG, SG2] }] };
    expect(ec2).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 2);
    expect(ec2).toHaveReceivedNthCommandWith(1, DescribeSecurityGroupRulesCommand, filters);
    expect(ec2).toHaveReceivedNthCommandWith(2, DescribeSecurityGroupRulesCommand, { ...filters, NextToken: 'p2' });
  });

  it('uses one client per region', async () => {
    ec2
      .on(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: 'group-id', Values: [SG] }] })
      .resolves({ SecurityGroupRules: [ingressRule()] })
      .on(DescribeSecurityGroupRulesCommand, { Filters: [{ Name: 'group-id', Values: [SG2] }] })
      .resolves({ SecurityGroupRules: [ingressRule({ SecurityGroupRuleId: 'sgr-us', GroupId: SG2 })] });

    const rules = await provider.listRules([
      { region: 'eu-west-1', securityGroupId: SG },
      { region: 'us-east-1', securityGroupId: SG2 },
    ]);

    expect(clientFor.mock.calls).toEqual([['eu-west-1'], ['us-east-1']]);
    expect(rules.map((r) => [r.region, r.securityGroupRuleId])).toEqual([
      ['eu-west-1', 'sgr-existing'],
      ['us-east-1', 'sgr-us'],
    ]);
  });

  it('asks for at most 200 groups per call', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    const groups = Array.from({ length: 201 }, (_, i) => ({ region: 'eu-west-1', securityGroupId: `sg-${i}` }));

    await expect(provider.listRules(groups)).resolves.toEqual([]);

    const sizes = ec2.commandCalls(DescribeSecurityGroupRulesCommand).map((call) => call.args[0].input.Filters![0]!.Values!.length);
    expect(sizes).toEqual([200, 1]);
  });

  it('names the number of groups, not every id, when a call for many groups fails', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(awsError('UnauthorizedOperation', 403));
    const err = await grantError(provider.listRules([SG, SG2].map((securityGroupId) => ({ region: 'eu-west-1', securityGroupId }))));
    expect(err.message).toMatch(/^Listing the rules of 2 security groups \(eu-west-1\) failed \(UnauthorizedOperation/);
  });

  it('no groups, no calls', async () => {
    await expect(provider.listRules([])).resolves.toEqual([]);
    expect(ec2.calls()).toHaveLength(0);
  });

  it.each([
    ['RequestLimitExceeded', 503, true],
    ['UnauthorizedOperation', 403, false],
  ])('%s (HTTP %s) is a GrantError naming the region and the code', async (code, status, retryable) => {
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(awsError(code, status));

    const err = await grantError(provider.listRules([{ region: 'ap-south-1', securityGroupId: SG }]));

    expect(err.retryable).toBe(retryable);
    expect(err.message).toContain(`${SG} (ap-south-1)`);
    expect(err.message).toContain(code);
  });
});

/**
 * A stateful stand-in for one security group: Describe filters by group, rule id and request-id
 * tag; Authorize refuses a duplicate of a rule that exists; Revoke removes by id.
 */
function statefulGroup(): { rules: SecurityGroupRule[]; ignoreRevokes: number } {
  const state = { rules: [] as SecurityGroupRule[], ignoreRevokes: 0 };
  let next = 0;
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input: { Filters?: Array<{ Name?: string; Values?: string[] }> }) => {
    const values = (name: string) => input.Filters?.find((f) => f.Name === name)?.Values;
    const [groups, ids, tagged] = [values('group-id'), values('security-group-rule-id'), values('tag:jit:request-id')];
    return {
      SecurityGroupRules: state.rules.filter(
        (r) =>
          (!groups || groups.includes(r.GroupId!)) &&
          (!ids || ids.includes(r.SecurityGroupRuleId!)) &&
          (!tagged || tagged.includes(r.Tags?.find((t) => t.Key === 'jit:request-id')?.Value ?? '')),
      ),
    };
  });
  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake((input: { IpPermissions: Array<{ FromPort: number; IpRanges: Array<{ CidrIp: string }> }>; TagSpecifications: Array<{ Tags: SecurityGroupRule['Tags'] }> }) => {
    const [perm] = input.IpPermissions;
    if (state.rules.some((r) => r.FromPort === perm!.FromPort && r.CidrIpv4 === perm!.IpRanges[0]!.CidrIp)) throw awsError('InvalidPermission.Duplicate', 400);
    const id = `sgr-shared${++next}`;
    state.rules.push(ingressRule({ SecurityGroupRuleId: id, FromPort: perm!.FromPort, ToPort: perm!.FromPort, CidrIpv4: perm!.IpRanges[0]!.CidrIp, Tags: input.TagSpecifications[0]!.Tags }));
    return { Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: id }] };
  });
  ec2.on(RevokeSecurityGroupIngressCommand).callsFake((input: { SecurityGroupRuleIds: string[] }) => {
    if (state.ignoreRevokes > 0 && state.ignoreRevokes--) return { Return: true }; // "succeeds", the rule stays
    state.rules = state.rules.filter((r) => !input.SecurityGroupRuleIds.includes(r.SecurityGroupRuleId!));
    return { Return: true };
  });
  return state;
}

describe('shared rules: holders in the registry', () => {
  let tables = 0;
  let store: DynamoRequestStore;
  let group: ReturnType<typeof statefulGroup>;
  const alice = pendingRequest({ id: 'jit-share1', requesterId: 'U0ALICE', status: 'GRANTING' });
  const bob = pendingRequest({ id: 'jit-share2', requesterId: 'U0BOB', status: 'GRANTING' });

  beforeEach(async () => {
    store = await dynamo.newStore(`ec2-shared-${++tables}`);
    group = statefulGroup();
  });

  it('a second grant for the same rule joins it; the first revoke releases and keeps it; the last revoke removes it', async () => {
    const shared = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: store });
    const a = await shared.grant(alice, target, EXPIRES);
    const b = await shared.grant(bob, target, EXPIRES);
    expect(b).toEqual({ ...a, shared: true });
    expect(await store.holders(ruleKey(a))).toEqual(['jit-share1', 'jit-share2']);

    await expect(shared.revoke(alice, target, a)).resolves.toEqual({ removed: false, verified: true, holders: ['jit-share2'] });
    expect(group.rules).toHaveLength(1);
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);

    await expect(shared.revoke(bob, target, b)).resolves.toEqual({ removed: true, verified: true });
    expect(group.rules).toEqual([]);
    expect(await store.holders(ruleKey(a))).toEqual([]);
    // Forgotten: a new grant for the same address starts a fresh rule.
    await expect(shared.grant(alice, target, EXPIRES)).resolves.toMatchObject({ securityGroupRuleId: 'sgr-shared2' });
  });

  it('the revoke works without the target (removed from the config since)', async () => {
    const shared = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: store });
    const a = await shared.grant(alice, target, EXPIRES);
    await expect(shared.revoke(alice, undefined, a)).resolves.toEqual({ removed: true, verified: true });
    expect(group.rules).toEqual([]);
  });

  it('a rule being revoked refuses a newcomer with a retryable error (its next attempt creates a fresh rule)', async () => {
    const shared = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: store });
    const a = await shared.grant(alice, target, EXPIRES);
    expect(await store.leave(ruleKey(a), alice.id)).toEqual([]);
    expect(await store.beginRevoke(ruleKey(a))).toBe(true);

    const err = await grantError(shared.grant(bob, target, EXPIRES));
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(`rule ${a.securityGroupRuleId} is being revoked for another request; retrying`);
    expect(await store.holders(ruleKey(a))).toEqual([]);
  });

  it('someone joining between leave and revoke keeps the rule, and is returned as a holder', async () => {
    const racing: RuleRegistry = {
      join: (key, id) => store.join(key, id),
      leave: (key, id) => store.leave(key, id),
      beginRevoke: async (key) => (await store.join(key, 'jit-late'), store.beginRevoke(key)),
      forget: (key) => store.forget(key),
      holders: (key) => store.holders(key),
    };
    const shared = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: racing });
    const a = await shared.grant(alice, target, EXPIRES);
    await expect(shared.revoke(alice, target, a)).resolves.toEqual({ removed: false, verified: true, holders: ['jit-late'] });
    expect(group.rules).toHaveLength(1);
  });

  it('a revoke AWS does not confirm keeps the rule registered as being revoked, and the retry finishes it', async () => {
    const shared = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: store });
    const a = await shared.grant(alice, target, EXPIRES);
    group.ignoreRevokes = 1;
    await expect(shared.revoke(alice, target, a)).resolves.toEqual({ removed: true, verified: false });
    expect(shared.unverifiedRevoke(a)).toBe(`AWS still lists rule ${a.securityGroupRuleId} on ${SG} after revoking it (or could not be asked)`);
    await expect(shared.grant(bob, target, EXPIRES)).rejects.toMatchObject({ retryable: true });

    await expect(shared.revoke(alice, target, a)).resolves.toEqual({ removed: true, verified: true });
    expect(group.rules).toEqual([]);
  });
});

describe('sweepDrift', () => {
  let tables = 0;
  let store: DynamoRequestStore;
  let group: ReturnType<typeof statefulGroup>;
  let sweeper: Ec2SshProvider;
  const managed = (requestId: string) => [
    { Key: 'jit:request-id', Value: requestId },
    { Key: 'jit:managed-by', Value: 'jit-access-bot' },
  ];
  const targets: Target[] = [target, ec2Target({ name: 'twin', securityGroupId: SG })];

  beforeEach(async () => {
    store = await dynamo.newStore(`ec2-drift-${++tables}`);
    group = statefulGroup();
    sweeper = new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: store });
  });

  it('removes tagged rules no holder and no live request keeps, reports untagged ones, leaves the rest alone', async () => {
    group.rules.push(
      ingressRule({ SecurityGroupRuleId: 'sgr-held', Tags: managed('jit-held1') }),
      ingressRule({ SecurityGroupRuleId: 'sgr-live', Tags: managed('jit-live1') }),
      ingressRule({ SecurityGroupRuleId: 'sgr-orphan', Tags: managed('jit-gone1') }),
      ingressRule({ SecurityGroupRuleId: 'sgr-forged', Tags: managed('<@U0ALICE>') }),
      ingressRule({ SecurityGroupRuleId: 'sgr-manual', Tags: [{ Key: 'Name', Value: 'by hand' }] }),
    );
    await store.join(ruleKey({ region: 'eu-west-1', securityGroupRuleId: 'sgr-held' }), 'jit-held1');
    const asked: string[] = [];
    const isLive = async (id: string) => (asked.push(id), id === 'jit-live1');

    const found = await sweeper.sweepDrift(targets, { now: EXPIRES, isLive });

    expect(found.removed.map((r) => r.securityGroupRuleId)).toEqual(['sgr-orphan', 'sgr-forged']);
    expect(found.untagged.map((r) => r.securityGroupRuleId)).toEqual(['sgr-manual']);
    expect(found.failed).toEqual([]);
    expect(group.rules.map((r) => r.SecurityGroupRuleId)).toEqual(['sgr-held', 'sgr-live', 'sgr-manual']);
    // The holder list answers first; the core's isLive gets the tag value as read from AWS.
    expect(asked).toEqual(['jit-live1', 'jit-gone1', '<@U0ALICE>']);
    // The managed groups are those of the targets, once each.
    expect(ec2.commandCalls(DescribeSecurityGroupRulesCommand)[0]!.args[0].input.Filters).toEqual([{ Name: 'group-id', Values: [SG] }]);
  });

  /** The store, with its held-rules list replaced (an index that lags) and the holders it is asked for recorded. */
  function lagging(listed: string[] | undefined): { registry: RuleRegistry; askedHolders: string[] } {
    const askedHolders: string[] = [];
    const registry: RuleRegistry = Object.assign(Object.create(store) as DynamoRequestStore, {
      heldRules: async () => (listed ? new Set(listed) : undefined),
      holdersOf: async (keys: readonly string[]) => (askedHolders.push(...keys), store.holdersOf(keys)),
    });
    return { registry, askedHolders };
  }
  const keyOf = (id: string) => ruleKey({ region: 'eu-west-1', securityGroupRuleId: id });

  it('reads no holder of a rule the held index lists: only the others are confirmed with a consistent read', async () => {
    group.rules.push(
      ingressRule({ SecurityGroupRuleId: 'sgr-held1', Tags: managed('jit-held1') }),
      ingressRule({ SecurityGroupRuleId: 'sgr-held2', Tags: managed('jit-held2') }),
      ingressRule({ SecurityGroupRuleId: 'sgr-orphan', Tags: managed('jit-gone1') }),
    );
    await store.join(keyOf('sgr-held1'), 'jit-held1');
    await store.join(keyOf('sgr-held2'), 'jit-held2');
    const { registry, askedHolders } = lagging(undefined);
    // The store's own list (the held index), as the bot uses it.
    (registry as { heldRules?: unknown }).heldRules = () => store.heldRules();
    const found = await new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry }).sweepDrift(targets, { now: EXPIRES, isLive: async () => false });
    expect(askedHolders).toEqual([keyOf('sgr-orphan')]);
    expect(found.removed.map((r) => r.securityGroupRuleId)).toEqual(['sgr-orphan']);
    expect(group.rules.map((r) => r.SecurityGroupRuleId)).toEqual(['sgr-held1', 'sgr-held2']);
  });

  it('a held rule the index does not list yet (it lags) is confirmed held and kept; without the index every rule is confirmed', async () => {
    await store.join(keyOf('sgr-new'), 'jit-new1');
    group.rules.push(ingressRule({ SecurityGroupRuleId: 'sgr-new', Tags: managed('jit-new1') }));
    for (const listed of [[], undefined]) {
      group.rules.push(ingressRule({ SecurityGroupRuleId: 'sgr-orphan', Tags: managed('jit-gone1') }));
      const { registry, askedHolders } = lagging(listed);
      const found = await new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry }).sweepDrift(targets, { now: EXPIRES, isLive: async () => false });
      expect(askedHolders).toEqual([keyOf('sgr-new'), keyOf('sgr-orphan')]);
      expect(found.removed.map((r) => r.securityGroupRuleId)).toEqual(['sgr-orphan']);
      expect(group.rules.map((r) => r.SecurityGroupRuleId)).toEqual(['sgr-new']);
    }
  });

  it('an orphan the index still lists as held (its last holder has just left) is left alone, and removed by the next sweep', async () => {
    group.rules.push(ingressRule({ SecurityGroupRuleId: 'sgr-orphan', Tags: managed('jit-gone1') }));
    const stale = lagging([keyOf('sgr-orphan')]);
    let found = await new Ec2SshProvider(clientFor, { defaultRegion: 'eu-west-1', registry: stale.registry }).sweepDrift(targets, { now: EXPIRES, isLive: async () => false });
    expect(found.removed).toEqual([]);
    expect(stale.askedHolders).toEqual([]);
    found = await sweeper.sweepDrift(targets, { now: EXPIRES, isLive: async () => false });
    expect(found.removed.map((r) => r.securityGroupRuleId)).toEqual(['sgr-orphan']);
  });

  it('a removal AWS does not confirm is reported as failed', async () => {
    group.rules.push(ingressRule({ SecurityGroupRuleId: 'sgr-orphan', Tags: managed('jit-gone1') }));
    group.ignoreRevokes = 1;
    const found = await sweeper.sweepDrift(targets, { now: EXPIRES, isLive: async () => false });
    expect(found.failed.map((r) => r.securityGroupRuleId)).toEqual(['sgr-orphan']);
    expect(found.removed).toEqual([]);
  });

  it('no ec2-ssh targets, no AWS call', async () => {
    await expect(sweeper.sweepDrift([], { now: EXPIRES, isLive: async () => false })).resolves.toEqual({ removed: [], untagged: [], failed: [] });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('a listing that fails fails the sweep (the core logs it and retries next time)', async () => {
    ec2.on(DescribeSecurityGroupRulesCommand).rejects(awsError('UnauthorizedOperation', 403));
    await expect(sweeper.sweepDrift(targets, { now: EXPIRES, isLive: async () => false })).rejects.toBeInstanceOf(GrantError);
  });
});
