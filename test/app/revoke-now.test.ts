/**
 * "Revoke now" through real parts: signed block_actions to the real Bolt receiver, the core on
 * the embedded SQLite store, EC2 mocked at the SDK client. The button does exactly what `/jit revoke`
 * does: the requester or an approver ends the grant; anyone else gets the answer a missing
 * request gets, and nothing changes.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ACTION_APPROVE, ACTION_REVOKE_NOW } from '../../blocks/ids';
import { sendSigned } from '../../testkit/slack-requests';
import { APPROVER, Harness, OUTSIDER, REQUESTER, SIGNING_SECRET, text } from '../support/harness';

const ec2 = mockClient(EC2Client);
const RULE = 'sgr-0aaa1111bbbb2222c';
let h: Harness;

beforeEach(async () => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: RULE, GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  h = await Harness.start();
});
afterEach(async () => {
  await h.stop();
});

/** A request approved by APPROVER: ACTIVE, with its rule. */
async function activeGrant(): Promise<string> {
  const id = await h.request();
  await h.click(APPROVER, ACTION_APPROVE, id);
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE' });
  return id;
}

type Button = { action_id: string; value: string; confirm?: { text: { text: string } } };
const revokeButtons = (blocks: unknown): Button[] =>
  ((blocks ?? []) as { type: string; elements?: Button[] }[]).flatMap((b) => (b.type === 'actions' ? b.elements! : [])).filter((e) => e.action_id === ACTION_REVOKE_NOW);

it('an approver presses Revoke now on the approval message: the rule is revoked, the message updated, the clicker told', async () => {
  const pending = await h.request();
  expect(revokeButtons(h.approvalMessage(pending)?.blocks)).toEqual([]); // not while pending
  await h.click(APPROVER, ACTION_APPROVE, pending);
  const id = pending;

  // Once ACTIVE, the approval message carries the button: the id as value, a confirmation naming who and what.
  const [button] = revokeButtons(h.approvalMessage(id)?.blocks);
  expect(button).toMatchObject({ value: id });
  expect(button!.confirm!.text.text).toContain(`<@${REQUESTER}>'s access to *prod-bastion*`);

  const { status, refusal: reply } = await h.click(APPROVER, ACTION_REVOKE_NOW, id);
  expect(status).toBe(200);
  expect(reply).toMatch(new RegExp(`Request ${id}: access ended`));
  expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: 'sg-0123456789abcdef0', SecurityGroupRuleIds: [RULE] });
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'REVOKED', endReason: 'revoked', endedBy: APPROVER });
  // The outbox updated the message: the button is gone, the status line says who ended it.
  expect(revokeButtons(h.approvalMessage(id)?.blocks)).toEqual([]);
  expect(text(h.approvalMessage(id))).toContain(`revoked early by <@${APPROVER}>`);
  expect(h.dms(REQUESTER).at(-1)).toMatch(/has ended/);

  // A second press (a stale message) changes nothing and says what happened.
  const again = await h.click(APPROVER, ACTION_REVOKE_NOW, id);
  expect(again.refusal).toMatch(/Nothing was changed/);
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
});

it('a stranger pressing it gets the answer a missing request gets, and nothing changes', async () => {
  const id = await activeGrant();
  const stranger = await h.click(OUTSIDER, ACTION_REVOKE_NOW, id);
  const missing = await h.click(OUTSIDER, ACTION_REVOKE_NOW, 'jit-zzzzzzzzzz');
  expect(stranger.refusal).toBe(missing.refusal!.replace('jit-zzzzzzzzzz', id));
  expect(stranger.refusal).toMatch(/There is no request `jit-[0-9a-z]{10}` that you can revoke/);
  expect(stranger.refusal).not.toContain('prod-bastion');
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE' });
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
  expect(revokeButtons(h.approvalMessage(id)?.blocks)).toHaveLength(1);
});

it('a value that is not a request id is refused before anything is read', async () => {
  await activeGrant();
  const { refusal } = await h.click(APPROVER, ACTION_REVOKE_NOW, '<!channel> jit-');
  expect(refusal).toMatch(/does not carry a valid request id/);
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
});

it('the requester presses Revoke now on the grant DM: access ends, same as /jit revoke', async () => {
  const id = await activeGrant();
  const dm = h.slack.messagesIn(`D${REQUESTER}`).find((m) => revokeButtons(m.blocks).length > 0);
  expect(dm).toBeDefined();
  const [button] = revokeButtons(dm!.blocks);
  expect(button).toMatchObject({ value: id });
  expect(button!.confirm!.text.text).toContain('your access to *prod-bastion*');

  const { reply } = await h.clickIn(REQUESTER, ACTION_REVOKE_NOW, id, `D${REQUESTER}`);
  expect(reply).toMatch(new RegExp(`Request ${id}: access ended`));
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'REVOKED', endReason: 'revoked', endedBy: REQUESTER });
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
  expect(text(h.approvalMessage(id))).toContain(`revoked early by <@${REQUESTER}>`);
});

it('pressed in a view (the App Home reuses the button): no response_url there, so the reply comes by DM', async () => {
  const id = await activeGrant();
  const payload = {
    type: 'block_actions',
    user: { id: REQUESTER, username: 'requester', name: 'requester', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy-verification-token',
    container: { type: 'view', view_id: 'VHOME1' },
    trigger_id: 'trig-home-1',
    team: { id: 'T1', domain: 't1' },
    enterprise: null,
    is_enterprise_install: false,
    view: { id: 'VHOME1', type: 'home', blocks: [], private_metadata: '', callback_id: '', state: { values: {} }, hash: 'h', app_id: 'A1', bot_id: 'B1' },
    actions: [{ action_id: ACTION_REVOKE_NOW, block_id: 'home', value: id, type: 'button', text: { type: 'plain_text', text: 'Revoke now' }, action_ts: '1' }],
  };
  const res = await sendSigned(h.url, SIGNING_SECRET, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  expect(res.status).toBe(200);
  await h.settle();
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'REVOKED', endedBy: REQUESTER });
  expect(h.dms(REQUESTER).some((m) => m.includes(`Request ${id}: access ended`))).toBe(true);
  expect(h.logLines.filter((l) => /"level":50/.test(l))).toEqual([]);
});
