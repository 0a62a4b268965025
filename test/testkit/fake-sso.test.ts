/** The IAM Identity Center stand-in (SSO Admin + Identity Store), driven only through the real SDK clients over HTTP. */
import {
  GetUserIdCommand,
  DescribeUserCommand,
  IdentitystoreClient,
  ResourceNotFoundException as IdentityStoreNotFound,
} from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  InternalServerException,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ResourceNotFoundException,
  SSOAdminClient,
  SSOAdminServiceException,
  ThrottlingException,
} from '@aws-sdk/client-sso-admin';
import { type FakeAssignment, type FakeSso, startFakeSso } from '../../testkit/fake-sso';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-0000000000000001';
const PS = 'arn:aws:sso:::permissionSet/ssoins-0000000000000001/ps-00000000000000a1';
const STORE = 'd-0000000001';
const ACCOUNT = '123456789012';

let fake: FakeSso;
let sso: SSOAdminClient;
let ids: IdentitystoreClient;

beforeAll(async () => {
  fake = await startFakeSso();
  // No SDK retries: every answer of the stand-in is seen as it is.
  const config = { region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 };
  sso = new SSOAdminClient(config);
  ids = new IdentitystoreClient(config);
});

beforeEach(() => {
  fake.reset();
  fake.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: PS, name: 'ReadOnly', sessionDuration: 'PT2H' });
});

afterAll(async () => {
  sso.destroy();
  ids.destroy();
  await fake.close();
});

const assignment = (principalId: string): FakeAssignment => ({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId });

const create = (principalId: string) =>
  sso.send(
    new CreateAccountAssignmentCommand({ InstanceArn: INSTANCE, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: principalId }),
  );
const remove = (principalId: string) =>
  sso.send(
    new DeleteAccountAssignmentCommand({ InstanceArn: INSTANCE, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: principalId }),
  );
const creationStatus = async (requestId: string) =>
  (await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: requestId }))).AccountAssignmentCreationStatus!;
const deletionStatus = async (requestId: string) =>
  (await sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentDeletionRequestId: requestId }))).AccountAssignmentDeletionStatus!;
const listed = async (maxResults?: number, nextToken?: string) =>
  sso.send(new ListAccountAssignmentsCommand({ InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PS, MaxResults: maxResults, NextToken: nextToken }));
const principals = async () => ((await listed()).AccountAssignments ?? []).map((a) => a.PrincipalId);

/** The rejection of a call (fails the test when it resolves). */
async function rejection(call: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await call;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('Identity Store', () => {
  it('finds a user by email, case-insensitively, and by user name; describes the user', async () => {
    const userId = fake.addUser({ identityStoreId: STORE, userName: 'alice', email: 'Alice@Example.com', displayName: 'Alice A' });
    const byEmail = await ids.send(
      new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.COM' } } }),
    );
    expect(byEmail).toMatchObject({ IdentityStoreId: STORE, UserId: userId });
    const byName = await ids.send(new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }));
    expect(byName.UserId).toBe(userId);
    const user = await ids.send(new DescribeUserCommand({ IdentityStoreId: STORE, UserId: userId }));
    expect(user).toMatchObject({ UserName: 'alice', DisplayName: 'Alice A', Emails: [{ Value: 'Alice@Example.com', Primary: true }] });
    expect(fake.calls.map((c) => `${c.service} ${c.operation}`)).toEqual(['identitystore GetUserId', 'identitystore GetUserId', 'identitystore DescribeUser']);
  });

  it('an unknown email (or another store) surfaces as the SDK ResourceNotFoundException', async () => {
    fake.addUser({ identityStoreId: STORE, userName: 'alice', email: 'alice@example.com', userId: 'u-1' });
    const lookup = (store: string, email: string) =>
      ids.send(new GetUserIdCommand({ IdentityStoreId: store, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: email } } }));
    for (const err of [await rejection(lookup(STORE, 'bob@example.com')), await rejection(lookup('d-0000000002', 'alice@example.com'))]) {
      expect(err).toBeInstanceOf(IdentityStoreNotFound);
      expect(err.name).toBe('ResourceNotFoundException');
      expect((err as IdentityStoreNotFound).ResourceType).toBe('USER');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
  });
});

