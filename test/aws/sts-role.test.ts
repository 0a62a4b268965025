import { DeleteRolePolicyCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { StsRoleProvider } from '../../src/aws/sts-role';
import { denyEntry, denyPolicyDocument, roleDenyDocument, StsSessions } from '../../src/aws/sts-session';
import { GrantError, ValidationError } from '../../src/domain/errors';
import type { AwsRoleTarget, RoleGrant, Target } from '../../src/domain/types';
import { ec2Target, pendingRequest, testPolicy } from '../support/requests';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const clock = { t: new Date('2026-11-22T10:00:00.000Z'), now: () => clock.t };

const ROLE_ARN = 'arn:aws:iam::123456789012:role/ReadOnly';
const ROLE_ID = 'AROAEXAMPLEROLEID01';
const POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}';
const target: AwsRoleTarget = {
  name: 'prod-readonly',
  kind: 'aws-role',
  roleArn: ROLE_ARN,
  sessionPolicy: POLICY,
  externalId: 'jit-ext',
  minDurationMs: 15 * 60_000,
  maxDurationMs: 12 * 3_600_000,
  tags: {},
  policy: testPolicy(),
};
let targets: Target[];
let provider: StsRoleProvider;

const request = pendingRequest({ id: 'jit-7k3m9q2xab', kind: 'aws-role', targetName: 'prod-readonly', requesterId: 'U0ALICE', status: 'GRANTING', durationMs: 30 * 60_000 });
/** The request's target as configured now (what the service passes). */
const configured = (): Target | undefined => targets.find((t) => t.name === request.targetName);
const ctx = { sourceIdentity: 'alice@example.com' };
const NAME = 'alice.jit-7k3m9q2xab';
const ASSUMED_ARN = `arn:aws:sts::123456789012:assumed-role/ReadOnly/${NAME}`;

function assumedAs(name: string): object {
  return {
    Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date('2026-11-22T11:00:00.000Z') },
    AssumedRoleUser: { Arn: `arn:aws:sts::123456789012:assumed-role/ReadOnly/${name}`, AssumedRoleId: `${ROLE_ID}:${name}` },
  };
}

function roleMax(seconds: number): void {
  iam.on(GetRoleCommand).resolves({ Role: { MaxSessionDuration: seconds } as never });
}

function assumeInputs(): unknown[] {
  return sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
}

const grant: RoleGrant = {
  kind: 'aws-role',
  region: 'eu-west-1',
  roleArn: ROLE_ARN,
  roleId: ROLE_ID,
  roleSessionName: NAME,
  sourceIdentity: 'alice@example.com',
  assumedRoleArn: ASSUMED_ARN,
  durationSeconds: 1_800,
};

beforeEach(() => {
  sts.reset();
  iam.reset();
  clock.t = new Date('2026-11-22T10:00:00.000Z');
  targets = [target, ec2Target()];
  const sessions = new StsSessions((region) => new STSClient({ region }), new IAMClient({ region: 'us-east-1' }), clock);
  provider = new StsRoleProvider(sessions, { defaultRegion: 'eu-west-1' });
  sts.on(AssumeRoleCommand).callsFake((input: { RoleSessionName: string }) => assumedAs(input.RoleSessionName));
});

describe('checkRequest', () => {
  it('passes when the role exists', async () => {
    roleMax(3_600);
    await expect(provider.checkRequest(target)).resolves.toBeUndefined();
    expect(iam).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'ReadOnly' });
  });

  it('tells the requester when the role does not exist', async () => {
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'not found', $metadata: {} }));
    await expect(provider.checkRequest(target)).rejects.toThrow(new ValidationError('plain', { text: `role ${ROLE_ARN} does not exist` }));
  });
});

describe('grant', () => {
  it('assumes the role with the session name, source identity, duration, session policy and external id', async () => {
    roleMax(3_600);

    const result = await provider.grant(request, target, new Date('2026-11-22T10:30:00.000Z'), ctx);

    expect(assumeInputs()).toEqual([
      { RoleArn: ROLE_ARN, RoleSessionName: NAME, SourceIdentity: 'alice@example.com', DurationSeconds: 1_800, Policy: POLICY, ExternalId: 'jit-ext' },
    ]);
    expect(result).toEqual<RoleGrant>(grant);
  });

  it('keeps no credentials in the grant', async () => {
    roleMax(3_600);
    const result = await provider.grant(request, target, new Date(), ctx);
    expect(JSON.stringify(result)).not.toMatch(/ASIAEXAMPLE|secret|token/);
  });

  it('uses the Slack user id as name and source identity when the email does not fit', async () => {
    roleMax(3_600);
    const result = await provider.grant(request, target, new Date(), { sourceIdentity: `${'a'.repeat(70)}@example.com` });
    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input.SourceIdentity).toBe('U0ALICE');
    expect(input.RoleSessionName).toBe(`${'a'.repeat(49)}.jit-7k3m9q2xab`);
    expect(result.sourceIdentity).toBe('U0ALICE');
  });

  it('raises a duration under 15 minutes to 900 s and records it', async () => {
    roleMax(3_600);
    const result = await provider.grant({ ...request, durationMs: 5 * 60_000 }, target, new Date(), ctx);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.DurationSeconds).toBe(900);
    expect(result).toMatchObject({ durationSeconds: 900, clamped: 'min' });
  });

  it("lowers a duration over the role's maximum to it and records it", async () => {
    roleMax(3_600);
    const result = await provider.grant({ ...request, durationMs: 4 * 3_600_000 }, target, new Date(), ctx);
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.DurationSeconds).toBe(3_600);
    expect(result).toMatchObject({ durationSeconds: 3_600, clamped: 'max' });
  });

  it('assumes in the target’s region and without Policy when there is no session policy', async () => {
    roleMax(3_600);
    const stsFor = jest.fn((region: string) => new STSClient({ region }));
    const own = new StsRoleProvider(new StsSessions(stsFor, new IAMClient({}), clock), { defaultRegion: 'eu-west-1' });
    const result = await own.grant(request, { ...target, region: 'us-east-2', sessionPolicy: undefined, externalId: undefined }, new Date(), ctx);
    expect(stsFor).toHaveBeenCalledWith('us-east-2');
    expect(result.region).toBe('us-east-2');
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.Policy).toBeUndefined();
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input.ExternalId).toBeUndefined();
  });

  it('AccessDenied is a permanent failure naming the trust policy', async () => {
    roleMax(3_600);
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    const err = await provider.grant(request, target, new Date(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrantError);
    expect(err).toMatchObject({ retryable: false, message: expect.stringMatching(/trust policy .* sts:AssumeRole and sts:SetSourceIdentity \(with the target's sts:ExternalId\)/) });
  });

  it('throttling is retryable', async () => {
    roleMax(3_600);
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await expect(provider.grant(request, target, new Date(), ctx)).rejects.toMatchObject({ retryable: true });
  });

  it('a role that is gone fails the grant for good', async () => {
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: 'not found', $metadata: {} }));
    const err = await provider.grant(request, target, new Date(), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrantError);
    expect(err).toMatchObject({ retryable: false, message: `role ${ROLE_ARN} does not exist` });
    expect(sts).not.toHaveReceivedAnyCommand();
  });
});

