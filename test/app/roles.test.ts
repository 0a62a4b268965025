/**
 * aws-role and ssm-session end to end: signed Slack requests to the real receiver, the real core
 * and store, the Slack stand-in, and STS / IAM / SSM mocked at the SDK clients.
 */
import { DescribeSecurityGroupRulesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeInstanceInformationCommand, DescribeSessionsCommand, SSMClient, TerminateSessionCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ACTION_APPROVE, ACTION_SHOW_CREDENTIALS } from '../../blocks/ids';
import { APPROVER, CONFIG_YAML, Harness, OUTSIDER, REQUESTER, SIGNING_SECRET } from '../support/harness';
import { blockAction } from '../../testkit/slack-requests';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/ProdReadOnly';
const SSM_ROLE_ARN = 'arn:aws:iam::123456789012:role/JitSsmAccess';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLESECRET';
const TOKEN = `IQoJb3JpZ2luX2VjE${'A'.repeat(900)}`;
const POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
const CONFIG = `${CONFIG_YAML}
  - name: prod-readonly
    kind: aws-role
    roleArn: "${ROLE_ARN}"
    maxDuration: 4h
    sessionPolicy: '${JSON.stringify(POLICY)}'
  - name: dev-nodes
    kind: ssm-session
    roleArn: "${SSM_ROLE_ARN}"
    region: eu-west-1
    nodeTags: { ENV: dev }
    maxDuration: 1h
`;

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const ssm = mockClient(SSMClient);
const ec2 = mockClient(EC2Client);
let h: Harness;
let issued = 0;

function assumedFor(sessionName: string, roleArn = ROLE_ARN) {
  const roleName = roleArn.split('/').pop();
  issued += 1;
  return {
    Credentials: { AccessKeyId: `ASIAEXAMPLE${String(issued).padStart(5, '0')}`, SecretAccessKey: SECRET, SessionToken: TOKEN, Expiration: new Date(Date.now() + 3_600_000) },
    AssumedRoleUser: { AssumedRoleId: `AROAEXAMPLEROLEID:${sessionName}`, Arn: `arn:aws:sts::123456789012:assumed-role/${roleName}/${sessionName}` },
    SourceIdentity: 'x',
  };
}

beforeEach(async () => {
  for (const m of [sts, iam, ssm, ec2]) m.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  iam.on(GetRoleCommand).resolves({ Role: { RoleName: 'ProdReadOnly', Arn: ROLE_ARN, RoleId: 'AROAEXAMPLEROLEID', MaxSessionDuration: 3600, Path: '/', CreateDate: new Date() } });
  sts.on(AssumeRoleCommand).callsFake((input: { RoleSessionName: string; RoleArn: string }) => assumedFor(input.RoleSessionName, input.RoleArn));
  let policy: string | undefined;
  iam.on(PutRolePolicyCommand).callsFake((input: { PolicyDocument: string }) => {
    policy = input.PolicyDocument;
    return {};
  });
  iam.on(GetRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string }) => ({ RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(policy ?? '{}') }));
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
  h = await Harness.start({ configYaml: CONFIG });
});
afterEach(async () => {
  await h.stop();
});

async function clickShowCredentials(userId: string, id: string) {
  const responseUrl = h.slack.responseUrl();
  const res = await blockAction(h.url, SIGNING_SECRET, { userId, actionId: ACTION_SHOW_CREDENTIALS, value: id, channel: `D${userId}`, messageTs: '1.1', responseUrl, triggerId: `trig-${userId}` });
  await h.settle();
  return { status: res.status, refusal: (h.slack.responses.find((r) => r.url === responseUrl)?.body as { text?: string } | undefined)?.text };
}

