import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DescribeInstanceInformationCommand, DescribeSessionsCommand, SSMClient, TerminateSessionCommand, type InstanceInformation } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SsmSessionProvider, ssmSessionPolicy } from '../../src/aws/ssm-session';
import { denyEntry, denyPolicyDocument, roleDenyDocument, StsSessions } from '../../src/aws/sts-session';
import { GrantError, ValidationError } from '../../src/domain/errors';
import type { SsmGrant, SsmSessionTarget, Target } from '../../src/domain/types';
import { pendingRequest, testPolicy } from '../support/requests';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const ssm = mockClient(SSMClient);
const clock = { t: new Date('2026-11-22T10:00:00.000Z'), now: () => clock.t };

const ROLE_ARN = 'arn:aws:iam::123456789012:role/SsmAccess';
const ROLE_ID = 'AROASSMACCESSROLE01';
const NODE_A = 'i-0aaaaaaaaaaaaaaa1';
const NODE_B = 'i-0bbbbbbbbbbbbbbb2';
const NAME = 'alice.jit-7k3m9q2xab';
const ASSUMED_ARN = `arn:aws:sts::123456789012:assumed-role/SsmAccess/${NAME}`;

const target: SsmSessionTarget = {
  name: 'dev-shell',
  kind: 'ssm-session',
  roleArn: ROLE_ARN,
  instanceIds: [NODE_A, NODE_B],
  nodeTags: {},
  documentName: 'SSM-SessionManagerRunShell',
  externalId: 'jit-ext',
  minDurationMs: 15 * 60_000,
  maxDurationMs: 4 * 3_600_000,
  tags: {},
  policy: testPolicy(),
};
let targets: Target[];
let ssmFor: jest.Mock<SSMClient, [string]>;
let provider: SsmSessionProvider;

const request = pendingRequest({ id: 'jit-7k3m9q2xab', kind: 'ssm-session', targetName: 'dev-shell', requesterId: 'U0ALICE', status: 'GRANTING', durationMs: 60 * 60_000 });
/** The request's target as configured now (what the service passes). */
const configured = (): Target | undefined => targets.find((t) => t.name === request.targetName);
const ctx = { sourceIdentity: 'alice@example.com' };

const grant: SsmGrant = {
  kind: 'ssm-session',
  region: 'eu-west-1',
  roleArn: ROLE_ARN,
  roleId: ROLE_ID,
  roleSessionName: NAME,
  sourceIdentity: 'alice@example.com',
  assumedRoleArn: ASSUMED_ARN,
  durationSeconds: 3_600,
  instanceIds: [NODE_A, NODE_B],
  documentName: 'SSM-SessionManagerRunShell',
};

/** The session policy of `grant`, spelled out. */
const GRANT_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: [
        `arn:aws:ec2:eu-west-1:123456789012:instance/${NODE_A}`,
        `arn:aws:ec2:eu-west-1:123456789012:instance/${NODE_B}`,
        'arn:aws:ssm:eu-west-1:123456789012:document/SSM-SessionManagerRunShell',
      ],
    },
    {
      Effect: 'Allow',
      Action: ['ssm:TerminateSession', 'ssm:ResumeSession', 'ssmmessages:OpenDataChannel'],
      Resource: `arn:aws:ssm:eu-west-1:123456789012:session/${NAME}-*`,
    },
    {
      Effect: 'Allow',
      Action: ['ssm:DescribeSessions', 'ssm:GetConnectionStatus', 'ssm:DescribeInstanceInformation'],
      Resource: '*',
    },
  ],
};

function node(InstanceId: string, PingStatus: InstanceInformation['PingStatus'] = 'Online'): InstanceInformation {
  return { InstanceId, PingStatus };
}

function awsError(name: string, httpStatusCode?: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode, attempts: 1 } });
}

async function validationMessage(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).message;
}

beforeEach(() => {
  sts.reset();
  iam.reset();
  ssm.reset();
  clock.t = new Date('2026-11-22T10:00:00.000Z');
  targets = [target];
  ssmFor = jest.fn((region: string) => new SSMClient({ region }));
  const sessions = new StsSessions((region) => new STSClient({ region }), new IAMClient({ region: 'us-east-1' }), clock);
  provider = new SsmSessionProvider(sessions, ssmFor, { defaultRegion: 'eu-west-1' });
  iam.on(GetRoleCommand).resolves({ Role: { MaxSessionDuration: 7_200 } as never });
  sts.on(AssumeRoleCommand).callsFake((input: { RoleSessionName: string }) => ({
    Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date('2026-11-22T11:00:00.000Z') },
    AssumedRoleUser: { Arn: `arn:aws:sts::123456789012:assumed-role/SsmAccess/${input.RoleSessionName}`, AssumedRoleId: `${ROLE_ID}:${input.RoleSessionName}` },
  }));
});

