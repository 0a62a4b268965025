import type { KnownBlock } from '@slack/types';
import { revokedThreadMessage, systemAlert } from '../../blocks/channel';
import { pendingRequest } from '../support/requests';
import { ec2Grant, expectMessageWithinLimits, expectNoRawPing, NASTY, roleGrant, roleRequest, ssmRequest, textObjects } from './fixtures';

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
      '🔒 *Revoked and verified:* an IAM deny policy (`jit-deny-jit-abc123`) on `arn:aws:iam::123456789012:role/jit/ProdReadOnly` now denies every session of this grant (`jit-abc123`).',
    );
    expect(text(m)).not.toContain('live session');
    expect(m.text).toBe('Revoked and verified: jit-abc123');
    expectMessageWithinLimits(m);
  });

  it('ssm-session: the same, plus how many live sessions were terminated', () => {
    const m = revokedThreadMessage(revoked('ssm-session', { sessionsEnded: 'alice-0a1b2c,alice-3d4e5f' }));
    expect(text(m)).toContain('an IAM deny policy (`jit-deny-jit-abc123`) on `arn:aws:iam::123456789012:role/jit/SsmDevAccess` now denies every session of this grant (`jit-abc123`). 2 live sessions terminated.');
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
