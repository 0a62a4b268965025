/**
 * Hostile input, "safe by default" (issue 10, items 2 and 10): accounts that may not act at all
 * (guests, Slack Connect users, deactivated accounts, bots, accounts Slack cannot confirm) and
 * per-user rate limits, through SIGNED requests to the real Bolt receiver, the real core on
 * the embedded SQLite store, users.info answered by the Slack stand-in, EC2 mocked at the SDK client.
 * Every case asserts the refusal, the reply, and that nothing was stored, posted or granted.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ACTION_ADDRESS,
  ACTION_APPROVE,
  ACTION_DENY,
  ACTION_DURATION,
  ACTION_REASON,
  ACTION_REVIEW,
  ACTION_TARGET,
  BLOCK_ADDRESS,
  BLOCK_DURATION,
  BLOCK_REASON,
  BLOCK_TARGET,
  CALLBACK_REQUEST_MODAL,
} from '../../../blocks/ids';
import type { AccessRequest } from '../../../src/domain/types';
import { APPROVER, APPROVER2, APPROVER_CHANNEL, Harness, REQUESTER, text } from '../../support/harness';
import type { UserState } from '../../../testkit/slack-stand-in';

const ec2 = mockClient(EC2Client);

const GUEST = 'U0GUEST';
const SC_GUEST = 'U0SCGUEST';
const EXTERNAL = 'U0EXTERNAL';
const STRANGER = 'U0STRANGER';
const DELETED = 'U0DELETED';
const BOT_USER = 'U0BOTUSER';
const BROKEN = 'U0BROKEN';
const MISSING = 'U0MISSING';
const STATES: [string, UserState][] = [
  [GUEST, 'guest'],
  [SC_GUEST, 'single-channel-guest'],
  [EXTERNAL, 'external'],
  [STRANGER, 'stranger'],
  [DELETED, 'deleted'],
  [BOT_USER, 'bot'],
  [BROKEN, 'error'],
  [MISSING, 'missing'],
];
const UNSAFE = STATES.map(([id]) => id);

const yaml = (extra = '') => `
approverChannel: ${APPROVER_CHANNEL}
# Every unsafe account is named as an approver and a requester: being named does not let them act.
approvers:
  users: [${APPROVER}, ${APPROVER2}, ${UNSAFE.join(', ')}]
requesters: { everyone: true }
rateLimits:
  requests: { max: 3, per: 1h }
  breakGlass: { max: 1, per: 24h }
${extra}
targets:
  - name: prod-db
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    port: 5432
    region: eu-west-1
    breakGlass: true
  - name: staging-db
    kind: ec2-ssh
    securityGroupId: sg-0fedcba9876543210
    region: eu-west-1
`;

let h: Harness;
let ruleSeq = 0;

async function start(extra = ''): Promise<void> {
  h = await Harness.start({ configYaml: yaml(extra) });
  for (const [id, state] of STATES) h.slack.userStates.set(id, state);
}

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake((input: { GroupId: string }) => ({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: `sgr-0bbb2222cccc${String(++ruleSeq).padStart(4, '0')}`, GroupId: input.GroupId }] }));
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});
afterEach(async () => {
  await h.stop();
});

const NOT_ELIGIBLE = /only full members of this workspace can\. If you need access, ask a workspace admin/;
const UNCONFIRMED = /Slack could not confirm your account just now, so nothing was done/;
const get = async (id: string) => (await h.bot.service.get(id)) as AccessRequest;
const open = (userId: string) => h.bot.service.listOpen(userId);
const idIn = (reply: string | undefined) => /jit-[0-9a-z]{10}/.exec(reply ?? '')?.[0];
const posts = () => h.slack.callsTo('chat.postMessage').length;
const hereAlerts = () => h.approvalPosts().filter((c) => String(c.args.text).includes('<!here>')).length;

/** The refusal reveals nothing: no target, no request id, no person, no rule. */
function revealsNothing(reply: string | undefined, ...secrets: string[]): void {
  for (const s of ['prod-db', 'staging-db', APPROVER, APPROVER2, 'guest', 'external', 'bot', 'deactivated', ...secrets]) expect(reply ?? '').not.toContain(s);
}

