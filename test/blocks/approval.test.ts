import type { ActionsBlock, Button, KnownBlock, SectionBlock } from '@slack/types';
import { approvalMessage } from '../../blocks/approval';
import { ACTION_APPROVE, ACTION_DENY, BLOCK_DECISION } from '../../blocks/ids';
import type { RequestStatus } from '../../src/domain/types';
import {
  ALL_STATUSES,
  APPROVER,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  NASTY_ESCAPED,
  request,
  REQUESTER,
  REVOKER,
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

describe('approvalMessage: PENDING', () => {
  const r = request();
  const msg = approvalMessage(r, target());

  it('ends with one actions block holding Approve and Deny', () => {
    const [decision, ...others] = actionsBlocks(msg.blocks);
    expect(others).toHaveLength(0);
    expect(decision).toBe(msg.blocks[msg.blocks.length - 1]);
    expect(decision!.block_id).toBe(BLOCK_DECISION);
    const [approve, deny] = decision!.elements as Button[];
    expect(approve).toMatchObject({ type: 'button', action_id: ACTION_APPROVE, style: 'primary', text: { text: 'Approve' } });
    expect(deny).toMatchObject({ type: 'button', action_id: ACTION_DENY, style: 'danger', text: { text: 'Deny' } });
  });

  it('puts the request id and nothing else in the button values', () => {
    const buttons = actionsBlocks(msg.blocks)[0]!.elements as Button[];
    expect(buttons.map((b) => b.value)).toEqual([r.id, r.id]);
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
    const byId = fields(approvalMessage(ssmRequest('PENDING'), ssmTarget({ instanceIds: ['i-1', 'i-2'], tags: {}, documentName: 'AWS-StartSSHSession' })));
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
      ssmTarget({ instanceIds: ids, tags: Object.fromEntries(ids.map((v, i) => [`k${i}`, v])), documentName: NASTY.repeat(100) }),
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
    ['GRANTING', { failure: 'Throttling' }, /granting access… \(retrying after: Throttling\)$/],
    ['ACTIVE', {}, new RegExp(`^✅ Approved by <@${APPROVER}> · active until <!date\\^\\d+\\^[^|]+\\|10:36 UTC>$`)],
    ['REVOKING', {}, /^⏳ Revoking…$/],
    ['REVOKED', {}, /^🔒 Access ended at <!date\^\d+\^[^|]+\|10:36 UTC> \(expired\)$/],
    ['REVOKED', { endReason: 'revoked', endedBy: REVOKER }, new RegExp(`\\(revoked early by <@${REVOKER}>\\)$`)],
    ['DENIED', {}, new RegExp(`^❌ Denied by <@${APPROVER}>$`)],
    ['EXPIRED', {}, /^⌛ Expired: nobody approved before <!date\^\d+\^[^|]+\|10:30 UTC>$/],
    ['CANCELLED', {}, /^↩️ Withdrawn by the requester$/],
    ['FAILED', {}, new RegExp(`^⚠️ Approved by <@${APPROVER}> · grant failed: InvalidGroup.NotFound: the security group does not exist$`)],
  ];

  it.each(cases)('%s %j: no buttons, status line %s', (status, overrides, line) => {
    const msg = approvalMessage(inStatus(status, overrides), target());
    expect(actionsBlocks(msg.blocks)).toHaveLength(0);
    expect(msg.blocks[msg.blocks.length - 1]!.type).toBe('context');
    expect(lastText(msg.blocks)).toMatch(line);
  });

  it.each(ALL_STATUSES.filter((s) => s !== 'PENDING'))('%s keeps the same facts as PENDING', (status) => {
    const pending = approvalMessage(request(), target());
    const resolved = approvalMessage(inStatus(status), target());
    expect(resolved.blocks.slice(0, 3)).toEqual(pending.blocks.slice(0, 3));
  });

  it.each(ALL_STATUSES)('%s: fallback text is one line with no mention', (status) => {
    const msg = approvalMessage(inStatus(status), target());
    expect(msg.text).not.toContain('\n');
    expect(msg.text).not.toContain('<@');
    expect(msg.text).toMatch(/^Access request jit-abc123: prod-bastion for 30m \(.+\)$/);
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
