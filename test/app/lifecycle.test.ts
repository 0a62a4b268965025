/**
 * The whole /jit flow through real parts: signed HTTP requests to the real Bolt receiver, the
 * real core and the embedded SQLite store, the Web API pointed at the local Slack stand-in, and EC2
 * mocked at the SDK client.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION_ADDRESS, ACTION_APPROVE, ACTION_APPROVE_WITH, ACTION_DENY, ACTION_DENY_WITH, ACTION_DURATION, ACTION_REASON, ACTION_TARGET, BLOCK_ADDRESS, BLOCK_DURATION, BLOCK_REASON, BLOCK_TARGET } from '../../blocks/ids';
import { FakeClock } from '../support/clock';
import { APPROVER, APPROVER2, APPROVER_CHANNEL, BOT_TOKEN, Harness, OUTSIDER, REQUESTER, SIGNING_SECRET, text } from '../support/harness';
import { sendRaw, signRequest, slashCommand } from '../../testkit/slack-requests';
import { waitFor } from '../../testkit/wait';

const ec2 = mockClient(EC2Client);
const MIN = 60_000;
let h: Harness;

function mockEc2(ruleId = 'sgr-0aaa1111bbbb2222c') {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: ruleId, GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
}

const actions = (id: string) => (h.bot.service.get(id) as Promise<{ audit: { action: string }[] }>).then((r) => r.audit.map((a) => a.action));
const hasButtons = (id: string) => JSON.stringify(h.approvalMessage(id)?.blocks ?? []).includes(ACTION_APPROVE);

beforeEach(async () => {
  mockEc2();
  h = await Harness.start();
});
afterEach(async () => {
  await h.stop();
});

it('request → approval message → approve → rule added → warning → expiry revokes by rule id → DMs', async () => {
  const { status, reply } = await h.command(REQUESTER, 'request prod-bastion 30m 203.0.113.7 investigating checkout latency');
  expect(status).toBe(200);
  expect(reply?.response_type).toBe('ephemeral');
  const id = /jit-[0-9a-z]{10}/.exec(reply!.text)![0];
  await h.settle();

  // The approver channel got requester, target, duration, address, reason and the two buttons.
  const posted = h.approvalMessage(id);
  expect(posted).toBeDefined();
  for (const fact of [`<@${REQUESTER}>`, 'prod-bastion', '30m', '203.0.113.7/32', 'investigating checkout latency']) expect(text(posted)).toContain(fact);
  const buttons = (posted!.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).flatMap((b) => (b.type === 'actions' ? b.elements! : []));
  expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
    [ACTION_APPROVE, id],
    [ACTION_APPROVE_WITH, id],
    [ACTION_DENY, id],
    [ACTION_DENY_WITH, id],
  ]);

  // Ten minutes later an approver clicks Approve: the access clock starts now.
  h.clock.advance(10 * MIN);
  const grantedAt = h.clock.now().getTime();
  expect((await h.click(APPROVER, ACTION_APPROVE, id)).status).toBe(200);
  expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
  expect(ec2).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
    GroupId: 'sg-0123456789abcdef0',
    IpPermissions: [expect.objectContaining({ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [expect.objectContaining({ CidrIp: '203.0.113.7/32' })] })],
    TagSpecifications: [expect.objectContaining({ ResourceType: 'security-group-rule', Tags: expect.arrayContaining([{ Key: 'jit:request-id', Value: id }, { Key: 'jit:requester', Value: REQUESTER }]) })],
  });
  const active = await h.bot.service.get(id);
  expect(active).toMatchObject({ status: 'ACTIVE', decidedBy: APPROVER, expiresAt: new Date(grantedAt + 30 * MIN).toISOString() });
  expect(hasButtons(id)).toBe(false);
  expect(text(h.approvalMessage(id))).toMatch(new RegExp(`Approved by <@${APPROVER}>.*active until`));
  expect(h.dms(REQUESTER).some((m) => m.includes('ssh') && m.includes('bastion.prod.example.com'))).toBe(true);

  // 25 minutes in: nothing due yet; at 25m (5m before expiry) the warning goes out.
  h.clock.advance(24 * MIN);
  await h.sweep();
  const dmsBeforeWarning = h.dms(REQUESTER).length;
  h.clock.advance(1 * MIN);
  await h.sweep();
  expect(h.dms(REQUESTER)).toHaveLength(dmsBeforeWarning + 1);
  expect(ec2).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 0);

  // At expiry the sweep revokes by rule id and tells everyone.
  h.clock.advance(5 * MIN);
  await h.sweep();
  expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { GroupId: 'sg-0123456789abcdef0', SecurityGroupRuleIds: ['sgr-0aaa1111bbbb2222c'] });
  const ended = await h.bot.service.get(id);
  expect(ended).toMatchObject({ status: 'REVOKED', endReason: 'expired' });
  expect(ended!.dueAt).toBeUndefined();
  expect(ended!.outbox).toEqual({});
  expect(await actions(id)).toEqual(['request', 'approve', 'grant', 'expiry-warning', 'expire', 'revoked']);
  expect(ended!.audit.find((a) => a.action === 'grant')!.details).toMatchObject({ securityGroupRuleId: 'sgr-0aaa1111bbbb2222c', securityGroupId: 'sg-0123456789abcdef0' });
  expect(text(h.approvalMessage(id))).toMatch(/ended/i);
  expect(h.dms(REQUESTER)).toHaveLength(dmsBeforeWarning + 2);
});

it('deny: message updated with who denied, requester told, no AWS call', async () => {
  const id = await h.request();
  await h.click(APPROVER, ACTION_DENY, id);
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'DENIED', decidedBy: APPROVER });
  expect(text(h.approvalMessage(id))).toContain(`Denied by <@${APPROVER}>`);
  expect(hasButtons(id)).toBe(false);
  expect(h.dms(REQUESTER).join('\n')).toContain(`<@${APPROVER}>`);
  expect(ec2.calls()).toHaveLength(0);
  // A later Approve on the resolved request changes nothing and says why.
  const late = await h.click(APPROVER2, ACTION_APPROVE, id);
  expect(late.refusal).toMatch(/already denied/);
  expect(ec2.calls()).toHaveLength(0);
});

it('approval timeout: expires unanswered requests, and later clicks change nothing', async () => {
  const id = await h.request();
  h.clock.advance(31 * MIN);
  await h.sweep();
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'EXPIRED' });
  expect(text(h.approvalMessage(id))).toMatch(/Expired/);
  expect(hasButtons(id)).toBe(false);
  expect(h.dms(REQUESTER).join('\n')).toMatch(/nobody approved/i);
  const late = await h.click(APPROVER, ACTION_APPROVE, id);
  expect(late.refusal).toMatch(/expired/);
  expect(ec2.calls()).toHaveLength(0);
});

it('a click after the deadline is refused even before the sweeper ran', async () => {
  const id = await h.request();
  h.clock.advance(30 * MIN);
  const late = await h.click(APPROVER, ACTION_APPROVE, id);
  expect(late.refusal).toMatch(/expired/);
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'EXPIRED' });
  expect(ec2.calls()).toHaveLength(0);
});

it('refuses self-approval (even by an approver) and non-approvers, with no AWS call', async () => {
  const id = await h.request();
  const self = await h.click(REQUESTER, ACTION_APPROVE, id);
  // One neutral reply for everyone who may not decide (issue 10 item 4).
  expect(self.refusal).toMatch(/^⚠️ You can't approve this request\.$/);
  const outsider = await h.click(OUTSIDER, ACTION_APPROVE, id);
  expect(outsider.refusal).toMatch(/^⚠️ You can't approve this request\.$/);
  const outsiderDeny = await h.click(OUTSIDER, ACTION_DENY, id);
  expect(outsiderDeny.refusal).toMatch(/^⚠️ You can't approve this request\.$/);
  expect(ec2.calls()).toHaveLength(0);
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'PENDING', version: 1 });
  expect(hasButtons(id)).toBe(true);
});

it('double click and concurrent approvers: exactly one outcome and one AWS grant', async () => {
  const id = await h.request();
  const clicks = await Promise.all([
    h.click(APPROVER, ACTION_APPROVE, id),
    h.click(APPROVER, ACTION_APPROVE, id),
    h.click(APPROVER2, ACTION_APPROVE, id),
    h.click(APPROVER2, ACTION_DENY, id),
  ]);
  expect(clicks.every((c) => c.status === 200)).toBe(true);
  expect(clicks.filter((c) => c.refusal === undefined)).toHaveLength(1);
  const final = await h.bot.service.get(id);
  const decided = final!.audit.filter((a) => a.from === 'PENDING');
  expect(decided).toHaveLength(1);
  expect(ec2).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, final!.status === 'ACTIVE' ? 1 : 0);
});

it('rejects forged, stale and unsigned requests before any handler runs', async () => {
  const body = new URLSearchParams({ command: '/jit', text: 'request prod-bastion 30m 203.0.113.7 x', user_id: REQUESTER, response_url: h.slack.responseUrl(), trigger_id: 't' }).toString();
  const forged = await sendRaw(h.url, body, signRequest('wrong-secret', body));
  const stale = await sendRaw(h.url, body, signRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 301));
  const unsigned = await sendRaw(h.url, body, { 'content-type': 'application/x-www-form-urlencoded' });
  expect([forged.status, stale.status, unsigned.status]).toEqual([401, 401, 401]);
  await new Promise((r) => setTimeout(r, 100));
  expect(h.slack.responses).toHaveLength(0);
  expect(h.approvalPosts()).toHaveLength(0);
  expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);
});

describe('bad input: a clear reply, nothing stored, nothing posted', () => {
  it.each([
    ['request', /Say which target/],
    ['request nope 30m 203.0.113.7 reason', /no target called `nope`.*prod-bastion/],
    ['request prod-bastion', /how long/],
    ['request prod-bastion soon 203.0.113.7 reason', /`soon` is not a duration/],
    ['request prod-bastion 3h 203.0.113.7 reason', /3h is outside what `prod-bastion` allows: between 5m and 2h/],
    ['request prod-bastion 1m 203.0.113.7 reason', /outside what `prod-bastion` allows/],
    ['request prod-bastion 30m 203.0.113.7', /Say why/],
    ['request prod-bastion 30m investigating', /address is required/],
    ['request prod-bastion 30m 203.0.113.7/0 reason', /network, not one address: only \/32/],
    ['request prod-bastion 30m 203.0.113.0/24 reason', /network, not one address/],
    ['request prod-bastion 30m 10.0.0.0/8 reason', /network, not one address/],
    ['request prod-bastion 30m 0.0.0.0 reason', /not a usable source address/],
    ['request prod-bastion 30m :: reason', /unspecified address/],
    ['request prod-bastion 30m 2001:db8::/64 reason', /only \/128/],
    ['request prod-bastion 30m 999.1.1.1 reason', /not an IP address/],
    ['frobnicate', /not a \/jit command.*\/jit help/],
    ['revoke', /Say which request/],
  ])('/jit %s', async (cmd, message) => {
    const { status, reply } = await h.command(REQUESTER, cmd);
    expect(status).toBe(200);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toMatch(message);
    await h.settle();
    expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);
    expect(h.approvalPosts()).toHaveLength(0);
  });
});

it.each([
  ['help', /How to use \/jit/],
  ['frobnicate', /not a \/jit command/],
  ['revoke', /Say which request/],
  ['revoke not-an-id', /That is not a request id/],
  ['policy show', /Did you mean `\/jit policy check`/],
])('/jit %s is answered in the ack itself: one HTTP exchange, nothing posted to response_url', async (cmd, message) => {
  const responseUrl = h.slack.responseUrl();
  const res = await slashCommand(h.url, SIGNING_SECRET, { userId: REQUESTER, text: cmd, responseUrl });
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(message) });
  await h.settle();
  expect(h.slack.responses.filter((r) => r.url === responseUrl)).toEqual([]);
});

it('escapes user text: a reason with <!channel> pings nobody', async () => {
  const id = await h.request('request prod-bastion 30m 203.0.113.7 <!channel> please <@U0BOSS> & hurry');
  const posted = JSON.stringify(h.approvalMessage(id));
  expect(posted).not.toContain('<!channel>');
  expect(posted).not.toContain('<@U0BOSS>');
  expect(posted).toContain('&lt;!channel&gt;');
});

it('a reason Slack sends escaped (should_escape) is stored as typed, and escaped once where it is shown', async () => {
  const id = await h.request('request prod-bastion 30m 203.0.113.7 fix A&amp;B before &lt;noon&gt;');
  expect((await h.bot.service.get(id))?.reason).toBe('fix A&B before <noon>');
  const posted = JSON.stringify(h.approvalMessage(id));
  expect(posted).toContain('fix A&amp;B before &lt;noon&gt;');
  expect(posted).not.toContain('&amp;amp;');
});

it('/jit list, /jit revoke (early end by the requester), /jit targets, /jit help', async () => {
  const id = await h.request();
  const pending = await h.command(REQUESTER, 'list');
  expect(JSON.stringify(pending.reply)).toContain(id);
  await h.click(APPROVER, ACTION_APPROVE, id);

  expect((await h.command(OUTSIDER, `revoke ${id}`)).reply?.text).toMatch(/^⚠️ There is no request `jit-[0-9a-z]{10}` that you can revoke\./); // existence does not leak
  const revoked = await h.command(REQUESTER, `revoke ${id}`);
  expect(revoked.reply?.text).toContain(id);
  await h.settle();
  expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { SecurityGroupRuleIds: ['sgr-0aaa1111bbbb2222c'] });
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'REVOKED', endReason: 'revoked', endedBy: REQUESTER });
  expect(JSON.stringify((await h.command(REQUESTER, 'list')).reply)).not.toContain(id);
  expect((await h.command(REQUESTER, `revoke ${id}`)).reply?.text).toMatch(/already ended/);
  expect((await h.command(REQUESTER, 'revoke jit-0000000000')).reply?.text).toMatch(/no request `jit-0000000000`/);

  const targets = JSON.stringify((await h.command(REQUESTER, 'targets')).reply);
  expect(targets).toContain('prod-bastion');
  expect(targets).toContain('staging-db');
  const help = JSON.stringify((await h.command(REQUESTER, 'help')).reply);
  for (const sub of ['request', 'list', 'revoke', 'targets']) expect(help).toContain(`/jit ${sub}`);
});

it('the requester can withdraw a pending request; an approver cannot "revoke" it', async () => {
  const id = await h.request();
  expect((await h.command(APPROVER, `revoke ${id}`)).reply?.text).toMatch(/deny it instead/);
  await h.command(REQUESTER, `revoke ${id}`);
  await h.settle();
  expect(await h.bot.service.get(id)).toMatchObject({ status: 'CANCELLED' });
  expect(hasButtons(id)).toBe(false);
});

it('/jit alone opens the request form; submitting it files a request', async () => {
  const res = await h.command(REQUESTER, '');
  expect(res.status).toBe(200);
  const open = await h.slack.waitForCall('views.open');
  const view = open.args.view as { callback_id: string; blocks: { block_id: string }[] };
  expect(open.args.trigger_id).toBeDefined();
  const ids = view.blocks.map((b) => b.block_id);
  expect(ids).toEqual(expect.arrayContaining([BLOCK_TARGET, BLOCK_DURATION, BLOCK_ADDRESS, BLOCK_REASON]));

  const values = (duration: string, address: string) => ({
    [BLOCK_TARGET]: { [ACTION_TARGET]: { type: 'static_select', selected_option: { value: 'prod-bastion' } } },
    [BLOCK_DURATION]: { [ACTION_DURATION]: { type: 'plain_text_input', value: duration } },
    [BLOCK_ADDRESS]: { [ACTION_ADDRESS]: { type: 'plain_text_input', value: address } },
    [BLOCK_REASON]: { [ACTION_REASON]: { type: 'plain_text_input', value: 'debugging' } },
  });
  const bad = await h.submitModal(REQUESTER, values('45m', '10.0.0.0/8'), view.callback_id);
  expect(bad.json).toMatchObject({ response_action: 'errors', errors: { [BLOCK_ADDRESS]: expect.stringMatching(/network/) } });
  expect(await h.bot.service.listOpen(REQUESTER)).toEqual([]);

  const good = await h.submitModal(REQUESTER, values('45m', '198.51.100.4'), view.callback_id);
  expect(good.status).toBe(200);
  const [request] = await h.bot.service.listOpen(REQUESTER);
  expect(request).toMatchObject({ targetName: 'prod-bastion', durationMs: 45 * MIN, cidr: '198.51.100.4/32', reason: 'debugging' });
  expect(h.dms(REQUESTER).join('\n')).toContain(request!.id);
  expect(h.approvalMessage(request!.id)).toBeDefined();
});

it('a failed grant ends FAILED with the reason, audited, and nothing left pending', async () => {
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(Object.assign(new Error('You are not authorized to perform this operation.'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } }));
  const id = await h.request();
  await h.click(APPROVER, ACTION_APPROVE, id);
  const failed = await h.bot.service.get(id);
  expect(failed).toMatchObject({ status: 'FAILED' });
  expect(failed!.audit.at(-1)).toMatchObject({ action: 'grant-failed', from: 'GRANTING', to: 'FAILED' });
  expect(text(h.approvalMessage(id))).toMatch(/grant failed/);
  // A code and a reference, never AWS's message (issue 10 item 5); the message is in the audit under it.
  expect(h.dms(REQUESTER).join('\n')).toMatch(/aws-denied, ref [0-9A-Z]{8}/);
  expect(h.dms(REQUESTER).join('\n')).not.toMatch(/UnauthorizedOperation|not authorized/);
  expect(failed!.audit.at(-1)?.details).toMatchObject({ code: 'aws-denied', ref: failed!.failureRef, error: expect.stringMatching(/UnauthorizedOperation|not authorized/) });
});

it('never logs the bot token, the signing secret or raw request bodies', async () => {
  const id = await h.request('request prod-bastion 30m 203.0.113.7 secret-sauce-reason');
  await h.click(APPROVER, ACTION_APPROVE, id);
  const logs = h.logLines.join('');
  expect(logs).toContain(id); // request id on the lines
  expect(logs).not.toContain(BOT_TOKEN);
  expect(logs).not.toContain(SIGNING_SECRET);
  expect(logs).not.toContain('secret-sauce-reason');
  for (const line of h.logLines.filter((l) => l.includes('request.transition'))) expect(JSON.parse(line).requestId).toBe(id);
});

describe('restart', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jit-restart-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a bot that was down through an expiry revokes on start', async () => {
    await h.stop();
    const clock = new FakeClock();
    h = await Harness.start({ dataDir: dir, clock });
    const id = await h.request();
    await h.click(APPROVER, ACTION_APPROVE, id);
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE' });
    await h.stop();

    clock.advance(2 * 60 * MIN); // down for two hours, well past expiry
    ec2.resetHistory();
    h = await Harness.start({ dataDir: dir, clock, background: true });
    await waitFor(async () => (await h.bot.service.get(id))?.status === 'REVOKED', { message: 'not revoked after restart' });
    expect(ec2).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, { SecurityGroupRuleIds: ['sgr-0aaa1111bbbb2222c'] });
    expect(await actions(id)).toEqual(['request', 'approve', 'grant', 'expire', 'revoked']);
    await waitFor(() => h.dms(REQUESTER).length > 0, { message: 'no expiry DM after restart' });
  });
});

it('uses the injected bot token against the configured Web API URL', async () => {
  await h.request();
  const call = h.approvalPosts()[0]!;
  expect(call.token).toBe(BOT_TOKEN);
  expect(call.args.channel).toBe(APPROVER_CHANNEL);
});

it('Slack rate-limits the approval post: the 429 is not waited out in the client; the outbox retries after Retry-After', async () => {
  h.slack.failNext('chat.postMessage', { status: 429, retryAfter: 7, times: 1 });
  const started = Date.now();
  const { reply } = await h.command(REQUESTER, 'request prod-bastion 30m 203.0.113.7 debugging');
  const id = /jit-[0-9a-z]{10}/.exec(reply!.text)![0];
  await h.settle();
  expect(Date.now() - started).toBeLessThan(3_000); // nothing sat out the 7 s Retry-After
  const queued = await h.bot.service.get(id);
  // The approval post failed once; what was queued after it (the requester's App Home) waits behind it, untried.
  expect(Object.values(queued!.outbox).map((n) => [n.kind, n.attempts])).toEqual([['approval.post', 1], ['home.refresh', undefined]]);
  await h.bot.outbox.drain();
  expect(h.approvalMessage(id)).toBeUndefined(); // still inside Retry-After
  h.clock.advance(7_000);
  await h.bot.outbox.drain();
  await h.settle();
  expect(h.approvalMessage(id)).toBeDefined();
  expect((await h.bot.service.get(id))!.outbox).toEqual({});
});
