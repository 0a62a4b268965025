/**
 * The real SsoPermissionSetProvider with real SSO Admin and Identity Store clients, over HTTP,
 * against the local Identity Center stand-in (testkit/fake-sso.ts), and a real rule registry (the
 * DynamoDB store on dynalite): assignments are created and deleted asynchronously, verified by a
 * read-back, never taken from standing access, shared between live grants, and a grant re-driven
 * after a crash between CreateAccountAssignment and its provisioning adopts what it started.
 */
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { DescribeAccountAssignmentCreationStatusCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { assignmentKey, SsoPermissionSetProvider, type SsoPermissionSetProviderOptions } from '../../src/aws/sso-permission-set';
import { GrantError } from '../../src/domain/errors';
import type { SsoGrant, SsoPermissionSetTarget } from '../../src/domain/types';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { startFakeSso, type FakeSso } from '../../testkit/fake-sso';
import { pendingRequest, testPolicy } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111222233334444';
const PS = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
const STORE_ID = 'd-1234567890';
const ACCOUNT = '210987654321';
const EXPIRES = new Date('2026-12-02T11:00:00.000Z');
const target: SsoPermissionSetTarget = {
  name: 'prod-admin',
  kind: 'sso-permission-set',
  instanceArn: INSTANCE,
  identityStoreId: STORE_ID,
  permissionSetArn: PS,
  accountIds: [ACCOUNT],
  accountsPerRequest: 1,
  portalUrl: 'https://d-1234567890.awsapps.com/start',
  endSessions: false,
  minDurationMs: 60_000,
  maxDurationMs: 3_600_000,
  tags: {},
  policy: testPolicy(),
};

const dynamo = useEmbeddedDynamo();
let fake: FakeSso;
let registry: DynamoRequestStore;
let admin: SSOAdminClient;
let ids: IdentitystoreClient;
let alice: string;
let table = 0;

const ssoRequest = (id: string) => pendingRequest({ id, kind: 'sso-permission-set', targetName: 'prod-admin', cidr: undefined, requesterId: 'U0ALICE' });
const ctx = { sourceIdentity: 'alice@example.com' };

function provider(o: Partial<SsoPermissionSetProviderOptions> = {}): SsoPermissionSetProvider {
  return new SsoPermissionSetProvider(() => admin, () => ids, { defaultRegion: 'eu-west-1', registry, pollIntervalMs: 0, ...o });
}

const keyOf = (accountId: string) => assignmentKey({ instanceArn: INSTANCE, permissionSetArn: PS, accountId, principalId: alice });
const operations = () => fake.calls.map((c) => c.operation);
const aliceAssigned = () => fake.assignments().filter((a) => a.principalId === alice && a.accountId === ACCOUNT && a.permissionSetArn === PS);

beforeEach(async () => {
  fake = await startFakeSso();
  const client = { region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
  admin = new SSOAdminClient(client);
  ids = new IdentitystoreClient(client);
  registry = await dynamo.newStore(`sso-${++table}`);
  alice = fake.addUser({ identityStoreId: STORE_ID, userName: 'alice', email: 'Alice@Example.com' });
  fake.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: PS, name: 'AdministratorAccess', sessionDuration: 'PT2H' });
  // Each create or delete is IN_PROGRESS at its first status read and done at the second.
  fake.setProvisioningPolls(1);
});

afterEach(async () => {
  admin.destroy();
  ids.destroy();
  await fake.close();
});

it('assigns the permission set to the user found by email, waits for provisioning, and deletes it again, verified', async () => {
  const p = provider();
  const request = ssoRequest('jit-sso0000001');
  const grant = await p.grant(request, target, EXPIRES, ctx);

  expect(grant).toEqual({ kind: 'sso-permission-set', region: 'eu-west-1', instanceArn: INSTANCE, permissionSetArn: PS, accountIds: [ACCOUNT], principalId: alice, email: 'alice@example.com', sessionDuration: 'PT2H' });
  expect(aliceAssigned()).toHaveLength(1);
  // Polled until SUCCEEDED (IN_PROGRESS, then SUCCEEDED), then read back.
  expect(operations().filter((o) => o === 'DescribeAccountAssignmentCreationStatus')).toHaveLength(2);
  expect(await registry.holders(keyOf(ACCOUNT))).toEqual([request.id]);

  expect(await p.revoke(request, target, grant)).toEqual({ removed: true, verified: true });
  expect(aliceAssigned()).toEqual([]);
  expect(operations().filter((o) => o === 'DescribeAccountAssignmentDeletionStatus')).toHaveLength(2);
  expect(await registry.holders(keyOf(ACCOUNT))).toEqual([]);
});