describe('account assignments', () => {
  it('create: IN_PROGRESS, then SUCCEEDED on the second describe, and only then listed', async () => {
    const { AccountAssignmentCreationStatus: started } = await create('u-1');
    expect(started).toMatchObject({ Status: 'IN_PROGRESS', TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: 'u-1' });
    expect(started!.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(started!.CreatedDate).toBeInstanceOf(Date);
    expect(await principals()).toEqual([]);

    expect((await creationStatus(started!.RequestId!)).Status).toBe('IN_PROGRESS');
    expect(await principals()).toEqual([]);
    const done = await creationStatus(started!.RequestId!);
    expect(done).toMatchObject({ Status: 'SUCCEEDED', RequestId: started!.RequestId, PrincipalId: 'u-1' });
    expect(done.FailureReason).toBeUndefined();
    expect((await listed()).AccountAssignments).toEqual([{ AccountId: ACCOUNT, PermissionSetArn: PS, PrincipalType: 'USER', PrincipalId: 'u-1' }]);
    expect(fake.assignments()).toEqual([assignment('u-1')]);
    expect((await creationStatus(started!.RequestId!)).Status).toBe('SUCCEEDED'); // stays final
  });

  it('setProvisioningPolls: n IN_PROGRESS answers first; 0 takes effect at once', async () => {
    fake.setProvisioningPolls(3);
    const id = (await create('u-1')).AccountAssignmentCreationStatus!.RequestId!;
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await creationStatus(id)).Status);
    expect(seen).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);

    fake.setProvisioningPolls(0);
    const now = await create('u-2');
    expect(now.AccountAssignmentCreationStatus!.Status).toBe('IN_PROGRESS'); // AWS always answers IN_PROGRESS
    expect(await principals()).toEqual(['u-1', 'u-2']);
    expect((await creationStatus(now.AccountAssignmentCreationStatus!.RequestId!)).Status).toBe('SUCCEEDED');
  });

  it('delete: IN_PROGRESS, then SUCCEEDED and gone; deleting a missing one succeeds too', async () => {
    fake.seedAssignment(assignment('u-1'));
    expect(await principals()).toEqual(['u-1']);
    const { AccountAssignmentDeletionStatus: started } = await remove('u-1');
    expect(started).toMatchObject({ Status: 'IN_PROGRESS', PrincipalId: 'u-1' });
    expect((await deletionStatus(started!.RequestId!)).Status).toBe('IN_PROGRESS');
    expect(await principals()).toEqual(['u-1']);
    expect((await deletionStatus(started!.RequestId!)).Status).toBe('SUCCEEDED');
    expect(await principals()).toEqual([]);

    fake.setProvisioningPolls(0);
    const missing = (await remove('u-9')).AccountAssignmentDeletionStatus!.RequestId!;
    expect((await deletionStatus(missing)).Status).toBe('SUCCEEDED');
  });

  it('creating an assignment that exists succeeds without a duplicate', async () => {
    fake.seedAssignment(assignment('u-1'));
    fake.setProvisioningPolls(0);
    const id = (await create('u-1')).AccountAssignmentCreationStatus!.RequestId!;
    expect((await creationStatus(id)).Status).toBe('SUCCEEDED');
    expect(fake.assignments()).toEqual([assignment('u-1')]);
  });

  it('unknown permission set, unknown or other-kind RequestId: ResourceNotFoundException', async () => {
    const err = await rejection(
      sso.send(
        new CreateAccountAssignmentCommand({ InstanceArn: INSTANCE, TargetId: ACCOUNT, TargetType: 'AWS_ACCOUNT', PermissionSetArn: `${PS}x`, PrincipalType: 'USER', PrincipalId: 'u-1' }),
      ),
    );
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err.message).toContain(`${PS}x`);
    expect(await rejection(creationStatus('00000000-0000-0000-0000-000000000000'))).toBeInstanceOf(ResourceNotFoundException);
    const creation = (await create('u-1')).AccountAssignmentCreationStatus!.RequestId!;
    expect(await rejection(deletionStatus(creation))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('ListAccountAssignments pages with MaxResults and NextToken, filtered by account and permission set', async () => {
    for (let i = 1; i <= 5; i++) fake.seedAssignment(assignment(`u-${i}`));
    fake.seedAssignment({ ...assignment('other-account'), accountId: '210987654321' });
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await listed(2, token);
      pages.push((page.AccountAssignments ?? []).map((a) => a.PrincipalId!));
      token = page.NextToken;
    } while (token);
    expect(pages).toEqual([['u-1', 'u-2'], ['u-3', 'u-4'], ['u-5']]);
    expect(fake.calls.filter((c) => c.operation === 'ListAccountAssignments').map((c) => c.input.MaxResults)).toEqual([2, 2, 2]);
    expect(await rejection(listed(2, 'not-a-token'))).toMatchObject({ name: 'ValidationException' });
  });

  it('DescribePermissionSet answers the session duration', async () => {
    const { PermissionSet } = await sso.send(new DescribePermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: PS }));
    expect(PermissionSet).toMatchObject({ Name: 'ReadOnly', PermissionSetArn: PS, SessionDuration: 'PT2H' });
    expect(PermissionSet!.CreatedDate).toBeInstanceOf(Date);
    fake.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: `${PS}2`, name: 'Default' });
    const defaulted = await sso.send(new DescribePermissionSetCommand({ InstanceArn: INSTANCE, PermissionSetArn: `${PS}2` }));
    expect(defaulted.PermissionSet!.SessionDuration).toBe('PT1H');
  });
});

