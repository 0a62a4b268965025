/**
 * The App Home through real parts: a signed app_home_opened event makes the bot publish the
 * user's home (recorded by the Slack stand-in's views.publish); transitions re-publish it through
 * the outbox; clicks in the home (no response_url) are answered in the app's DM.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ACTION_APPROVE, ACTION_DENY, ACTION_HOME_REQUEST, ACTION_REVOKE_NOW, ACTION_WITHDRAW, CALLBACK_REQUEST_MODAL } from '../../blocks/ids';
import { APPROVER, APPROVER_CHANNEL, Harness, OUTSIDER, REQUESTER, SIGNING_SECRET } from '../support/harness';
import { homeAction, homeOpened } from '../../testkit/slack-requests';
import type { RecordedCall } from '../../testkit/slack-stand-in';
import { waitFor } from '../../testkit/wait';

const ec2 = mockClient(EC2Client);
const MIN = 60_000;
let h: Harness;

beforeEach(async () => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0aaa1111bbbb2222c', GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  h = await Harness.start();
});
afterEach(async () => {
  await h.stop();
});

const publishes = (userId: string) => h.slack.callsTo('views.publish').filter((c) => c.args.user_id === userId);
const viewText = (c: RecordedCall | undefined) => JSON.stringify(c?.args.view ?? {});
type Button = { action_id: string; value: string };
const buttonsOf = (c: RecordedCall | undefined) => ((c?.args.view as { blocks?: { type: string; elements?: Button[] }[] })?.blocks ?? []).flatMap((b) => (b.type === 'actions' ? b.elements! : []));

/** Opens the home tab as `userId` and returns the view the bot published for it. */
async function openHome(userId: string): Promise<RecordedCall> {
  const before = publishes(userId).length;
  const res = await homeOpened(h.url, SIGNING_SECRET, userId);
  expect(res.status).toBe(200);
  await h.settle();
  return waitFor(() => publishes(userId)[before], { message: `no views.publish for ${userId}` });
}

it("app_home_opened publishes the user's home: My access, My requests; Waiting on me for an approver who may decide, not for others", async () => {
  const id = await h.request();
  await h.settle();

  const mine = await openHome(REQUESTER);
  expect(mine.args.view).toMatchObject({ type: 'home' });
  expect(viewText(mine)).toContain('My access');
  expect(viewText(mine)).toContain('My requests');
  expect(buttonsOf(mine).filter((b) => b.value === id).map((b) => b.action_id)).toEqual([ACTION_WITHDRAW]);
  // The requester is an approver too, but may not decide their own request.
  expect(viewText(mine)).not.toContain('Waiting on me');
  expect(buttonsOf(mine).map((b) => b.action_id)).toContain(ACTION_HOME_REQUEST);

  const approver = await openHome(APPROVER);
  expect(viewText(approver)).toContain('Waiting on me');
  expect(buttonsOf(approver).filter((b) => b.value === id).map((b) => b.action_id)).toEqual([ACTION_APPROVE, ACTION_DENY]);
  const ref = (await h.bot.service.get(id))!.approvalMessage!;
  expect(viewText(approver)).toContain(`https://slack.com/archives/${APPROVER_CHANNEL}/p${ref.ts.replace('.', '')}`);

  const outsider = await openHome(OUTSIDER);
  expect(viewText(outsider)).not.toContain('Waiting on me');
  expect(viewText(outsider)).not.toContain(id);
});

it("after approve the requester's home (Revoke now) and the approver's are re-published; after expiry the requester's again", async () => {
  const id = await h.request();
  await h.settle();
  // Nobody has opened their home yet: a change publishes none (each is built fresh when opened).
  expect(publishes(REQUESTER)).toHaveLength(0);
  await openHome(REQUESTER);
  await openHome(APPROVER);
  const before = publishes(REQUESTER).length;
  await h.click(APPROVER, ACTION_APPROVE, id);
  expect((await h.bot.service.get(id))!.status).toBe('ACTIVE');
  const afterGrant = await waitFor(() => publishes(REQUESTER).slice(before).find((c) => buttonsOf(c).some((b) => b.action_id === ACTION_REVOKE_NOW && b.value === id)), { message: 'no home with Revoke now after the grant' });
  expect(viewText(afterGrant)).toMatch(/left/);
  // The approver's "Waiting on me" no longer lists it.
  const approverHome = publishes(APPROVER).at(-1);
  expect(approverHome).toBeDefined();
  expect(viewText(approverHome)).not.toContain(id);

  const beforeExpiry = publishes(REQUESTER).length;
  h.clock.advance(31 * MIN);
  await h.sweep();
  await h.sweep();
  expect((await h.bot.service.get(id))!.status).toBe('REVOKED');
  const afterExpiry = publishes(REQUESTER).slice(beforeExpiry);
  expect(afterExpiry.length).toBeGreaterThan(0);
  expect(viewText(afterExpiry.at(-1))).not.toContain(id);
  expect(viewText(afterExpiry.at(-1))).toContain('No active access');
});

it('clicks in the home: Approve decides (re-checked by the core); Withdraw withdraws a pending request and never ends access; replies go to the DM', async () => {
  const id = await h.request();
  await h.settle();
  // An outsider's Approve from a home is refused like any click, in their DM.
  await homeAction(h.url, SIGNING_SECRET, { userId: OUTSIDER, actionId: ACTION_APPROVE, value: id });
  await h.settle();
  expect(h.dms(OUTSIDER).join('\n')).toMatch(/can't approve/);
  expect((await h.bot.service.get(id))!.status).toBe('PENDING');

  // The requester withdraws from their home.
  await homeAction(h.url, SIGNING_SECRET, { userId: REQUESTER, actionId: ACTION_WITHDRAW, value: id });
  await h.settle();
  expect((await h.bot.service.get(id))!.status).toBe('CANCELLED');

  // Withdraw on a request approved meanwhile (a stale home) ends nothing.
  const granted = await h.request();
  await h.click(APPROVER, ACTION_APPROVE, granted);
  await homeAction(h.url, SIGNING_SECRET, { userId: REQUESTER, actionId: ACTION_WITHDRAW, value: granted });
  await h.settle();
  expect((await h.bot.service.get(granted))!.status).toBe('ACTIVE');
  expect(h.dms(REQUESTER).join('\n')).toMatch(new RegExp(`Request ${granted} was already approved.* and is active.*Nothing was changed`));
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
});

it('Request access in the home opens the request form', async () => {
  const res = await homeAction(h.url, SIGNING_SECRET, { userId: REQUESTER, actionId: ACTION_HOME_REQUEST, value: 'new' });
  expect(res.status).toBe(200);
  await h.settle();
  expect(h.lastOpenedView()?.callback_id).toBe(CALLBACK_REQUEST_MODAL);
});

it('an unsigned app_home_opened is refused and publishes nothing', async () => {
  const res = await homeOpened(h.url, 'wrong-secret', REQUESTER);
  expect(res.status).toBe(401);
  await h.settle();
  expect(publishes(REQUESTER)).toEqual([]);
});
