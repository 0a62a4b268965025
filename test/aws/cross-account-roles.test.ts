/**
 * aws-role and ssm-session targets in another account: the role's IAM side (its maximum session,
 * the per-grant deny policy, the housekeeping of expired denies) and the nodes' SSM side (finding
 * nodes, ending sessions) go to that account's clients, reached through the role the target names
 * and the grant records; nothing of it goes to the bot's own account.
 */
import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeInstanceInformationCommand, DescribeSessionsCommand, SSMClient, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SsmSessionProvider } from '../../src/aws/ssm-session';
import { StsRoleProvider } from '../../src/aws/sts-role';
import { denyPolicyDocument, StsSessions } from '../../src/aws/sts-session';
import type { AssumeRole, AwsRoleTarget, SsmSessionTarget } from '../../src/domain/types';
import { pendingRequest, testPolicy } from '../support/requests';

const VIA: AssumeRole = { roleArn: 'arn:aws:iam::210987654321:role/jit-access-bot-member', externalId: 'jit-7f3a' };
const ROLE_ARN = 'arn:aws:iam::210987654321:role/ReadOnly';
const clock = { now: () => new Date('2026-11-22T10:00:00.000Z') };

const homeIam = new IAMClient({ region: 'eu-west-1' });
const memberIam = new IAMClient({ region: 'eu-west-1' });
const home = mockClient(homeIam);
const member = mockClient(memberIam);
const sts = mockClient(STSClient);
const homeSsmClient = new SSMClient({ region: 'eu-west-1' });
const memberSsmClient = new SSMClient({ region: 'eu-west-1' });
const homeSsm = mockClient(homeSsmClient);
const memberSsm = mockClient(memberSsmClient);

const iamVias: AssumeRole[] = [];
const sessions = new StsSessions(() => new STSClient({ region: 'eu-west-1' }), homeIam, clock, (via) => {
  iamVias.push(via);
  return memberIam;
});
const ssmFor = (_region: string, via?: AssumeRole) => (via?.roleArn === VIA.roleArn ? memberSsmClient : homeSsmClient);

const roleTarget: AwsRoleTarget = { name: 'member-readonly', kind: 'aws-role', roleArn: ROLE_ARN, assumeRole: VIA, minDurationMs: 900_000, maxDurationMs: 3_600_000, tags: {}, policy: testPolicy() };
const ssmTarget: SsmSessionTarget = { name: 'member-shell', kind: 'ssm-session', roleArn: ROLE_ARN, assumeRole: VIA, instanceIds: ['i-0aaaaaaaaaaaaaaa1'], nodeTags: {}, documentName: 'SSM-SessionManagerRunShell', minDurationMs: 900_000, maxDurationMs: 3_600_000, tags: {}, policy: testPolicy() };
const ctx = { sourceIdentity: 'alice@example.com' };

beforeEach(() => {
  for (const m of [home, member, sts, homeSsm, memberSsm]) m.reset();
  iamVias.length = 0;
  member.on(GetRoleCommand).resolves({ Role: { MaxSessionDuration: 3_600 } as never });
  let written: string | undefined;
  member.on(PutRolePolicyCommand).callsFake((input: { PolicyDocument: string }) => ((written = input.PolicyDocument), {}));
  sts.on(AssumeRoleCommand).callsFake((input: { RoleSessionName: string }) => ({
    Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date('2026-11-22T11:00:00.000Z') },
    AssumedRoleUser: { Arn: `arn:aws:sts::210987654321:assumed-role/ReadOnly/${input.RoleSessionName}`, AssumedRoleId: `AROAMEMBER:${input.RoleSessionName}` },
  }));
  member.on(GetRolePolicyCommand).callsFake((input: { PolicyName: string }) => ({ PolicyDocument: encodeURIComponent(written ?? '{}'), PolicyName: input.PolicyName }));
});

it('aws-role: the grant records the role it reached the account through; its deny goes to that account, verified', async () => {
  const provider = new StsRoleProvider(sessions, { defaultRegion: 'eu-west-1' });
  const request = pendingRequest({ id: 'jit-xrole00001', kind: 'aws-role', targetName: roleTarget.name, cidr: undefined, requesterId: 'U0ALICE' });
  const grant = await provider.grant(request, roleTarget, new Date('2026-11-22T11:00:00.000Z'), ctx);
  expect(grant.assumeRole).toEqual(VIA);
  // Revoked from the grant alone (the target may be gone).
  await expect(provider.revoke(request, undefined, grant)).resolves.toEqual({ removed: true, verified: true });
  expect(member).toHaveReceivedCommandWith(PutRolePolicyCommand, { RoleName: 'ReadOnly', PolicyName: 'jit-deny' });
  expect(home.calls()).toHaveLength(0);
  expect(iamVias.every((v) => v === VIA)).toBe(true);
});

it('housekeeping of expired denies reads and deletes in the role\'s own account', async () => {
  member.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['jit-deny-jit-old'] });
  member.on(GetRolePolicyCommand).resolves({ PolicyDocument: encodeURIComponent(denyPolicyDocument('AROAMEMBER', 'bob.jit-old', new Date('2026-11-22T09:00:00.000Z'))) });
  member.on(DeleteRolePolicyCommand).resolves({});
  const provider = new StsRoleProvider(sessions, { defaultRegion: 'eu-west-1' });
  expect(await provider.cleanup([roleTarget], clock.now())).toEqual([`deleted expired deny jit-deny-jit-old from ${ROLE_ARN}`]);
  expect(member).toHaveReceivedCommandTimes(DeleteRolePolicyCommand, 1);
  expect(home.calls()).toHaveLength(0);
});

it('ssm-session: nodes are found and sessions ended in the nodes\' account', async () => {
  memberSsm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: 'i-0aaaaaaaaaaaaaaa1', PingStatus: 'Online' }] });
  const provider = new SsmSessionProvider(sessions, ssmFor, { defaultRegion: 'eu-west-1' });
  const request = pendingRequest({ id: 'jit-xssm000001', kind: 'ssm-session', targetName: ssmTarget.name, cidr: undefined, requesterId: 'U0ALICE' });
  const grant = await provider.grant(request, ssmTarget, new Date('2026-11-22T11:00:00.000Z'), ctx);
  expect(grant.assumeRole).toEqual(VIA);
  memberSsm.on(DescribeSessionsCommand).resolvesOnce({ Sessions: [{ SessionId: 'alice.jit-xssm000001-0abc', Target: 'i-0aaaaaaaaaaaaaaa1' }] }).resolves({ Sessions: [] });
  memberSsm.on(TerminateSessionCommand).resolves({});
  expect(await provider.endSessions(request, undefined, grant)).toEqual(['alice.jit-xssm000001-0abc']);
  expect(memberSsm).toHaveReceivedCommandWith(TerminateSessionCommand, { SessionId: 'alice.jit-xssm000001-0abc' });
  expect(homeSsm.calls()).toHaveLength(0);
  expect(home.calls()).toHaveLength(0);
});
