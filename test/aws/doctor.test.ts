/**
 * The doctor's AWS checks. EC2 through a real EC2Client against the simulated endpoint (DryRun
 * answered as EC2 answers it); IAM, STS and SSM mocked at the SDK clients.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient, SimulatePrincipalPolicyCommand, type EvaluationResult } from '@aws-sdk/client-iam';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { AwsDoctor, describeIdentity, PROBE_CIDR, readTrustPolicy } from '../../src/aws/doctor';
import type { AssumeRole, AwsRoleTarget, SsmSessionTarget } from '../../src/domain/types';
import { startFakeEc2, type FakeEc2 } from '../../testkit/fake-ec2';
import { ec2Target, testPolicy } from '../support/requests';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const ssm = mockClient(SSMClient);

const ACCOUNT = '123456789012';
const BOT_ROLE = `arn:aws:iam::${ACCOUNT}:role/service/jit-access-bot`;
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/jit-access-bot/ecs-task-1`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/ops/ReadOnly`;
const SSM_ROLE = `arn:aws:iam::${ACCOUNT}:role/SsmAccess`;
const SG = 'sg-0fake00000000001';

const roleTarget: AwsRoleTarget = { name: 'prod-readonly', kind: 'aws-role', roleArn: ROLE_ARN, minDurationMs: 900_000, maxDurationMs: 4 * 3_600_000, tags: {}, policy: testPolicy() };
const ssmTarget: SsmSessionTarget = {
  name: 'dev-nodes',
  kind: 'ssm-session',
  roleArn: SSM_ROLE,
  instanceIds: ['i-0aaaaaaaaaaaaaaa1'],
  nodeTags: { ENV: 'dev' },
  documentName: 'SSM-SessionManagerRunShell',
  minDurationMs: 900_000,
  maxDurationMs: 3_600_000,
  tags: {},
  policy: testPolicy(),
};

const GOOD_TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: BOT_ROLE },
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      Condition: { Null: { 'sts:SourceIdentity': 'false' } },
    },
  ],
};

function awsError(name: string, httpStatusCode: number | undefined, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode, attempts: 1 } });
}

const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/jit-target-boundary`;

function roleAnswer(trust: unknown = GOOD_TRUST, maxSeconds = 3_600, boundary: string | null = BOUNDARY) {
  return {
    Role: {
      RoleName: 'x',
      Arn: ROLE_ARN,
      Path: '/',
      RoleId: 'AROAX',
      CreateDate: new Date(),
      MaxSessionDuration: maxSeconds,
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust)),
      ...(boundary ? { PermissionsBoundary: { PermissionsBoundaryType: 'PermissionsBoundaryPolicy' as const, PermissionsBoundaryArn: boundary } } : {}),
    },
  };
}

const allowed = (actions: string[], resource: string, decision = 'allowed'): EvaluationResult[] =>
  actions.map((EvalActionName) => ({ EvalActionName, EvalResourceName: resource, EvalDecision: decision as EvaluationResult['EvalDecision'] }));

let fake: FakeEc2;
let ec2: EC2Client;
let doctor: AwsDoctor;

beforeEach(async () => {
  sts.reset();
  iam.reset();
  ssm.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: ACCOUNT, UserId: 'AROABOT:ecs-task-1' });
  // The bot's own role, read back to learn its path.
  iam.on(GetRoleCommand, { RoleName: 'jit-access-bot' }).resolves({ Role: { RoleName: 'jit-access-bot', Arn: BOT_ROLE, Path: '/service/', RoleId: 'AROABOT', CreateDate: new Date() } });
  fake = await startFakeEc2();
  ec2 = new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  doctor = new AwsDoctor({ ec2For: () => ec2, ssmFor: (region) => new SSMClient({ region }), stsFor: (region) => new STSClient({ region }), iam: new IAMClient({ region: 'us-east-1' }), defaultRegion: 'eu-west-1' });
});

afterEach(async () => {
  ec2.destroy();
  await fake.close();
});

describe('AWS identity', () => {
  it('names the caller', async () => {
    expect(await doctor.identityCheck()).toEqual({ ok: true, detail: `${CALLER} (account ${ACCOUNT})` });
  });

  it('fails without credentials, and the checks that need AWS say they were not checked instead of repeating it', async () => {
    sts.on(GetCallerIdentityCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const identity = await doctor.identityCheck();
    expect(identity).toMatchObject({ ok: false, detail: 'no AWS credentials found' });
    expect(identity.fix).toMatch(/ECS task role.*AWS_PROFILE/);
    for (const outcome of [await doctor.securityGroupCheck(ec2Target({ securityGroupId: SG })), await doctor.roleCheck(roleTarget), await doctor.nodesCheck(ssmTarget), await doctor.denyPoliciesCheck([ROLE_ARN])]) {
      expect(outcome).toEqual({ ok: false, detail: 'not checked: the AWS identity check failed (see "AWS identity")' });
    }
    expect(fake.calls).toEqual([]);
    expect(iam).not.toHaveReceivedCommand(GetRoleCommand);
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('fails on refused credentials', async () => {
    sts.on(GetCallerIdentityCommand).rejects(awsError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.'));
    expect(await doctor.identityCheck()).toMatchObject({ ok: false, detail: expect.stringMatching(/^AWS refused the credentials \(InvalidClientTokenId/) });
  });
});

describe('ec2-ssh: the security group', () => {
  it('passes when the group exists and both dry runs are allowed, and changes nothing', async () => {
    const outcome = await doctor.securityGroupCheck(ec2Target({ securityGroupId: SG, port: 2222, region: 'eu-west-1' }));
    expect(outcome).toEqual({ ok: true, detail: `${SG} (eu-west-1) exists; the bot may open and close tcp/2222 on it` });
    expect(fake.calls.map((c) => c.action)).toEqual(['DescribeSecurityGroups', 'AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress']);
    const authorize = fake.calls[1]!.params;
    expect(authorize).toMatchObject({ DryRun: 'true', GroupId: SG, 'IpPermissions.1.FromPort': '2222', 'IpPermissions.1.IpRanges.1.CidrIp': PROBE_CIDR, 'TagSpecification.1.ResourceType': 'security-group-rule' });
    // The probe carries the four tags the task role's conditions require of every authorize (infra/).
    expect(Object.entries(authorize).filter(([k]) => /^TagSpecification\.1\.Tag\.\d+\.Key$/.test(k)).map(([, v]) => v)).toEqual(['jit:request-id', 'jit:requester', 'jit:expires-at', 'jit:managed-by']);
    expect(fake.calls[2]!.params).toMatchObject({ DryRun: 'true', 'IpPermissions.1.IpRanges.1.CidrIp': PROBE_CIDR });
    expect(fake.rules()).toEqual([]);
  });

  it('fails when the group does not exist', async () => {
    fake.removeGroup(SG);
    const outcome = await doctor.securityGroupCheck(ec2Target({ name: 'prod-bastion', securityGroupId: SG }));
    expect(outcome).toEqual({ ok: false, detail: `security group ${SG} (eu-west-1) does not exist`, fix: 'check securityGroupId and region of target prod-bastion' });
    expect(fake.calls.map((c) => c.action)).toEqual(['DescribeSecurityGroups']);
  });

  it('fails when the bot may not open rules (UnauthorizedOperation on the dry run), naming the permission', async () => {
    fake.deny(SG, 'AuthorizeSecurityGroupIngress');
    const outcome = await doctor.securityGroupCheck(ec2Target({ securityGroupId: SG }));
    expect(outcome.ok).toBe(false);
    expect(outcome.detail).toBe(`the bot may not open rules on ${SG} (eu-west-1)`);
    expect(outcome.fix).toBe(`allow ec2:AuthorizeSecurityGroupIngress (with ec2:CreateTags on security-group-rule) on ${SG} to ${BOT_ROLE} (README → AWS permissions)`);
  });

  it('fails when the bot may not close rules', async () => {
    fake.deny(SG, 'RevokeSecurityGroupIngress');
    const outcome = await doctor.securityGroupCheck(ec2Target({ securityGroupId: SG }));
    expect(outcome).toMatchObject({ ok: false, detail: `the bot may not close rules on ${SG} (eu-west-1)` });
    expect(outcome.fix).toMatch(/^allow ec2:RevokeSecurityGroupIngress on/);
  });

  it('fails when it may do neither', async () => {
    fake.deny(SG, 'AuthorizeSecurityGroupIngress');
    fake.deny(SG, 'RevokeSecurityGroupIngress');
    expect(await doctor.securityGroupCheck(ec2Target({ securityGroupId: SG }))).toMatchObject({ ok: false, detail: `the bot may not open or close rules on ${SG} (eu-west-1)` });
  });

  it('reports an unreachable endpoint', async () => {
    await fake.close();
    fake = await startFakeEc2();
    const gone = new EC2Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    const d = new AwsDoctor({ ec2For: () => gone, ssmFor: (r) => new SSMClient({ region: r }), stsFor: (r) => new STSClient({ region: r }), iam: new IAMClient({}), defaultRegion: 'eu-west-1' });
    const outcome = await d.securityGroupCheck(ec2Target({ securityGroupId: SG }));
    gone.destroy();
    expect(outcome).toMatchObject({ ok: false, detail: expect.stringMatching(/^could not reach AWS reading sg-0fake00000000001 \(eu-west-1\) \(ECONNREFUSED\)/) });
  });
});

describe('aws-role: the role and its trust policy', () => {
  it('passes when the role trusts the bot (by its role ARN with a path) and requires a source identity; shows the maximum session', async () => {
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).resolves(roleAnswer(GOOD_TRUST, 4 * 3_600));
    expect(await doctor.roleCheck(roleTarget)).toEqual({ ok: true, detail: `role ReadOnly trusts the bot and requires a source identity; permissions boundary ${BOUNDARY}; maximum session 4h` });
  });

  it('fails when the role has no permissions boundary (nothing caps an inline policy the bot could write)', async () => {
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).resolves(roleAnswer(GOOD_TRUST, 3_600, null));
    const outcome = await doctor.roleCheck(roleTarget);
    expect(outcome).toMatchObject({ ok: false, detail: `role ${ROLE_ARN}: it has no permissions boundary, so an inline policy written with the bot's iam:PutRolePolicy could grant anything` });
    expect(outcome.fix).toBe('attach a permissions boundary that allows only what prod-readonly is for: aws iam put-role-permissions-boundary --role-name ReadOnly --permissions-boundary <policy ARN> (README → AWS permissions)');
  });

  it('names every problem at once: trust and boundary', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: BOT_ROLE }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }] };
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).resolves(roleAnswer(trust, 3_600, null));
    expect((await doctor.roleCheck(roleTarget)).detail).toMatch(/does not require a source identity.*; it has no permissions boundary/);
  });

  it('fails when the role does not exist', async () => {
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).rejects(awsError('NoSuchEntityException', 404));
    expect(await doctor.roleCheck(roleTarget)).toEqual({ ok: false, detail: `role ${ROLE_ARN} does not exist`, fix: "check roleArn of target prod-readonly (and that it is in the bot's account)" });
  });

  it('fails when the trust policy does not require a source identity', async () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: BOT_ROLE }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }] };
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).resolves(roleAnswer(trust));
    const outcome = await doctor.roleCheck(roleTarget);
    expect(outcome).toMatchObject({ ok: false, detail: `role ${ROLE_ARN}: its trust policy does not require a source identity, so a session need not name the human` });
    expect(outcome.fix).toContain('"Condition": {"Null": {"sts:SourceIdentity": "false"}}');
  });

  it('fails when the trust policy does not allow sts:SetSourceIdentity (every grant would fail)', async () => {
    const trust = { Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole', Condition: { StringLike: { 'sts:SourceIdentity': '*' } } }] };
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).resolves(roleAnswer(trust));
    expect(await doctor.roleCheck(roleTarget)).toMatchObject({ ok: false, detail: expect.stringContaining('does not allow sts:SetSourceIdentity to the bot') });
  });

  it('fails when the trust policy does not name the bot at all', async () => {
    const trust = { Statement: [{ ...GOOD_TRUST.Statement[0], Principal: { AWS: 'arn:aws:iam::999999999999:role/someone-else' } }] };
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).resolves(roleAnswer(trust));
    const outcome = await doctor.roleCheck(roleTarget);
    expect(outcome).toMatchObject({ ok: false, detail: `role ${ROLE_ARN}: its trust policy does not let the bot (${BOT_ROLE}) assume it` });
    expect(outcome.fix).toMatch(/^trust arn:aws:iam::123456789012:role\/service\/jit-access-bot with "Action": \["sts:AssumeRole", "sts:SetSourceIdentity"\]/);
  });

  it('fails with the permission when the bot may not read the role', async () => {
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).rejects(awsError('AccessDenied', 403));
    expect(await doctor.roleCheck(roleTarget)).toMatchObject({ ok: false, fix: "allow iam:GetRole to the bot's IAM role (README → AWS permissions)" });
  });
});

describe('ssm-session: the nodes', () => {
  const node = (InstanceId: string, PingStatus: 'Online' | 'ConnectionLost') => ({ InstanceId, PingStatus });

  it('passes when the listed nodes and some tagged node are online', async () => {
    ssm.on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: ['i-0aaaaaaaaaaaaaaa1'] }] }).resolves({ InstanceInformationList: [node('i-0aaaaaaaaaaaaaaa1', 'Online')] });
    ssm.on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'tag:ENV', Values: ['dev'] }] }).resolves({ InstanceInformationList: [node('i-0ccccccccccccccc3', 'Online')] });
    expect(await doctor.nodesCheck(ssmTarget)).toEqual({ ok: true, detail: '2 nodes online: i-0aaaaaaaaaaaaaaa1, i-0ccccccccccccccc3' });
  });

  it('fails naming a node that is offline, and tags that match nothing online', async () => {
    ssm.on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: ['i-0aaaaaaaaaaaaaaa1'] }] }).resolves({ InstanceInformationList: [node('i-0aaaaaaaaaaaaaaa1', 'ConnectionLost')] });
    ssm.on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'tag:ENV', Values: ['dev'] }] }).resolves({ InstanceInformationList: [node('i-0ccccccccccccccc3', 'ConnectionLost')] });
    const outcome = await doctor.nodesCheck(ssmTarget);
    expect(outcome).toMatchObject({ ok: false, detail: 'nodes (eu-west-1): i-0aaaaaaaaaaaaaaa1 is ConnectionLost; none of the 1 nodes tagged ENV=dev is online' });
    expect(outcome.fix).toMatch(/start the SSM agent/);
  });

  it('fails with the permission when the bot may not list nodes', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(awsError('AccessDeniedException', 400));
    expect(await doctor.nodesCheck(ssmTarget)).toMatchObject({ ok: false, detail: expect.stringContaining('AccessDenied'), fix: expect.stringContaining('ssm:DescribeInstanceInformation') });
  });
});

describe('the deny policies (IAM policy simulation)', () => {
  const ACTIONS = ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:DeleteRolePolicy'];

  it('passes when every action is allowed on every role, simulated for the bot role with its path', async () => {
    iam.on(SimulatePrincipalPolicyCommand, { ResourceArns: [ROLE_ARN] }).resolves({ EvaluationResults: allowed(ACTIONS, ROLE_ARN) });
    iam.on(SimulatePrincipalPolicyCommand, { ResourceArns: [SSM_ROLE] }).resolves({ EvaluationResults: allowed(ACTIONS, SSM_ROLE) });
    expect(await doctor.denyPoliciesCheck([ROLE_ARN, SSM_ROLE])).toEqual({ ok: true, detail: 'the bot may put and delete its jit-deny policy on 2 roles' });
    expect(iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: BOT_ROLE, ActionNames: ACTIONS, ResourceArns: [ROLE_ARN] });
  });

  it('fails naming each refused action and role', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({
      EvaluationResults: [...allowed(['iam:PutRolePolicy'], ROLE_ARN, 'implicitDeny'), ...allowed(['iam:GetRolePolicy', 'iam:ListRolePolicies'], ROLE_ARN), ...allowed(['iam:DeleteRolePolicy'], ROLE_ARN, 'explicitDeny')],
    });
    const outcome = await doctor.denyPoliciesCheck([ROLE_ARN]);
    expect(outcome).toMatchObject({
      ok: false,
      detail: 'the bot may not manage its deny policies: iam:PutRolePolicy on ReadOnly (implicitDeny), iam:DeleteRolePolicy on ReadOnly (explicitDeny); early revocation of role credentials would fail',
    });
    expect(outcome.fix).toBe(`allow ${ACTIONS.join(', ')} on the target roles to ${BOT_ROLE} (README → AWS permissions)`);
  });

  it('says it could not verify, and which permission to add, when the simulation itself is denied', async () => {
    iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied', 403));
    const outcome = await doctor.denyPoliciesCheck([ROLE_ARN]);
    expect(outcome).toMatchObject({ ok: false, detail: 'could not verify: the bot may not call iam:SimulatePrincipalPolicy' });
    expect(outcome.fix).toMatch(new RegExp(`^allow iam:SimulatePrincipalPolicy on ${BOT_ROLE.replace(/\//g, '\\/')} to it`));
  });

  it('falls back to the path-less role ARN when the bot may not read its own role', async () => {
    iam.on(GetRoleCommand, { RoleName: 'jit-access-bot' }).rejects(awsError('AccessDenied', 403));
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: allowed(ACTIONS, ROLE_ARN) });
    expect((await doctor.denyPoliciesCheck([ROLE_ARN])).ok).toBe(true);
    expect(iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/jit-access-bot` });
  });
});

describe('the deny policies on roles of another account (simulated for the role the bot assumes there)', () => {
  const ACTIONS = ['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:DeleteRolePolicy'];
  const MEMBER = '210987654321';
  const VIA = { roleArn: `arn:aws:iam::${MEMBER}:role/jit-access-bot-member`, externalId: 'jit-7f3a' };
  const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/ReadOnly`;
  let reached: AssumeRole[];
  let member: AwsDoctor;
  beforeEach(() => {
    reached = [];
    member = new AwsDoctor({
      ec2For: () => ec2,
      ssmFor: (region) => new SSMClient({ region }),
      stsFor: (region) => new STSClient({ region }),
      iam: new IAMClient({ region: 'us-east-1' }),
      iamVia: (via) => {
        reached.push(via);
        return new IAMClient({ region: 'us-east-1' });
      },
      defaultRegion: 'eu-west-1',
    });
  });

  it('simulates the member role, through its own session, and names it when it passes', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: allowed(ACTIONS, MEMBER_ROLE) });
    expect(await member.denyPoliciesCheck([MEMBER_ROLE], VIA)).toEqual({ ok: true, detail: `${VIA.roleArn} may put and delete the bot's jit-deny policy on 1 role` });
    expect(iam).toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: VIA.roleArn, ActionNames: ACTIONS, ResourceArns: [MEMBER_ROLE] });
    expect(iam).not.toHaveReceivedCommandWith(SimulatePrincipalPolicyCommand, { PolicySourceArn: BOT_ROLE });
    expect(reached).toEqual([VIA]);
  });

  it('fails naming the member role and what it lacks', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [...allowed(['iam:PutRolePolicy'], MEMBER_ROLE, 'implicitDeny'), ...allowed(ACTIONS.slice(1), MEMBER_ROLE)] });
    expect(await member.denyPoliciesCheck([MEMBER_ROLE], VIA)).toEqual({
      ok: false,
      detail: `${VIA.roleArn} may not manage the bot's deny policies: iam:PutRolePolicy on ReadOnly (implicitDeny); early revocation of role credentials would fail`,
      fix: `allow ${ACTIONS.join(', ')} on the target roles to ${VIA.roleArn} (infra/ MemberAccountRoleStack: managedRoleArns)`,
    });
  });

  it('says it could not verify when the member role may not simulate itself', async () => {
    iam.on(SimulatePrincipalPolicyCommand).rejects(awsError('AccessDenied', 403));
    const outcome = await member.denyPoliciesCheck([MEMBER_ROLE], VIA);
    expect(outcome).toMatchObject({ ok: false, detail: `could not verify: ${VIA.roleArn} may not call iam:SimulatePrincipalPolicy on itself` });
    expect(outcome.fix).toMatch(/MemberAccountRoleStack does/);
  });

  it('fails plainly when built without a way into other accounts', async () => {
    expect(await doctor.denyPoliciesCheck([MEMBER_ROLE], VIA)).toEqual({ ok: false, detail: `no IAM client for roles reached through ${VIA.roleArn}`, fix: 'this doctor was built without one' });
  });
});

describe('readTrustPolicy', () => {
  const bot = describeIdentity(CALLER, ACCOUNT);

  it('maps an assumed-role caller to its role', () => {
    expect(bot).toEqual({ arn: CALLER, account: ACCOUNT, partition: 'aws', roleName: 'jit-access-bot', principalArn: `arn:aws:iam::${ACCOUNT}:role/jit-access-bot` });
    expect(describeIdentity(`arn:aws:iam::${ACCOUNT}:user/ops/alice`, ACCOUNT).principalArn).toBe(`arn:aws:iam::${ACCOUNT}:user/ops/alice`);
    expect(describeIdentity(`arn:aws:iam::${ACCOUNT}:root`, ACCOUNT).principalArn).toBeUndefined();
  });

  it.each([
    ['the bot role by ARN', GOOD_TRUST, { assume: true, setSourceIdentity: true, requiresSourceIdentity: true }],
    ['the account and sts:*', { Statement: { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'sts:*', Condition: { StringLike: { 'sts:SourceIdentity': '*@example.com' } } } }, { assume: true, setSourceIdentity: true, requiresSourceIdentity: true }],
    ['a Null: true condition (forbids a source identity)', { Statement: [{ ...GOOD_TRUST.Statement[0], Condition: { Null: { 'sts:SourceIdentity': 'true' } } }] }, { assume: true, setSourceIdentity: true, requiresSourceIdentity: false }],
    ['an IfExists condition (optional)', { Statement: [{ ...GOOD_TRUST.Statement[0], Condition: { StringLikeIfExists: { 'sts:SourceIdentity': '*' } } }] }, { assume: true, setSourceIdentity: true, requiresSourceIdentity: false }],
    [
      'a second statement that lets the bot assume without the condition',
      { Statement: [GOOD_TRUST.Statement[0], { Effect: 'Allow', Principal: { AWS: BOT_ROLE }, Action: 'sts:AssumeRole' }] },
      { assume: true, setSourceIdentity: true, requiresSourceIdentity: false },
    ],
    ['a Deny only', { Statement: [{ ...GOOD_TRUST.Statement[0], Effect: 'Deny' }] }, { assume: false, setSourceIdentity: false, requiresSourceIdentity: false }],
    ['a service principal', { Statement: [{ ...GOOD_TRUST.Statement[0], Principal: { Service: 'ec2.amazonaws.com' } }] }, { assume: false, setSourceIdentity: false, requiresSourceIdentity: false }],
  ])('reads %s', (_what, doc, expected) => {
    expect(readTrustPolicy(JSON.stringify(doc), bot)).toEqual(expected);
  });

  it('trusts nobody when the document is not JSON', () => {
    expect(readTrustPolicy('{nope', bot)).toEqual({ assume: false, setSourceIdentity: false, requiresSourceIdentity: false });
  });
});
