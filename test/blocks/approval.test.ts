import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { approvalMessage } from '../../blocks/approval';
import { ACTION_APPROVE, ACTION_APPROVE_WITH, ACTION_DENY, ACTION_DENY_WITH, ACTION_REVIEW, ACTION_REVOKE_NOW, BLOCK_DECISION, BLOCK_REVIEW, BLOCK_REVOKE_NOW } from '../../blocks/ids';
import { LIMITS } from '../../blocks/text';
import type { RequestStatus } from '../../src/domain/types';
import {
  ALL_STATUSES,
  APPROVER,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  NASTY_ESCAPED,
  PARENT,
  request,
  REQUESTER,
  REVOKER,
  SECOND_APPROVER,
  roleGrant,
  roleRequest,
  roleTarget,
  ssmGrant,
  ssmRequest,
  ssmTarget,
  target,
  textObjects,
} from './fixtures';

const actionsBlocks = (blocks: KnownBlock[]) => blocks.filter((b): b is ActionsBlock => b.type === 'actions');
const allText = (blocks: KnownBlock[]) => textObjects(blocks).map((t) => t.text).join('\n');
const lastText = (blocks: KnownBlock[]) => textObjects(blocks.slice(-1)).map((t) => t.text).join('\n');
/** The status line: the last context block (an ACTIVE grant's "Revoke now" comes after it). */
const statusText = (blocks: KnownBlock[]) => textObjects(blocks.filter((b) => b.type === 'context').slice(-1)).map((t) => t.text).join('\n');
/** Action blocks other than "Revoke now". */
const otherActions = (blocks: KnownBlock[]) => actionsBlocks(blocks).filter((b) => b.block_id !== BLOCK_REVOKE_NOW);
const CREATED_PLUS_5 = '2026-11-22T10:05:00.000Z';
const REVIEWER = 'U0REVIEWER';

