/**
 * Hostile inputs, part "decide" (issue 10 items 1, 4, 5): signed requests through the real Bolt
 * receiver, the real core on the embedded SQLite store, the Slack stand-in, EC2 mocked at the SDK client.
 *
 *  - policy bypasses: a pending request (or a grant being retried, or an extension) that crosses
 *    a deny window, loses its requester's group, or collects its quorum after the rule started,
 *    is refused when the policy decides it again: it ends, the requester is told, nothing reaches AWS;
 *  - every decision button by every wrong actor on pending / active / resolved requests gets one
 *    neutral reply and changes nothing (nothing stored, posted, opened or granted);
 *  - AWS failures whose messages carry ARNs and account ids never reach Slack: people see a code
 *    and a reference, the audit keeps the message under that reference.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ACTION_APPROVE, ACTION_APPROVE_WITH, ACTION_COMMENT, ACTION_DECISION_DURATION, ACTION_DENY, ACTION_DENY_WITH, ACTION_REVIEW, BLOCK_COMMENT, BLOCK_DECISION_DURATION, CALLBACK_APPROVE_MODAL, CALLBACK_DENY_MODAL } from '../../../blocks/ids';
import type { AccessRequest } from '../../../src/domain/types';
import { APPROVER, APPROVER2, APPROVER_CHANNEL, Harness, OUTSIDER, REQUESTER, text } from '../../support/harness';

/** Read-only Slack calls the bot may make to decide who is asking (users.info, groups): nothing is posted by them. */
const LOOKUPS = new Set(['users.info', 'auth.test', 'usergroups.users.list']);

const ec2 = mockClient(EC2Client);
const MIN = 60_000;
const OTHER_APPROVER = 'U0OTHERAPPR';
const MEMBER = 'U0MEMBER1';
const TEAM = 'S0TEAM';
const NEUTRAL = "⚠️ You can't approve this request.";
const ACCOUNT = '123456789012';
const ARN = `arn:aws:iam::${ACCOUNT}:role/jit-bot`;

// The clock starts on Sunday 2026-11-22 at 10:00 UTC; the deny rule starts at 10:20.
const YAML = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${APPROVER}]
defaults:
  minDuration: 5m
  maxDuration: 4h
  approvalTimeout: 30m
  expiryWarning: 5m
denyRules:
  - name: no-nights
    targets: [night-*]
    window: { days: [sun], from: "10:20", to: "23:00", timezone: UTC }
    message: Production is closed at night.
targets:
  - name: night-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    region: eu-west-1
    maxDuration: 2h
    requesters: { users: [${REQUESTER}, ${MEMBER}] }
  - name: night-quorum
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef1
    region: eu-west-1
    approvers: { users: [${APPROVER}, ${APPROVER2}] }
    approvalsRequired: 2
    requesters: { users: [${REQUESTER}] }
  - name: team-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef2
    region: eu-west-1
    requesters: { groups: [${TEAM}] }
  - name: plain-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef3
    region: eu-west-1
    breakGlass: true
    requesters: { users: [${REQUESTER}] }
  - name: other-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef4
    region: eu-west-1
    approvers: { users: [${OTHER_APPROVER}] }
    requesters: { users: [${REQUESTER}] }
