/**
 * `/jit doctor` through a signed slash command to the real Bolt receiver: the bot runs the same
 * checks as `npm run doctor` with its own clients (Slack stand-in, embedded store, EC2 and STS
 * mocked at the SDK clients) and answers approvers only.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { textObjects } from '../blocks/fixtures';
import { APPROVER, APPROVER_CHANNEL, Harness, OUTSIDER } from '../support/harness';

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);
const dryRun = (name: string) => Object.assign(new Error(`${name}: dry run`), { name, $metadata: { httpStatusCode: name === 'DryRunOperation' ? 412 : 403 } });

let h: Harness;
beforeEach(async () => {
  ec2.reset();
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/jit-access-bot/task', Account: '123456789012' });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(dryRun('DryRunOperation'));
  ec2.on(RevokeSecurityGroupIngressCommand).rejects(dryRun('DryRunOperation'));
  h = await Harness.start();
  h.slack.channels.set(APPROVER_CHANNEL, { name: 'jit-approvals', isMember: true });
});
afterEach(() => h.stop());

const lines = (reply: { blocks?: unknown[] } | undefined) => textObjects(reply?.blocks ?? []).map((t) => t.text);

it('shows an approver the report, every check passing', async () => {
  const { status, reply } = await h.command(APPROVER, 'doctor');
  expect(status).toBe(200);
  expect(reply?.response_type).toBe('ephemeral');
  expect(reply?.text).toBe('doctor: 9 checks, all passed');
  expect(lines(reply)).toEqual([
    '✓ *doctor: 9 checks, all passed*',
    '✓ *config valid*: (inline): 2 targets, approver channel C0APPROVERS',
    '✓ *Slack token*: accepted: bot user jit-access-bot in workspace T1',
    '✓ *Slack scopes*: all 11 scopes granted',
    '✓ *approver channel*: #jit-approvals (C0APPROVERS): the bot is a member',
    '✓ *Slack users in the policy*: 3 users found: U0APPROVER1, U0APPROVER2, U0REQUESTER',
    '✓ *store*: embedded store (SQLite) (in memory) opens and answers',
    '✓ *AWS identity*: arn:aws:sts::123456789012:assumed-role/jit-access-bot/task (account 123456789012)',
    '✓ *target prod-bastion (ec2-ssh, eu-west-1)*: sg-0123456789abcdef0 (eu-west-1) exists; the bot may open and close tcp/22 on it',
    '✓ *target staging-db (ec2-ssh, us-east-1)*: sg-0fedcba9876543210 (us-east-1) exists; the bot may open and close tcp/5432 on it',
  ]);
  expect(ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, { DryRun: true, GroupId: 'sg-0123456789abcdef0' });
});

it('shows what fails and how to fix it', async () => {
  h.slack.channels.set(APPROVER_CHANNEL, { name: 'jit-approvals', isMember: false });
  h.slack.scopes = h.slack.scopes.filter((s) => s !== 'chat:write');
  ec2.on(AuthorizeSecurityGroupIngressCommand, { GroupId: 'sg-0fedcba9876543210' }).rejects(dryRun('UnauthorizedOperation'));
  const { reply } = await h.command(APPROVER, 'doctor');
  expect(reply?.text).toBe('doctor: 9 checks, 3 failed: Slack scopes, approver channel, target staging-db (ec2-ssh, us-east-1)');
  const text = lines(reply).join('\n');
  expect(text).toContain('✗ *Slack scopes*: missing chat:write (approval messages and DMs)\n>fix: add chat:write under OAuth &amp; Permissions');
  expect(text).toContain('✗ *approver channel*: the bot is not a member of #jit-approvals (C0APPROVERS), so approval requests cannot be posted there\n>fix: invite the bot');
  expect(text).toContain('✗ *target staging-db (ec2-ssh, us-east-1)*: the bot may not open rules on sg-0fedcba9876543210 (us-east-1)\n>fix: allow ec2:AuthorizeSecurityGroupIngress');
  expect(text).toContain('✓ *target prod-bastion (ec2-ssh, eu-west-1)*');
});

it('refuses anyone who is not an approver, and runs no check', async () => {
  const callsBefore = h.slack.calls.length;
  const { status, reply } = await h.command(OUTSIDER, 'doctor');
  expect(status).toBe(200);
  expect(reply?.text).toMatch(/Only approvers can run the doctor/);
  expect(reply?.text).not.toMatch(/doctor: \d+ checks/);
  // Only the who-may-act check (issue 10) asks Slack about the caller; no doctor check runs.
  expect(h.slack.calls.slice(callsBefore).map((c) => c.method).filter((m) => m !== 'users.info' && m !== 'auth.test')).toEqual([]);
  expect(ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
  expect(sts).not.toHaveReceivedCommand(GetCallerIdentityCommand);
});
