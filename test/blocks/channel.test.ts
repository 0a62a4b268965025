import type { KnownBlock } from '@slack/types';
import { breakGlassAlert, MAX_REMINDER_MENTIONS, reminderThreadMessage, revokedThreadMessage, systemAlert } from '../../blocks/channel';
import { pendingRequest } from '../support/requests';
import {
  APPROVER,
  APPROVER_GROUP,
  ec2Grant,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  NASTY_ESCAPED,
  PARENT,
  REQUESTER,
  roleGrant,
  roleRequest,
  roleTarget,
  SECOND_APPROVER,
  ssmRequest,
  target,
  textObjects,
} from './fixtures';

const grant = { kind: 'ec2-ssh' as const, region: 'eu-west-1', securityGroupId: 'sg-0123456789abcdef0', securityGroupRuleId: 'sgr-0abc', cidr: '203.0.113.7/32', port: 22 };

it('says revoked and verified, with the AWS ids', () => {
  const m = revokedThreadMessage(pendingRequest({ status: 'REVOKED', grant, revokeOutcome: 'verified' }));
  const all = JSON.stringify(m);
  expect(m.text).toMatch(/Revoked and verified/);
  for (const id of ['sgr-0abc', 'sg-0123456789abcdef0', 'eu-west-1', '203.0.113.7/32']) expect(all).toContain(id);
});

it('says a shared rule stays when other grants still hold it', () => {
  const m = revokedThreadMessage(pendingRequest({ status: 'REVOKED', grant: { ...grant, shared: true }, revokeOutcome: 'released' }));
  expect(JSON.stringify(m)).toMatch(/shared with other live grants/);
});