`;

let ruleSeq = 0;
function mockEc2(): void {
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake((input: { GroupId: string }) => ({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: `sgr-0ccc2222dddd${String(++ruleSeq).padStart(4, '0')}`, GroupId: input.GroupId }] }));
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
}

/** An AWS error as the SDK throws it, its message full of what people must not see. */
function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`User: ${ARN}/session is not authorized to perform this operation on account ${ACCOUNT} (${name})`), { name, $metadata: { httpStatusCode: status } });
}

/** A bot on YAML, its team group known to the stand-in. */
async function start(o: Parameters<typeof Harness.start>[0] = {}): Promise<Harness> {
  const h = await Harness.start({ configYaml: YAML, ...o });
  h.slack.userGroups.set(TEAM, [REQUESTER]);
  return h;
}

const authorizeCalls = () => ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).length;
const input = (value: string) => ({ type: 'plain_text_input', value });

describe('policy bypasses: the policy is decided again, and a refusal ends the request', () => {
  let h: Harness;
  beforeEach(async () => {
    mockEc2();
    h = await start();
  });
  afterEach(async () => {
    await h.stop();
  });
  const get = async (id: string) => (await h.bot.service.get(id)) as AccessRequest;

  /** Asserts the request ended refused by `code`, nothing granted, the requester told, the approval message updated. */
  async function expectRefused(id: string, code: string, words: RegExp, rule?: string): Promise<AccessRequest> {
    const r = await get(id);
    expect(r).toMatchObject({ status: 'DENIED', refusal: { code, ...(rule ? { rule } : {}) } });
    expect(r.grant).toBeUndefined();
    expect(r.dueAt).toBeUndefined();
    expect(r.audit.at(-1)).toMatchObject({ actor: 'policy', action: 'policy-refuse', to: 'DENIED', details: expect.objectContaining({ reason: code, ...(rule ? { rule } : {}) }) });
    expect(authorizeCalls()).toBe(0);
    expect(h.dms(REQUESTER).join('\n')).toMatch(words);
    expect(text(h.approvalMessage(id))).toMatch(words);
    expect(text(h.approvalMessage(id))).not.toMatch(/jit_approve|jit_deny/); // no buttons left
    return r;
  }

  it('a deny window crossed while pending: Approve is refused, the request ends, nothing is granted', async () => {
    const id = await h.request('request night-bastion 30m 203.0.113.7 evening deploy');
    h.clock.advance(21 * MIN); // 10:21, inside no-nights
    const click = await h.click(APPROVER, ACTION_APPROVE, id);
    expect(click.status).toBe(200);
    await expectRefused(id, 'deny-rule', /deny rule `?no-nights`?/, 'no-nights');
    // The same click again: the request is over.
    expect((await h.click(APPROVER, ACTION_APPROVE, id)).refusal).toMatch(/refused by the policy/);
    expect(authorizeCalls()).toBe(0);
  });

  it('a deny window crossed while pending: the Approve… form path is refused the same way', async () => {
    const id = await h.request('request night-bastion 30m 203.0.113.7 evening deploy');
    h.clock.advance(21 * MIN);
    await h.submitModal(APPROVER, { [BLOCK_COMMENT]: { [ACTION_COMMENT]: input('go ahead') } }, CALLBACK_APPROVE_MODAL, id);
    await expectRefused(id, 'deny-rule', /no-nights/, 'no-nights');
  });

  it('a requester removed from the allowed group while pending is refused at the approval (fresh group read)', async () => {
    const id = await h.request('request team-box 30m 203.0.113.7 fixing the build agent');
    h.slack.userGroups.set(TEAM, [MEMBER]); // removed a second later: the 60 s cache must not vouch for them
    h.clock.advance(1_000);
    await h.click(APPROVER, ACTION_APPROVE, id);
    await expectRefused(id, 'not-requester', /no longer among the requesters/);
  });

  it('quorum approvals already recorded do not override a refusal', async () => {
    const id = await h.request('request night-quorum 30m 203.0.113.7 evening migration');
    h.clock.advance(5 * MIN);
    expect((await h.click(APPROVER, ACTION_APPROVE, id)).refusal).toMatch(/1 of 2/);
    h.clock.advance(16 * MIN); // 10:21
    await h.click(APPROVER2, ACTION_APPROVE, id);
    const r = await expectRefused(id, 'deny-rule', /no-nights/, 'no-nights');
    expect(r.audit.at(-1)?.details).toMatchObject({ approvalsOverridden: APPROVER });
  });

  it('a grant being retried (resumed by the sweeper) after the window started is refused before AWS', async () => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(awsError('RequestLimitExceeded', 503));
    const id = await h.request('request night-bastion 30m 203.0.113.7 evening deploy');
    h.clock.advance(19 * MIN);
    await h.click(APPROVER, ACTION_APPROVE, id);
    expect(await get(id)).toMatchObject({ status: 'GRANTING', failure: 'aws-throttled' });
    expect(authorizeCalls()).toBe(1);
    h.clock.advance(2 * MIN); // 10:21: the retry is due, inside no-nights
    await h.sweep();
    const r = await get(id);
    expect(r).toMatchObject({ status: 'DENIED', refusal: { code: 'deny-rule', rule: 'no-nights' } });
    expect(r.audit.at(-1)).toMatchObject({ actor: 'policy', from: 'GRANTING', to: 'DENIED' });
    expect(authorizeCalls()).toBe(1); // the first (failed) attempt only
  });

  it('a grant resumed after a restart with a changed config is refused by the new config', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'jit-decide-'));
    await h.stop();
    try {
      ec2.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(awsError('RequestLimitExceeded', 503));
      h = await start({ dataDir: dir });
      const id = await h.request('request plain-box 30m 203.0.113.7 patching');
      await h.click(APPROVER, ACTION_APPROVE, id);
      expect(await get(id)).toMatchObject({ status: 'GRANTING' });
      const clock = h.clock;
      await h.stop();
      // The new config adds a deny rule for plain-box (e.g. a freeze).
      const frozen = YAML.replace('denyRules:\n', 'denyRules:\n  - name: freeze\n    targets: [plain-box]\n');
      h = await start({ configYaml: frozen, dataDir: dir, clock });
      clock.advance(2 * MIN);
      await h.sweep();
      expect(await get(id)).toMatchObject({ status: 'DENIED', refusal: { code: 'deny-rule', rule: 'freeze' } });
      expect(authorizeCalls()).toBe(1);
    } finally {
      await h.stop();
      h = await start(); // for afterEach
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an extension that crosses the deny window is refused; the grant keeps its expiry', async () => {
    const id = await h.request('request night-bastion 1h 203.0.113.7 evening deploy');
    await h.click(APPROVER, ACTION_APPROVE, id);
    const active = await get(id);
    expect(active.status).toBe('ACTIVE');
    h.clock.advance(10 * MIN);
    const ext = await h.bot.service.extend(id, REQUESTER, { duration: '30m', reason: 'not done yet' });
    await h.settle();
    expect(ext.status).toBe('PENDING');
    h.clock.advance(11 * MIN); // 10:21
    await h.click(APPROVER, ACTION_APPROVE, ext.id);
    expect(await get(ext.id)).toMatchObject({ status: 'DENIED', refusal: { code: 'deny-rule', rule: 'no-nights' } });
    expect((await get(id)).expiresAt).toBe(active.expiresAt);
    expect(h.dms(REQUESTER).join('\n')).toMatch(/extension .* was refused/);
  });

  it('Deny still works while the window is open (a no is never refused)', async () => {
    const id = await h.request('request night-bastion 30m 203.0.113.7 evening deploy');
    h.clock.advance(21 * MIN);
    await h.click(APPROVER, ACTION_DENY, id);
    expect(await get(id)).toMatchObject({ status: 'DENIED', decidedBy: APPROVER });
    expect((await get(id)).refusal).toBeUndefined();
  });
});

describe('wrong actors on every decision button get one neutral reply and change nothing', () => {
  let h: Harness;
  const ids: Record<'pending' | 'active' | 'denied' | 'break-glass', string> = { pending: '', active: '', denied: '', 'break-glass': '' };
  beforeAll(async () => {
    mockEc2();
    h = await start();
    ids.pending = await h.request('request plain-box 30m 203.0.113.7 pending one');
    ids.active = await h.request('request plain-box 30m 203.0.113.8 active one');
    await h.click(APPROVER, ACTION_APPROVE, ids.active);
    ids.denied = await h.request('request plain-box 30m 203.0.113.9 denied one');
    await h.click(APPROVER, ACTION_DENY, ids.denied);
    const bg = await h.command(REQUESTER, 'request plain-box 30m 203.0.113.10 outage --break-glass');
    ids['break-glass'] = /jit-[0-9a-z]{10}/.exec(bg.reply?.text ?? '')![0];
    await h.settle();
    expect((await h.bot.service.get(ids.active))?.status).toBe('ACTIVE');
    expect((await h.bot.service.get(ids['break-glass']))?.status).toBe('ACTIVE');
  });
  afterAll(async () => {
    await h.stop();
  });

  const BUTTONS = [ACTION_APPROVE, ACTION_DENY, ACTION_APPROVE_WITH, ACTION_DENY_WITH, ACTION_REVIEW];
  const ACTORS: [string, string][] = [
    ['the requester (also a default approver)', REQUESTER],
    ['a stranger', OUTSIDER],
    ['an approver of another target', OTHER_APPROVER],
  ];
  const STATES = ['pending', 'active', 'denied', 'break-glass'] as const;
  const cases = STATES.flatMap((state) => ACTORS.flatMap(([who, actor]) => BUTTONS.map((button) => [state, who, actor, button] as const)));

  it.each(cases)('%s request, %s (%s), button %s → neutral refusal only', async (state, _who, actor, button) => {
    const id = ids[state];
    const before = await h.bot.service.get(id);
    const calls = h.slack.calls.length;
    const granted = authorizeCalls();
    const reply = await h.click(actor, button, id);
    expect(reply.status).toBe(200);
    expect(reply.refusal).toBe(NEUTRAL);
    // Nothing stored, posted, opened or granted.
    expect(await h.bot.service.get(id)).toEqual(before);
    expect(h.slack.calls.slice(calls).map((c) => c.method).filter((m) => !LOOKUPS.has(m))).toEqual([]);
    expect(authorizeCalls()).toBe(granted);
  });

  it.each([
    ['an approver', APPROVER],
    ['a stranger', OUTSIDER],
  ])('a request that does not exist, %s → the same neutral reply (existence does not leak)', async (_who, actor) => {
    const calls = h.slack.calls.length;
    for (const button of BUTTONS) {
      const res = await h.clickIn(actor, button, 'jit-0000000000', APPROVER_CHANNEL);
      expect(res.reply).toBe(NEUTRAL);
    }
    expect(h.slack.calls.slice(calls).map((c) => c.method).filter((m) => !LOOKUPS.has(m))).toEqual([]);
  });

  it.each([
    ['Approve… form, a stranger, a duration longer than asked', OUTSIDER, CALLBACK_APPROVE_MODAL, '9h'],
    ['Approve… form, the requester, a duration longer than asked', REQUESTER, CALLBACK_APPROVE_MODAL, '9h'],
    ['Approve… form, an approver of another target', OTHER_APPROVER, CALLBACK_APPROVE_MODAL, undefined],
    ['Deny… form, a stranger', OUTSIDER, CALLBACK_DENY_MODAL, undefined],
    ['Deny… form, the requester', REQUESTER, CALLBACK_DENY_MODAL, undefined],
  ])('a forged %s → no field error about the request, only the neutral DM; nothing stored or granted', async (_name, actor, callback, duration) => {
    const id = ids.pending;
    const before = await h.bot.service.get(id);
    const calls = h.slack.calls.length;
    const granted = authorizeCalls();
    const values: Record<string, Record<string, unknown>> = { [BLOCK_COMMENT]: { [ACTION_COMMENT]: input('ok') } };
    if (duration) values[BLOCK_DECISION_DURATION] = { [ACTION_DECISION_DURATION]: input(duration) };
    const res = await h.submitModal(actor, values, callback, id);
    // The asked-for duration ("longer than the 30m asked") would tell a non-decider about the request.
    expect(JSON.stringify(res.json ?? {})).not.toMatch(/asked|30m/);
    const sent = h.slack.calls.slice(calls);
    expect(sent.map((c) => [c.method, c.args.channel, c.args.text])).toEqual([['chat.postMessage', actor, "You can't approve this request."]]);
    expect(await h.bot.service.get(id)).toEqual(before);
    expect(authorizeCalls()).toBe(granted);
  });

  it.each([
    ['pending', OUTSIDER],
    ['active', OUTSIDER],
    ['active', OTHER_APPROVER],
    ['denied', OUTSIDER],
  ] as const)('/jit revoke on a %s request by %s answers as for a request that does not exist', async (state, actor) => {
    const id = ids[state];
    const before = await h.bot.service.get(id);
    const calls = h.slack.calls.length;
    const real = (await h.command(actor, `revoke ${id}`)).reply?.text;
    const missing = (await h.command(actor, 'revoke jit-0000000000')).reply?.text;
    expect(real?.replace(id, 'ID')).toBe(missing?.replace('jit-0000000000', 'ID'));
    expect(real).toMatch(/There is no request .* that you can revoke/);
    expect(await h.bot.service.get(id)).toEqual(before);
    expect(h.slack.calls.slice(calls).map((c) => c.method).filter((m) => !LOOKUPS.has(m))).toEqual([]);
  });

  it('a decider still sees the full story on a resolved request', async () => {
    expect((await h.click(APPROVER, ACTION_APPROVE, ids.denied)).refusal).toMatch(/already denied/);
    expect(JSON.stringify(h.slack.responses.at(-1)?.body)).toContain(`already denied by <@${APPROVER}>`);
  });
});

describe('AWS failures: a code and a reference in Slack, the message in the audit', () => {
  let h: Harness;
  beforeEach(async () => {
    mockEc2();
    h = await start();
  });
  afterEach(async () => {
    await h.stop();
  });
  const slackText = () => JSON.stringify([h.slack.calls.map((c) => c.args), h.slack.responses.map((r) => r.body)]);

  it.each([
    ['UnauthorizedOperation', 403, 'aws-denied', 'FAILED'],
    ['InvalidGroup.NotFound', 400, 'aws-not-found', 'FAILED'],
    ['RequestLimitExceeded', 503, 'aws-throttled', 'GRANTING'],
    ['InternalError', 500, 'aws-error', 'GRANTING'],
  ])('grant fails with %s → %s in Slack, never the ARN or the account id', async (name, status, code, after) => {
    ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError(name, status));
    const id = await h.request('request plain-box 30m 203.0.113.7 patching');
    await h.click(APPROVER, ACTION_APPROVE, id);
    const r = (await h.bot.service.get(id))!;
    expect(r).toMatchObject({ status: after, failure: code, failureRef: expect.stringMatching(/^[0-9A-Z]{8}$/) });
    const audit = r.audit.at(-1)!;
    expect(audit.details).toMatchObject({ code, ref: r.failureRef, error: expect.stringContaining(ACCOUNT) });
    const shown = slackText();
    expect(shown).not.toContain(ACCOUNT);
    expect(shown).not.toContain('arn:aws');
    expect(shown).not.toContain(name);
    // A failure is told (FAILED); a retry is silent until it ends.
    if (after === 'FAILED') {
      expect(text(h.approvalMessage(id))).toContain(`${code}, ref ${r.failureRef}`);
      expect(h.dms(REQUESTER).join('\n')).toContain(`${code}, ref ${r.failureRef}`);
    }
  });

  it('a revoke failure alerts the approver channel with a code and a reference, not the AWS message', async () => {
    ec2.on(RevokeSecurityGroupIngressCommand).rejects(awsError('UnauthorizedOperation', 403));
    const id = await h.request('request plain-box 30m 203.0.113.7 patching');
    await h.click(APPROVER, ACTION_APPROVE, id);
    await h.command(REQUESTER, `revoke ${id}`);
    await h.settle();
    const r = (await h.bot.service.get(id))!;
    expect(r).toMatchObject({ status: 'REVOKING', failure: 'aws-denied', flagged: true });
    const alert = h.slack.callsTo('chat.postMessage').find((c) => c.args.channel === APPROVER_CHANNEL && c.args.thread_ts && String(c.args.text).includes('Needs attention'));
    expect(String(alert?.args.text)).toContain(`aws-denied, ref ${r.failureRef}`);
    expect(r.audit.at(-1)?.details).toMatchObject({ ref: r.failureRef, error: expect.stringContaining(ARN) });
    expect(slackText()).not.toContain(ACCOUNT);
  });
});