describe('resolveNodes', () => {
  it('asks for the listed ids and returns them when all are managed and online, across pages', async () => {
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({ InstanceInformationList: [node(NODE_B)], NextToken: 'next' })
      .resolves({ InstanceInformationList: [node(NODE_A)] });

    expect(await provider.resolveNodes(target)).toEqual([NODE_A, NODE_B]);
    expect(ssmFor).toHaveBeenCalledWith('eu-west-1', undefined); // the bot's own account
    expect(ssm.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input)).toEqual([
      { Filters: [{ Key: 'InstanceIds', Values: [NODE_A, NODE_B] }], MaxResults: 50, NextToken: undefined },
      { Filters: [{ Key: 'InstanceIds', Values: [NODE_A, NODE_B] }], MaxResults: 50, NextToken: 'next' },
    ]);
  });

  it('names every listed node that is not managed or not online', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [node(NODE_B, 'ConnectionLost')] });
    const message = await validationMessage(provider.resolveNodes(target));
    expect(message).toBe(`Target dev-shell (eu-west-1): ${NODE_A} is not managed by Systems Manager; ${NODE_B} is ConnectionLost`);
  });

  it('resolves tags to the online nodes carrying all of them', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [node(NODE_A), node(NODE_B, 'ConnectionLost')] });
    const tagged = { ...target, instanceIds: [], nodeTags: { ENV: 'dev', team: 'payments' } };

    expect(await provider.resolveNodes(tagged)).toEqual([NODE_A]);
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [
        { Key: 'tag:ENV', Values: ['dev'] },
        { Key: 'tag:team', Values: ['payments'] },
      ],
    });
  });

  it('refuses tags that match no node, or no online node', async () => {
    const tagged = { ...target, instanceIds: [], nodeTags: { ENV: 'dev' } };
    ssm.on(DescribeInstanceInformationCommand).resolvesOnce({ InstanceInformationList: [] }).resolves({ InstanceInformationList: [node(NODE_A, 'ConnectionLost')] });
    expect(await validationMessage(provider.resolveNodes(tagged))).toBe('Target dev-shell (eu-west-1): no managed node is tagged ENV=dev');
    expect(await validationMessage(provider.resolveNodes(tagged))).toBe('Target dev-shell (eu-west-1): none of the 1 nodes tagged ENV=dev is online');
  });

  it('adds tagged nodes to the listed ones, once each', async () => {
    ssm
      .on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: [NODE_A] }] })
      .resolves({ InstanceInformationList: [node(NODE_A)] })
      .on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'tag:ENV', Values: ['dev'] }] })
      .resolves({ InstanceInformationList: [node(NODE_B), node(NODE_A)] });
    expect(await provider.resolveNodes({ ...target, instanceIds: [NODE_A], nodeTags: { ENV: 'dev' } })).toEqual([NODE_A, NODE_B]);
  });

  it('AWS failures are GrantErrors (throttling retryable)', async () => {
    ssm.on(DescribeInstanceInformationCommand).rejects(awsError('ThrottlingException', 400));
    await expect(provider.resolveNodes(target)).rejects.toMatchObject({ name: 'GrantError', retryable: true });
  });
});