it('an Identity Center revoke names the permission set and every account deleted, and the session bound', () => {
  const sso = { kind: 'sso-permission-set' as const, region: 'eu-west-1', instanceArn: 'arn:aws:sso:::instance/ssoins-1111222233334444', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd', accountIds: ['210987654321'], principalId: 'u-1', email: 'a@example.com', sessionDuration: 'PT1H' };
  const one = JSON.stringify(revokedThreadMessage(pendingRequest({ kind: 'sso-permission-set', status: 'REVOKED', grant: sso, revokeOutcome: 'verified' })));
  expect(one).toContain('The assignment of permission set `ps-aaaabbbbccccdddd` on account `210987654321` was deleted, and Identity Center no longer lists it.');
  expect(one).toContain('can last up to 1h longer');
  const two = JSON.stringify(revokedThreadMessage(pendingRequest({ kind: 'sso-permission-set', status: 'REVOKED', grant: { ...sso, accountIds: ['210987654321', '311111111111'] }, revokeOutcome: 'verified' })));
  expect(two).toContain('The assignments of permission set `ps-aaaabbbbccccdddd` on 2 accounts: `210987654321`, `311111111111` were deleted, and Identity Center no longer lists them.');
});

it('escapes alert text and keeps it within section limits', () => {
  const m = systemAlert('Drift', `<!channel> ${'x'.repeat(5000)}`);
  const all = JSON.stringify(m);
  expect(all).not.toContain('<!channel>');
  const section = m.blocks[0] as { text: { text: string } };
  expect(section.text.text.length).toBeLessThanOrEqual(3000);
});

describe('revokedThreadMessage per kind', () => {
  const revoked = (kind: 'aws-role' | 'ssm-session', details?: Record<string, string>) =>
    (kind === 'aws-role' ? roleRequest : ssmRequest)('REVOKED', {
      revokeOutcome: 'verified',
      audit: [{ at: '2026-11-22T10:36:00.000Z', actor: 'system', action: 'revoked', from: 'REVOKING', to: 'REVOKED', ...(details ? { details } : {}) }],
    });
  const text = (m: { blocks: KnownBlock[] }) => textObjects(m.blocks).map((t) => t.text).join('\n');

  it('aws-role: the deny policy on the role denies every session of the grant', () => {
    const m = revokedThreadMessage(revoked('aws-role'));
    expect(text(m)).toContain(
      '🔒 *Revoked and verified:* the role\'s IAM deny policy (`jit-deny`) on `arn:aws:iam::123456789012:role/jit/ProdReadOnly` now denies every session of this grant (`jit-abc123`).',
    );
    expect(text(m)).not.toContain('live session');
    expect(m.text).toBe('Revoked and verified: jit-abc123');
    expectMessageWithinLimits(m);
  });

  it('ssm-session: the same, plus how many live sessions were terminated', () => {
    const m = revokedThreadMessage(revoked('ssm-session', { sessionsEnded: 'alice-0a1b2c,alice-3d4e5f' }));
    expect(text(m)).toContain('the role\'s IAM deny policy (`jit-deny`) on `arn:aws:iam::123456789012:role/jit/SsmDevAccess` now denies every session of this grant (`jit-abc123`). 2 live sessions terminated.');
    expect(text(m)).toContain('sessions `alice-0a1b2c`, `alice-3d4e5f`');
  });

  it('ssm-session: one session is singular, and none recorded says nothing about sessions', () => {
    expect(text(revokedThreadMessage(revoked('ssm-session', { sessionsEnded: 'alice-1' })))).toContain('1 live session terminated.');
    expect(text(revokedThreadMessage(revoked('ssm-session', { outcome: 'verified' })))).not.toContain('terminated');
    expect(text(revokedThreadMessage(revoked('ssm-session')))).not.toContain('terminated');
  });

  it('ssm-session: 500 terminated sessions stay within limits', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `alice-${i}`).join(',');
    const m = revokedThreadMessage(revoked('ssm-session', { sessionsEnded: ids }));
    expect(text(m)).toContain('500 live sessions terminated.');
    expect(text(m)).toContain('and 490 more');
    expectMessageWithinLimits(m);
  });

  it('a role-backed request without a recorded session says there was nothing to deny', () => {
    const m = revokedThreadMessage(roleRequest('REVOKED', { grant: undefined }));
    expect(text(m)).toContain('No session was recorded');
  });

  it('ec2-ssh is unchanged', () => {
    const m = revokedThreadMessage(pendingRequest({ status: 'REVOKED', grant: ec2Grant(), revokeOutcome: 'verified' }));
    expect(text(m)).toContain('🔒 *Revoked and verified.* Rule `sgr-0abc` on `sg-0123456789abcdef0` (eu-west-1), `203.0.113.7/32` port 22 was removed');
  });

  it('escapes the target name and stays within limits with long values', () => {
    const m = revokedThreadMessage(
      roleRequest('REVOKED', { targetName: NASTY, grant: roleGrant({ roleArn: 'a'.repeat(5_000), roleSessionName: 's'.repeat(5_000), region: 'r'.repeat(500) }) }),
    );
    expectNoRawPing(m);
    expectMessageWithinLimits(m);
  });
});

