/**
 * An Identity Center permission set granted and taken back by the REAL bot (child processes, the
 * shared DynamoDB table, signed Slack requests), with SSO Admin and Identity Store answered by the
 * local stand-in on their JSON wire protocol: the requester's user is found by their Slack email,
 * and a bot killed between CreateAccountAssignment and its provisioning is replaced by one that
 * adopts the assignment (never taking it for standing access), grants, and at expiry deletes it,
 * verified, with the audit on the request.
 */
import { startFakeSso, type FakeSso } from '../../testkit/fake-sso';
import { waitFor } from '../../testkit/wait';
import { APPROVER, approvalMessage, approve, CONFIG_HEAD, killAll, newScenario, requestWith, setUpInfra, shared, SIGNING_SECRET, tearDownInfra, waitForStatus, withBotLogs } from './support';
import { slashCommand } from '../../testkit/slack-requests';

const REQUESTER = 'U0SSOUSER';
const INSTANCE = 'arn:aws:sso:::instance/ssoins-1111222233334444';
const PS = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
const STORE_ID = 'd-1234567890';
const ACCOUNT = '210987654321';

const CONFIG = `${CONFIG_HEAD}  - name: prod-admin
    kind: sso-permission-set
    instanceArn: ${INSTANCE}
    identityStoreId: ${STORE_ID}
    permissionSetArn: ${PS}
    accountId: "${ACCOUNT}"
    portalUrl: https://d-1234567890.awsapps.com/start
`;

let sso: FakeSso;
let userId: string;

beforeAll(async () => {
  await setUpInfra();
  sso = await startFakeSso();
}, 120_000);

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  await sso.close();
  await tearDownInfra();
});

const env = () => ({ AWS_ENDPOINT_URL_SSO_ADMIN: sso.url, AWS_ENDPOINT_URL_IDENTITYSTORE: sso.url });
const assigned = () => sso.assignments().filter((a) => a.principalId === userId && a.accountId === ACCOUNT && a.permissionSetArn === PS);
const creates = () => sso.calls.filter((c) => c.operation === 'CreateAccountAssignment').length;

it('killed between CreateAccountAssignment and provisioning: another bot adopts it, grants, and deletes it at expiry, verified', async () => {
  sso.reset();
  // The stand-in's Slack user U0SSOUSER has the email u0ssouser@example.com.
  userId = sso.addUser({ identityStoreId: STORE_ID, userName: 'u0ssouser', email: 'u0ssouser@example.com' });
  sso.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: PS, name: 'AdministratorAccess', sessionDuration: 'PT1H' });
  // Provisioning takes a long while: A is killed while it waits.
  sso.setProvisioningPolls(1_000);
  const s = await newScenario('sso-crash');
  await withBotLogs(s, async () => {
    const a = await s.startBot('A', { configYaml: CONFIG, env: env() });
    const id = await requestWith(s, a, REQUESTER, 'request prod-admin 8s fault injection: sso');
    await approve(a, APPROVER, id);
    await waitFor(() => creates() === 1, { timeoutMs: 10_000, message: 'A called CreateAccountAssignment' });
    a.child.kill('SIGKILL');
    expect(await a.waitForExit(5_000)).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await s.store.get(id))?.status).toBe('GRANTING');

    // Identity Center finishes provisioning A's request on its own (here: at the next status read).
    sso.setProvisioningPolls(0);
    const b = await s.startBot('B', { configYaml: CONFIG, env: env() });
    const [active] = await waitForStatus(s, [id], 'ACTIVE', 20_000);
    expect(active!.grant).toMatchObject({ kind: 'sso-permission-set', principalId: userId, accountIds: [ACCOUNT], permissionSetArn: PS, email: 'u0ssouser@example.com', sessionDuration: 'PT1H' });
    expect(assigned()).toHaveLength(1);
    // B took the intent over after A's lease lapsed.
    expect(active!.audit.filter((e) => e.action.startsWith('claim-')).map((e) => e.details?.owner)).toContain(b.owner());

    // The grant DM says where to sign in and how long a session opened before the end can last.
    const dm = await waitFor(() => shared().slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === REQUESTER && JSON.stringify(c.args.blocks ?? '').includes('awsapps.com/start')), { timeoutMs: 10_000, message: 'grant DM' });
    expect(JSON.stringify(dm.args.blocks)).toContain('up to 1h longer');

    const [done] = await waitForStatus(s, [id], 'REVOKED', 25_000);
    expect(assigned()).toEqual([]);
    expect(done!.revokeOutcome).not.toBe('released');
    // Every step has its audit record, and the revocation's names the assignment it deleted.
    expect(done!.audit.map((e) => e.to)).toEqual(expect.arrayContaining(['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING', 'REVOKED']));
    expect(JSON.stringify(done!.audit.find((e) => e.to === 'ACTIVE'))).toContain(userId);
  });
}, 90_000);

