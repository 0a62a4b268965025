/**
 * doctorChecks (src/main.ts): which checks the policy calls for, in report order, and what each
 * one asks of the adapters. The adapters are stubs here; their own tests probe Slack and AWS.
 */
import type { AwsDoctor } from '../src/aws/doctor';
import { parseConfig, type EnvConfig } from '../src/config';
import { fail, pass, runDoctor } from '../src/doctor';
import { doctorChecks } from '../src/main';
import type { SlackDoctor } from '../slack/doctor';

const env: EnvConfig = { slackBotToken: 'xoxb-x', slack: { mode: 'http', signingSecret: 's', port: 0 }, configPath: 'jit.config.yaml', dataDir: './data', awsRegion: 'eu-west-1', logLevel: 'silent' };

const config = parseConfig(
  `
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER1], groups: [S0ONCALL] }
denyRules:
  - { name: no-contractors, requesters: { groups: [S0CONTRACT] } }
targets:
  - { name: bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }
  - { name: readonly, kind: aws-role, roleArn: "arn:aws:iam::123456789012:role/ReadOnly", region: us-east-1, requesters: { users: [U0DEV] } }
  - { name: nodes, kind: ssm-session, roleArn: "arn:aws:iam::123456789012:role/ReadOnly", instanceIds: [i-0aaaaaaaaaaaaaaa1] }
`,
  'test',
);

function stubs() {
  const calls: string[] = [];
  const record = (what: string, outcome = pass('ok')) => async () => {
    calls.push(what);
    return outcome;
  };
  const slack = {
    tokenCheck: record('token'),
    scopesCheck: record('scopes'),
    channelCheck: async (c: string) => record(`channel ${c}`)(),
    usersCheck: async (u: string[]) => record(`users ${u.join(',')}`)(),
    groupsCheck: async (g: string[]) => record(`groups ${g.join(',')}`)(),
  } as unknown as SlackDoctor;
  const aws = {
    identityCheck: record('identity'),
    securityGroupCheck: async (t: { name: string }) => record(`sg ${t.name}`)(),
    roleCheck: async (t: { name: string }) => record(`role ${t.name}`, fail('no trust', 'trust the bot'))(),
    nodesCheck: async (t: { name: string }) => record(`nodes ${t.name}`, fail('offline', 'start the agent'))(),
    denyPoliciesCheck: async (roles: string[], via?: { roleArn: string }) => record(`deny ${roles.join(',')}${via ? ` via ${via.roleArn}` : ''}`)(),
  } as unknown as AwsDoctor;
  return { calls, parts: { slack, aws, store: record('store') } };
}

it('lists every check the policy calls for, in report order', () => {
  const { parts } = stubs();
  expect(doctorChecks(env, config, parts).map((c) => c.name)).toEqual([
    'config valid',
    'Slack token',
    'Slack scopes',
    'approver channel',
    'Slack users in the policy',
    'Slack user groups in the policy',
    'store',
    'AWS identity',
    'target bastion (ec2-ssh, eu-west-1)',
    'target readonly (aws-role, us-east-1)',
    'target nodes (ssm-session, eu-west-1)',
    'IAM deny policies',
  ]);
});

it('asks about every user and group the policy names, each role once, and both nodes and role of an ssm-session target', async () => {
  const { parts, calls } = stubs();
  const report = await runDoctor(doctorChecks(env, config, parts));
  expect(calls.sort()).toEqual(
    [
      'token',
      'scopes',
      'channel C0APPROVERS',
      'users U0APPROVER1,U0DEV',
      'groups S0ONCALL,S0CONTRACT',
      'store',
      'identity',
      'sg bastion',
      'role readonly',
      'nodes nodes',
      'role nodes',
      'deny arn:aws:iam::123456789012:role/ReadOnly',
    ].sort(),
  );
  expect(report.results.find((r) => r.name === 'target nodes (ssm-session, eu-west-1)')).toEqual({ name: 'target nodes (ssm-session, eu-west-1)', ok: false, detail: 'offline; no trust', fix: 'start the agent; trust the bot' });
  expect(report.results[0]).toEqual({ name: 'config valid', ok: true, detail: 'jit.config.yaml: 3 targets, approver channel C0APPROVERS' });
});

it('checks the deny policies of roles in other accounts once per role the bot assumes there, as that role', async () => {
  const member = (n: string) => `arn:aws:iam::${n}:role/jit-access-bot-member`;
  const multi = parseConfig(
    `
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER1] }
targets:
  - { name: home, kind: aws-role, roleArn: "arn:aws:iam::123456789012:role/ReadOnly" }
  - { name: a-ro, kind: aws-role, roleArn: "arn:aws:iam::210987654321:role/ReadOnly", assumeRoleArn: "${member('210987654321')}", assumeRoleExternalId: jit-7f3a }
  - { name: a-nodes, kind: ssm-session, roleArn: "arn:aws:iam::210987654321:role/SsmAccess", instanceIds: [i-0aaaaaaaaaaaaaaa1], assumeRoleArn: "${member('210987654321')}", assumeRoleExternalId: jit-7f3a }
  - { name: b-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, assumeRoleArn: "${member('310987654321')}", assumeRoleExternalId: jit-9c1d }
`,
    'test',
  );
  const { parts, calls } = stubs();
  const checks = doctorChecks(env, multi, parts);
  expect(checks.map((c) => c.name).filter((n) => n.startsWith('IAM deny'))).toEqual(['IAM deny policies', `IAM deny policies (account 210987654321 through ${member('210987654321')})`]);
  await runDoctor(checks);
  expect(calls.filter((c) => c.startsWith('deny')).sort()).toEqual([
    'deny arn:aws:iam::123456789012:role/ReadOnly',
    `deny arn:aws:iam::210987654321:role/ReadOnly,arn:aws:iam::210987654321:role/SsmAccess via ${member('210987654321')}`,
  ]);
});

it('leaves out the checks a policy without groups or roles does not need', () => {
  const small = parseConfig('approverChannel: C0APPROVERS\napprovers: { users: [U0APPROVER1] }\ntargets:\n  - { name: b, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n', 'test');
  const names = doctorChecks(env, small, stubs().parts).map((c) => c.name);
  expect(names).not.toContain('Slack user groups in the policy');
  expect(names).not.toContain('IAM deny policies');
});

it('with auditChannel set, checks that channel too (right after the approver channel); without it, does not', async () => {
  const withAudit = parseConfig('approverChannel: C0APPROVERS\nauditChannel: C0AUDIT\napprovers: { users: [U0APPROVER1] }\ntargets:\n  - { name: bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n', 'test');
  const { parts, calls } = stubs();
  const checks = doctorChecks(env, withAudit, parts);
  expect(checks.map((c) => c.name).slice(3, 5)).toEqual(['approver channel', 'audit channel']);
  await runDoctor(checks);
  expect(calls).toContain('channel C0AUDIT');
  expect(doctorChecks(env, config, stubs().parts).map((c) => c.name)).not.toContain('audit channel');
});
