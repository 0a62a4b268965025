/**
 * What the service reports through the Telemetry port, on real adapters (embedded dynalite,
 * the EC2 provider over a mocked client): requests by kind and outcome, approvals, grants,
 * revocations by outcome, lateness at the revoked transition, approve → ACTIVE.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { Ec2SshProvider } from '../../src/aws/ec2-ssh';
import { parseConfig } from '../../src/config';
import type { Telemetry } from '../../src/ports';
import { AccessService } from '../../src/service';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { FakeClock } from '../support/clock';
import { useEmbeddedDynamo } from '../support/store';
import { rejectedWords } from '../support/words';

const ec2 = mockClient(EC2Client);
const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER, U0APPROVER2] }
requesters: { everyone: true }
denyRules:
  - { name: no-staging, targets: [staging-*] }
autoApprove:
  - { name: dev-self-service, targets: [dev-*], maxDuration: 1h }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: eu-west-1, breakGlass: true }
  - { name: quorum-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef1, region: eu-west-1, approvalsRequired: 2 }
  - { name: staging-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef2, region: eu-west-1 }
  - { name: dev-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef3, region: eu-west-1 }
`);
const MIN = 60_000;
const throttled = () => Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } });
const denied = () => Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });

const dynamo = useEmbeddedDynamo();
let store: DynamoRequestStore;
let clock: FakeClock;
let events: string[];
let rules = 0;

const recorder: Telemetry = {
  requestSubmitted: (kind, outcome) => events.push(`request ${kind} ${outcome}`),
  approval: (quorum) => events.push(`approval ${quorum ? 'met' : 'waiting'}`),
  grant: (kind, outcome) => events.push(`grant ${kind} ${outcome}`),
  revocation: (kind, outcome) => events.push(`revocation ${kind} ${outcome}`),
  revokeLateness: (kind, s) => events.push(`lateness ${kind} ${s}`),
  approveToActive: (kind, s) => events.push(`toActive ${kind} ${s}`),
  sweepRan: () => undefined,
  driftRemoval: () => undefined,
  notification: () => undefined,
};

function service(revokeAlertAfter = 5): AccessService {
  const provider = new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  return new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner: 'a', leaseMs: 30_000, random: () => 0.5, revokeAlertAfter, telemetry: recorder });
}
const ask = (svc: AccessService, targetName: string, extra: { breakGlass?: boolean; duration?: string } = {}) =>
  svc.submit({ requesterId: 'U0REQUESTER', targetName, duration: extra.duration ?? '30m', address: '203.0.113.7', reason: 'debugging', ...(extra.breakGlass ? { breakGlass: true } : {}) });

beforeAll(async () => {
  store = await dynamo.newStore('telemetry');
});
beforeEach(() => {
  clock = new FakeClock();
  events = [];
  const ruleId = `sgr-${String(++rules).padStart(4, '0')}`;
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: ruleId }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});

it('counts each submission once by kind and outcome', async () => {
  const svc = service();
  await ask(svc, 'prod-bastion');
  expect(await rejectedWords(ask(svc, 'staging-bastion'))).toMatch(/no-staging/);
  await expect(ask(svc, 'prod-bastion', { duration: '3d' })).rejects.toThrow();
  await expect(ask(svc, 'nowhere')).rejects.toThrow();
  await ask(svc, 'dev-bastion');
  await ask(svc, 'prod-bastion', { breakGlass: true });
  expect(events.filter((e) => e.startsWith('request'))).toEqual([
    'request ec2-ssh pending',
    'request ec2-ssh refused-by-policy',
    'request ec2-ssh invalid',
    'request unknown invalid',
    'request ec2-ssh auto-approved',
    'request ec2-ssh break-glass',
  ]);
});

it('approvals (waiting, then met), grant retried then ok, approve → ACTIVE on the clock', async () => {
  const svc = service();
  const r = await ask(svc, 'quorum-bastion');
  await svc.approve(r.id, 'U0APPROVER');
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejectsOnce(throttled()).resolves({ SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-q' }] });
  await svc.approve(r.id, 'U0APPROVER2');
  clock.advance(3_000);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'ACTIVE' });
  expect(events).toEqual(['request ec2-ssh pending', 'approval waiting', 'approval met', 'grant ec2-ssh retried', 'grant ec2-ssh ok', 'toActive ec2-ssh 3']);
});

it('a grant AWS refuses counts as failed', async () => {
  const svc = service();
  const r = await ask(svc, 'prod-bastion');
  ec2.on(AuthorizeSecurityGroupIngressCommand).rejects(denied());
  expect(await svc.approve(r.id, 'U0APPROVER')).toMatchObject({ status: 'FAILED' });
  expect(events).toContain('grant ec2-ssh failed');
  expect(events.filter((e) => e.startsWith('toActive'))).toEqual([]);
});

it('revocation: retried, failed once humans are alerted, then verified with the lateness of an expiry', async () => {
  const svc = service(2);
  const r = await ask(svc, 'prod-bastion');
  await svc.approve(r.id, 'U0APPROVER');
  ec2.on(RevokeSecurityGroupIngressCommand).rejects(throttled());
  clock.advance(30 * MIN);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'REVOKING', attempts: 1 });
  clock.advance(MIN);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'REVOKING', attempts: 2, flagged: true });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  clock.advance(MIN);
  expect(await svc.processDue(r.id)).toMatchObject({ status: 'REVOKED', revokeOutcome: 'verified' });
  expect(events.filter((e) => /^(revocation|lateness)/.test(e))).toEqual([
    'revocation ec2-ssh retried',
    'revocation ec2-ssh retried',
    'revocation ec2-ssh failed',
    'revocation ec2-ssh verified',
    'lateness ec2-ssh 120',
  ]);
});

it('an early revoke by hand counts as verified with no lateness', async () => {
  const svc = service();
  const r = await ask(svc, 'prod-bastion');
  await svc.approve(r.id, 'U0APPROVER');
  await svc.revoke(r.id, 'U0REQUESTER');
  expect(events.filter((e) => /^(revocation|lateness)/.test(e))).toEqual(['revocation ec2-ssh verified']);
});
