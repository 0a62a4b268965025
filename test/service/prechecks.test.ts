/**
 * The prechecks the Slack edge asks the service for (issue 11, item 4: thin handlers): opening
 * and submitting the decision and extension forms, how much of the policy a caller may see, whom
 * a reminder goes to and whether the warning offers "Extend". Refusals first: who may not act
 * learns nothing about the request.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import pino from 'pino';
import { Ec2SshProvider } from '../../src/aws/ec2-ssh';
import { parseConfig } from '../../src/config';
import { AlreadyResolvedError, CannotDecideError, NotFoundError, ValidationError } from '../../src/domain/errors';
import type { AccessRequest } from '../../src/domain/types';
import type { GroupDirectory } from '../../src/ports';
import { describePolicy } from '../../src/policy-report';
import { AccessService } from '../../src/service';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { wordsOf } from '../support/words';
import { FakeClock } from '../support/clock';
import { useEmbeddedDynamo } from '../support/store';

const MIN = 60_000;
const REQUESTER = 'U0REQUESTER';
const STRANGER = 'U0STRANGER';
const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
rateLimits: { requests: { max: 100, per: 1m } }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, region: eu-west-1, maxDuration: 2h, maxTotalDuration: 3h }
  - name: quorum-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef1
    region: eu-west-1
    approvers: { users: [U0APPROVER, U0APPROVER2, U0REQUESTER], groups: [S0SRE] }
    approvalsRequired: 2
    reminders: { every: 10m, dm: true }
  - name: quiet-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef2
    region: eu-west-1
    approvers: { users: [U0APPROVER, U0APPROVER2], groups: [S0SRE] }
    reminders: { every: 10m }
`);

/** S0SRE: two members besides the named approvers, the requester among them. */
class FakeGroups implements GroupDirectory {
  asked = 0;
  async members(groupId: string): Promise<readonly string[]> {
    this.asked++;
    return groupId === 'S0SRE' ? ['U0SRE2', 'U0SRE1', REQUESTER] : [];
  }
  async groupsOf(userId: string, groupIds: readonly string[]): Promise<Set<string>> {
    return new Set(groupIds.filter((g) => g === 'S0SRE' && ['U0SRE1', 'U0SRE2', REQUESTER].includes(userId)));
  }
}

const ec2 = mockClient(EC2Client);
const dynamo = useEmbeddedDynamo();
let store: DynamoRequestStore;
let clock: FakeClock;
let groups: FakeGroups;
let svc: AccessService;
let rules = 0;

beforeAll(async () => {
  store = await dynamo.newStore('prechecks');
});
beforeEach(() => {
  clock = new FakeClock();
  groups = new FakeGroups();
  ec2.reset();
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  // The rule registry lives in the shared table: one rule per grant.
  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake(() => ({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: `sgr-0p${String(++rules).padStart(4, '0')}` }] }));
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  const provider = new Ec2SshProvider(() => new EC2Client({ region: 'eu-west-1' }), { defaultRegion: 'eu-west-1', registry: store });
  svc = new AccessService({ config, store, providers: { 'ec2-ssh': provider }, clock, log: pino({ level: 'silent' }), owner: 'a', groups });
});