describe('approvalMessage: PENDING', () => {
  const r = request();
  const msg = approvalMessage(r, target());

  it('ends with one actions block holding Approve, Approve…, Deny and Deny…', () => {
    const [decision, ...others] = actionsBlocks(msg.blocks);
    expect(others).toHaveLength(0);
    expect(decision).toBe(msg.blocks[msg.blocks.length - 1]);
    expect(decision!.block_id).toBe(BLOCK_DECISION);
    const [approve, approveWith, deny, denyWith, ...more] = decision!.elements as Button[];
    expect(more).toHaveLength(0);
    expect(approve).toMatchObject({ type: 'button', action_id: ACTION_APPROVE, style: 'primary', text: { text: 'Approve' } });
    expect(approveWith).toMatchObject({ type: 'button', action_id: ACTION_APPROVE_WITH, text: { text: 'Approve…' } });
    expect(approveWith!.style).toBeUndefined();
    expect(deny).toMatchObject({ type: 'button', action_id: ACTION_DENY, style: 'danger', text: { text: 'Deny' } });
    expect(denyWith).toMatchObject({ type: 'button', action_id: ACTION_DENY_WITH, text: { text: 'Deny…' } });
    expect(denyWith!.style).toBeUndefined();
  });

  it('puts the request id and nothing else in the button values', () => {
    const buttons = actionsBlocks(msg.blocks)[0]!.elements as Button[];
    expect(buttons.map((b) => b.value)).toEqual([r.id, r.id, r.id, r.id]);
  });

  it('has no quorum line when one approval is enough', () => {
    expect(msg.blocks.filter((b) => b.type === 'context')).toHaveLength(0);
  });

  it('shows the facts of the request', () => {
    const fields = (msg.blocks.find((b): b is SectionBlock => b.type === 'section' && !!b.fields)!.fields ?? []).map((f) => f.text);
    expect(fields).toEqual([
      `*Requester*\n<@${REQUESTER}>`,
      '*Target*\nprod-bastion\nec2-ssh · port 22 · sg-0123456789abcdef0',
      '*Duration*\n30m',
      '*Address*\n`203.0.113.7/32`',
      '*Request*\n`jit-abc123`',
      expect.stringMatching(/^\*Approval deadline\*\n<!date\^\d+\^\{date_short_pretty\} \{time\}\|10:30 UTC>$/),
    ]);
    expect(allText(msg.blocks)).toContain('*Reason*\ninvestigating checkout latency');
  });

  it('has a header naming the target', () => {
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text', text: '🔐 Access request: prod-bastion' } });
  });

  it('has a one-line fallback text without mentions or the reason', () => {
    expect(msg.text).toBe('Access request jit-abc123: prod-bastion for 30m (waiting for approval until 10:30 UTC)');
  });

  it('falls back to the grant (or says so) when the target is no longer configured', () => {
    expect(allText(approvalMessage(r, undefined).blocks)).toContain('ec2-ssh · no longer configured');
    const withGrant = inStatus('ACTIVE', {
      grant: { kind: 'ec2-ssh', region: 'eu-west-1', securityGroupId: 'sg-9', securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32', port: 2222 },
    });
    expect(allText(approvalMessage(withGrant, undefined).blocks)).toContain('ec2-ssh · port 2222 · sg-9');
  });
});

describe('approvalMessage: role-backed kinds', () => {
  const fields = (msg: ReturnType<typeof approvalMessage>) => (msg.blocks.find((b): b is SectionBlock => b.type === 'section' && !!b.fields)!.fields ?? []).map((f) => f.text);

  it('aws-role: shows the role ARN and "temporary credentials", and no address', () => {
    const f = fields(approvalMessage(roleRequest('PENDING'), roleTarget()));
    expect(f).toContain('*Target*\nprod-readonly\naws-role · `arn:aws:iam::123456789012:role/jit/ProdReadOnly` · temporary credentials');
    expect(f.some((x) => x.startsWith('*Address*'))).toBe(false);
    expect(f).toHaveLength(5);
  });

  it('ssm-session: shows the nodes (ids or tag selector) and the document, and no address', () => {
    expect(fields(approvalMessage(ssmRequest('PENDING'), ssmTarget()))).toContain('*Target*\ndev-nodes\nssm-session · nodes tagged `ENV=dev` · document `SSM-SessionManagerRunShell`');
    const byId = fields(approvalMessage(ssmRequest('PENDING'), ssmTarget({ instanceIds: ['i-1', 'i-2'], nodeTags: {}, documentName: 'AWS-StartSSHSession' })));
    expect(byId).toContain('*Target*\ndev-nodes\nssm-session · `i-1`, `i-2` · document `AWS-StartSSHSession`');
    expect(byId.some((x) => x.startsWith('*Address*'))).toBe(false);
  });

  it('falls back to the grant when the target is gone (or is now another kind)', () => {
    expect(allText(approvalMessage(roleRequest('ACTIVE', { grant: roleGrant({ roleArn: 'arn:aws:iam::1:role/Gone' }) }), undefined).blocks)).toContain(
      'aws-role · `arn:aws:iam::1:role/Gone` · temporary credentials',
    );
    expect(allText(approvalMessage(ssmRequest('ACTIVE', { grant: ssmGrant({ instanceIds: ['i-9'] }) }), target()).blocks)).toContain('ssm-session · `i-9` · document');
    expect(allText(approvalMessage(roleRequest('PENDING'), undefined).blocks)).toContain('aws-role · no longer configured');
  });

  it.each(ALL_STATUSES)('%s: stays within limits with 10,000-character text and huge node lists', (status) => {
    const long = 'x'.repeat(10_000);
    const ids = Array.from({ length: 1_000 }, () => 'i'.repeat(200));
    const msg = approvalMessage(
      ssmRequest(status, { reason: long, failure: long, targetName: 'n'.repeat(500) }),
      ssmTarget({ instanceIds: ids, nodeTags: Object.fromEntries(ids.map((v, i) => [`k${i}`, v])), documentName: NASTY.repeat(100) }),
    );
    expectMessageWithinLimits(msg);
    expectNoRawPing(msg);
    const role = approvalMessage(roleRequest(status, { reason: long, failure: long }), roleTarget({ roleArn: NASTY.repeat(1_000) }));
    expectMessageWithinLimits(role);
    expectNoRawPing(role);
  });
});

describe('approvalMessage: resolved statuses', () => {
  const cases: [RequestStatus, Partial<Parameters<typeof inStatus>[1]>, RegExp][] = [
    ['GRANTING', {}, new RegExp(`^⏳ Approved by <@${APPROVER}> · granting access…$`)],
    ['GRANTING', { failure: 'aws-throttled', failureRef: 'REF12345' }, /granting access… \(retrying after: AWS is throttling the bot \(aws-throttled, ref REF12345\)\)$/],
    ['ACTIVE', {}, new RegExp(`^✅ Approved by <@${APPROVER}> · active until <!date\\^\\d+\\^[^|]+\\|10:36 UTC>$`)],
    ['REVOKING', {}, /^⏳ Revoking…$/],
    ['REVOKED', {}, /^🔒 Access ended at <!date\^\d+\^[^|]+\|10:36 UTC> \(expired\)$/],
    ['REVOKED', { endReason: 'revoked', endedBy: REVOKER }, new RegExp(`\\(revoked early by <@${REVOKER}>\\)$`)],
    ['DENIED', {}, new RegExp(`^❌ Denied by <@${APPROVER}>$`)],
    ['EXPIRED', {}, /^⌛ Expired: nobody approved before <!date\^\d+\^[^|]+\|10:30 UTC>$/],
    ['CANCELLED', {}, /^↩️ Withdrawn by the requester$/],
    ['FAILED', {}, new RegExp(`^⚠️ Approved by <@${APPROVER}> · grant failed: AWS could not find the resource \\(aws-not-found, ref 7KQ3M9XD\\)$`)],
    ['EXTENDED', {}, new RegExp(`^✅ Approved by <@${APPROVER}> · access extended until <!date\\^\\d+\\^[^|]+\\|11:06 UTC>$`)],
  ];

  it.each(cases)('%s %j: no decision buttons, status line %s', (status, overrides, line) => {
    const msg = approvalMessage(inStatus(status, overrides), target());
    expect(otherActions(msg.blocks)).toHaveLength(0);
    // Only an ACTIVE grant ends with "Revoke now", right under its status line.
    expect(msg.blocks[msg.blocks.length - (status === 'ACTIVE' ? 2 : 1)]!.type).toBe('context');
    expect(actionsBlocks(msg.blocks).map((b) => b.block_id)).toEqual(status === 'ACTIVE' ? [BLOCK_REVOKE_NOW] : []);
    expect(statusText(msg.blocks)).toMatch(line);
  });

  it.each(ALL_STATUSES.filter((s) => s !== 'PENDING'))('%s keeps the same facts as PENDING', (status) => {
    const pending = approvalMessage(request(), target());
    const resolved = approvalMessage(inStatus(status), target());
    expect(resolved.blocks.slice(1, 3)).toEqual(pending.blocks.slice(1, 3));
    if (status !== 'EXTENDED') expect(resolved.blocks[0]).toEqual(pending.blocks[0]);
  });

  it.each(ALL_STATUSES)('%s: fallback text is one line with no mention', (status) => {
    const msg = approvalMessage(inStatus(status), target());
    expect(msg.text).not.toContain('\n');
    expect(msg.text).not.toContain('<@');
    if (status === 'EXTENDED') expect(msg.text).toBe(`Extension request jit-abc123: prod-bastion, 30m more for ${PARENT} (extended)`);
    else expect(msg.text).toMatch(/^Access request jit-abc123: prod-bastion for 30m \(.+\)$/);
  });
});

describe('approvalMessage: user text', () => {
  it.each(ALL_STATUSES)('%s: escapes the reason and the failure', (status) => {
    const msg = approvalMessage(inStatus(status, { reason: NASTY, failure: NASTY }), target());
    expectNoRawPing(msg);
    expect(allText(msg.blocks)).toContain(`*Reason*\n${NASTY_ESCAPED}`);
  });

  it('sends every mrkdwn object verbatim, so a typed "@channel" is not auto-parsed', () => {
    const msg = approvalMessage(request({ reason: '@channel @here please' }), target());
    for (const t of textObjects(msg.blocks).filter((o) => o.type === 'mrkdwn')) expect(t).toMatchObject({ verbatim: true });
  });

  it('shows a user id that is not one as text, not as a mention', () => {
    const msg = approvalMessage(inStatus('DENIED', { decidedBy: '<!everyone>' }), target());
    expect(JSON.stringify(msg)).not.toContain('<!everyone>');
  });
});

describe('approvalMessage: limits', () => {
  const long = 'x'.repeat(10_000);

  it.each(ALL_STATUSES)('%s: a 10,000-character reason and failure stay within Slack limits', (status) => {
    const msg = approvalMessage(inStatus(status, { reason: long, failure: long, targetName: 'n'.repeat(500) }), target());
    expectMessageWithinLimits(msg);
    expect(allText(msg.blocks)).toContain('x…');
  });

  it('a reason of 10,000 "<" stays within the section limit after escaping', () => {
    const msg = approvalMessage(request({ reason: '<'.repeat(10_000) }), target());
    expectMessageWithinLimits(msg);
    expectNoRawPing(msg);
  });

  it('the header is cut to 150 characters', () => {
    const msg = approvalMessage(request({ targetName: 't'.repeat(400) }), target());
    expect(msg.blocks[0]).toMatchObject({ type: 'header' });
    const header = msg.blocks[0] as { text: { text: string } };
    expect(header.text.text).toHaveLength(150);
    expect(header.text.text.endsWith('…')).toBe(true);
  });
});

describe('approvalMessage: quorum', () => {
  const quorum = (overrides: Parameters<typeof request>[0] = {}) => request({ approvalsRequired: 2, ...overrides });
  const contexts = (blocks: KnownBlock[]) => blocks.filter((b) => b.type === 'context').map((b) => allText([b]));

  it('says no approval was given yet, above the buttons', () => {
    const msg = approvalMessage(quorum(), target());
    expect(contexts(msg.blocks)).toEqual(['0 of 2 approvals so far']);
    expect(msg.blocks.at(-1)!.type).toBe('actions');
    expect(msg.text).toContain('waiting for approval (0 of 2 approvals) until 10:30 UTC');
  });

  it('lists the approvals so far with escaped notes and narrowed durations; buttons stay', () => {
    const msg = approvalMessage(
      quorum({ approvals: [{ by: APPROVER, at: CREATED_PLUS_5, comment: `ok\n${NASTY}`, durationMs: 15 * 60_000 }] }),
      target(),
    );
    expect(contexts(msg.blocks)).toEqual([`1 of 2 approvals: <@${APPROVER}> (“ok ${NASTY_ESCAPED}”; approved for 15m)`]);
    expect(actionsBlocks(msg.blocks)).toHaveLength(1);
    expectNoRawPing(msg);
    expect(msg.text).not.toContain('<@');
    expect(msg.text).not.toContain('ok');
  });

  it('after the quorum: all approvers with their notes, "approved for 30m (asked 1h)", no buttons', () => {
    const msg = approvalMessage(
      inStatus('ACTIVE', {
        approvalsRequired: 2,
        durationMs: 30 * 60_000,
        requestedDurationMs: 60 * 60_000,
        approvals: [
          { by: APPROVER, at: CREATED_PLUS_5, comment: 'fine by me' },
          { by: SECOND_APPROVER, at: CREATED_PLUS_5, durationMs: 30 * 60_000 },
        ],
        decidedBy: SECOND_APPROVER,
      }),
      target(),
    );
    expect(otherActions(msg.blocks)).toHaveLength(0);
    expect(statusText(msg.blocks)).toMatch(
      new RegExp(`^✅ Approved by <@${APPROVER}> \\(“fine by me”\\), <@${SECOND_APPROVER}> \\(approved for 30m\\) · approved for 30m \\(asked 1h\\) · active until <!date`),
    );
  });

  it('an expired request with some approvals says how many it got', () => {
    const msg = approvalMessage(inStatus('EXPIRED', { approvalsRequired: 3, approvals: [{ by: APPROVER, at: CREATED_PLUS_5 }] }), target());
    expect(lastText(msg.blocks)).toMatch(new RegExp(`^⌛ Expired with 1 of 3 approvals \\(<@${APPROVER}>\\) before <!date`));
  });

  it('keeps within limits with 30 approvers leaving 500-character notes of "<"', () => {
    const approvals = Array.from({ length: 30 }, (_, i) => ({ by: `U${String(i).padStart(8, '0')}`, at: CREATED_PLUS_5, comment: '<'.repeat(500), durationMs: 15 * 60_000 }));
    for (const status of ['PENDING', 'GRANTING', 'ACTIVE', 'FAILED', 'EXPIRED', 'EXTENDED'] as RequestStatus[]) {
      const msg = approvalMessage(inStatus(status, { approvalsRequired: 31, approvals, requestedDurationMs: 3_600_000, failure: 'x'.repeat(5_000) }), target());
      expectMessageWithinLimits(msg);
      expectNoRawPing(msg);
      expect(allText(msg.blocks)).toContain('and 20 more');
      if (status === 'ACTIVE') expect(statusText(msg.blocks)).toMatch(/active until <!date\^\d+\^[^|]+\|10:36 UTC>$/);
    }
  });
});

describe('approvalMessage: denial with a note', () => {
  it('shows the denier and the escaped note', () => {
    const msg = approvalMessage(inStatus('DENIED', { decisionComment: `not during the freeze ${NASTY}` }), target());
    expect(lastText(msg.blocks)).toBe(`❌ Denied by <@${APPROVER}>: “not during the freeze ${NASTY_ESCAPED}”`);
    expect(actionsBlocks(msg.blocks)).toHaveLength(0);
    expectNoRawPing(msg);
    expect(msg.text).not.toContain('freeze');
  });

  it('cuts a very long note and stays within limits', () => {
    const msg = approvalMessage(inStatus('DENIED', { decisionComment: '&'.repeat(10_000) }), target());
    expectMessageWithinLimits(msg);
    expect(lastText(msg.blocks).length).toBeLessThanOrEqual(LIMITS.contextText);
    expect(lastText(msg.blocks)).toMatch(/&amp;…”$/);
  });
});

describe('approvalMessage: approved by policy', () => {
  it('auto-approved: names the rule', () => {
    const msg = approvalMessage(inStatus('ACTIVE', { approvedVia: 'auto', policyRule: 'office-hours', decidedBy: undefined, approvals: undefined }), target());
    expect(statusText(msg.blocks)).toMatch(/^✅ 🤖 Auto-approved by rule `office-hours` · active until <!date/);
    expect(otherActions(msg.blocks)).toHaveLength(0);
    expect(allText(msg.blocks)).not.toContain('Approval deadline');
  });

  it('escapes a rule name', () => {
    const msg = approvalMessage(inStatus('GRANTING', { approvedVia: 'auto', policyRule: NASTY }), target());
    expectNoRawPing(msg);
  });
});

describe('approvalMessage: break-glass', () => {
  const glass = (status: RequestStatus, overrides: Parameters<typeof inStatus>[1] = {}) =>
    inStatus(status, { breakGlass: true, approvedVia: 'break-glass', decidedBy: undefined, approvals: undefined, ...overrides });

  it('has a loud header and says it was taken without approval', () => {
    const msg = approvalMessage(glass('ACTIVE'), target());
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { text: '🚨 Break-glass access: prod-bastion' } });
    expect(allText(msg.blocks)).toMatch(new RegExp(`✅ 🚨 Break-glass: taken by <@${REQUESTER}> without approval · active until <!date`));
    expect(msg.text).toMatch(/^Break-glass access jit-abc123: prod-bastion for 30m \(active until 10:36 UTC\)$/);
  });

  it.each(ALL_STATUSES)('%s: has the Reviewed button (value = the id) until reviewed, and never the decision buttons', (status) => {
    const r = glass(status);
    const msg = approvalMessage(r, target());
    const blocks = actionsBlocks(msg.blocks).filter((b) => b.block_id === BLOCK_REVIEW);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.elements).toEqual([expect.objectContaining({ type: 'button', action_id: ACTION_REVIEW, value: r.id, text: expect.objectContaining({ text: 'Reviewed' }) })]);
    if (status !== 'PENDING') expect(actionsBlocks(msg.blocks).filter((b) => b.block_id === BLOCK_DECISION)).toHaveLength(0);
  });

  it.each(ALL_STATUSES)('%s: once reviewed, says by whom and when, without the button', (status) => {
    const msg = approvalMessage(glass(status, { reviewedBy: REVIEWER, reviewedAt: '2026-11-22T10:20:00.000Z' }), target());
    expect(actionsBlocks(msg.blocks).filter((b) => b.block_id === BLOCK_REVIEW)).toHaveLength(0);
    expect(lastText(msg.blocks)).toMatch(new RegExp(`^👀 Reviewed by <@${REVIEWER}> at <!date\\^\\d+\\^[^|]+\\|10:20 UTC>$`));
  });

  it('a request that is not break-glass has no Reviewed button', () => {
    for (const status of ALL_STATUSES) {
      expect(actionsBlocks(approvalMessage(inStatus(status), target()).blocks).filter((b) => b.block_id === BLOCK_REVIEW)).toHaveLength(0);
    }
  });
});