describe('aws-role', () => {
  it('grants with source identity, session name and session policy; shows credentials only in a modal; revokes with a verified deny', async () => {
    const id = await h.request('request prod-readonly 2h incident 4711: read the order logs');
    await h.click(APPROVER, ACTION_APPROVE, id);

    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    const assume = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(assume).toMatchObject({ RoleArn: ROLE_ARN, SourceIdentity: `${REQUESTER.toLowerCase()}@example.com`, DurationSeconds: 3600, Policy: JSON.stringify(POLICY) });
    expect(assume.RoleSessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(assume.RoleSessionName).toContain(id);
    const active = await h.bot.service.get(id);
    expect(active).toMatchObject({ status: 'ACTIVE', grant: { kind: 'aws-role', roleSessionName: assume.RoleSessionName, durationSeconds: 3600, clamped: 'max' } });
    expect(active!.audit.find((a) => a.action === 'grant')!.details).toMatchObject({ assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/ProdReadOnly/${assume.RoleSessionName}`, sourceIdentity: `${REQUESTER.toLowerCase()}@example.com`, clamped: 'max' });
    const dm = h.dms(REQUESTER).join('\n');
    expect(dm).toContain(ACTION_SHOW_CREDENTIALS);
    expect(dm).toMatch(/role's maximum|maximum session/);

    // Someone else cannot see them; the requester gets a modal, and nothing secret is ever posted.
    expect((await clickShowCredentials(OUTSIDER, id)).refusal).toMatch(/There is no request `jit-[0-9a-z]{10}` that you can see the credentials of/); // existence does not leak
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
    await clickShowCredentials(REQUESTER, id);
    const [open] = h.slack.callsTo('views.open');
    expect(open!.args.trigger_id).toBe(`trig-${REQUESTER}`);
    const modal = JSON.stringify(open!.args.view);
    for (const piece of ['export AWS_ACCESS_KEY_ID=ASIAEXAMPLE', `export AWS_SECRET_ACCESS_KEY=${SECRET}`, 'export AWS_SESSION_TOKEN=', TOKEN]) expect(modal).toContain(piece);
    for (const call of h.slack.calls.filter((c) => c.method !== 'views.open')) {
      expect(JSON.stringify(call.args)).not.toContain(SECRET);
      expect(JSON.stringify(call.args)).not.toContain(TOKEN.slice(0, 40));
    }
    expect(h.logLines.join('')).not.toContain(SECRET);
    expect((await h.bot.service.get(id))!.audit.at(-1)).toMatchObject({ action: 'credentials-issued', actor: REQUESTER, from: 'ACTIVE', to: 'ACTIVE' });

    // Early revoke: a deny policy matching only this session, read back before it counts.
    await h.command(REQUESTER, `revoke ${id}`);
    await h.settle();
    const put = iam.commandCalls(PutRolePolicyCommand)[0]!.args[0].input;
    // The role's one deny policy: every credential of this grant (aws:userid "<role id>:<session name>", the session name ending in the request id).
    expect(put).toMatchObject({ RoleName: 'ProdReadOnly', PolicyName: 'jit-deny' });
    expect(JSON.parse(put.PolicyDocument!).Statement[0]).toMatchObject({ Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:userid': [`*.${id}`] } } });
    expect(assume.RoleSessionName!.endsWith(`.${id}`)).toBe(true);
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'REVOKED', revokeOutcome: 'verified' });
    expect(h.dms(REQUESTER).at(-1)).toMatch(/few minutes/);
    expect((await clickShowCredentials(REQUESTER, id)).refusal).toMatch(/ended/);
  });

  it('bad input gets a clear reply and nothing is stored', async () => {
    const tooShort = await h.command(REQUESTER, 'request prod-readonly 10m quick look');
    expect(tooShort.reply?.text).toMatch(/AWS STS issues credentials for at least 15 minutes/);
    const withAddress = await h.command(REQUESTER, 'request prod-readonly 1h 203.0.113.7 look');
    expect(withAddress.reply?.text).toMatch(/takes no address/);
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'The role with name ProdReadOnly cannot be found.', $metadata: {} }));
    const unknown = await h.command(REQUESTER, 'request prod-readonly 1h look');
    expect(unknown.reply?.text).toMatch(/does not exist|cannot be found/);
    await h.settle();
    expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);
    expect(h.approvalPosts()).toHaveLength(0);
  });

  it('AccessDenied on AssumeRole ends FAILED with a clear message to requester and approvers', async () => {
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User: arn:aws:sts::1:assumed-role/bot is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const id = await h.request('request prod-readonly 1h incident');
    await h.click(APPROVER, ACTION_APPROVE, id);
    const failed = await h.bot.service.get(id);
    // People see a code and a reference; the operator's hint and AWS's message are in the audit under it.
    expect(failed).toMatchObject({ status: 'FAILED', failure: 'aws-denied' });
    expect(failed!.audit.at(-1)).toMatchObject({ action: 'grant-failed', to: 'FAILED', details: { code: 'aws-denied', ref: failed!.failureRef, error: expect.stringMatching(/trust policy/) } });
    expect(JSON.stringify(h.approvalMessage(id))).toMatch(/grant failed: AWS refused the bot permission \(aws-denied, ref [0-9A-Z]{8}\)/);
    expect(h.dms(REQUESTER).join('\n')).toMatch(/aws-denied, ref [0-9A-Z]{8}/);
    expect(JSON.stringify(h.slack.calls)).not.toMatch(/trust policy|assumed-role\/bot|not authorized/); // the target's own role ARN is shown by design
  });
});

describe('ssm-session', () => {
  const online = (id: string) => ({ InstanceId: id, PingStatus: 'Online' as const, ResourceType: 'EC2Instance' as const });

  it('resolves the tagged nodes, scopes the session policy to their tags, and at expiry terminates live sessions before denying', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [online('i-0aaaaaaaaaaaaaaa1'), online('i-0aaaaaaaaaaaaaaa2')] });
    const id = await h.request('request dev-nodes 30m debug the worker');
    await h.click(APPROVER, ACTION_APPROVE, id);
    const assume = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(assume.RoleArn).toBe(SSM_ROLE_ARN);
    // The target selects nodes by tag: the session policy reaches them by that tag, not one by one.
    const statements = (JSON.parse(assume.Policy!) as { Statement: Array<{ Action: string; Resource: string[]; Condition?: unknown }> }).Statement;
    expect(statements.find((st) => st.Action === 'ssm:StartSession' && st.Condition)).toEqual({
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: ['arn:aws:ec2:eu-west-1:123456789012:instance/*', 'arn:aws:ssm:eu-west-1:123456789012:managed-instance/*'],
      Condition: { StringEquals: { 'ssm:resourceTag/ENV': 'dev' } },
    });
    expect(assume.Policy).not.toContain('instance/i-0aaaaaaaaaaaaaaa1');
    const active = await h.bot.service.get(id);
    expect(active).toMatchObject({ status: 'ACTIVE', grant: { kind: 'ssm-session', instanceIds: [], nodeTags: { ENV: 'dev' }, sampleNodes: ['i-0aaaaaaaaaaaaaaa1', 'i-0aaaaaaaaaaaaaaa2'] } });
    expect(h.dms(REQUESTER).join('\n')).toContain('aws ssm start-session --target i-0aaaaaaaaaaaaaaa1');

    const owner = active!.grant!.kind === 'ssm-session' ? active!.grant!.assumedRoleArn : '';
    let live = true;
    ssm.on(DescribeSessionsCommand).callsFake(() => ({ Sessions: live ? [{ SessionId: `${assume.RoleSessionName}-0abc`, Target: 'i-0aaaaaaaaaaaaaaa1', Owner: owner, Status: 'Connected' }] : [] }));
    ssm.on(TerminateSessionCommand).callsFake(() => {
      live = false;
      return { SessionId: `${assume.RoleSessionName}-0abc` };
    });
    h.clock.advance(30 * 60_000);
    await h.sweep();
    expect(ssm).toHaveReceivedCommandWith(TerminateSessionCommand, { SessionId: `${assume.RoleSessionName}-0abc` });
    expect(iam).toHaveReceivedCommandTimes(PutRolePolicyCommand, 1);
    const done = await h.bot.service.get(id);
    expect(done).toMatchObject({ status: 'REVOKED', revokeOutcome: 'verified' });
    expect(done!.audit.at(-1)!.details).toMatchObject({ sessionsEnded: `${assume.RoleSessionName}-0abc` });
  });

  it('a node that is not managed or not online is a clear error, nothing stored', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const none = await h.command(REQUESTER, 'request dev-nodes 30m debug');
    expect(none.reply?.text).toMatch(/ENV|no managed node|No managed|not managed|online/i);
    await h.settle();
    expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);
    expect(h.approvalPosts()).toHaveLength(0);
  });
});
