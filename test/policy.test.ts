import { parseConfig } from '../src/config';
import { NotAllowedError, ValidationError } from '../src/domain/errors';
import { checkCanDecide, checkCanRevoke, recheckForGrant, validateSubmission } from '../src/policy';
import { pendingRequest } from './support/requests';

const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER, U0REQUESTER] }
defaults: { minDuration: 5m, maxDuration: 4h }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, maxDuration: 1h }
  - { name: prod-readonly, kind: aws-role, roleArn: "arn:aws:iam::123456789012:role/ProdReadOnly" }
`);
const input = { requesterId: 'U0REQUESTER', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'debugging' };

it('accepts a valid submission and normalises the address', () => {
  expect(validateSubmission(config, input)).toMatchObject({ durationMs: 1_800_000, cidr: '203.0.113.7/32', reason: 'debugging', target: { name: 'prod-bastion' } });
});

it.each([
  [{ targetName: undefined }, 'target', /Say which target/],
  [{ targetName: 'nope' }, 'target', /no target called `nope`/],
  [{ duration: undefined }, 'duration', /how long/],
  [{ duration: '2h' }, 'duration', /between 5m and 1h/],
  [{ duration: '4m' }, 'duration', /outside/],
  [{ address: '0.0.0.0/0' }, 'address', /only \/32/],
  [{ reason: '   ' }, 'reason', /Say why/],
  [{ reason: 'x'.repeat(501) }, 'reason', /under 500/],
])('refuses %j naming the field', (change, field, message) => {
  let err: unknown;
  try {
    validateSubmission(config, { ...input, ...change });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).field).toBe(field);
  expect((err as Error).message).toMatch(message);
});

it('only approvers decide, never on their own request', () => {
  const r = pendingRequest({ requesterId: 'U0REQUESTER' });
  expect(() => checkCanDecide(config, r, 'U0REQUESTER')).toThrow(NotAllowedError);
  expect(() => checkCanDecide(config, r, 'U0SOMEONE')).toThrow(/not an approver/);
  expect(() => checkCanDecide(config, r, 'U0APPROVER')).not.toThrow();
});

it('the requester and approvers may revoke; others may not', () => {
  const r = pendingRequest({ requesterId: 'U0OTHER' });
  expect(() => checkCanRevoke(config, r, 'U0OTHER')).not.toThrow();
  expect(() => checkCanRevoke(config, r, 'U0APPROVER')).not.toThrow();
  expect(() => checkCanRevoke(config, r, 'U0SOMEONE')).toThrow(NotAllowedError);
});

it('re-checks the stored request against current policy before AWS', () => {
  expect(recheckForGrant(config, pendingRequest({ durationMs: 1_800_000 })).name).toBe('prod-bastion');
  expect(() => recheckForGrant(config, pendingRequest({ durationMs: 3 * 3_600_000 }))).toThrow(/outside/);
  expect(() => recheckForGrant(config, pendingRequest({ cidr: '203.0.113.0/24' }))).toThrow(/only \/32/);
  expect(() => recheckForGrant(config, pendingRequest({ cidr: '0.0.0.0/0' }))).toThrow(ValidationError);
  expect(() => recheckForGrant(config, pendingRequest({ targetName: 'gone' }))).toThrow(/no longer configured/);
});

describe('role-backed targets', () => {
  const role = { requesterId: 'U0REQUESTER', targetName: 'prod-readonly', duration: '1h', reason: 'incident' };
  it('need no address', () => {
    expect(validateSubmission(config, role)).toMatchObject({ durationMs: 3_600_000, cidr: undefined });
  });
  it('explain the STS minimum', () => {
    expect(() => validateSubmission(config, { ...role, duration: '10m' })).toThrow(/AWS STS issues credentials for at least 15 minutes, so ask for 15m or more/);
  });
  it('refuse an address with what to send instead', () => {
    expect(() => validateSubmission(config, { ...role, address: '203.0.113.7' })).toThrow(/takes no address: drop `203.0.113.7`/);
  });
});