describe('accounts that may not request', () => {
  it.each<[string, string, string, RegExp]>([
    ['a guest, /jit request', GUEST, 'request staging-db 30m 203.0.113.7 need the replica', NOT_ELIGIBLE],
    ['a guest, --break-glass', GUEST, 'request prod-db 30m 203.0.113.7 --break-glass outage', NOT_ELIGIBLE],
    ['a single-channel guest, /jit request', SC_GUEST, 'request staging-db 30m 203.0.113.7 need the replica', NOT_ELIGIBLE],
    ['a Slack Connect user (another team), /jit request', EXTERNAL, 'request staging-db 30m 203.0.113.7 vendor debugging', NOT_ELIGIBLE],
    ['a Slack Connect user, --break-glass', EXTERNAL, 'request prod-db 30m 203.0.113.7 --break-glass outage', NOT_ELIGIBLE],
    ['a stranger (is_stranger), /jit request', STRANGER, 'request staging-db 30m 203.0.113.7 hello', NOT_ELIGIBLE],
    ['a deactivated user, /jit request', DELETED, 'request staging-db 30m 203.0.113.7 left last week', NOT_ELIGIBLE],
    ['a bot user, --break-glass', BOT_USER, 'request prod-db 30m 203.0.113.7 --break-glass automation', NOT_ELIGIBLE],
    ['a user users.info fails for (fail closed)', BROKEN, 'request prod-db 30m 203.0.113.7 --break-glass outage', UNCONFIRMED],
    ['a user users.info does not know (fail closed)', MISSING, 'request staging-db 30m 203.0.113.7 hello', UNCONFIRMED],
    ['a guest, to an unknown target (no existence leak)', GUEST, 'request no-such-target 30m 203.0.113.7 probing', NOT_ELIGIBLE],
  ])('%s: refused, nothing stored, posted or granted', async (_name, user, command, expected) => {
    await start();
    const { status, reply } = await h.command(user, command);
    await h.settle();
    expect(status).toBe(200);
    expect(reply?.text).toMatch(expected);
    expect(idIn(reply?.text)).toBeUndefined();
    revealsNothing(reply?.text, 'no-such-target');
    expect(await open(user)).toEqual([]);
    expect(posts()).toBe(0);
    expect(hereAlerts()).toBe(0);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
    expect(h.logLines.join('')).not.toContain('unexpected error');
  });

  it('/jit targets shows a guest nothing either', async () => {
    await start();
    const { reply } = await h.command(GUEST, 'targets');
    expect(reply?.text).toMatch(NOT_ELIGIBLE);
    revealsNothing(`${reply?.text}${JSON.stringify(reply?.blocks ?? [])}`);
  });
});