it('a request picks some of the target\'s accounts: only those are assigned and taken back; a pick the target does not allow is refused and nothing is stored', async () => {
  sso.reset();
  userId = sso.addUser({ identityStoreId: STORE_ID, userName: 'u0ssouser', email: 'u0ssouser@example.com' });
  sso.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: PS, name: 'AdministratorAccess', sessionDuration: 'PT1H' });
  const [A, B, C] = ['311111111111', '422222222222', '533333333333'];
  const config = `${CONFIG_HEAD}  - name: prod-admin-any
    kind: sso-permission-set
    instanceArn: ${INSTANCE}
    identityStoreId: ${STORE_ID}
    permissionSetArn: ${PS}
    accountIds: ["${A}", "${B}", "${C}"]
    accountsPerRequest: 2
`;
  const s = await newScenario('sso-pick');
  await withBotLogs(s, async () => {
    const bot = await s.startBot('A', { configYaml: config, env: env() });
    const { slack } = shared();
    // Refused, each with what to do, and nothing stored: none named (three do not fit in two),
    // one the target does not offer, three.
    for (const [text, words] of [
      ['request prod-admin-any 8s no pick', /Say which accounts you need on `prod-admin-any` \(up to 2\): `--accounts=&lt;id&gt;,&lt;id&gt;`/],
      [`request prod-admin-any 8s --accounts=${A},999999999999 wrong one`, /does not offer `999999999999`/],
      [`request prod-admin-any 8s --accounts=${A},${B},${C} all three`, /You picked 3 accounts; `prod-admin-any` allows at most 2/],
    ] as const) {
      const responseUrl = slack.responseUrl();
      expect((await slashCommand(bot.eventsUrl, SIGNING_SECRET, { userId: REQUESTER, text, responseUrl })).status).toBe(200);
      const reply = await waitFor(() => slack.responses.find((r) => r.url === responseUrl), { timeoutMs: 10_000, message: `reply to ${text}` });
      expect((reply.body as { text: string }).text).toMatch(words);
    }
    expect(await s.store.listByRequester(REQUESTER, 10)).toEqual([]);

    const id = await requestWith(s, bot, REQUESTER, `request prod-admin-any 8s --accounts=${C},${A} fault injection: pick two`);
    expect((await s.store.get(id))?.accounts).toEqual([C, A]);
    expect(JSON.stringify(approvalMessage(id))).toContain(`on 2 accounts: \`${C}\`, \`${A}\``);
    await approve(bot, APPROVER, id);
    const [active] = await waitForStatus(s, [id], 'ACTIVE', 20_000);
    expect(active!.grant).toMatchObject({ accountIds: [C, A] });
    const mine = () => sso.assignments().filter((x) => x.principalId === userId).map((x) => x.accountId).sort();
    expect(mine()).toEqual([A, C]);
    expect(active!.audit.find((e) => e.to === 'PENDING')?.details).toMatchObject({ accounts: `${C},${A}` });
    await waitForStatus(s, [id], 'REVOKED', 25_000);
    expect(mine()).toEqual([]);
  });
}, 90_000);

it('endSessions: at expiry the assignment is deleted, then the sessions opened during the grant are denied (retried through throttling), audited', async () => {
  sso.reset();
  userId = sso.addUser({ identityStoreId: STORE_ID, userName: 'u0ssouser', email: 'u0ssouser@example.com' });
  sso.addPermissionSet({ instanceArn: INSTANCE, permissionSetArn: PS, name: 'AdministratorAccess', sessionDuration: 'PT1H' });
  sso.setProvisioningPolls(0);
  // Someone else holds the set on that account, so its role stays when the grant's assignment goes.
  sso.seedAssignment({ instanceArn: INSTANCE, permissionSetArn: PS, accountId: ACCOUNT, principalType: 'USER', principalId: 'standing-colleague' });
  const config = `${CONFIG}    endSessions: true\n`;
  const s = await newScenario('sso-end-sessions');
  await withBotLogs(s, async () => {
    const bot = await s.startBot('A', { configYaml: config, env: env() });
    const id = await requestWith(s, bot, REQUESTER, 'request prod-admin 8s fault injection: end sessions');
    await approve(bot, APPROVER, id);
    const [active] = await waitForStatus(s, [id], 'ACTIVE', 20_000);
    expect(active!.grant).toMatchObject({ endSessions: true });
    // A portal session opened during the grant works.
    const during = new Date();
    expect(sso.sessionDenied({ permissionSetArn: PS, accountId: ACCOUNT, userId, issuedAt: during })).toBe(false);
    const dm = await waitFor(() => shared().slack.calls.find((c) => c.method === 'chat.postMessage' && c.args.channel === REQUESTER && JSON.stringify(c.args.blocks ?? '').includes('awsapps.com/start') && JSON.stringify(c.args.blocks ?? '').includes(id)), { timeoutMs: 10_000, message: 'grant DM' });
    expect(JSON.stringify(dm.args.blocks)).toContain('is then denied too');
    // Identity Center throttles the first two writes of the inline policy: the revoke retries.
    sso.failNext('PutInlinePolicyToPermissionSet', 'ThrottlingException');
    sso.failNext('PutInlinePolicyToPermissionSet', 'ThrottlingException');

    const [done] = await waitForStatus(s, [id], 'REVOKED', 40_000);
    expect(assigned()).toEqual([]);
    expect(sso.sessionDenied({ permissionSetArn: PS, accountId: ACCOUNT, userId, issuedAt: during })).toBe(true);
    expect(sso.sessionDenied({ permissionSetArn: PS, accountId: ACCOUNT, userId: 'standing-colleague', issuedAt: during })).toBe(false);
    expect(sso.calls.filter((c) => c.operation === 'PutInlinePolicyToPermissionSet').length).toBeGreaterThanOrEqual(3);
    const revoked = done!.audit.find((e) => e.to === 'REVOKED');
    expect(revoked?.details?.sessionsEnded).toContain(`sessions of user ${userId} issued before`);
    expect(revoked?.details?.sessionsEnded).toContain(`denied on account ${ACCOUNT}`);
  });
}, 90_000);
