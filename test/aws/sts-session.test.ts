import {
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, PackedPolicyTooLargeException, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  clampDuration,
  deniedUntil,
  denyEntry,
  denyPolicyDocument,
  ROLE_DENY_POLICY,
  roleDenyDocument,
  isOwnDeny,
  denyPolicyName,
  denyUntil,
  roleSessionName,
  sanitizeSourceIdentity,
  StsSessions,
  validateSessionPolicy,
  type AssumeInput,
} from '../../src/aws/sts-session';
import { GrantError, ValidationError } from '../../src/domain/errors';
import type { StsSession } from '../../src/domain/types';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const clock = { t: new Date('2026-11-22T10:00:00.000Z'), now: () => clock.t };
const stsFor = jest.fn((region: string) => new STSClient({ region }));
let sessions: StsSessions;

const ROLE_ARN = 'arn:aws:iam::123456789012:role/ops/ReadOnly';
const ROLE_ID = 'AROAEXAMPLEROLEID01';
const NAME = 'alice.jit-7k3m9q2xab';
const USERID = `${ROLE_ID}:${NAME}`;
const EXPIRATION = new Date('2026-11-22T11:00:00.000Z');

function awsError(name: string, httpStatusCode?: number, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode, attempts: 1 } });
}

function noSuchEntity(): NoSuchEntityException {
  return new NoSuchEntityException({ message: 'The role cannot be found.', $metadata: { httpStatusCode: 404 } });
}