describe('approvalMessage: extension requests', () => {
  const ext = (status: RequestStatus, overrides: Parameters<typeof inStatus>[1] = {}) => inStatus(status, { extends: PARENT, ...overrides });

  it('PENDING: header, "Adds 30m to `parent`", and the decision buttons', () => {
    const msg = approvalMessage(ext('PENDING'), target());
    expect(msg.blocks[0]).toMatchObject({ type: 'header', text: { text: '⏱ Extension request: prod-bastion' } });
    expect(allText(msg.blocks)).toContain(`Adds *30m* to \`${PARENT}\``);
    expect(actionsBlocks(msg.blocks)).toHaveLength(1);
    expect(msg.text).toBe(`Extension request jit-abc123: prod-bastion, 30m more for ${PARENT} (waiting for approval until 10:30 UTC)`);
  });

  it('EXTENDED: who approved and until when access now runs', () => {
    const msg = approvalMessage(ext('EXTENDED'), target());
    expect(lastText(msg.blocks)).toMatch(new RegExp(`^✅ Approved by <@${APPROVER}> · access extended until <!date\\^\\d+\\^[^|]+\\|11:06 UTC>$`));
    expect(actionsBlocks(msg.blocks)).toHaveLength(0);
  });

  it('escapes the parent id', () => {
    expectNoRawPing(approvalMessage(ext('PENDING', { extends: NASTY }), target()));
  });
});