describe('ssmSessionPolicy', () => {
  const scope = { region: 'eu-west-1', roleArn: ROLE_ARN, instanceIds: [NODE_A, NODE_B], documentName: 'SSM-SessionManagerRunShell', roleSessionName: NAME };

  it('allows exactly these nodes with exactly this document, and only this session’s own sessions', () => {
    expect(JSON.parse(ssmSessionPolicy(scope))).toEqual(GRANT_POLICY);
  });

  it('for any other document, also requires the document check, so that omitting --document-name gives no shell', () => {
    const policy = JSON.parse(ssmSessionPolicy({ ...scope, documentName: 'Team-PortForward' }));
    expect(policy.Statement[0]).toEqual({
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: [
        `arn:aws:ec2:eu-west-1:123456789012:instance/${NODE_A}`,
        `arn:aws:ec2:eu-west-1:123456789012:instance/${NODE_B}`,
        'arn:aws:ssm:eu-west-1:123456789012:document/Team-PortForward',
      ],
      Condition: { BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } },
    });
  });

  it('uses managed-instance ARNs for hybrid nodes, no account for AWS-owned documents, and the role’s partition', () => {
    const policy = JSON.parse(
      ssmSessionPolicy({ ...scope, roleArn: 'arn:aws-us-gov:iam::123456789012:role/SsmAccess', region: 'us-gov-west-1', instanceIds: ['mi-0123456789abcdef0'], documentName: 'AWS-StartPortForwardingSession' }),
    );
    expect(policy.Statement[0].Resource).toEqual([
      'arn:aws-us-gov:ssm:us-gov-west-1:123456789012:managed-instance/mi-0123456789abcdef0',
      'arn:aws-us-gov:ssm:us-gov-west-1::document/AWS-StartPortForwardingSession',
    ]);
  });

  it('fits 20 nodes under the longest session name, and refuses too many to fit, saying how large it is', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-0${String(i).padStart(16, '0')}`);
    expect(ssmSessionPolicy({ ...scope, instanceIds: ids(20), roleSessionName: 'x'.repeat(64) }).length).toBeLessThanOrEqual(2_048);
    expect(() => ssmSessionPolicy({ ...scope, instanceIds: ids(40) })).toThrow(ValidationError);
    expect(() => ssmSessionPolicy({ ...scope, instanceIds: ids(40) })).toThrow(/^40 nodes do not fit in one session policy \(\d{4} characters; STS accepts at most 2048\)/);
  });
});

describe('checkRequest', () => {
  it('resolves the nodes and checks the role', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [node(NODE_A), node(NODE_B)] });
    await expect(provider.checkRequest(target)).resolves.toBeUndefined();
    expect(iam).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'SsmAccess' });
  });

  it('tells the requester which node is not usable', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [node(NODE_A)] });
    await expect(provider.checkRequest(target)).rejects.toThrow(new ValidationError('plain', { text: `Target dev-shell (eu-west-1): ${NODE_B} is not managed by Systems Manager` }));
  });
});

describe('grant', () => {
  it('assumes the access role with the session policy scoped to the resolved nodes', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [node(NODE_A), node(NODE_B)] });

    const result = await provider.grant(request, target, new Date('2026-11-22T11:00:00.000Z'), ctx);

    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect({ ...input, Policy: JSON.parse(input.Policy!) }).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: NAME,
      SourceIdentity: 'alice@example.com',
      DurationSeconds: 3_600,
      Policy: GRANT_POLICY,
      ExternalId: 'jit-ext',
    });
    expect(result).toEqual<SsmGrant>(grant);
  });

  it('fails for good when a node went away since the request', async () => {
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [node(NODE_A), node(NODE_B, 'ConnectionLost')] });
    const err = await provider.grant(request, target, new Date(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrantError);
    expect(err).toMatchObject({ retryable: false, message: `Target dev-shell (eu-west-1): ${NODE_B} is ConnectionLost` });
    expect(sts).not.toHaveReceivedAnyCommand();
  });

  it('fails for good, without assuming, when the nodes do not fit in a session policy', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `i-0${String(i).padStart(16, '0')}`);
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: many.map((id) => node(id)) });
    const err = await provider.grant(request, { ...target, instanceIds: many }, new Date(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrantError);
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/^40 nodes do not fit/) });
    expect(sts).not.toHaveReceivedAnyCommand();
  });
});

describe('issueCredentials', () => {
  it('assumes again with the same session name and the same session policy', async () => {
    const credentials = await provider.issueCredentials(request, configured(), grant, new Date('2026-11-22T10:45:00.000Z'));

    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect({ ...input, Policy: JSON.parse(input.Policy!) }).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: NAME,
      SourceIdentity: 'alice@example.com',
      DurationSeconds: 2_700,
      Policy: GRANT_POLICY,
      ExternalId: 'jit-ext',
    });
    expect(credentials.assumedRoleArn).toBe(ASSUMED_ARN);
    expect(ssm).not.toHaveReceivedAnyCommand();
  });
});

describe('endSessions', () => {
  it("terminates only that owner's active sessions on the grant's nodes, across pages", async () => {
    ssm
      .on(DescribeSessionsCommand)
      .resolvesOnce({ Sessions: [{ SessionId: `${NAME}-0a1`, Target: NODE_A, Owner: ASSUMED_ARN }], NextToken: 'next' })
      .resolves({ Sessions: [{ SessionId: `${NAME}-0b2`, Target: 'i-0ccccccccccccccc3', Owner: ASSUMED_ARN }, { SessionId: `${NAME}-0c3`, Target: NODE_B, Owner: ASSUMED_ARN }] });
    ssm.on(TerminateSessionCommand).resolves({});

    expect(await provider.endSessions(request, configured(), grant)).toEqual([`${NAME}-0a1`, `${NAME}-0c3`]);
    expect(ssm.commandCalls(DescribeSessionsCommand).map((c) => c.args[0].input)).toEqual([
      { State: 'Active', Filters: [{ key: 'Owner', value: ASSUMED_ARN }], NextToken: undefined },
      { State: 'Active', Filters: [{ key: 'Owner', value: ASSUMED_ARN }], NextToken: 'next' },
    ]);
    expect(ssm.commandCalls(TerminateSessionCommand).map((c) => c.args[0].input)).toEqual([{ SessionId: `${NAME}-0a1` }, { SessionId: `${NAME}-0c3` }]);
  });

  it('a session that ended meanwhile is fine; other failures are GrantErrors', async () => {
    ssm.on(DescribeSessionsCommand).resolves({ Sessions: [{ SessionId: `${NAME}-0a1`, Target: NODE_A }] });
    ssm.on(TerminateSessionCommand).rejectsOnce(awsError('DoesNotExistException', 400)).rejects(awsError('AccessDeniedException', 400));
    expect(await provider.endSessions(request, configured(), grant)).toEqual([`${NAME}-0a1`]);
    await expect(provider.endSessions(request, configured(), grant)).rejects.toMatchObject({ name: 'GrantError', retryable: false, message: expect.stringMatching(/ssm:TerminateSession/) });
  });
});

describe('revoke', () => {
  beforeEach(() => {
    // The role has no deny policy yet; after the write it reads back what was written.
    let written: string | undefined;
    iam.on(PutRolePolicyCommand).callsFake((input: { PolicyDocument: string }) => ((written = input.PolicyDocument), {}));
    iam.on(GetRolePolicyCommand).callsFake(() => {
      if (written === undefined) throw Object.assign(new Error('no such policy'), { name: 'NoSuchEntity', $metadata: { httpStatusCode: 404 } });
      return { PolicyDocument: encodeURIComponent(written) };
    });
  });

  it("adds the grant to the access role's deny policy and is verified when no session of it is active", async () => {
    ssm.on(DescribeSessionsCommand).resolves({ Sessions: [] });

    expect(await provider.revoke(request, configured(), grant)).toEqual({ removed: true, verified: true });
    expect(iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'SsmAccess', PolicyName: 'jit-deny', PolicyDocument: roleDenyDocument(new Map([[Date.parse('2026-11-22T12:00:00.000Z'), new Set([denyEntry('jit-7k3m9q2xab')])]])) },
    ]);
    expect(ssm).toHaveReceivedCommandWith(DescribeSessionsCommand, { State: 'Active', Filters: [{ key: 'Owner', value: ASSUMED_ARN }] });
  });

  it('is not verified while a session is still active', async () => {
    ssm.on(DescribeSessionsCommand).resolves({ Sessions: [{ SessionId: `${NAME}-0a1`, Target: NODE_A, Status: 'Terminating' }] });
    expect(await provider.revoke(request, configured(), grant)).toEqual({ removed: true, verified: false });
  });

  it('is not verified when the sessions cannot be listed', async () => {
    ssm.on(DescribeSessionsCommand).rejects(awsError('ThrottlingException', 400));
    expect(await provider.revoke(request, configured(), grant)).toEqual({ removed: true, verified: false });
  });
});

describe('cleanup', () => {
  it('cleans up the deny policies of the ssm targets’ access roles', async () => {
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    const role: Target = { name: 'ro', kind: 'aws-role', roleArn: 'arn:aws:iam::123456789012:role/ReadOnly', minDurationMs: 0, maxDurationMs: 1, tags: {}, policy: testPolicy() };
    iam.on(DeleteRolePolicyCommand).resolves({});

    expect(await provider.cleanup([target, role], clock.now())).toEqual([]);
    expect(iam.commandCalls(ListRolePoliciesCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'SsmAccess', Marker: undefined }]);
  });
});

describe('nodes selected by tags (500 of them)', () => {
  const fleet = Array.from({ length: 500 }, (_, i) => `i-0${String(i).padStart(16, '0')}`);
  const byTag: SsmSessionTarget = { ...target, instanceIds: [NODE_A], nodeTags: { ENV: 'dev', team: 'payments' } };
  const pages = () => {
    // Systems Manager answers 50 a page: the listed node, then the tagged fleet across ten pages.
    ssm.on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'InstanceIds', Values: [NODE_A] }] }).resolves({ InstanceInformationList: [node(NODE_A)] });
    const tagged = ssm.on(DescribeInstanceInformationCommand, { Filters: [{ Key: 'tag:ENV', Values: ['dev'] }, { Key: 'tag:team', Values: ['payments'] }] });
    for (let p = 0; p < 10; p++) tagged.resolvesOnce({ InstanceInformationList: fleet.slice(p * 50, p * 50 + 50).map((id) => node(id)), ...(p < 9 ? { NextToken: `p${p + 1}` } : {}) });
  };

  it('the session policy names the listed node and reaches the tagged ones by a tag condition: small, whatever the fleet', async () => {
    pages();
    const result = await provider.grant(request, byTag, new Date('2026-11-22T11:00:00.000Z'), ctx);
    const policy = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.Policy!;
    expect(policy.length).toBeLessThan(1_200);
    expect(JSON.parse(policy).Statement[1]).toEqual({
      Effect: 'Allow',
      Action: 'ssm:StartSession',
      Resource: ['arn:aws:ec2:eu-west-1:123456789012:instance/*', 'arn:aws:ssm:eu-west-1:123456789012:managed-instance/*'],
      Condition: { StringEquals: { 'ssm:resourceTag/ENV': 'dev', 'ssm:resourceTag/team': 'payments' } },
    });
    expect(JSON.parse(policy).Statement[0].Resource).toEqual([`arn:aws:ec2:eu-west-1:123456789012:instance/${NODE_A}`, 'arn:aws:ssm:eu-west-1:123456789012:document/SSM-SessionManagerRunShell']);
    expect(result).toMatchObject({ instanceIds: [NODE_A], nodeTags: { ENV: 'dev', team: 'payments' }, sampleNodes: fleet.slice(0, 10) });
    // Reissued credentials carry the same policy, from the grant alone.
    await provider.issueCredentials(request, configured(), result, new Date('2026-11-22T10:45:00.000Z'));
    expect(sts.commandCalls(AssumeRoleCommand)[1]!.args[0].input.Policy).toBe(policy);
  });

  it('a document other than the shell keeps the document check on the tagged nodes too', () => {
    const policy = JSON.parse(ssmSessionPolicy({ region: 'eu-west-1', roleArn: ROLE_ARN, instanceIds: [], nodeTags: { ENV: 'dev' }, documentName: 'AWS-StartPortForwardingSession', roleSessionName: NAME }));
    expect(policy.Statement[1].Condition).toEqual({ StringEquals: { 'ssm:resourceTag/ENV': 'dev' }, BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' } });
  });

  it('at the end, the sessions of the grant on every node are ended, including nodes tagged since the grant', async () => {
    const tagGrant: SsmGrant = { ...grant, instanceIds: [NODE_A], nodeTags: { ENV: 'dev' }, sampleNodes: fleet.slice(0, 10) };
    const sessions = [...fleet.slice(0, 300).map((id, i) => ({ SessionId: `${NAME}-${i}`, Target: id, Owner: ASSUMED_ARN })), { SessionId: `${NAME}-late`, Target: 'i-0ddddddddddddddd9', Owner: ASSUMED_ARN }];
    ssm.on(DescribeSessionsCommand).resolves({ Sessions: sessions });
    ssm.on(TerminateSessionCommand).resolves({});
    const ended = await provider.endSessions(request, configured(), tagGrant);
    expect(ended).toHaveLength(301);
    expect(ssm.commandCalls(TerminateSessionCommand)).toHaveLength(301);
  });
});