it('refuses standing access: an assignment the user already had is neither claimed nor ever deleted', async () => {
  fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: alice });
  const request = ssoRequest('jit-sso0000002');
  const err = await provider().grant(request, target, EXPIRES, ctx).catch((e: unknown) => e);

  expect(err).toBeInstanceOf(GrantError);
  expect(err).toMatchObject({ retryable: false, failureCode: 'sso-standing-access' });
  expect(operations()).not.toContain('CreateAccountAssignment');
  expect(aliceAssigned()).toHaveLength(1);
  expect(await registry.holders(keyOf(ACCOUNT))).toEqual([]);
});

it('refuses, with nothing assigned, when Slack gives no email or the Identity Store has no such user', async () => {
  for (const sourceIdentity of ['U0ALICE', 'nobody@example.com']) {
    const err = await provider().grant(ssoRequest(`jit-sso00000${sourceIdentity.length}`), target, EXPIRES, { sourceIdentity }).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, failureCode: 'sso-user-not-found' });
  }
  expect(operations()).not.toContain('CreateAccountAssignment');
  expect(fake.assignments()).toEqual([]);
});

it('a grant cut off between CreateAccountAssignment and its provisioning is adopted when re-driven, not taken for standing access', async () => {
  const request = ssoRequest('jit-sso0000004');
  // The first attempt stops polling before provisioning finished (as a crash or a restart would).
  const cut = await provider({ maxPolls: 0 }).grant(request, target, EXPIRES, ctx).catch((e: unknown) => e);
  expect(cut).toMatchObject({ retryable: true });
  const [pending] = fake.pendingRequests();
  expect(pending).toMatchObject({ kind: 'creation', assignment: { principalId: alice } });
  // Identity Center finishes provisioning meanwhile: the assignment exists before the re-drive.
  for (let i = 0; i < 2; i++) await admin.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: INSTANCE, AccountAssignmentCreationRequestId: pending!.requestId }));
  expect(aliceAssigned()).toHaveLength(1);

  // The re-drive finds its own claim (written before the create), so the assignment is its own,
  // not standing access: it is adopted, and deleted at the end.
  const grant = await provider().grant(request, target, EXPIRES, ctx);
  expect(grant.principalId).toBe(alice);
  expect(aliceAssigned()).toHaveLength(1);
  expect(await provider().revoke(request, target, grant)).toEqual({ removed: true, verified: true });
  expect(aliceAssigned()).toEqual([]);
});

it('two live grants of the same assignment share it: the first to end keeps it, the last deletes it', async () => {
  const p = provider();
  const a = ssoRequest('jit-sso0000005');
  const b = ssoRequest('jit-sso0000006');
  const ga = await p.grant(a, target, EXPIRES, ctx);
  const gb = await p.grant(b, target, EXPIRES, ctx);
  expect(aliceAssigned()).toHaveLength(1);

  expect(await p.revoke(a, target, ga)).toEqual({ removed: false, verified: true, holders: [b.id] });
  expect(aliceAssigned()).toHaveLength(1);
  expect(await p.revoke(b, target, gb)).toEqual({ removed: true, verified: true });
  expect(aliceAssigned()).toEqual([]);
});

it('a provisioning that FAILED is final and leaves no claim; a revoke re-driven after a crash still verifies', async () => {
  const p = provider();
  fake.failNextProvisioning('creation', 'The permission set is not provisioned to this account');
  const failed = ssoRequest('jit-sso0000007');
  const err = await p.grant(failed, target, EXPIRES, ctx).catch((e: unknown) => e);
  expect(err).toMatchObject({ retryable: false });
  expect(String((err as Error).message)).toContain('FAILED');
  expect(await registry.holders(keyOf(ACCOUNT))).toEqual([]);

  const request = ssoRequest('jit-sso0000008');
  const grant: SsoGrant = await p.grant(request, target, EXPIRES, ctx);
  // The first revoke is cut off after the deletion started; the re-driven one finishes and verifies.
  const cut = await provider({ maxPolls: 0 }).revoke(request, target, grant).catch((e: unknown) => e);
  expect(cut).toMatchObject({ retryable: true });
  expect(await p.revoke(request, target, grant)).toEqual({ removed: true, verified: true });
  expect(aliceAssigned()).toEqual([]);
});