describe('faults on demand', () => {
  it('failNext fails the next call of that operation only, with the SDK error class and status', async () => {
    fake.failNext('CreateAccountAssignment', 'ThrottlingException');
    fake.failNext('ListAccountAssignments', 'InternalServerException');
    const throttled = await rejection(create('u-1'));
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.$metadata?.httpStatusCode).toBe(400);
    const broken = await rejection(listed());
    expect(broken).toBeInstanceOf(InternalServerException);
    expect(broken.$metadata?.httpStatusCode).toBe(500);
    expect((await create('u-1')).AccountAssignmentCreationStatus!.Status).toBe('IN_PROGRESS');
    expect(await principals()).toEqual([]);
    expect(fake.calls.map((c) => c.operation)).toEqual(['CreateAccountAssignment', 'ListAccountAssignments', 'CreateAccountAssignment', 'ListAccountAssignments']);
    expect(fake.pendingRequests()).toHaveLength(1); // the failed create left nothing behind
  });

  it('failNext works for Identity Store operations too', async () => {
    fake.addUser({ identityStoreId: STORE, userName: 'alice', email: 'alice@example.com' });
    fake.failNext('GetUserId', 'ThrottlingException');
    const lookup = () => ids.send(new GetUserIdCommand({ IdentityStoreId: STORE, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'alice@example.com' } } }));
    expect(await rejection(lookup())).toMatchObject({ name: 'ThrottlingException' });
    expect((await lookup()).UserId).toBeDefined();
  });

  it('failNextProvisioning: the next creation ends FAILED with the reason and grants nothing; the one after succeeds', async () => {
    fake.setProvisioningPolls(0);
    fake.failNextProvisioning('creation', 'Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/Nope.');
    const failed = (await create('u-1')).AccountAssignmentCreationStatus!.RequestId!;
    expect(await creationStatus(failed)).toMatchObject({ Status: 'FAILED', FailureReason: 'Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/Nope.' });
    expect(fake.assignments()).toEqual([]);
    const ok = (await create('u-1')).AccountAssignmentCreationStatus!.RequestId!;
    expect((await creationStatus(ok)).Status).toBe('SUCCEEDED');
    expect(await principals()).toEqual(['u-1']);
  });

  it('failNextProvisioning: a failed deletion leaves the assignment in place', async () => {
    fake.seedAssignment(assignment('u-1'));
    fake.failNextProvisioning('deletion', 'Internal failure');
    const id = (await remove('u-1')).AccountAssignmentDeletionStatus!.RequestId!;
    expect((await deletionStatus(id)).Status).toBe('IN_PROGRESS');
    expect(await deletionStatus(id)).toMatchObject({ Status: 'FAILED', FailureReason: 'Internal failure' });
    expect(await principals()).toEqual(['u-1']);
  });

  it('an operation it does not serve: HTTP 400 UnknownOperationException', async () => {
    const err = await rejection(sso.send(new ListInstancesCommand({})));
    expect(err).toBeInstanceOf(SSOAdminServiceException);
    expect(err.name).toBe('UnknownOperationException');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(fake.calls).toEqual([{ service: 'sso-admin', operation: 'ListInstances', input: {} }]);
  });
});
