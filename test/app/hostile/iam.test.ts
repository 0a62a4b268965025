/**
 * Hostile cases for least privilege and retention (issue 10, items 7 and 8), through signed
 * requests to the real bot, with a real EC2Client talking to the simulated EC2 endpoint.
 *
 * 1. A rule already tagged with the request id but not of the request's shape (someone planted or
 *    widened it) is never adopted and never revoked: the grant fails, nothing is opened, the rule
 *    stays exactly as it was, and the requester and the approver channel are told.
 * 2. Only what would have been created is adopted; rules of other groups or without our tag are
 *    not ours to adopt or remove.
 * 3. Every way a request resolves writes purgeAt = resolution + `retention` (from the config), and
 *    no live request ever carries it, however the request is driven.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ACTION_APPROVE, ACTION_DENY } from '../../../blocks/ids';
import { startFakeEc2, type FakeEc2, type FakeRule, type SeedRule } from '../../../testkit/fake-ec2';
import { APPROVER, CONFIG_YAML, Harness, OUTSIDER, REQUESTER, text } from '../../support/harness';

const SG = 'sg-0123456789abcdef0';
const OTHER_SG = 'sg-0fedcba9876543210';
const HOST = '203.0.113.7/32';
const MIN = 60_000;
const DAY = 86_400_000;
const RETENTION_DAYS = 90;

let fake: FakeEc2;
let client: EC2Client;
let h: Harness;

beforeEach(async () => {
  fake = await startFakeEc2();
  client = new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  h = await Harness.start({ configYaml: `${CONFIG_YAML}retention: ${RETENTION_DAYS}d\n`, ec2ClientFor: () => client });
});
afterEach(async () => {
  await h.stop();
  client.destroy();
  await fake.close();
});

const ours = (requestId: string) => ({ 'jit:request-id': requestId, 'jit:requester': REQUESTER, 'jit:expires-at': '2026-11-22T11:00:00.000Z', 'jit:managed-by': 'jit-access-bot' });
const purgeAt = (resolvedAtMs: number) => Math.floor((resolvedAtMs + RETENTION_DAYS * DAY) / 1000);
const ec2Calls = (action: string) => fake.calls.filter((c) => c.action === action).length;

describe('a rule tagged with the request id is adopted only when it is exactly the request’s rule', () => {
  it.each<[string, Omit<SeedRule, 'groupId' | 'tags'>]>([
    ['open to the world', { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
    ['the requester’s whole /24', { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '203.0.113.0/24' }],
    ['another host', { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '198.51.100.9/32' }],
    ['another port (RDP)', { ipProtocol: 'tcp', fromPort: 3389, toPort: 3389, cidrIpv4: HOST }],
    ['every port', { ipProtocol: 'tcp', fromPort: 0, toPort: 65535, cidrIpv4: HOST }],
    ['udp instead of tcp', { ipProtocol: 'udp', fromPort: 22, toPort: 22, cidrIpv4: HOST }],
    ['every protocol', { ipProtocol: '-1', fromPort: -1, toPort: -1, cidrIpv4: HOST }],
    ['IPv6 to the world', { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv6: '::/0' }],
  ])('planted rule %s: not adopted, not revoked, nothing opened; the grant fails and people are told', async (_name, shape) => {
    const id = await h.request();
    const planted: FakeRule = fake.seedRule({ groupId: SG, ...shape, tags: ours(id) });
    const callsBefore = fake.calls.length;

    h.clock.advance(2 * MIN);
    const failedAt = h.clock.now().getTime();
    expect((await h.click(APPROVER, ACTION_APPROVE, id)).status).toBe(200);

    const r = await h.bot.service.get(id);
    expect(r).toMatchObject({ status: 'FAILED', purgeAt: purgeAt(failedAt) });
    expect(r!.grant).toBeUndefined();
    // Exactly the planted rule, untouched; the bot only looked.
    expect(fake.rules()).toEqual([planted]);
    expect(fake.calls.slice(callsBefore).map((c) => c.action)).toEqual(['DescribeSecurityGroupRules']);
    // Told: the requester by DM, the approver channel on the request's message (no buttons left).
    expect(h.dms(REQUESTER).some((m) => /grant failed/.test(m))).toBe(true);
    expect(text(h.approvalMessage(id))).toMatch(/grant failed/);
    expect(text(h.approvalMessage(id))).not.toContain(ACTION_APPROVE);
    // Later sweeps do not revoke it either (it is not a grant of this bot).
    h.clock.advance(60 * MIN);
    await h.sweep();
    expect(fake.rules()).toEqual([planted]);
    expect(ec2Calls('RevokeSecurityGroupIngress')).toBe(0);
  });

  it('the exact rule (e.g. left by a crash before the grant was recorded) is adopted: no second rule', async () => {
    const id = await h.request();
    const existing = fake.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: HOST, tags: ours(id) });

    await h.click(APPROVER, ACTION_APPROVE, id);

    expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE', grant: { securityGroupRuleId: existing.securityGroupRuleId } });
    expect(ec2Calls('AuthorizeSecurityGroupIngress')).toBe(0);
    expect(fake.rules()).toEqual([existing]);
  });

  it('a rule tagged with the request id in another group is not looked at: the grant opens its own rule', async () => {
    const id = await h.request();
    const elsewhere = fake.seedRule({ groupId: OTHER_SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0', tags: ours(id) });

    await h.click(APPROVER, ACTION_APPROVE, id);

    const r = await h.bot.service.get(id);
    expect(r).toMatchObject({ status: 'ACTIVE', grant: { securityGroupId: SG, cidr: HOST, port: 22 } });
    expect(fake.rules()).toEqual(expect.arrayContaining([elsewhere, expect.objectContaining({ groupId: SG, cidrIpv4: HOST, tags: expect.objectContaining({ 'jit:request-id': id }) })]));
    expect(fake.rules()).toHaveLength(2);
  });

  it('the same rule made by a human (no tags) is neither adopted nor, later, revoked', async () => {
    const id = await h.request();
    const manual = fake.seedRule({ groupId: SG, ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: HOST });

    await h.click(APPROVER, ACTION_APPROVE, id);

    expect(await h.bot.service.get(id)).toMatchObject({ status: 'FAILED' });
    h.clock.advance(60 * MIN);
    await h.sweep();
    expect(fake.rules()).toEqual([manual]);
    expect(ec2Calls('RevokeSecurityGroupIngress')).toBe(0);
  });
});

describe('retention: every resolution writes purgeAt from the config, no live request has it', () => {
  it('pending and active requests carry no purgeAt; expiry (revoked) writes it at the revocation', async () => {
    const id = await h.request();
    expect((await h.bot.service.get(id))!.purgeAt).toBeUndefined();
    await h.click(APPROVER, ACTION_APPROVE, id);
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'ACTIVE' });
    expect((await h.bot.service.get(id))!.purgeAt).toBeUndefined();

    h.clock.advance(31 * MIN);
    await h.sweep(); // expire → REVOKING
    await h.sweep(); // revoke → REVOKED
    const r = await h.bot.service.get(id);
    expect(r!.status).toBe('REVOKED');
    expect(r!.purgeAt).toBe(purgeAt(Date.parse(r!.endedAt!)));
    expect(fake.rules()).toEqual([]);
  });

  it('denied by an approver', async () => {
    const id = await h.request();
    h.clock.advance(3 * MIN);
    const at = h.clock.now().getTime();
    await h.click(APPROVER, ACTION_DENY, id);
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'DENIED', purgeAt: purgeAt(at) });
  });

  it('not decided in time (expired approval)', async () => {
    const id = await h.request();
    h.clock.advance(31 * MIN);
    const at = h.clock.now().getTime();
    await h.sweep();
    expect(await h.bot.service.get(id)).toMatchObject({ status: 'EXPIRED', purgeAt: purgeAt(at) });
  });

  it('ended early by the requester with /jit revoke', async () => {
    const id = await h.request();
    await h.click(APPROVER, ACTION_APPROVE, id);
    h.clock.advance(5 * MIN);
    const { status } = await h.command(REQUESTER, `revoke ${id}`);
    expect(status).toBe(200);
    await h.sweep();
    const r = await h.bot.service.get(id);
    expect(r!.status).toBe('REVOKED');
    expect(r!.purgeAt).toBe(purgeAt(Date.parse(r!.endedAt!)));
  });

  it('a stranger’s clicks on a pending request neither resolve it nor give it a purgeAt', async () => {
    const id = await h.request();
    const before = await h.bot.service.get(id);
    await h.click(OUTSIDER, ACTION_DENY, id);
    await h.click(OUTSIDER, ACTION_APPROVE, id);
    const after = await h.bot.service.get(id);
    expect(after).toMatchObject({ status: 'PENDING', version: before!.version });
    expect(after!.purgeAt).toBeUndefined();
    expect(fake.rules()).toEqual([]);
  });
});