describe('the request form', () => {
  const form = (address: string) => ({
    [BLOCK_TARGET]: { [ACTION_TARGET]: { type: 'static_select', selected_option: { value: 'staging-db' } } },
    [BLOCK_DURATION]: { [ACTION_DURATION]: { type: 'plain_text_input', value: '30m' } },
    [BLOCK_ADDRESS]: { [ACTION_ADDRESS]: { type: 'plain_text_input', value: address } },
    [BLOCK_REASON]: { [ACTION_REASON]: { type: 'plain_text_input', value: 'need the replica' } },
  });
  /** Everything the bot posted, DMs to `to` excepted (the refusal of a form goes there). */
  const postsExcept = (to: string) => h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel !== to).length;

  it('a guest typing /jit alone: no form opens (it would list targets), the refusal is the reply', async () => {
    await start();
    await h.command(GUEST, '');
    await h.settle();
    expect(h.slack.callsTo('views.open')).toHaveLength(0);
    const reply = h.slack.responses.map((r) => (r.body as { text?: string }).text ?? '').join('\n');
    expect(reply).toMatch(NOT_ELIGIBLE);
    revealsNothing(reply);
  });

  it('a guest submitting a forged request form: refused by DM, nothing stored or posted elsewhere', async () => {
    await start();
    const res = await h.submitModal(GUEST, form('203.0.113.7'), CALLBACK_REQUEST_MODAL);
    expect(res.status).toBe(200);
    expect(h.dms(GUEST).join('\n')).toMatch(NOT_ELIGIBLE);
    revealsNothing(h.dms(GUEST).join('\n'));
    expect(await open(GUEST)).toEqual([]);
    expect(postsExcept(GUEST)).toBe(0);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
  });

  it('a rate-limited requester submitting the form: refused by DM with when to try again, nothing stored', async () => {
    await start();
    for (let i = 1; i <= 3; i++) await h.request(`request staging-db 30m 203.0.113.${i} batch ${i}`);
    const before = postsExcept(REQUESTER);
    await h.submitModal(REQUESTER, form('203.0.113.9'), CALLBACK_REQUEST_MODAL);
    expect(h.dms(REQUESTER).join('\n')).toMatch(/You have sent 3 requests in the last 1h, the most allowed\. Nothing was sent: try again in/);
    expect(await open(REQUESTER)).toHaveLength(3);
    expect(postsExcept(REQUESTER)).toBe(before);
  });
});

describe('accounts that may not decide', () => {
  it.each<[string, string, string, RegExp]>([
    ['a guest approving', GUEST, ACTION_APPROVE, NOT_ELIGIBLE],
    ['a single-channel guest denying', SC_GUEST, ACTION_DENY, NOT_ELIGIBLE],
    ['a Slack Connect user approving', EXTERNAL, ACTION_APPROVE, NOT_ELIGIBLE],
    ['a stranger denying', STRANGER, ACTION_DENY, NOT_ELIGIBLE],
    ['a deactivated approver approving', DELETED, ACTION_APPROVE, NOT_ELIGIBLE],
    ['a bot approving', BOT_USER, ACTION_APPROVE, NOT_ELIGIBLE],
    ['an approver users.info fails for (fail closed)', BROKEN, ACTION_APPROVE, UNCONFIRMED],
  ])('%s: refused, the request stays PENDING, nothing granted', async (_name, user, action, expected) => {
    await start();
    const id = await h.request('request staging-db 30m 203.0.113.7 need the replica');
    const before = posts();
    const { refusal } = await h.click(user, action, id);
    expect(refusal).toMatch(expected);
    revealsNothing(refusal, id, REQUESTER);
    const r = await get(id);
    expect(r.status).toBe('PENDING');
    expect(r.approvals ?? []).toEqual([]);
    expect(r.audit.map((a) => a.action)).toEqual(['request']);
    expect(posts()).toBe(before);
    expect(text(h.approvalMessage(id))).not.toContain(user);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 0);
  });

  it.each<[string, string]>([
    ['a guest approver revoking someone’s grant', GUEST],
    ['a Slack Connect approver revoking someone’s grant', EXTERNAL],
  ])('%s: refused, the grant stays ACTIVE, no rule removed', async (_name, user) => {
    await start();
    const id = await h.request('request staging-db 30m 203.0.113.7 need the replica');
    await h.click(APPROVER, ACTION_APPROVE, id);
    expect((await get(id)).status).toBe('ACTIVE');
    const { reply } = await h.command(user, `revoke ${id}`);
    await h.settle();
    expect(reply?.text).toMatch(NOT_ELIGIBLE);
    revealsNothing(reply?.text, REQUESTER);
    expect((await get(id)).status).toBe('ACTIVE');
    expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);
  });

  it('a guest approver marking a break-glass grant reviewed: refused, it stays unreviewed', async () => {
    await start();
    const { reply } = await h.command(REQUESTER, 'request prod-db 30m 203.0.113.7 --break-glass primary down');
    const id = idIn(reply?.text)!;
    await h.settle();
    const { refusal } = await h.click(GUEST, ACTION_REVIEW, id);
    expect(refusal).toMatch(NOT_ELIGIBLE);
    const r = await get(id);
    expect(r.reviewedBy).toBeUndefined();
    expect(r.audit.map((a) => a.action)).toEqual(['request', 'break-glass', 'grant']);
  });
});

