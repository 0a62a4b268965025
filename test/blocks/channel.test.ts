import { revokedThreadMessage, systemAlert } from '../../blocks/channel';
import { pendingRequest } from '../support/requests';

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