describe('reminderThreadMessage', () => {
  const text = (m: { blocks: KnownBlock[] }) => textObjects(m.blocks).map((t) => t.text).join('\n');

  it('mentions who has not approved yet (users and groups) and how many approvals are still needed', () => {
    const r = inStatus('PENDING', { approvalsRequired: 2, approvals: [{ by: APPROVER, at: '2026-11-22T10:05:00.000Z' }] });
    const m = reminderThreadMessage(r, { users: [SECOND_APPROVER], groups: [APPROVER_GROUP] });
    expect(text(m)).toMatch(
      new RegExp(`^⏰ Still waiting: <@${SECOND_APPROVER}>, <!subteam\\^${APPROVER_GROUP}>, \`jit-abc123\` \\(\\*prod-bastion\\*, 30m\\) needs 1 more approval \\(1 of 2 approvals\\) before <!date\\^\\d+\\^[^|]+\\|10:30 UTC>\\.$`),
    );
    expect(m.text).toBe('Still waiting: jit-abc123 needs 1 more approval (1 of 2 approvals) before 10:30 UTC.');
    expect(m.text).not.toContain('<');
  });

  it('with one approval needed and nobody left to name, still says what waits', () => {
    const m = reminderThreadMessage(inStatus('PENDING'), { users: [], groups: [] });
    expect(text(m)).toMatch(/^⏰ Still waiting: `jit-abc123` \(\*prod-bastion\*, 30m\) needs 1 approval before <!date/);
  });

  it('names an extension as one', () => {
    expect(text(reminderThreadMessage(inStatus('PENDING', { extends: PARENT }), { users: [APPROVER], groups: [] }))).toContain(`extension of \`${PARENT}\` by 30m`);
  });

  it(`mentions at most ${MAX_REMINDER_MENTIONS} and says how many more`, () => {
    const users = Array.from({ length: 30 }, (_, i) => `U${String(i).padStart(8, '0')}`);
    const groups = Array.from({ length: 5 }, (_, i) => `S${String(i).padStart(8, '0')}`);
    const m = reminderThreadMessage(inStatus('PENDING'), { users, groups });
    expect((text(m).match(/<@U|<!subteam\^/g) ?? []).length).toBe(MAX_REMINDER_MENTIONS);
    expect(text(m)).toContain('and 15 more, ');
    expectMessageWithinLimits(m);
  });

  it('escapes anything that is not a user or group id, and the target name', () => {
    const m = reminderThreadMessage(inStatus('PENDING', { targetName: NASTY }), { users: [NASTY, '<!here>'], groups: [NASTY, '!channel'] });
    expectNoRawPing(m);
    expect(JSON.stringify(m)).not.toContain('<!here>');
  });
});

describe('breakGlassAlert', () => {
  const r = inStatus('GRANTING', { breakGlass: true, approvedVia: 'break-glass', decidedBy: undefined, reason: `prod is down ${NASTY}` });
  const m = breakGlassAlert(r, target());
  const text = (msg: { blocks: KnownBlock[] }) => textObjects(msg.blocks).map((t) => t.text).join('\n');

  it('starts the text and the first section with <!here>', () => {
    expect(m.text.startsWith('<!here> ')).toBe(true);
    expect(m.blocks[0]).toMatchObject({ type: 'section' });
    expect(textObjects(m.blocks.slice(0, 1))[0]!.text.startsWith('<!here> ')).toBe(true);
  });

  it('says who took access to what for how long, why (escaped), and how to review it', () => {
    expect(text(m)).toContain(`<!here> 🚨 Break-glass access to *prod-bastion* taken by <@${REQUESTER}> for 30m, without approval.`);
    expect(text(m)).toContain(`*Reason*\nprod is down ${NASTY_ESCAPED}`);
    expect(text(m)).toContain('Review it with the *Reviewed* button on the request');
    expect(text(m)).toContain('`jit-abc123`');
    expectNoRawPing(m);
  });

  it('its fallback has no other mention and no reason', () => {
    expect(m.text).toBe('<!here> 🚨 Break-glass access to prod-bastion taken for 30m (jit-abc123).');
  });

  it('<!here> is the only special mention, whatever the user typed, and limits hold', () => {
    const nasty = breakGlassAlert(
      roleRequest('GRANTING', { breakGlass: true, reason: '<!here> <!everyone> '.repeat(1_000), targetName: '<!here>'.repeat(50), id: 'jit-abc123' }),
      roleTarget({ roleArn: '<!here>'.repeat(200) }),
    );
    const json = JSON.stringify(nasty);
    expect(json.match(/<!here>/g)).toHaveLength(2); // the text and the first section
    expect(json).not.toContain('<!everyone>');
    expectMessageWithinLimits(nasty);
  });
});