describe('allowGuests: true', () => {
  it('lets a guest request (and approve), but never a Slack Connect user, a stranger, a deactivated account or a bot', async () => {
    await start('allowGuests: true');
    const id = await h.request('request staging-db 30m 203.0.113.7 need the replica', GUEST);
    expect((await get(id)).status).toBe('PENDING');
    const second = await h.request('request staging-db 30m 203.0.113.8 need the replica', REQUESTER);
    await h.click(SC_GUEST, ACTION_APPROVE, second);
    expect((await get(second)).status).toBe('ACTIVE');

    const before = posts();
    for (const user of [EXTERNAL, STRANGER, DELETED, BOT_USER]) {
      const { reply } = await h.command(user, 'request staging-db 30m 203.0.113.9 vendor debugging');
      expect(reply?.text).toMatch(NOT_ELIGIBLE);
      expect(await open(user)).toEqual([]);
    }
    const { refusal } = await h.click(EXTERNAL, ACTION_DENY, id);
    expect(refusal).toMatch(NOT_ELIGIBLE);
    expect((await get(id)).status).toBe('PENDING');
    await h.settle();
    expect(posts()).toBe(before);
  });
});

describe('rate limits', () => {
  it('the request after the limit is refused with when to try again; nothing stored or posted; others unaffected; the window frees up', async () => {
    await start();
    for (let i = 1; i <= 3; i++) await h.request(`request staging-db 30m 203.0.113.${i} batch ${i}`);
    const before = posts();
    h.clock.advance(10 * 60_000);
    const { reply } = await h.command(REQUESTER, 'request staging-db 30m 203.0.113.4 one more');
    await h.settle();
    expect(reply?.text).toMatch(/You have sent 3 requests in the last 1h, the most allowed\. Nothing was sent: try again in 50m/);
    expect(idIn(reply?.text)).toBeUndefined();
    expect(await open(REQUESTER)).toHaveLength(3);
    expect(posts()).toBe(before);
    expect(h.logLines.join('')).toContain('"event":"request.rate_limited"');

    // Per user: someone else is not limited by the requester's requests.
    await h.request('request staging-db 30m 203.0.113.5 mine', APPROVER2);

    // An hour after the first, one slot is free again.
    h.clock.advance(50 * 60_000 + 1_000);
    await h.request('request staging-db 30m 203.0.113.6 later');
  });

  it('the break-glass after the limit: no grant, no @here alert, nothing stored; a normal request still goes to the approvers', async () => {
    await start();
    const first = await h.command(REQUESTER, 'request prod-db 30m 203.0.113.7 --break-glass primary down');
    await h.settle();
    expect((await get(idIn(first.reply?.text)!)).status).toBe('ACTIVE');
    expect(hereAlerts()).toBe(1);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);

    const before = posts();
    const { reply } = await h.command(REQUESTER, 'request prod-db 30m 203.0.113.8 --break-glass replica down too');
    await h.settle();
    expect(reply?.text).toMatch(/You have sent 1 break-glass requests in the last 1d, the most allowed\. Nothing was sent: try again in 1d/);
    expect(reply?.text).toMatch(/without `--break-glass` for the approvers to decide/);
    expect(await open(REQUESTER)).toHaveLength(1);
    expect(hereAlerts()).toBe(1);
    expect(posts()).toBe(before);
    expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);

    const id = await h.request('request prod-db 30m 203.0.113.8 replica down too');
    expect((await get(id)).status).toBe('PENDING');
  });
});
