/**
 * The core enforces "who may act at all" and the per-user rate limits (issue 10, item 2): the
 * user directory answers the facts, the service decides, before anything is read or stored.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { Ec2SshProvider } from '../../src/aws/ec2-ssh';
import { parseConfig } from '../../src/config';
import { NotAllowedError } from '../../src/domain/errors';
import { type ActorProfile, NotEligibleError, RateLimitedError } from '../../src/domain/safety';
import type { UserDirectory } from '../../src/ports';
import { AccessService } from '../../src/service';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { FakeClock } from '../support/clock';
import { useEmbeddedDynamo } from '../support/store';
import { rejectedWords, wordsOf } from '../support/words';

const LIMITS = 'rateLimits: { requests: { max: 2, per: 1h }, breakGlass: { max: 1, per: 24h } }';
const config = (extra = '', limits = LIMITS) =>
  parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER, U0GUEST] }
requesters: { everyone: true }
${limits}
${extra}
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: eu-west-1, breakGlass: true }
`);
const MEMBER: ActorProfile = { guest: false, external: false, deleted: false, bot: false };

class FakeUsers implements UserDirectory {
  readonly profiles = new Map<string, ActorProfile | Error>();
  asked = 0;
  async sourceIdentity(userId: string): Promise<string> {
    return userId;
  }
  async profile(userId: string): Promise<ActorProfile> {
    this.asked++;
    const p = this.profiles.get(userId) ?? MEMBER;
    if (p instanceof Error) throw p;
    return p;
  }
}

const ec2 = mockClient(EC2Client);
const dynamo = useEmbeddedDynamo();
let store: DynamoRequestStore;
let clock: FakeClock;
let users: FakeUsers;
let seq = 0;

beforeEach(async () => {
  store = await dynamo.newStore(`safety${++seq}`);
  clock = new FakeClock();
  users = new FakeUsers();
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: `sgr-0ccc${String(seq).padStart(4, '0')}` }] });
  users.profiles.set('U0GUEST', { ...MEMBER, guest: true });
  users.profiles.set('U0EXT', { ...MEMBER, external: true });
  users.profiles.set('U0GONE', { ...MEMBER, deleted: true });
  users.profiles.set('U0BOT', { ...MEMBER, bot: true });
  users.profiles.set('U0DOWN', new Error('slack down'));
});

function service(extra = '', limits = LIMITS): AccessService {
  return new AccessService({ config: config(extra, limits), store, providers: { 'ec2-ssh': new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store }) }, clock, log: pino({ level: 'silent' }), owner: 'a', users });
}
const submit = (svc: AccessService, requesterId: string, breakGlass = false) =>
  svc.submit({ requesterId, targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'debugging', ...(breakGlass ? { breakGlass: true } : {}) });

it.each([
  ['U0GUEST', 'guest'],
  ['U0EXT', 'external'],
  ['U0GONE', 'deleted'],
  ['U0BOT', 'bot'],
  ['U0DOWN', 'unknown'],
])('%s may not submit (%s): refused before anything is stored', async (user, reason) => {
  const svc = service();
  const err = await submit(svc, user).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NotEligibleError);
  expect(err).toBeInstanceOf(NotAllowedError);
  expect((err as NotEligibleError).reason).toBe(reason);
  expect(await store.listByRequester(user, 10)).toEqual([]);
});

it('a guest approver may neither approve nor deny; allowGuests lets them; external never', async () => {
  const svc = service();
  const r = await submit(svc, 'U0REQUESTER');
  await expect(svc.approve(r.id, 'U0GUEST')).rejects.toThrow(NotEligibleError);
  await expect(svc.deny(r.id, 'U0GUEST')).rejects.toThrow(NotEligibleError);
  await expect(svc.approve(r.id, 'U0EXT')).rejects.toThrow(NotEligibleError);
  expect((await svc.get(r.id))!.status).toBe('PENDING');

  const lenient = service('allowGuests: true');
  await expect(lenient.approve(r.id, 'U0EXT')).rejects.toThrow(NotEligibleError);
  expect((await lenient.deny(r.id, 'U0GUEST')).status).toBe('DENIED');
});

it('the requester may always withdraw their own request; a guest may not revoke someone else’s', async () => {
  const svc = service('allowGuests: true');
  const r = await submit(svc, 'U0GUEST');
  const strict = service();
  await expect(strict.revoke(r.id, 'U0EXT')).rejects.toThrow(NotEligibleError);
  expect((await strict.revoke(r.id, 'U0GUEST')).status).toBe('CANCELLED');
});

it('counts requests per user in a sliding window; the refusal says when to try again', async () => {
  const svc = service();
  await submit(svc, 'U0ALICE');
  clock.advance(20 * 60_000);
  await submit(svc, 'U0ALICE');
  await submit(svc, 'U0BOB'); // per user
  clock.advance(10 * 60_000);
  const err = (await submit(svc, 'U0ALICE').catch((e: unknown) => e)) as RateLimitedError;
  expect(err).toBeInstanceOf(RateLimitedError);
  expect(err.limit).toBe('requests');
  expect(wordsOf(err)).toMatch(/try again in 30m/);
  expect(await store.listByRequester('U0ALICE', 10)).toHaveLength(2);
  clock.advance(30 * 60_000 + 1);
  await expect(submit(svc, 'U0ALICE')).resolves.toMatchObject({ status: 'PENDING' });
});

it('an ordinary request reads back only the newest requests its limit counts (plus a margin), and is still refused at the limit', async () => {
  const svc = service('', 'rateLimits: { requests: { max: 3, per: 1h }, breakGlass: { max: 1, per: 24h } }');
  const limits: number[] = [];
  const list = store.listByRequester.bind(store);
  store.listByRequester = (userId: string, limit: number) => {
    limits.push(limit);
    return list(userId, limit);
  };
  for (let i = 0; i < 20; i++) {
    await submit(svc, 'U0DAVE');
    clock.advance(60 * 60_000); // each one out of the window of the next
  }
  for (let i = 0; i < 3; i++) await submit(svc, 'U0DAVE');
  await expect(submit(svc, 'U0DAVE')).rejects.toBeInstanceOf(RateLimitedError);
  expect(new Set(limits)).toEqual(new Set([13]));
});

it('precheck (the form) refuses a break-glass over its limit; a normal request still passes', async () => {
  const svc = service('', 'rateLimits: { requests: { max: 5, per: 1h }, breakGlass: { max: 1, per: 24h } }');
  const first = await submit(svc, 'U0CAROL', true);
  expect(first.breakGlass).toBe(true);
  clock.advance(3 * 3_600_000);
  const input = { requesterId: 'U0CAROL', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.8', reason: 'again' };
  expect(await rejectedWords(svc.precheck({ ...input, breakGlass: true }))).toMatch(/1 break-glass requests in the last 1d, the most allowed\. Nothing was sent: try again in 21h/);
  await expect(svc.precheck(input)).resolves.toMatchObject({ decision: { outcome: 'approval' } });
});

it('extensions count as requests, and an ineligible requester may not extend', async () => {
  const svc = service('allowGuests: true', 'rateLimits: { requests: { max: 2, per: 1h }, breakGlass: { max: 5, per: 24h } }');
  const grant = await submit(svc, 'U0GUEST', true);
  expect(grant.status).toBe('ACTIVE');
  // allowGuests removed: the guest may no longer ask for more time.
  await expect(service('', 'rateLimits: { requests: { max: 2, per: 1h }, breakGlass: { max: 5, per: 24h } }').extend(grant.id, 'U0GUEST', { duration: '15m', reason: 'more' })).rejects.toThrow(NotEligibleError);
  const ext = await svc.extend(grant.id, 'U0GUEST', { duration: '15m', reason: 'more' });
  expect(ext.extends).toBe(grant.id);
  await svc.revoke(ext.id, 'U0GUEST'); // withdrawn, still counted
  expect(await rejectedWords(svc.extend(grant.id, 'U0GUEST', { duration: '15m', reason: 'more again' }))).toMatch(/2 requests in the last 1h/);
});