describe('issueCredentials', () => {
  it('assumes again under the same session, lasting until the grant ends', async () => {
    roleMax(3_600);
    const until = new Date('2026-11-22T10:40:00.000Z');

    const credentials = await provider.issueCredentials(request, configured(), grant, until);

    expect(assumeInputs()).toEqual([
      { RoleArn: ROLE_ARN, RoleSessionName: NAME, SourceIdentity: 'alice@example.com', DurationSeconds: 2_400, Policy: POLICY, ExternalId: 'jit-ext' },
    ]);
    expect(credentials).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: '2026-11-22T11:00:00.000Z',
      region: 'eu-west-1',
      assumedRoleArn: ASSUMED_ARN,
    });
  });

  it("lasts at least 15 minutes and at most the role's maximum", async () => {
    roleMax(3_600);
    await provider.issueCredentials(request, configured(), grant, new Date('2026-11-22T10:05:00.000Z'));
    await provider.issueCredentials(request, configured(), grant, new Date('2026-11-22T15:00:00.000Z'));
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.DurationSeconds)).toEqual([900, 3_600]);
  });

  it('fails when the target is no longer configured', async () => {
    targets = [];
    await expect(provider.issueCredentials(request, configured(), grant, new Date('2026-11-22T10:40:00.000Z'))).rejects.toThrow(/no longer configured/);
  });
});

describe('revoke', () => {
  it("adds the grant to the role's deny policy until the role's maximum from now, and verifies it", async () => {
    roleMax(7_200);
    iam.on(PutRolePolicyCommand).resolves({});
    const document = roleDenyDocument(new Map([[Date.parse('2026-11-22T12:00:00.000Z'), new Set([denyEntry('jit-7k3m9q2xab')])]]));
    // No deny policy on the role yet; then the one written.
    iam.on(GetRolePolicyCommand).rejectsOnce(Object.assign(new Error('no such policy'), { name: 'NoSuchEntity', $metadata: { httpStatusCode: 404 } })).resolves({ PolicyDocument: encodeURIComponent(document) });

    expect(await provider.revoke(request, configured(), grant)).toEqual({ removed: true, verified: true });
    expect(iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)).toEqual([{ RoleName: 'ReadOnly', PolicyName: 'jit-deny', PolicyDocument: document }]);
    expect(JSON.parse(document).Statement[0].Condition).toEqual({ StringLike: { 'aws:userid': [`*.jit-7k3m9q2xab`] } });
  });
});

describe('cleanup', () => {
  it('cleans up the deny policies of each distinct aws-role role only', async () => {
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['jit-deny-jit-old'] });
    iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: encodeURIComponent(denyPolicyDocument(ROLE_ID, NAME, new Date('2026-11-22T09:00:00.000Z'))) });
    iam.on(DeleteRolePolicyCommand).resolves({});
    const ssm: Target = { name: 'dev-shell', kind: 'ssm-session', roleArn: 'arn:aws:iam::123456789012:role/SsmAccess', instanceIds: ['i-0123456789abcdef0'], nodeTags: {}, documentName: 'SSM-SessionManagerRunShell', minDurationMs: 0, maxDurationMs: 1, tags: {}, policy: testPolicy() };

    const lines = await provider.cleanup([target, { ...target, name: 'again' }, ssm, ec2Target()], clock.now());

    expect(lines).toEqual([`deleted expired deny jit-deny-jit-old from ${ROLE_ARN}`]);
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, 1);
    expect(iam).toHaveReceivedCommandWith(ListRolePoliciesCommand, { RoleName: 'ReadOnly' });
  });

  it('reports an inline policy on the role that is not the bot’s own deny as a drift line, and leaves it', async () => {
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['backdoor'] });
    iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}') });

    expect(await provider.cleanup([target], clock.now())).toEqual([`Inline policy backdoor on ${ROLE_ARN} is not one of this bot's deny policies: review it (left alone).`]);
    expect(iam).toHaveReceivedCommandTimes(DeleteRolePolicyCommand, 0);
  });
});