describe('approvalMessage: Revoke now', () => {
  const revokeButtons = (blocks: KnownBlock[]) => actionsBlocks(blocks).filter((b) => b.block_id === BLOCK_REVOKE_NOW).flatMap((b) => b.elements as Button[]);

  it('an ACTIVE grant carries one "Revoke now" (danger) whose value is the request id only, with a confirmation naming target and requester', () => {
    const r = inStatus('ACTIVE');
    const [button, ...more] = revokeButtons(approvalMessage(r, target()).blocks);
    expect(more).toHaveLength(0);
    expect(button).toMatchObject({ type: 'button', action_id: ACTION_REVOKE_NOW, value: r.id, style: 'danger', text: { text: 'Revoke now' } });
    expect(button!.confirm).toMatchObject({ title: { type: 'plain_text', text: 'Revoke access now?' }, confirm: { text: 'Revoke' }, deny: { text: 'Cancel' }, style: 'danger' });
    expect(button!.confirm!.text.text).toContain(`<@${REQUESTER}>'s access to *prod-bastion*`);
    expect(button!.confirm!.text.text).toContain(r.id);
  });

  it('every other status, and an ACTIVE extension request, has none', () => {
    for (const status of ALL_STATUSES.filter((s) => s !== 'ACTIVE')) expect(revokeButtons(approvalMessage(inStatus(status), target()).blocks)).toHaveLength(0);
    expect(revokeButtons(approvalMessage(inStatus('ACTIVE', { extends: PARENT }), target()).blocks)).toHaveLength(0);
  });

  it('a break-glass grant has both Revoke now and Reviewed', () => {
    const msg = approvalMessage(inStatus('ACTIVE', { breakGlass: true, approvedVia: 'break-glass' }), target());
    expect(actionsBlocks(msg.blocks).map((b) => b.block_id)).toEqual([BLOCK_REVOKE_NOW, BLOCK_REVIEW]);
  });

  it('escapes the target name in the dialog and stays within Slack\'s dialog limits', () => {
    const [button] = revokeButtons(approvalMessage(inStatus('ACTIVE', { targetName: NASTY.repeat(50) }), target()).blocks);
    const text = button!.confirm!.text.text;
    expect(text).not.toMatch(/<!channel>|<@U123>/);
    expect(text).toContain('&lt;!channel&gt;');
    expect(text.length).toBeLessThanOrEqual(300);
  });
});