describe('several accounts in one grant', () => {
  const OTHERS = ['311111111111', '422222222222'];
  const multi: SsoPermissionSetTarget = { ...target, name: 'all-prod', accountIds: [ACCOUNT, ...OTHERS], accountsPerRequest: 3 };
  const mine = () => fake.assignments().filter((a) => a.principalId === alice).map((a) => a.accountId).sort();

  it('assigns every account in parallel, each awaited and read back, and deletes them all at the end', async () => {
    const p = provider();
    const request = ssoRequest('jit-sso0000009');
    const grant = await p.grant(request, multi, EXPIRES, ctx);
    expect(grant.accountIds).toEqual([ACCOUNT, ...OTHERS]);
    expect(mine()).toEqual([ACCOUNT, ...OTHERS].sort());
    for (const id of multi.accountIds) expect(await registry.holders(keyOf(id))).toEqual([request.id]);
    expect(await p.revoke(request, multi, grant)).toEqual({ removed: true, verified: true });
    expect(mine()).toEqual([]);
  });

  it('standing access on some accounts is recorded and left alone; the others are granted and ended', async () => {
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: OTHERS[0]!, principalType: 'USER', principalId: alice });
    const p = provider();
    const request = ssoRequest('jit-sso0000010');
    const grant = await p.grant(request, multi, EXPIRES, ctx);
    expect(grant).toMatchObject({ accountIds: [ACCOUNT, OTHERS[1]], standing: [OTHERS[0]] });
    expect(await p.revoke(request, multi, grant)).toEqual({ removed: true, verified: true });
    // The standing assignment is still there.
    expect(mine()).toEqual([OTHERS[0]]);
  });

  it('a final failure on one account unassigns the ones already assigned for the request: nothing is half-granted', async () => {
    fake.failNextProvisioning('creation', 'The permission set cannot be provisioned in this account');
    const err = await provider().grant(ssoRequest('jit-sso0000011'), multi, EXPIRES, ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false });
    expect(mine()).toEqual([]);
    for (const id of multi.accountIds) expect(await registry.holders(keyOf(id))).toEqual([]);
  });

  it('while another account is still being created, a final failure on one is retried as a whole: nothing is deleted mid-creation, standing access is never touched', async () => {
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: OTHERS[1]!, principalType: 'USER', principalId: alice });
    // The first create is refused for good; the other is accepted, but its status reads are
    // throttled (as many times as the SDK tries: the provider sees a retryable failure).
    fake.failNext('CreateAccountAssignment', 'AccessDeniedException', 400);
    for (let i = 0; i < 3; i++) fake.failNext('DescribeAccountAssignmentCreationStatus', 'ThrottlingException', 400);
    const request = ssoRequest('jit-sso0000012');
    const err = await provider().grant(request, multi, EXPIRES, ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true });
    const [denied, created] = fake.calls.filter((c) => c.operation === 'CreateAccountAssignment').map((c) => c.input.TargetId as string);
    expect(new Set([denied, created])).toEqual(new Set([ACCOUNT, OTHERS[0]]));
    expect(fake.calls.filter((c) => c.operation === 'DeleteAccountAssignment')).toEqual([]);
    // The account being created keeps its claim for the retry; the refused one and the standing one hold none.
    expect(await registry.holders(keyOf(created!))).toEqual([request.id]);
    expect(await registry.holders(keyOf(denied!))).toEqual([]);
    expect(await registry.holders(keyOf(OTHERS[1]!))).toEqual([]);
  });
});

