import { auditLine } from '../../blocks/audit-line';
import { APPROVER, expectMessageWithinLimits, expectNoRawPing, NASTY, NASTY_ESCAPED, REQUESTER, request } from './fixtures';

const r = request({ id: 'jit-abc123' });

it('one line: when (exact), the request, who, what, from → to, and the AWS ids', () => {
  const m = auditLine(r, { at: '2026-11-22T10:06:00.123Z', actor: 'system', action: 'grant', from: 'GRANTING', to: 'ACTIVE', details: { securityGroupRuleId: 'sgr-0abc', securityGroupId: 'sg-0123456789abcdef0' } });
  expect(m.blocks).toHaveLength(1);
  const text = JSON.stringify(m.blocks);
  for (const part of ['`2026-11-22T10:06:00.123Z`', '`jit-abc123`', '*prod-bastion*', 'system `grant`', `(for <@${REQUESTER}>)`, 'GRANTING → ACTIVE', 'securityGroupRuleId `sgr-0abc`', 'securityGroupId `sg-0123456789abcdef0`']) {
    expect(text).toContain(part);
  }
  expect(m.text).toBe('2026-11-22T10:06:00.123Z jit-abc123 grant: GRANTING → ACTIVE');
  expectMessageWithinLimits(m);
});

it('the creation reads "new → PENDING", by the requester (no "for")', () => {
  const text = JSON.stringify(auditLine(r, { at: '2026-11-22T10:00:00.000Z', actor: REQUESTER, action: 'request', from: null, to: 'PENDING' }).blocks);
  expect(text).toContain(`<@${REQUESTER}> \`request\` · new → PENDING`);
  expect(text).not.toContain('(for');
});

it('user text in the details (a comment, a reason) is escaped, on one line, and cut', () => {
  const m = auditLine(r, { at: '2026-11-22T10:05:00.000Z', actor: APPROVER, action: 'deny', from: 'PENDING', to: 'DENIED', details: { comment: `${NASTY}\nsecond line ${'y'.repeat(5_000)}` } });
  expectNoRawPing(m);
  const text = JSON.stringify(m.blocks);
  expect(text).toContain(NASTY_ESCAPED);
  expect(text).not.toContain('\\n');
  expectMessageWithinLimits(m);
});