const submit = (target = 'prod-bastion', duration = '2h') => svc.submit({ requesterId: REQUESTER, targetName: target, duration, address: '203.0.113.7', reason: 'debugging' });
const active = async (duration = '2h'): Promise<AccessRequest> => {
  const r = await submit('prod-bastion', duration);
  return svc.approve(r.id, 'U0APPROVER');
};
const refusal = (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe('decisionForm ("Approve…" / "Deny…" opening the form)', () => {
  it('gives an approver the pending request and its target', async () => {
    const r = await submit();
    const form = await svc.decisionForm(r.id, 'U0APPROVER');
    expect(form.request).toMatchObject({ id: r.id, status: 'PENDING', durationMs: 120 * MIN });
    expect(form.target).toBe(config.targets[0]);
  });

  it('refuses a non-decider with the one neutral answer, before anything about the request is said', async () => {
    const r = await submit();
    await svc.deny(r.id, 'U0APPROVER');
    // The request is resolved: an approver hears that; nobody else does, not even that it exists.
    expect(await refusal(svc.decisionForm(r.id, 'U0APPROVER'))).toBeInstanceOf(AlreadyResolvedError);
    for (const actor of [STRANGER, REQUESTER]) {
      const err = await refusal(svc.decisionForm(r.id, actor));
      expect(err).toBeInstanceOf(CannotDecideError);
      expect(err).toEqual(await refusal(svc.decisionForm('jit-0000000000', actor)));
    }
  });
});

describe('precheckDecision (the decision form, before the ack)', () => {
  it('field errors: a note too long (anyone), a duration longer than asked (a decider)', async () => {
    const r = await submit();
    const note = await refusal(svc.precheckDecision(r.id, STRANGER, 'deny', { comment: 'n'.repeat(501) }));
    expect(note).toBeInstanceOf(ValidationError);
    expect(note).toMatchObject({ field: 'comment' });
    const longer = await refusal(svc.precheckDecision(r.id, 'U0APPROVER', 'approve', { duration: '3h' }));
    expect(longer).toBeInstanceOf(ValidationError);
    expect(longer).toMatchObject({ field: 'duration' });
    expect(wordsOf(longer)).toContain('longer than the 2h asked for');
  });

  it('says nothing about the request to a non-decider: the refusal comes from approve, after the ack', async () => {
    const r = await submit();
    await expect(svc.precheckDecision(r.id, STRANGER, 'approve', { duration: '3h' })).resolves.toBeUndefined();
    await expect(svc.precheckDecision(r.id, REQUESTER, 'approve', { duration: '3h' })).resolves.toBeUndefined();
    expect(await refusal(svc.approve(r.id, STRANGER, { duration: '3h' }))).toBeInstanceOf(CannotDecideError);
  });

  it('a valid form passes and changes nothing; a deny form ignores the duration', async () => {
    const r = await submit();
    await expect(svc.precheckDecision(r.id, 'U0APPROVER', 'approve', { duration: '45m', comment: 'ok' })).resolves.toBeUndefined();
    await expect(svc.precheckDecision(r.id, 'U0APPROVER', 'deny', { duration: '9h' })).resolves.toBeUndefined();
    expect(await svc.get(r.id)).toMatchObject({ status: 'PENDING', version: r.version });
  });
});

describe('extension form (opening: extensionLimit; submitting: precheckExtension)', () => {
  it('a non-requester cannot open the extend form for someone else\'s grant, and learns nothing', async () => {
    const grant = await active();
    for (const actor of [STRANGER, 'U0APPROVER']) {
      const err = await refusal(svc.extensionLimit(grant.id, actor));
      expect(err).toBeInstanceOf(NotFoundError);
      expect(wordsOf(err)).toEqual(wordsOf(await refusal(svc.extensionLimit('jit-0000000000', actor))).replace('jit-0000000000', grant.id));
    }
    expect(await svc.extensionLimit(grant.id, REQUESTER)).toMatchObject({ request: { id: grant.id }, maxMs: 60 * MIN, canExtend: true });
  });

  it('the submission: field errors for the length (over the headroom) and the reason', async () => {
    const grant = await active();
    const over = await refusal(svc.precheckExtension(grant.id, REQUESTER, { duration: '2h', reason: 'not done yet' }));
    expect(over).toBeInstanceOf(ValidationError);
    expect(over).toMatchObject({ field: 'duration' });
    expect(wordsOf(over)).toBe('`prod-bastion` grants last at most 3h in all: this one can be extended by up to 1h.');
    expect(await refusal(svc.precheckExtension(grant.id, REQUESTER, { duration: 'soon', reason: 'x' }))).toMatchObject({ field: 'duration' });
    expect(await refusal(svc.precheckExtension(grant.id, REQUESTER, { duration: '30m', reason: ' ' }))).toMatchObject({ field: 'reason' });
    await expect(svc.precheckExtension(grant.id, REQUESTER, { duration: '30m', reason: 'not done yet' })).resolves.toBeUndefined();
    expect((await svc.listOpen(REQUESTER)).filter((r) => r.extends === grant.id)).toEqual([]); // nothing stored
  });

  it('the submission by someone else says nothing in the form: extend refuses after the ack', async () => {
    const grant = await active();
    await expect(svc.precheckExtension(grant.id, STRANGER, { duration: '9h', reason: '' })).resolves.toBeUndefined();
    expect(await refusal(svc.extend(grant.id, STRANGER, { duration: '30m', reason: 'mine now' }))).toBeInstanceOf(NotFoundError);
  });
});

describe('policyView (/jit policy check)', () => {
  it('approvers see the whole policy; anyone else only their own targets', async () => {
    expect(await svc.policyView('U0APPROVER')).toEqual({ scope: 'all', lines: describePolicy(config) });
    expect(await svc.policyView('U0SRE1')).toEqual({ scope: 'all', lines: describePolicy(config) }); // through S0SRE
    expect(await svc.policyView(STRANGER)).toEqual({ scope: 'own' });
  });
});

describe('reminderAudience (the notifier is told whom to remind)', () => {
  it('names the approvers who have not approved, never the requester; DMs each member when the target asks', async () => {
    const r = await submit('quorum-box', '1h');
    const once = await svc.approve(r.id, 'U0APPROVER2');
    expect(once.status).toBe('PENDING');
    expect(await svc.reminderAudience(once)).toEqual({
      mention: { users: ['U0APPROVER'], groups: ['S0SRE'] },
      dm: ['U0APPROVER', 'U0SRE1', 'U0SRE2'],
    });
  });

  it('without reminder DMs: the thread names them, nobody is DMed and no group is read', async () => {
    const r = await submit('quiet-box', '1h');
    groups.asked = 0; // the submission read them (the quorum check)
    expect(await svc.reminderAudience(r)).toEqual({ mention: { users: ['U0APPROVER', 'U0APPROVER2'], groups: ['S0SRE'] }, dm: [] });
    expect(groups.asked).toBe(0);
  });
});

describe('extensionOffered (the expiry warning\'s "Extend")', () => {
  it('offered while the grant has headroom; not for a pending request or a grant at its cap', async () => {
    expect(svc.extensionOffered(await active('2h'))).toBe(true);
    expect(svc.extensionOffered(await submit())).toBe(false);
    const full = await active('2h');
    const capped = { ...full, expiresAt: new Date(Date.parse(full.grantedAt!) + 3 * 60 * MIN).toISOString() };
    expect(svc.extensionOffered(capped)).toBe(false);
  });
});