describe('drift sweep', () => {
  const ended = new Set<string>();
  const driftCtx = { now: EXPIRES, isLive: async () => false, endedOf: async (requestIds: readonly string[]) => new Set(requestIds.filter((id) => ended.has(id))) };
  beforeEach(() => ended.clear());

  it('deletes an assignment held only by requests that have ended, verified, and forgets the claim', async () => {
    const p = provider();
    const request = ssoRequest('jit-ssodrift01');
    await p.grant(request, target, EXPIRES, ctx);
    // The grant failed for good after this account was assigned, and its rollback never ran.
    ended.add(request.id);
    fake.calls.length = 0;

    const found = await p.sweepDrift([target], driftCtx);
    expect(found.cleaned).toEqual([`Deleted permission set ps-aaaabbbbccccdddd on account ${ACCOUNT} for user ${alice}: held only by ${request.id}, which has ended; Identity Center no longer lists it.`]);
    expect(aliceAssigned()).toEqual([]);
    expect(operations()).toContain('DeleteAccountAssignment');
    expect(await registry.holders(keyOf(ACCOUNT))).toEqual([]);
    // Nothing held any more: the next sweep calls nothing at all.
    fake.calls.length = 0;
    expect((await p.sweepDrift([target], driftCtx)).cleaned).toEqual([]);
    expect(operations()).toEqual([]);
  });

  it('reads nothing at all when no Identity Center target is configured', async () => {
    const p = provider();
    await p.grant(ssoRequest('jit-ssodrift04'), target, EXPIRES, ctx);
    ended.add('jit-ssodrift04');
    let listed = 0;
    const heldRules = registry.heldRules.bind(registry);
    registry.heldRules = async () => (listed++, heldRules());
    expect((await p.sweepDrift([], driftCtx)).cleaned).toEqual([]);
    expect(listed).toBe(0);
    expect(aliceAssigned()).toHaveLength(1);
  });

  it('leaves what a live request holds (only an ended co-holder lets go), and standing access, untouched', async () => {
    const p = provider();
    const live = ssoRequest('jit-ssodrift02');
    const gone = ssoRequest('jit-ssodrift03');
    await p.grant(live, target, EXPIRES, ctx);
    await p.grant(gone, target, EXPIRES, ctx);
    ended.add(gone.id);
    // Bob holds the permission set on his own, outside the bot.
    const bob = fake.addUser({ identityStoreId: STORE_ID, userName: 'bob', email: 'bob@example.com' });
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: bob });
    fake.calls.length = 0;

    expect((await p.sweepDrift([target], driftCtx)).cleaned).toEqual([]);
    expect(operations()).not.toContain('DeleteAccountAssignment');
    expect(await registry.holders(keyOf(ACCOUNT))).toEqual([live.id]);
    expect(fake.assignments().map((a) => a.principalId).sort()).toEqual([alice, bob].sort());
  });
});

