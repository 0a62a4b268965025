/**
 * The member-account role of cross-account ec2-ssh targets, synthesised offline: trusted only by
 * the bot's role with the external id, allowed exactly the bot's rule calls on the named groups
 * (the same statements as in the bot's own account), one-hour sessions; and the bot's stack may
 * assume exactly the member roles it is given.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { JitBotStack } from '../lib/jit-bot-stack';
import { MemberAccountRoleStack } from '../lib/member-account-role';

const BOT_ROLE = 'arn:aws:iam::123456789012:role/JitBotStack-TaskRole';
const MEMBER = '210987654321';
const SGS = ['sg-0aaaabbbbccccdddd'];
const env = { account: MEMBER, region: 'eu-west-1' };
const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const statementsOf = (t: Template) => Object.values(t.findResources('AWS::IAM::Policy')).flatMap((r) => r.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Action: string | string[]; Resource: unknown; Effect: string }>);

it('is trusted only by the bot role with the external id, for one-hour sessions, and allows only the rule calls on the named groups', () => {
  const t = Template.fromStack(new MemberAccountRoleStack(new App(), 'Member', { env, botRoleArn: BOT_ROLE, externalId: 'jit-7f3a', managedSecurityGroupIds: SGS }));
  t.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'jit-access-bot-member',
    MaxSessionDuration: 3600,
    AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: BOT_ROLE }, Condition: { StringEquals: { 'sts:ExternalId': 'jit-7f3a' } } }] },
  });
  const statements = statementsOf(t);
  expect(statements.map((s) => s.Sid).sort()).toEqual(['AuthorizeOnManagedGroups', 'AuthorizeOnlyTaggedRules', 'DescribeSecurityGroups', 'RetagExpiryOfOwnRules', 'RevokeOnManagedGroups', 'TagRulesAtCreation', 'UpdateDescriptionsOnManagedGroups']);
  expect(new Set(statements.flatMap((s) => asArray(s.Action)))).toEqual(new Set(['ec2:AuthorizeSecurityGroupIngress', 'ec2:CreateTags', 'ec2:RevokeSecurityGroupIngress', 'ec2:UpdateSecurityGroupRuleDescriptionsIngress', 'ec2:DescribeSecurityGroupRules', 'ec2:DescribeSecurityGroups']));
  expect(JSON.stringify(statements.find((s) => s.Sid === 'RevokeOnManagedGroups')!.Resource)).toContain(`:ec2:eu-west-1:${MEMBER}:security-group/sg-0aaaabbbbccccdddd`);
});

it('the same EC2 statements as in the bot account', () => {
  const member = statementsOf(Template.fromStack(new MemberAccountRoleStack(new App(), 'Member', { env, botRoleArn: BOT_ROLE, externalId: 'jit-7f3a', managedSecurityGroupIds: SGS })));
  const hub = statementsOf(Template.fromStack(new JitBotStack(new App(), 'Hub', { env, managedSecurityGroupIds: SGS, botConfig: { yaml: 'approverChannel: C0APPROVERS\napprovers: { users: [U0A] }\ntargets: []\n' } })));
  const bySid = (list: typeof hub, sid: string) => list.find((s) => s.Sid === sid);
  for (const sid of ['AuthorizeOnManagedGroups', 'AuthorizeOnlyTaggedRules', 'TagRulesAtCreation', 'RetagExpiryOfOwnRules', 'UpdateDescriptionsOnManagedGroups', 'RevokeOnManagedGroups', 'DescribeSecurityGroups']) expect(bySid(member, sid)).toEqual(bySid(hub, sid));
});

it('refuses a bad bot role, external id or group list at synth', () => {
  const make = (o: Partial<{ botRoleArn: string; externalId: string; managedSecurityGroupIds: string[] }>) => () =>
    new MemberAccountRoleStack(new App(), 'Bad', { env, botRoleArn: BOT_ROLE, externalId: 'jit-7f3a', managedSecurityGroupIds: SGS, ...o });
  expect(make({ botRoleArn: 'bot' })).toThrow(/botRoleArn/);
  expect(make({ externalId: 'x' })).toThrow(/externalId/);
  expect(make({ managedSecurityGroupIds: ['sg-1'] })).toThrow(/managedSecurityGroupIds/);
  expect(make({ managedSecurityGroupIds: [] })).toThrow(/nothing to do/);
});

it('roles and Session Manager in the member account: the same deny-policy and SSM statements as at home, and no EC2 without groups', () => {
  const ROLES = [`arn:aws:iam::${MEMBER}:role/ReadOnly`];
  const member = statementsOf(Template.fromStack(new MemberAccountRoleStack(new App(), 'MemberRoles', { env, botRoleArn: BOT_ROLE, externalId: 'jit-7f3a', managedRoleArns: ROLES, ssmTargets: true })));
  const hub = statementsOf(Template.fromStack(new JitBotStack(new App(), 'HubRoles2', { env, managedSecurityGroupIds: SGS, managedRoleArns: ROLES, ssmTargets: true, botConfig: { yaml: 'approverChannel: C0APPROVERS\napprovers: { users: [U0A] }\ntargets: []\n' } })));
  const bySid = (list: typeof hub, sid: string) => list.find((s) => s.Sid === sid);
  expect(member.map((s) => s.Sid).sort()).toEqual(['DenyPoliciesOnTargetRoles', 'DoctorSimulatesItself', 'EndSessions', 'FindNodesAndSessions', 'NeverChangeBoundaries']);
  // The doctor's deny-policy check simulates this role on itself, and nothing else.
  expect(bySid(member, 'DoctorSimulatesItself')).toMatchObject({ Effect: 'Allow', Action: 'iam:SimulatePrincipalPolicy', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Role/), 'Arn'] } });
  for (const sid of ['DenyPoliciesOnTargetRoles', 'NeverChangeBoundaries', 'FindNodesAndSessions', 'EndSessions']) expect(bySid(member, sid)).toEqual(bySid(hub, sid));
  expect(member.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('ec2:') || a.startsWith('sts:'))).toEqual([]);
});

it('the bot stack may assume exactly the member roles it is given, and none without them', () => {
  const base = { env: { account: '123456789012', region: 'eu-west-1' }, managedSecurityGroupIds: SGS, botConfig: { yaml: 'approverChannel: C0APPROVERS\napprovers: { users: [U0A] }\ntargets: []\n' } };
  const roles = [`arn:aws:iam::${MEMBER}:role/jit-access-bot-member`];
  const withRoles = statementsOf(Template.fromStack(new JitBotStack(new App(), 'HubRoles', { ...base, memberAccountRoleArns: roles })));
  expect(withRoles.find((s) => s.Sid === 'AssumeMemberAccountRoles')).toMatchObject({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roles[0] });
  const without = statementsOf(Template.fromStack(new JitBotStack(new App(), 'HubNone', base)));
  expect(without.flatMap((s) => asArray(s.Action)).filter((a) => a.startsWith('sts:'))).toEqual([]);
  expect(() => new JitBotStack(new App(), 'HubBad', { ...base, memberAccountRoleArns: ['member'] })).toThrow(/memberAccountRoleArns/);
});