describe('approvalMessage: the ticket a reason names', () => {
  it('links the key under the reason: <url|KEY>, the reason still escaped', () => {
    const msg = approvalMessage(request({ reason: `OPS-123 <b> & ${NASTY}`, ticket: { key: 'OPS-123', url: 'https://jira.example.com/browse/OPS-123' } }), target());
    expect(msg.blocks[3]).toMatchObject({ type: 'context' });
    expect(allText([msg.blocks[3]!])).toBe('🎫 Ticket <https://jira.example.com/browse/OPS-123|OPS-123>');
    expect(allText(msg.blocks)).toContain(`*Reason*\nOPS-123 &lt;b&gt; &amp; ${NASTY_ESCAPED}`);
    expectNoRawPing(msg);
    expect(msg.text).not.toContain('OPS-123');
  });

  it('a key with <, > and & is escaped in the text; the URL carries it encoded (as the core built it)', () => {
    const key = 'A&B<C>|D';
    const msg = approvalMessage(request({ reason: `${key} x`, ticket: { key, url: `https://t.example.com/${encodeURIComponent(key)}` } }), target());
    expect(allText([msg.blocks[3]!])).toBe('🎫 Ticket <https://t.example.com/A%26B%3CC%3E%7CD|A&amp;B&lt;C&gt;|D>');
    expectNoRawPing(msg);
  });

  it('shows the key as code when there is no usable link, and nothing without a ticket', () => {
    expect(allText([approvalMessage(request({ ticket: { key: 'OPS-1' } }), target()).blocks[3]!])).toBe('🎫 Ticket `OPS-1`');
    expect(allText([approvalMessage(request({ ticket: { key: 'OPS-1', url: 'javascript:alert(1)' } }), target()).blocks[3]!])).toBe('🎫 Ticket `OPS-1`');
    expect(allText([approvalMessage(request({ ticket: { key: 'OPS-1', url: 'https://x.example.com/a>b' } }), target()).blocks[3]!])).toBe('🎫 Ticket `OPS-1`');
    expect(JSON.stringify(approvalMessage(request(), target()).blocks)).not.toContain('Ticket');
  });

  it('keeps the link in every status', () => {
    for (const status of ALL_STATUSES) expect(allText(approvalMessage(inStatus(status, { ticket: { key: 'OPS-9', url: 'https://j.example.com/OPS-9' } }), target()).blocks)).toContain('<https://j.example.com/OPS-9|OPS-9>');
  });
});