describe('ending the portal sessions an assignment leaves behind (endSessions)', () => {
  const ending: SsoPermissionSetTarget = { ...target, endSessions: true };
  let bob: string;
  let now: number;
  const at = (iso: string) => (now = Date.parse(iso));
  beforeEach(() => {
    bob = fake.addUser({ identityStoreId: STORE_ID, userName: 'bob', email: 'bob@example.com' });
    at('2026-12-02T10:00:00.000Z');
  });
  const ending_ = (o: Partial<SsoPermissionSetProviderOptions> = {}) => provider({ now: () => now, ...o });
  const session = (userId: string, iso: string, accountId = ACCOUNT) => fake.sessionDenied({ permissionSetArn: PS, accountId, userId, issuedAt: new Date(iso) });

  it('where the role remains (another user still holds the set there): denies the user\'s earlier sessions there, provisioned and read back, and only those', async () => {
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: bob });
    const p = ending_();
    const request = ssoRequest('jit-sso0000101');
    const grant = await p.grant(request, ending, EXPIRES, ctx);
    expect(grant.endSessions).toBe(true);
    // A portal session opened while granted works.
    expect(session(alice, '2026-12-02T10:05:00.000Z')).toBe(false);

    at('2026-12-02T10:30:00.000Z');
    const result = await p.revoke(request, ending, grant);
    expect(result).toEqual({ removed: true, verified: true, sessions: [`Identity Center: sessions of user ${alice} issued before 2026-12-02T10:30:00.000Z denied on account ${ACCOUNT} (permission set ps-aaaabbbbccccdddd)`] });
    expect(aliceAssigned()).toEqual([]);
    // The session opened during the grant is refused by the role as provisioned now; bob's is not;
    // a session alice opens after a later grant (issued after the end) is not either.
    expect(session(alice, '2026-12-02T10:05:00.000Z')).toBe(true);
    expect(session(bob, '2026-12-02T10:05:00.000Z')).toBe(false);
    expect(session(alice, '2026-12-02T10:31:00.000Z')).toBe(false);
    // Written after the assignment was gone, then provisioned to that account, then read back.
    const ops = operations();
    expect(ops.lastIndexOf('DeleteAccountAssignment')).toBeLessThan(ops.indexOf('PutInlinePolicyToPermissionSet'));
    expect(fake.calls.find((c) => c.operation === 'ProvisionPermissionSet')!.input).toMatchObject({ TargetType: 'AWS_ACCOUNT', TargetId: ACCOUNT });
    expect(ops.lastIndexOf('GetInlinePolicyForPermissionSet')).toBeGreaterThan(ops.lastIndexOf('DescribePermissionSetProvisioningStatus'));
  });

  it('where the role went with the last assignment: nothing to deny, the inline policy is not touched', async () => {
    const p = ending_();
    const request = ssoRequest('jit-sso0000102');
    const grant = await p.grant(request, ending, EXPIRES, ctx);
    expect(fake.roleInlinePolicy(PS, ACCOUNT).exists).toBe(true);
    expect(await p.revoke(request, ending, grant)).toEqual({ removed: true, verified: true });
    expect(fake.roleInlinePolicy(PS, ACCOUNT).exists).toBe(false);
    expect(session(alice, '2026-12-02T10:05:00.000Z')).toBe(true);
    expect(operations()).not.toContain('PutInlinePolicyToPermissionSet');
  });

  it("keeps the administrator's statements, and drops its own once no session they name can still be valid", async () => {
    const admins = { Sid: 'DenyBilling', Effect: 'Deny', Action: 'aws-portal:*', Resource: '*' };
    fake.setInlinePolicy(PS, JSON.stringify({ Version: '2012-10-17', Statement: [admins] }, null, 2));
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: bob });
    const p = ending_();
    const first = ssoRequest('jit-sso0000103');
    await p.revoke(first, ending, await p.grant(first, ending, EXPIRES, ctx));
    const sids = () => (JSON.parse(fake.inlinePolicy(PS)!) as { Statement: Array<{ Sid: string }> }).Statement.map((s) => s.Sid);
    expect(sids()).toEqual(['DenyBilling', 'JitEndedSessionsjitsso0000103']);
    // Two hours (the set's session duration) and a minute later, the first deny names no valid session.
    at('2026-12-02T12:01:00.000Z');
    const second = ssoRequest('jit-sso0000104');
    await p.revoke(second, ending, await p.grant(second, ending, EXPIRES, ctx));
    expect(sids()).toEqual(['DenyBilling', 'JitEndedSessionsjitsso0000104']);
    expect(fake.roleInlinePolicy(PS, ACCOUNT).policy).toBe(fake.inlinePolicy(PS));
  });

  it('one writer at a time across replicas: with the lease held elsewhere it retries later and writes nothing', async () => {
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: bob });
    const held = ending_({ lease: { take: async () => false, release: async () => undefined } });
    const request = ssoRequest('jit-sso0000105');
    const grant = await held.grant(request, ending, EXPIRES, ctx);
    await expect(held.revoke(request, ending, grant)).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('being changed for another grant') });
    expect(operations()).not.toContain('PutInlinePolicyToPermissionSet');
    // The retry, with the lease free, completes the end (the assignment is already gone).
    expect(await ending_().revoke(request, ending, grant)).toMatchObject({ removed: true, verified: true, sessions: [expect.stringContaining('denied on account')] });
    expect(session(alice, '2026-12-02T09:59:00.000Z')).toBe(true);
  });

  it('two replicas ending grants on the same permission set at once, through the store lease: both denies land', async () => {
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: bob });
    const carol = fake.addUser({ identityStoreId: STORE_ID, userName: 'carol', email: 'carol@example.com' });
    const lease = (owner: string) => ({ take: (name: string, forMs: number) => registry.tryLease(name, owner, now, now + forMs), release: (name: string) => registry.releaseLease(name, owner) });
    const r1 = ending_({ lease: lease('replica-1') });
    const r2 = ending_({ lease: lease('replica-2') });
    const a = ssoRequest('jit-sso0000106');
    const c = ssoRequest('jit-sso0000107');
    const ga = await r1.grant(a, ending, EXPIRES, ctx);
    const gc = await r2.grant(c, ending, EXPIRES, { sourceIdentity: 'carol@example.com' });
    // Each replica retries (as the core's durable retry does) until its end is verified.
    const untilDone = async (p: SsoPermissionSetProvider, r: typeof a, g: SsoGrant) => {
      for (;;) {
        try {
          return await p.revoke(r, ending, g);
        } catch (err) {
          if (!(err as GrantError).retryable) throw err;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };
    await Promise.all([untilDone(r1, a, ga), untilDone(r2, c, gc)]);
    expect(session(alice, '2026-12-02T09:59:00.000Z')).toBe(true);
    expect(session(carol, '2026-12-02T09:59:00.000Z')).toBe(true);
    expect(session(bob, '2026-12-02T09:59:00.000Z')).toBe(false);
  });

  it('provisioning still in progress is retried: the end is not verified before the deny is in place', async () => {
    fake.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: bob });
    const p = ending_({ maxPolls: 0 });
    const request = ssoRequest('jit-sso0000108');
    const grant = await ending_().grant(request, ending, EXPIRES, ctx);
    await expect(p.revoke(request, ending, grant)).rejects.toMatchObject({ retryable: true, message: expect.stringContaining('still in progress') });
    expect(await ending_().revoke(request, ending, grant)).toMatchObject({ verified: true });
  });
});