async function rejection<T extends Error>(promise: Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

const assumeInput: AssumeInput = {
  region: 'eu-west-1',
  roleArn: ROLE_ARN,
  roleSessionName: NAME,
  sourceIdentity: 'alice@example.com',
  durationSeconds: 3_600,
};

function assumed(): object {
  return {
    Credentials: { AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: EXPIRATION },
    AssumedRoleUser: { Arn: `arn:aws:sts::123456789012:assumed-role/ReadOnly/${NAME}`, AssumedRoleId: USERID },
  };
}

beforeEach(() => {
  sts.reset();
  iam.reset();
  stsFor.mockClear();
  clock.t = new Date('2026-11-22T10:00:00.000Z');
  sessions = new StsSessions(stsFor, new IAMClient({ region: 'us-east-1' }), clock);
});

describe('roleSessionName', () => {
  it('is the email local part and the request id', () => {
    expect(roleSessionName('U0ALICE', 'alice@example.com', 'jit-7k3m9q2xab')).toBe('alice.jit-7k3m9q2xab');
  });

  it('uses the Slack user id when the source identity is not an email', () => {
    expect(roleSessionName('U0ALICE', 'U0ALICE', 'jit-7k3m9q2xab')).toBe('U0ALICE.jit-7k3m9q2xab');
  });

  it('replaces characters STS refuses', () => {
    expect(roleSessionName('U0ALICE', "o'brien+ops@example.com", 'jit-7k3m9q2xab')).toBe('o_brien+ops.jit-7k3m9q2xab');
  });

  it('shortens the human part of a long email to 64 characters and keeps the request id whole', () => {
    const name = roleSessionName('U0ALICE', `${'a'.repeat(80)}@example.com`, 'jit-7k3m9q2xab');
    expect(name).toHaveLength(64);
    expect(name).toBe(`${'a'.repeat(49)}.jit-7k3m9q2xab`);
    expect(name).toMatch(/^[\w+=,.@-]+$/);
  });

  it('is deterministic', () => {
    expect(roleSessionName('U0ALICE', 'alice@example.com', 'jit-abc')).toBe(roleSessionName('U0ALICE', 'alice@example.com', 'jit-abc'));
  });
});

describe('sanitizeSourceIdentity', () => {
  it('keeps an email STS accepts', () => {
    expect(sanitizeSourceIdentity('alice@example.com', 'U0ALICE')).toBe('alice@example.com');
  });

  it.each([
    ['too long', `${'a'.repeat(60)}@example.com`],
    ['a character STS refuses', "o'brien@example.com"],
    ['not ASCII', 'zoë@example.com'],
    ['too short', 'a'],
  ])('falls back to the Slack user id when the email is %s', (_why, email) => {
    expect(sanitizeSourceIdentity(email, 'U0ALICE')).toBe('U0ALICE');
  });
});

describe('clampDuration', () => {
  it('raises anything under 15 minutes to 900 s', () => {
    expect(clampDuration(5 * 60_000, 3_600)).toEqual({ seconds: 900, clamped: 'min' });
  });

  it("lowers anything over the role's maximum to it", () => {
    expect(clampDuration(2 * 3_600_000, 3_600)).toEqual({ seconds: 3_600, clamped: 'max' });
  });

  it('never exceeds STS’s 12 hours', () => {
    expect(clampDuration(20 * 3_600_000, 86_400)).toEqual({ seconds: 43_200, clamped: 'max' });
  });

  it('keeps a duration that fits', () => {
    expect(clampDuration(30 * 60_000, 3_600)).toEqual({ seconds: 1_800 });
  });
});

describe('validateSessionPolicy', () => {
  it('accepts an IAM policy', () => {
    expect(() => validateSessionPolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}')).not.toThrow();
  });

  it('refuses invalid JSON', () => {
    expect(() => validateSessionPolicy('{"Version":')).toThrow(ValidationError);
    expect(() => validateSessionPolicy('{"Version":')).toThrow(/not valid JSON/);
  });

  it('refuses JSON that is not a policy', () => {
    expect(() => validateSessionPolicy('[1,2]')).toThrow(/Version and Statement/);
    expect(() => validateSessionPolicy('{"Statement":[]}')).toThrow(/Version/);
  });

  it('refuses a policy over 2,048 characters once minified, saying how large it is', () => {
    const resources = Array.from({ length: 80 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`);
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] }, null, 2);
    const size = JSON.stringify(JSON.parse(policy)).length;
    expect(size).toBeGreaterThan(2_048);
    expect(() => validateSessionPolicy(policy)).toThrow(new RegExp(`is ${size} characters once minified; STS accepts at most 2048`));
  });

  it('measures the minified size, not the whitespace', () => {
    const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: Array.from({ length: 20 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) };
    expect(() => validateSessionPolicy(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }, null, 8))).not.toThrow();
  });
});

describe('deny policy', () => {
  it('denies everything to the session’s aws:userid, stamped with its end', () => {
    expect(denyPolicyName('jit-7k3m9q2xab')).toBe('jit-deny-jit-7k3m9q2xab');
    expect(JSON.parse(denyPolicyDocument(ROLE_ID, NAME, new Date('2026-11-22T22:00:00.000Z')))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'JitDenyUntil20261122T220000Z',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { StringLike: { 'aws:userid': USERID } },
        },
      ],
    });
  });

  it('rounds the end up to the second', () => {
    expect(denyPolicyDocument(ROLE_ID, NAME, new Date('2026-11-22T22:00:00.400Z'))).toContain('JitDenyUntil20261122T220001Z');
  });

  it('reads the end back from the Sid', () => {
    const until = new Date('2026-11-22T22:00:00.000Z');
    expect(denyUntil(denyPolicyDocument(ROLE_ID, NAME, until))).toEqual(until);
    expect(denyUntil('{"Version":"2012-10-17","Statement":{"Sid":"Other","Effect":"Deny"}}')).toBeUndefined();
    expect(denyUntil('not json')).toBeUndefined();
  });
});

describe('StsSessions.roleMaxSeconds', () => {
  it('reads MaxSessionDuration by role name (the last path segment) and caches it for 5 minutes', async () => {
    iam.on(GetRoleCommand).resolves({ Role: { MaxSessionDuration: 7_200 } as never });

    expect(await sessions.roleMaxSeconds(ROLE_ARN)).toBe(7_200);
    clock.t = new Date(clock.t.getTime() + 4 * 60_000);
    expect(await sessions.roleMaxSeconds(ROLE_ARN)).toBe(7_200);
    expect(iam).toHaveReceivedCommandTimes(GetRoleCommand, 1);
    expect(iam).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'ReadOnly' });

    clock.t = new Date(clock.t.getTime() + 2 * 60_000);
    await sessions.roleMaxSeconds(ROLE_ARN);
    expect(iam).toHaveReceivedCommandTimes(GetRoleCommand, 2);
  });

  it('says the role does not exist', async () => {
    iam.on(GetRoleCommand).rejects(noSuchEntity());
    const err = await rejection(sessions.roleMaxSeconds(ROLE_ARN), ValidationError);
    expect(err.message).toBe(`role ${ROLE_ARN} does not exist`);
  });
});

describe('StsSessions.assume', () => {
  it('sends exactly the session’s parameters, with the policy minified', async () => {
    sts.on(AssumeRoleCommand).resolves(assumed());
    const policy = '{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*" } ] }';

    const out = await sessions.assume({ ...assumeInput, policy, externalId: 'ext-1' });

    expect(stsFor).toHaveBeenCalledWith('eu-west-1');
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: ROLE_ARN,
      RoleSessionName: NAME,
      SourceIdentity: 'alice@example.com',
      DurationSeconds: 3_600,
      Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}',
      ExternalId: 'ext-1',
    });
    expect(out).toEqual({
      credentials: {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token',
        expiration: '2026-11-22T11:00:00.000Z',
        region: 'eu-west-1',
        assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/ReadOnly/${NAME}`,
      },
      assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/ReadOnly/${NAME}`,
      roleId: ROLE_ID,
    });
  });

  it('refuses a session policy STS would refuse, without calling STS', async () => {
    const err = await rejection(sessions.assume({ ...assumeInput, policy: '{"Version":"2012-10-17"' }), GrantError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/not valid JSON/);
    expect(sts).not.toHaveReceivedAnyCommand();
  });

  it('AccessDenied: a permanent failure naming the trust policy', async () => {
    sts.on(AssumeRoleCommand).rejects(awsError('AccessDenied', 403, 'User: arn:aws:sts::1:assumed-role/bot/x is not authorized to perform: sts:AssumeRole'));
    const err = await rejection(sessions.assume(assumeInput), GrantError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/trust policy must allow the bot's principal to sts:AssumeRole and sts:SetSourceIdentity/);
  });

  it('DurationSeconds over MaxSessionDuration: a permanent, clear failure', async () => {
    sts.on(AssumeRoleCommand).rejects(awsError('ValidationError', 400, 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.'));
    const err = await rejection(sessions.assume(assumeInput), GrantError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/3600 s failed: that exceeds the role's MaxSessionDuration/);
  });

  it('role chaining: says STS caps the session at 1 hour', async () => {
    sts.on(AssumeRoleCommand).rejects(awsError('ValidationError', 400, 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'));
    const err = await rejection(sessions.assume({ ...assumeInput, durationSeconds: 7_200 }), GrantError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/caps every session at 1 hour/);
  });

  it('PackedPolicyTooLarge: permanent', async () => {
    sts.on(AssumeRoleCommand).rejects(new PackedPolicyTooLargeException({ message: 'Packed policy consumes 104% of allotted space', $metadata: { httpStatusCode: 400 } }));
    const err = await rejection(sessions.assume(assumeInput), GrantError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/too large once packed/);
  });

  it.each([
    ['Throttling', 400],
    ['InternalFailure', 500],
    ['ECONNRESET', undefined],
  ])('%s: retryable', async (name, status) => {
    sts.on(AssumeRoleCommand).rejects(awsError(name, status));
    const err = await rejection(sessions.assume(assumeInput), GrantError);
    expect(err.retryable).toBe(true);
  });
});

/**
 * IAM's side of the role's inline policies, held in memory behind the SDK mock: Put, Get
 * (URL-encoded, as IAM returns it), Delete, List, and IAM's 10,240-character total per role
 * (LimitExceeded). Roles not in `roles` do not exist (NoSuchEntity).
 */
function inlinePolicies(roles = ['ReadOnly']) {
  const policies = new Map<string, Map<string, string>>(roles.map((r) => [r, new Map()]));
  const role = (RoleName: string) => {
    const found = policies.get(RoleName);
    if (!found) throw noSuchEntity();
    return found;
  };
  iam.on(GetRoleCommand).callsFake((input: { RoleName: string }) => (role(input.RoleName), { Role: { RoleName: input.RoleName, MaxSessionDuration: 3_600 } }));
  iam.on(PutRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string; PolicyDocument: string }) => {
    const r = role(input.RoleName);
    const total = [...r].filter(([n]) => n !== input.PolicyName).reduce((n, [, d]) => n + d.replace(/\s/g, '').length, 0) + input.PolicyDocument.replace(/\s/g, '').length;
    if (total > 10_240) throw Object.assign(new Error('Maximum policy size of 10240 bytes exceeded for role'), { name: 'LimitExceeded', $metadata: { httpStatusCode: 409 } });
    r.set(input.PolicyName, input.PolicyDocument);
    return {};
  });
  iam.on(GetRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string }) => {
    const d = role(input.RoleName).get(input.PolicyName);
    if (d === undefined) throw noSuchEntity();
    return { RoleName: input.RoleName, PolicyName: input.PolicyName, PolicyDocument: encodeURIComponent(d) };
  });
  iam.on(DeleteRolePolicyCommand).callsFake((input: { RoleName: string; PolicyName: string }) => {
    if (!role(input.RoleName).delete(input.PolicyName)) throw noSuchEntity();
    return {};
  });
  iam.on(ListRolePoliciesCommand).callsFake((input: { RoleName: string }) => ({ PolicyNames: [...role(input.RoleName).keys()], IsTruncated: false }));
  return { of: (r: string) => policies.get(r)! };
}

describe('StsSessions.denySession: one deny policy per role', () => {
  const until = new Date('2026-11-22T22:00:00.000Z');

  it('adds the grant to jit-deny (a Deny of everything for aws:userid "*.<request id>"), bucketed by its end, and reads it back', async () => {
    const roles = inlinePolicies();
    expect(await sessions.denySession(ROLE_ARN, 'jit-7k3m9q2xab', until)).toEqual({ removed: true, verified: true });
    expect(JSON.parse(roles.of('ReadOnly').get(ROLE_DENY_POLICY)!)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'JitDenyUntil20261123T000000Z', Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringLike: { 'aws:userid': ['*.jit-7k3m9q2xab'] } } }],
    });
    // The pattern matches every credential of the grant (aws:userid "<role id>:<human>.<request id>"), and no other grant's.
    const matches = (pattern: string, userid: string) => new RegExp(`^${pattern.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`).test(userid);
    expect(matches(denyEntry('jit-7k3m9q2xab'), USERID)).toBe(true);
    expect(matches(denyEntry('jit-7k3m9q2xab'), `${ROLE_ID}:bob.jit-7k3m9q2xac`)).toBe(false);
    // A second grant joins the same statement; a grant ending later opens the next bucket.
    await sessions.denySession(ROLE_ARN, 'jit-0000000002', until);
    await sessions.denySession(ROLE_ARN, 'jit-0000000003', new Date('2026-11-23T01:00:00.000Z'));
    const statements = (JSON.parse(roles.of('ReadOnly').get(ROLE_DENY_POLICY)!) as { Statement: Array<{ Sid: string; Condition: { StringLike: { 'aws:userid': string[] } } }> }).Statement;
    expect(statements.map((st) => [st.Sid, st.Condition.StringLike['aws:userid']])).toEqual([
      ['JitDenyUntil20261123T000000Z', ['*.jit-0000000002', '*.jit-7k3m9q2xab']],
      ['JitDenyUntil20261123T060000Z', ['*.jit-0000000003']],
    ]);
    expect([...roles.of('ReadOnly').keys()]).toEqual([ROLE_DENY_POLICY]);
  });

  it('drops the buckets that have passed when it writes', async () => {
    const roles = inlinePolicies();
    await sessions.denySession(ROLE_ARN, 'jit-0000000001', new Date('2026-11-22T11:00:00.000Z'));
    clock.t = new Date('2026-11-22T12:00:01.000Z');
    await sessions.denySession(ROLE_ARN, 'jit-0000000002', new Date('2026-11-22T13:00:00.000Z'));
    expect(roles.of('ReadOnly').get(ROLE_DENY_POLICY)).not.toContain('jit-0000000001');
    expect(roles.of('ReadOnly').get(ROLE_DENY_POLICY)).toContain('jit-0000000002');
  });

  it('is not verified when the read-back does not deny the grant, or fails', async () => {
    iam.on(GetRoleCommand).resolves({ Role: { MaxSessionDuration: 3_600 } as never });
    iam.on(PutRolePolicyCommand).resolves({});
    iam
      .on(GetRolePolicyCommand)
      .rejectsOnce(noSuchEntity())
      .resolvesOnce({ PolicyDocument: encodeURIComponent(roleDenyDocument(new Map([[Date.parse('2026-11-23T00:00:00.000Z'), new Set(['*.jit-other'])]]))) })
      .rejects(awsError('Throttling', 400));
    expect(await sessions.denySession(ROLE_ARN, 'jit-7k3m9q2xab', until)).toEqual({ removed: true, verified: false });
  });

  it('a role that no longer exists counts as denied', async () => {
    inlinePolicies([]);
    expect(await sessions.denySession(ROLE_ARN, 'jit-7k3m9q2xab', until)).toEqual({ removed: false, verified: true });
  });

  it('throws a retryable GrantError when IAM throttles, a permanent one when the bot may not write the policy', async () => {
    inlinePolicies();
    iam.on(PutRolePolicyCommand).rejectsOnce(awsError('Throttling', 400)).rejects(awsError('AccessDenied', 403));
    expect((await rejection(sessions.denySession(ROLE_ARN, 'jit-1', until), GrantError)).retryable).toBe(true);
    const denied = await rejection(sessions.denySession(ROLE_ARN, 'jit-1', until), GrantError);
    expect(denied.retryable).toBe(false);
    expect(denied.message).toMatch(/iam:PutRolePolicy/);
  });

  it('grants ending on one role at once share writes: 200 revokes, a handful of read-modify-writes, each verified', async () => {
    const roles = inlinePolicies();
    const ids = Array.from({ length: 200 }, (_, i) => `jit-b${i.toString(36).padStart(9, '0')}`);
    const results = await Promise.all(ids.map((id) => sessions.denySession(ROLE_ARN, id, until)));
    expect(results.every((r) => r.removed && r.verified)).toBe(true);
    expect(iam.commandCalls(PutRolePolicyCommand).length).toBeLessThanOrEqual(3);
    for (const id of ids) expect(deniedUntil(roles.of('ReadOnly').get(ROLE_DENY_POLICY), denyEntry(id))).toEqual(new Date('2026-11-23T00:00:00.000Z'));
  });

  it('500 early revokes on one role within one maximum session, from two replicas at once: all verified, within IAM\'s limit', async () => {
    const roles = inlinePolicies();
    // The store's lease, shared by both replicas (one holder at a time).
    let holder: string | undefined;
    const lease = (owner: string) => ({
      take: async () => (holder === undefined || holder === owner ? ((holder = owner), true) : false),
      release: async () => void (holder === owner && (holder = undefined)),
    });
    const replicas = ['a', 'b'].map((owner) => new StsSessions(stsFor, new IAMClient({ region: 'us-east-1' }), clock, undefined, lease(owner)));
    const ids = Array.from({ length: 500 }, (_, i) => `jit-${i.toString(36).padStart(10, '0')}`);
    const results = await Promise.all(
      ids.map(async (id, i) => {
        // Spread over the role's 12-hour maximum: each deny lasts 12 hours from its revoke.
        const end = new Date(clock.t.getTime() + (i % 12) * 3_600_000 + 12 * 3_600_000);
        for (;;) {
          try {
            return await replicas[i % 2]!.denySession(ROLE_ARN, id, end);
          } catch (err) {
            if (!(err as GrantError).retryable) throw err;
            await new Promise((r) => setImmediate(r));
          }
        }
      }),
    );
    expect(results.every((r) => r.removed && r.verified)).toBe(true);
    const document = roles.of('ReadOnly').get(ROLE_DENY_POLICY)!;
    expect(document.replace(/\s/g, '').length).toBeLessThanOrEqual(10_240);
    for (const id of ids) expect(deniedUntil(document, denyEntry(id))).toBeDefined();
    expect((JSON.parse(document) as { Statement: unknown[] }).Statement.length).toBeLessThanOrEqual(4);
  });
});

describe('StsSessions.deny', () => {
  const session: StsSession = {
    region: 'eu-west-1',
    roleArn: ROLE_ARN,
    roleId: ROLE_ID,
    roleSessionName: NAME,
    sourceIdentity: 'alice@example.com',
    assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/ReadOnly/${NAME}`,
    durationSeconds: 1_800,
  };

  it("denies until now + the role's maximum session (in the bucket that covers it)", async () => {
    const roles = inlinePolicies();
    iam.on(GetRoleCommand).resolves({ Role: { MaxSessionDuration: 7_200 } as never });
    expect(await sessions.deny('jit-7k3m9q2xab', session)).toEqual({ removed: true, verified: true });
    expect(deniedUntil(roles.of('ReadOnly').get(ROLE_DENY_POLICY), denyEntry('jit-7k3m9q2xab'))).toEqual(new Date('2026-11-22T12:00:00.000Z'));
  });

  it('denies for 12 hours when the maximum cannot be read', async () => {
    const roles = inlinePolicies();
    iam.on(GetRoleCommand, { RoleName: 'ReadOnly' }).rejectsOnce(awsError('Throttling', 400));
    await sessions.deny('jit-7k3m9q2xab', session);
    expect(deniedUntil(roles.of('ReadOnly').get(ROLE_DENY_POLICY), denyEntry('jit-7k3m9q2xab'))).toEqual(new Date('2026-11-23T00:00:00.000Z'));
  });
});

describe('StsSessions.cleanupDenies', () => {
  const now = new Date('2026-11-22T12:00:00.000Z');
  const doc = (until: string) => encodeURIComponent(denyPolicyDocument(ROLE_ID, NAME, new Date(until)));

  it('deletes only the jit-deny-* policies whose end has passed, across pages', async () => {
    iam
      .on(ListRolePoliciesCommand, { RoleName: 'ReadOnly', Marker: undefined })
      .resolves({ PolicyNames: ['jit-deny-jit-old', 'team-inline'], IsTruncated: true, Marker: 'm1' })
      .on(ListRolePoliciesCommand, { RoleName: 'ReadOnly', Marker: 'm1' })
      .resolves({ PolicyNames: ['jit-deny-jit-live', 'jit-deny-jit-odd'], IsTruncated: false });
    iam
      .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-old' })
      .resolves({ PolicyDocument: doc('2026-11-22T11:59:59.000Z') })
      .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-live' })
      .resolves({ PolicyDocument: doc('2026-11-22T12:30:00.000Z') })
      .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-odd' })
      .resolves({ PolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[{"Sid":"Handmade","Effect":"Deny","Action":"*","Resource":"*"}]}') });
    iam.on(DeleteRolePolicyCommand).resolves({});

    expect(await sessions.cleanupDenies(ROLE_ARN, now)).toEqual(['jit-deny-jit-old']);
    expect(iam).toHaveReceivedCommandTimes(DeleteRolePolicyCommand, 1);
    expect(iam).toHaveReceivedCommandWith(DeleteRolePolicyCommand, { RoleName: 'ReadOnly', PolicyName: 'jit-deny-jit-old' });
    expect(iam).not.toHaveReceivedCommandWith(GetRolePolicyCommand, { PolicyName: 'team-inline' });
  });

  it("drops the passed statements of the role's jit-deny policy, and deletes it once empty", async () => {
    const roles = inlinePolicies();
    clock.t = new Date('2026-11-22T05:00:00.000Z');
    await sessions.denySession(ROLE_ARN, 'jit-0000000001', new Date('2026-11-22T05:30:00.000Z')); // bucket 06:00
    await sessions.denySession(ROLE_ARN, 'jit-0000000002', new Date('2026-11-22T07:00:00.000Z')); // bucket 12:00
    expect(await sessions.cleanupDenies(ROLE_ARN, new Date('2026-11-22T08:00:00.000Z'))).toEqual(['jit-deny (1 expired entry)']);
    expect(roles.of('ReadOnly').get(ROLE_DENY_POLICY)).not.toContain('jit-0000000001');
    expect(roles.of('ReadOnly').get(ROLE_DENY_POLICY)).toContain('jit-0000000002');
    expect(await sessions.cleanupDenies(ROLE_ARN, new Date('2026-11-22T08:00:00.000Z'))).toEqual([]);
    expect(await sessions.cleanupRoles([{ roleArn: ROLE_ARN }], new Date('2026-11-22T12:00:01.000Z'))).toEqual([`deleted expired deny jit-deny (1 expired entry, now empty) from ${ROLE_ARN}`]);
    expect(roles.of('ReadOnly').has(ROLE_DENY_POLICY)).toBe(false);
  });

  it('a policy deleted meanwhile is fine', async () => {
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['jit-deny-jit-old'] });
    iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: doc('2026-11-22T11:00:00.000Z') });
    iam.on(DeleteRolePolicyCommand).rejects(noSuchEntity());
    expect(await sessions.cleanupDenies(ROLE_ARN, now)).toEqual([]);
  });

  describe('foreign inline policies on a managed role (the drift alert)', () => {
    const allowAll = encodeURIComponent('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}');
    const handmadeDeny = encodeURIComponent('{"Version":"2012-10-17","Statement":[{"Sid":"Handmade","Effect":"Deny","Action":"*","Resource":"*"}]}');
    // Our Sid and a Deny, but an Allow smuggled in next to it.
    const smuggled = encodeURIComponent(
      JSON.stringify({ Version: '2012-10-17', Statement: [...(JSON.parse(denyPolicyDocument(ROLE_ID, NAME, new Date('2026-11-22T11:00:00.000Z'))) as { Statement: unknown[] }).Statement, { Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
    );
    const line = (name: string) => `Inline policy ${name} on ${ROLE_ARN} is not one of this bot's deny policies: review it (left alone).`;

    beforeEach(() => {
      iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['team-inline', 'jit-deny-jit-evil', 'jit-deny-jit-odd', 'jit-deny-jit-old', 'jit-deny-jit-live'] });
      iam
        .on(GetRolePolicyCommand, { PolicyName: 'team-inline' })
        .resolves({ PolicyDocument: allowAll })
        .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-evil' })
        .resolves({ PolicyDocument: smuggled })
        .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-odd' })
        .resolves({ PolicyDocument: handmadeDeny })
        .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-old' })
        .resolves({ PolicyDocument: doc('2026-11-22T11:00:00.000Z') })
        .on(GetRolePolicyCommand, { PolicyName: 'jit-deny-jit-live' })
        .resolves({ PolicyDocument: doc('2026-11-22T12:30:00.000Z') });
      iam.on(DeleteRolePolicyCommand).resolves({});
    });

    it('reports every inline policy that is not our own deny (by name AND content), and deletes only our expired deny', async () => {
      expect(await sessions.cleanupRoles([{ roleArn: ROLE_ARN }], now)).toEqual([
        line('team-inline'),
        line('jit-deny-jit-evil'),
        line('jit-deny-jit-odd'),
        `deleted expired deny jit-deny-jit-old from ${ROLE_ARN}`,
      ]);
      expect(iam).toHaveReceivedCommandTimes(DeleteRolePolicyCommand, 1);
      expect(iam).toHaveReceivedCommandWith(DeleteRolePolicyCommand, { RoleName: 'ReadOnly', PolicyName: 'jit-deny-jit-old' });
      expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, 1);
    });

    it('reports a policy once, and again when its content changes', async () => {
      await sessions.cleanupRoles([{ roleArn: ROLE_ARN }], now);
      expect(await sessions.cleanupRoles([{ roleArn: ROLE_ARN }], now)).toEqual([`deleted expired deny jit-deny-jit-old from ${ROLE_ARN}`]);
      iam.on(GetRolePolicyCommand, { PolicyName: 'team-inline' }).resolves({ PolicyDocument: encodeURIComponent('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}') });
      expect(await sessions.cleanupRoles([{ roleArn: ROLE_ARN }], now)).toEqual([line('team-inline'), `deleted expired deny jit-deny-jit-old from ${ROLE_ARN}`]);
    });

    it('isOwnDeny: only our name and our Deny-only document', () => {
      const ours = denyPolicyDocument(ROLE_ID, NAME, new Date('2026-11-22T11:00:00.000Z'));
      expect(isOwnDeny('jit-deny-jit-1', ours)).toBe(true);
      expect(isOwnDeny('team-deny', ours)).toBe(false);
      expect(isOwnDeny('jit-deny-jit-1', decodeURIComponent(smuggled))).toBe(false);
      expect(isOwnDeny('jit-deny-jit-1', decodeURIComponent(handmadeDeny))).toBe(false);
      expect(isOwnDeny('jit-deny-jit-1', 'not json')).toBe(false);
    });
  });

  it('cleanupRoles tries every role and reports the failures together', async () => {
    const other = 'arn:aws:iam::123456789012:role/Admin';
    iam.on(ListRolePoliciesCommand, { RoleName: 'Admin' }).rejects(awsError('AccessDenied', 403));
    iam.on(ListRolePoliciesCommand, { RoleName: 'ReadOnly' }).resolves({ PolicyNames: ['jit-deny-jit-old'] });
    iam.on(GetRolePolicyCommand).resolves({ PolicyDocument: doc('2026-11-22T11:00:00.000Z') });
    iam.on(DeleteRolePolicyCommand).resolves({});

    const err = await rejection(sessions.cleanupRoles([{ roleArn: other }, { roleArn: ROLE_ARN }, { roleArn: other }], now), GrantError);
    expect(err.message).toMatch(/Listing the inline policies of arn:aws:iam::123456789012:role\/Admin failed/);
    expect(err.message).toMatch(/done: deleted expired deny jit-deny-jit-old from arn:aws:iam::123456789012:role\/ops\/ReadOnly/);
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, 2);
  });
});
