import { parseConfig } from '../src/config';
import { problemText } from '../blocks/errors';
import type { JitConfig } from '../src/config-types';
import { NotAllowedError, ValidationError } from '../src/domain/errors';
import { compileReasonRule } from '../src/domain/reason';
import type { AccessRequest, AutoApproveRule, DenyRule, Target, TargetPolicy } from '../src/domain/types';
import {
  checkCanDecide,
  checkReason,
  checkCanRevoke,
  checkExtensionDuration,
  checkNarrowedDuration,
  evaluateRequest,
  extensionHeadroom,
  findTarget,
  grantedMsOf,
  isAnyApprover,
  MIN_EXTENSION_MS,
  type PolicyDecision,
  recheckForGrant,
  redecide,
  referencedGroups,
  summarizeFor,
  type TargetSummary,
  validateSubmission,
  visibleTargets,
} from '../src/policy';
import { ec2Target, pendingRequest, testPolicy } from './support/requests';
import { thrownWords, wordsOf } from './support/words';

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
  expect(wordsOf(err)).toMatch(message);
});

it('only approvers decide, never on their own request', () => {
  const r = pendingRequest({ requesterId: 'U0REQUESTER' });
  expect(() => checkCanDecide(config, r, 'U0REQUESTER')).toThrow(NotAllowedError);
  // One neutral answer for every actor who may not decide (issue 10 item 4): nothing about the request.
  expect(thrownWords(() => checkCanDecide(config, r, 'U0SOMEONE'))).toMatch(/^You can't approve this request\.$/);
  expect(thrownWords(() => checkCanDecide(config, undefined, 'U0APPROVER'))).toMatch(/^You can't approve this request\.$/);
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
  expect(thrownWords(() => recheckForGrant(config, pendingRequest({ durationMs: 3 * 3_600_000 })))).toMatch(/outside/);
  expect(thrownWords(() => recheckForGrant(config, pendingRequest({ cidr: '203.0.113.0/24' })))).toMatch(/only \/32/);
  expect(() => recheckForGrant(config, pendingRequest({ cidr: '0.0.0.0/0' }))).toThrow(ValidationError);
  expect(thrownWords(() => recheckForGrant(config, pendingRequest({ targetName: 'gone' })))).toMatch(/no longer configured/);
});

describe('role-backed targets', () => {
  const role = { requesterId: 'U0REQUESTER', targetName: 'prod-readonly', duration: '1h', reason: 'incident' };
  it('need no address', () => {
    expect(validateSubmission(config, role)).toMatchObject({ durationMs: 3_600_000, cidr: undefined });
  });
  it('explain the STS minimum', () => {
    expect(thrownWords(() => validateSubmission(config, { ...role, duration: '10m' }))).toMatch(/AWS STS issues credentials for at least 15 minutes, so ask for 15m or more/);
  });
  it('refuse an address with what to send instead', () => {
    expect(thrownWords(() => validateSubmission(config, { ...role, address: '203.0.113.7' }))).toMatch(/takes no address: drop `203.0.113.7`/);
  });
});

describe('accounts a request picks (targets that list accounts)', () => {
  const [A, B, C] = ['311111111111', '422222222222', '533333333333'];
  const ssoConfig = parseConfig(`
approverChannel: C0123ABCD
approvers: { users: [U0APPROVER1] }
targets:
  - { name: prod-admin, kind: sso-permission-set, instanceArn: "arn:aws:sso:::instance/ssoins-1111222233334444", identityStoreId: d-1234567890, permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd", accountIds: ["${A}", "${B}", "${C}"], accountsPerRequest: 2 }
  - { name: prod-all, kind: sso-permission-set, instanceArn: "arn:aws:sso:::instance/ssoins-1111222233334444", identityStoreId: d-1234567890, permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd", accountIds: ["${A}", "${B}"] }
  - { name: prod-role, kind: aws-role, roleArn: "arn:aws:iam::123456789012:role/jit-readonly" }
`, 'test');
  const ask = (targetName: string, accounts?: string) => ({ requesterId: 'U0REQUESTER', targetName, duration: '1h', reason: 'incident', ...(accounts !== undefined ? { accounts } : {}) });

  it('takes the accounts named (commas or spaces, duplicates once), in the order named', () => {
    expect(validateSubmission(ssoConfig, ask('prod-admin', `${C}, ${A} ${C}`)).accounts).toEqual([C, A]);
  });
  it('none named: all of the target\'s when they fit in one request, else says to pick and lists them', () => {
    expect(validateSubmission(ssoConfig, ask('prod-all')).accounts).toEqual([A, B]);
    expect(thrownWords(() => validateSubmission(ssoConfig, ask('prod-admin')))).toMatch(/Say which accounts you need on `prod-admin` \(up to 2\).*It offers: `311111111111`, `422222222222`, `533333333333`/);
  });
  it('refuses one the target does not offer, more than it allows, and accounts on a kind that takes none', () => {
    expect(thrownWords(() => validateSubmission(ssoConfig, ask('prod-admin', `${A},999999999999`)))).toMatch(/does not offer `999999999999`/);
    expect(thrownWords(() => validateSubmission(ssoConfig, ask('prod-admin', `${A},${B},${C}`)))).toMatch(/You picked 3 accounts; `prod-admin` allows at most 2/);
    expect(thrownWords(() => validateSubmission(ssoConfig, ask('prod-role', A)))).toMatch(/takes no accounts/);
    // What is echoed back is short, whatever was typed.
    const echoed = thrownWords(() => validateSubmission(ssoConfig, ask('prod-admin', `${'x'.repeat(500)} ${Array.from({ length: 40 }, (_, i) => `9${i}`).join(',')}`)));
    expect(echoed).toContain(`\`${'x'.repeat(19)}…\``);
    expect(echoed.length).toBeLessThan(300);
  });
  it('is checked again before the grant: an account the target no longer offers stops it', () => {
    const stored = (accounts: string[]) => pendingRequest({ kind: 'sso-permission-set', targetName: 'prod-admin', cidr: undefined, accounts });
    expect(recheckForGrant(ssoConfig, stored([A, C])).name).toBe('prod-admin');
    expect(thrownWords(() => recheckForGrant(ssoConfig, stored([A, '999999999999'])))).toMatch(/does not offer `999999999999`/);
    expect(thrownWords(() => recheckForGrant(ssoConfig, stored([A, B, C])))).toMatch(/allows at most 2/);
  });
});

// ---------------------------------------------------------------- approval policy

const H = 3_600_000;
const M = 60_000;
/** Friday 2026-11-20, 12:00 UTC. */
const FRI_NOON = new Date('2026-11-20T12:00:00Z');
const NONE: ReadonlySet<string> = new Set();

const policyTargets = (): Target[] => [
  ec2Target({ name: 'prod-db', tags: { ENV: 'prod', team: 'payments' }, maxDurationMs: 4 * H, policy: testPolicy({ breakGlass: true }) }),
  ec2Target({ name: 'prod-web', tags: { ENV: 'prod' }, maxDurationMs: 4 * H }),
  ec2Target({ name: 'dev-box', tags: { ENV: 'dev' }, maxDurationMs: 4 * H }),
  ec2Target({ name: 'dev-db', tags: { ENV: 'dev', team: 'payments' }, maxDurationMs: 4 * H }),
  ec2Target({ name: 'secret', tags: { ENV: 'prod' }, policy: testPolicy({ requesters: { users: ['U0ALICE'], groups: ['S0SRE'] }, breakGlass: true }) }),
];

function policyConfig(overrides: Partial<JitConfig> = {}): JitConfig {
  return {
    approverChannel: 'C0APPROVERS',
    approvers: { users: ['U0APPROVER'], groups: [] },
    defaults: { minDurationMs: M, maxDurationMs: 4 * H, approvalTimeoutMs: 30 * M, expiryWarningMs: 5 * M },
    denyRules: [],
    autoApprove: [],
    revocation: { sweepIntervalSeconds: 5, driftIntervalMs: 300_000, leaseMs: 60_000, shutdownGraceMs: 10_000 },
    targets: policyTargets(),
    ...overrides,
  };
}

/** Replaces one target's policy keys (the rest as testPolicy gives them). */
function withPolicy(config: JitConfig, name: string, policy: Partial<TargetPolicy>): JitConfig {
  return { ...config, targets: config.targets.map((t) => (t.name === name ? { ...t, policy: { ...t.policy, ...policy } } : t)) };
}

const deny = (name: string, match: Omit<DenyRule, 'name'>): DenyRule => ({ name, ...match });
const auto = (name: string, maxDurationMs: number, match: Omit<AutoApproveRule, 'name' | 'maxDurationMs'>): AutoApproveRule => ({ name, maxDurationMs, ...match });
const weekend = (timezone = 'UTC') => ({ days: ['sat' as const, 'sun' as const], from: '00:00', to: '24:00', timezone });

interface Case {
  config: JitConfig;
  target: string;
  requester?: string;
  groups?: string[];
  durationMs?: number;
  breakGlass?: boolean;
  grantedMs?: number;
  now?: Date;
  groupMembers?: Record<string, string[]>;
}

function evaluate(c: Case): PolicyDecision {
  const target = findTarget(c.config, c.target);
  if (!target) throw new Error(`no target ${c.target}`);
  return evaluateRequest(
    c.config,
    { target, requesterId: c.requester ?? 'U0REQUESTER', durationMs: c.durationMs ?? 30 * M, ...(c.breakGlass ? { breakGlass: true } : {}), ...(c.grantedMs !== undefined ? { grantedMs: c.grantedMs } : {}) },
    { now: c.now ?? FRI_NOON, requesterGroups: new Set(c.groups ?? []), ...(c.groupMembers ? { groupMembers: new Map(Object.entries(c.groupMembers)) } : {}) },
  );
}

type Expected = { outcome: PolicyDecision['outcome']; rule?: string; message?: RegExp; approvalsRequired?: number; reason?: RegExp };

/** The words the requester reads for a deny decision (blocks/errors.ts); '' for any other outcome. */
function denyWords(d: PolicyDecision): string {
  return d.outcome === 'deny' ? problemText(d.problem) : '';
}

function expectDecision(d: PolicyDecision, e: Expected): void {
  expect(d.outcome).toBe(e.outcome);
  if ('rule' in e) expect((d as { rule?: string }).rule).toBe(e.rule);
  if (e.message) expect(denyWords(d)).toMatch(e.message);
  if (e.approvalsRequired !== undefined) expect(d).toMatchObject({ approvalsRequired: e.approvalsRequired });
  if (e.reason) expect(d.reasons.some((r) => e.reason!.test(r))).toBe(true);
  expect(d.reasons.length).toBeGreaterThan(0);
}

describe('evaluateRequest', () => {
  describe('1. requesters', () => {
    it.each<[string, Case, Expected]>([
      ['an open target: anyone may request', { config: policyConfig(), target: 'prod-web' }, { outcome: 'approval', approvalsRequired: 1, reason: /open to everyone/ }],
      ['a named requester', { config: policyConfig(), target: 'secret', requester: 'U0ALICE' }, { outcome: 'approval', reason: /among the target's requesters/ }],
      ['a member of a requester group', { config: policyConfig(), target: 'secret', requester: 'U0BOB', groups: ['S0SRE'] }, { outcome: 'approval' }],
      ['anyone else is refused (the target is hidden from them)', { config: policyConfig(), target: 'secret', requester: 'U0BOB', groups: ['S0OTHER'] }, { outcome: 'deny', rule: undefined, message: /not among the requesters of `secret`/ }],
      ['not a requester: refused before the deny rules are looked at', { config: policyConfig({ denyRules: [deny('no-prod', { tags: { ENV: 'prod' } })] }), target: 'secret', requester: 'U0BOB' }, { outcome: 'deny', rule: undefined, message: /not among the requesters/ }],
      ['not a requester: break-glass does not help', { config: policyConfig(), target: 'secret', requester: 'U0BOB', breakGlass: true }, { outcome: 'deny', rule: undefined, message: /not among the requesters/ }],
    ])('%s', (_name, c, e) => expectDecision(evaluate(c), e));
  });

  describe('2. deny rules', () => {
    const freeze = { days: ['fri' as const], from: '18:00', to: '08:00', timezone: 'UTC' };
    it.each<[string, Case, Expected]>([
      ['by target name', { config: policyConfig({ denyRules: [deny('no-prod-db', { targets: ['prod-db'], message: 'Use the read replica.' })] }), target: 'prod-db' }, { outcome: 'deny', rule: 'no-prod-db', message: /^Refused by the deny rule `no-prod-db`\. Use the read replica\.$/ }],
      ['by target name: another target is not refused', { config: policyConfig({ denyRules: [deny('no-prod-db', { targets: ['prod-db'] })] }), target: 'prod-web' }, { outcome: 'approval', reason: /deny rule no-prod-db does not apply: target prod-web is not in prod-db/ }],
      ['by wildcard', { config: policyConfig({ denyRules: [deny('no-prod', { targets: ['prod-*'] })] }), target: 'prod-web' }, { outcome: 'deny', rule: 'no-prod', message: /^Refused by the deny rule `no-prod`\.$/ }],
      ['by wildcard: no match', { config: policyConfig({ denyRules: [deny('no-prod', { targets: ['prod-*'] })] }), target: 'dev-box' }, { outcome: 'approval' }],
      ['by tags', { config: policyConfig({ denyRules: [deny('no-payments', { tags: { team: 'payments' } })] }), target: 'dev-db' }, { outcome: 'deny', rule: 'no-payments' }],
      ['by tags: every tag must match', { config: policyConfig({ denyRules: [deny('no-prod-payments', { tags: { ENV: 'prod', team: 'payments' } })] }), target: 'dev-db' }, { outcome: 'approval', reason: /target tags do not include ENV=prod, team=payments/ }],
      ['by requester', { config: policyConfig({ denyRules: [deny('mallory', { requesters: { users: ['U0MALLORY'], groups: [] } })] }), target: 'dev-box', requester: 'U0MALLORY' }, { outcome: 'deny', rule: 'mallory' }],
      ['by requester: others pass', { config: policyConfig({ denyRules: [deny('mallory', { requesters: { users: ['U0MALLORY'], groups: [] } })] }), target: 'dev-box', requester: 'U0ALICE' }, { outcome: 'approval', reason: /the requester is not among its requesters/ }],
      ['by group', { config: policyConfig({ denyRules: [deny('contractors', { requesters: { users: [], groups: ['S0CONTRACT'] } })] }), target: 'dev-box', groups: ['S0CONTRACT'] }, { outcome: 'deny', rule: 'contractors' }],
      ['by group: non-members pass', { config: policyConfig({ denyRules: [deny('contractors', { requesters: { users: [], groups: ['S0CONTRACT'] } })] }), target: 'dev-box', groups: ['S0SRE'] }, { outcome: 'approval' }],
      ['by tags and group: both must match', { config: policyConfig({ denyRules: [deny('contractors-prod', { tags: { ENV: 'prod' }, requesters: { users: [], groups: ['S0CONTRACT'] } })] }), target: 'dev-box', groups: ['S0CONTRACT'] }, { outcome: 'approval' }],
      ['by time window: inside', { config: policyConfig({ denyRules: [deny('weekend', { window: weekend() })] }), target: 'dev-box', now: new Date('2026-11-21T12:00:00Z') }, { outcome: 'deny', rule: 'weekend' }],
      ['by time window: outside', { config: policyConfig({ denyRules: [deny('weekend', { window: weekend() })] }), target: 'dev-box', now: FRI_NOON }, { outcome: 'approval', reason: /outside its window \(sat,sun 00:00–24:00 UTC\)/ }],
      ['overnight window: Friday evening', { config: policyConfig({ denyRules: [deny('freeze', { window: freeze })] }), target: 'dev-box', now: new Date('2026-11-20T22:00:00Z') }, { outcome: 'deny', rule: 'freeze' }],
      ['overnight window: Saturday morning belongs to Friday', { config: policyConfig({ denyRules: [deny('freeze', { window: freeze })] }), target: 'dev-box', now: new Date('2026-11-21T07:30:00Z') }, { outcome: 'deny', rule: 'freeze' }],
      ['overnight window: ends at its to', { config: policyConfig({ denyRules: [deny('freeze', { window: freeze })] }), target: 'dev-box', now: new Date('2026-11-21T08:00:00Z') }, { outcome: 'approval' }],
      // Friday 16:00 UTC is Saturday 01:00 in Tokyo; Friday 14:00 UTC is still Friday 23:00 there.
      ['time zone: the weekend starts early in Asia/Tokyo', { config: policyConfig({ denyRules: [deny('tokyo-weekend', { window: weekend('Asia/Tokyo') })] }), target: 'dev-box', now: new Date('2026-11-20T16:00:00Z') }, { outcome: 'deny', rule: 'tokyo-weekend' }],
      ['time zone: not yet the weekend in Asia/Tokyo', { config: policyConfig({ denyRules: [deny('tokyo-weekend', { window: weekend('Asia/Tokyo') })] }), target: 'dev-box', now: new Date('2026-11-20T14:00:00Z') }, { outcome: 'approval' }],
      ['several rules match: the first in file order is named', { config: policyConfig({ denyRules: [deny('first', { targets: ['prod-*'] }), deny('second', { tags: { ENV: 'prod' } })] }), target: 'prod-web' }, { outcome: 'deny', rule: 'first' }],
      ['deny beats auto-approve', { config: policyConfig({ denyRules: [deny('no-dev-db', { targets: ['dev-db'] })], autoApprove: [auto('dev', H, { tags: { ENV: 'dev' } })] }), target: 'dev-db' }, { outcome: 'deny', rule: 'no-dev-db' }],
      ['deny beats break-glass', { config: policyConfig({ denyRules: [deny('no-prod-db', { targets: ['prod-db'] })] }), target: 'prod-db', breakGlass: true }, { outcome: 'deny', rule: 'no-prod-db' }],
      ['deny beats an extension within its cap', { config: policyConfig({ denyRules: [deny('weekend', { window: weekend() })] }), target: 'dev-box', grantedMs: 30 * M, now: new Date('2026-11-22T10:00:00Z') }, { outcome: 'deny', rule: 'weekend' }],
    ])('%s', (_name, c, e) => expectDecision(evaluate(c), e));
  });

  describe('3. total cap on extensions', () => {
    const capped = withPolicy(policyConfig(), 'dev-box', { maxTotalDurationMs: 4 * H });
    it.each<[string, Case, Expected]>([
      ['within the cap: to the approvers', { config: capped, target: 'dev-box', grantedMs: 2 * H, durationMs: H }, { outcome: 'approval' }],
      ['exactly at the cap: allowed', { config: capped, target: 'dev-box', grantedMs: 3 * H, durationMs: H }, { outcome: 'approval' }],
      ['over the cap: refused with what is left', { config: capped, target: 'dev-box', grantedMs: 3 * H, durationMs: 2 * H }, { outcome: 'deny', rule: undefined, message: /at most 4h in all, extensions included; this one can be extended by up to 1h\./, reason: /total 5h is over maxTotalDuration 4h/ }],
      ['nothing left: cannot be extended further', { config: capped, target: 'dev-box', grantedMs: 4 * H, durationMs: 30 * M }, { outcome: 'deny', message: /cannot be extended further/ }],
      ['over the cap even when an auto rule would cover it', { config: { ...capped, autoApprove: [auto('dev', 8 * H, { tags: { ENV: 'dev' } })] }, target: 'dev-box', grantedMs: 3 * H, durationMs: 2 * H }, { outcome: 'deny', message: /in all/ }],
      ['a new request is not an extension: no total cap', { config: withPolicy(policyConfig(), 'dev-box', { maxTotalDurationMs: H }), target: 'dev-box', durationMs: 2 * H }, { outcome: 'approval' }],
    ])('%s', (_name, c, e) => expectDecision(evaluate(c), e));
  });

  describe('4. break-glass', () => {
    it.each<[string, Case, Expected]>([
      ['allowed on the target: granted now', { config: policyConfig(), target: 'prod-db', breakGlass: true }, { outcome: 'break-glass', reason: /break-glass requested and allowed/ }],
      ['not allowed on the target: refused, with what to do instead', { config: policyConfig(), target: 'prod-web', breakGlass: true }, { outcome: 'deny', rule: undefined, message: /`prod-web` does not allow break-glass access: send the request without `--break-glass`/ }],
      ['break-glass comes before auto-approval', { config: policyConfig({ autoApprove: [auto('payments', 4 * H, { tags: { team: 'payments' } })] }), target: 'prod-db', breakGlass: true }, { outcome: 'break-glass' }],
      ['break-glass needs no quorum', { config: withPolicy(policyConfig(), 'prod-db', { approvalsRequired: 3 }), target: 'prod-db', breakGlass: true, groupMembers: {} }, { outcome: 'break-glass' }],
      ['a hidden target allows break-glass for its requesters', { config: policyConfig(), target: 'secret', requester: 'U0ALICE', breakGlass: true }, { outcome: 'break-glass' }],
    ])('%s', (_name, c, e) => expectDecision(evaluate(c), e));
  });

  describe('5. auto-approval', () => {
    it.each<[string, Case, Expected]>([
      ['by target name', { config: policyConfig({ autoApprove: [auto('dev-names', H, { targets: ['dev-*'] })] }), target: 'dev-box' }, { outcome: 'auto', rule: 'dev-names', reason: /auto-approve rule dev-names covers 30m \(up to 1h\)/ }],
      ['by tags', { config: policyConfig({ autoApprove: [auto('dev-tags', H, { tags: { ENV: 'dev' } })] }), target: 'dev-box' }, { outcome: 'auto', rule: 'dev-tags' }],
      ['by tags: other targets go to the approvers', { config: policyConfig({ autoApprove: [auto('dev-tags', H, { tags: { ENV: 'dev' } })] }), target: 'prod-web' }, { outcome: 'approval', reason: /auto-approve rule dev-tags does not apply: target tags do not include ENV=dev/ }],
      ['exactly its maximum: auto', { config: policyConfig({ autoApprove: [auto('dev-tags', H, { tags: { ENV: 'dev' } })] }), target: 'dev-box', durationMs: H }, { outcome: 'auto', rule: 'dev-tags' }],
      ['over its maximum: to the approvers', { config: policyConfig({ autoApprove: [auto('dev-tags', H, { tags: { ENV: 'dev' } })] }), target: 'dev-box', durationMs: 2 * H }, { outcome: 'approval', approvalsRequired: 1, reason: /auto-approve rule dev-tags matches but covers only 1h; 2h needs approval/ }],
      ['limited to some requesters', { config: policyConfig({ autoApprove: [auto('sre-dev', H, { tags: { ENV: 'dev' }, requesters: { users: [], groups: ['S0SRE'] } })] }), target: 'dev-box', groups: ['S0SRE'] }, { outcome: 'auto', rule: 'sre-dev' }],
      ['limited to some requesters: others go to the approvers', { config: policyConfig({ autoApprove: [auto('sre-dev', H, { tags: { ENV: 'dev' }, requesters: { users: [], groups: ['S0SRE'] } })] }), target: 'dev-box' }, { outcome: 'approval' }],
      ['limited to a window: outside it, to the approvers', { config: policyConfig({ autoApprove: [auto('weekend-dev', H, { tags: { ENV: 'dev' }, window: weekend() })] }), target: 'dev-box' }, { outcome: 'approval', reason: /outside its window/ }],
      ['an auto-approved request needs no quorum', { config: withPolicy(policyConfig({ autoApprove: [auto('dev', H, { targets: ['dev-box'] })] }), 'dev-box', { approvalsRequired: 3 }), target: 'dev-box', groupMembers: {} }, { outcome: 'auto', rule: 'dev' }],
      ['extension: auto on the total within its maximum', { config: policyConfig({ autoApprove: [auto('dev', H, { tags: { ENV: 'dev' } })] }), target: 'dev-box', grantedMs: 30 * M, durationMs: 20 * M }, { outcome: 'auto', rule: 'dev', reason: /covers 50m \(up to 1h\)/ }],
      ['extension: the total over its maximum goes to the approvers', { config: policyConfig({ autoApprove: [auto('dev', H, { tags: { ENV: 'dev' } })] }), target: 'dev-box', grantedMs: 50 * M, durationMs: 20 * M }, { outcome: 'approval', reason: /covers only 1h in all; 1h10m needs approval/ }],
    ])('%s', (_name, c, e) => expectDecision(evaluate(c), e));

    // Overlapping rules (dev-db carries ENV=dev and team=payments): the FIRST rule in file order that
    // matches decides, whether it grants or sends the request on; later rules are not consulted.
    // (Unlike SSM, where overlapping auto-approval policies are an error.)
    const dev30 = auto('dev-30m', 30 * M, { tags: { ENV: 'dev' } });
    const payments4h = auto('payments-4h', 4 * H, { tags: { team: 'payments' } });
    const prodOnly = auto('prod-only', 4 * H, { tags: { ENV: 'prod' } });
    it.each<[string, AutoApproveRule[], number, Expected]>([
      ['overlapping tag rules, precedence = file order: the first match grants within its max', [dev30, payments4h], 20 * M, { outcome: 'auto', rule: 'dev-30m' }],
      ['overlapping tag rules, precedence = file order: the first match over its max sends to approvers, a later broader rule is not consulted', [dev30, payments4h], H, { outcome: 'approval', reason: /dev-30m matches but covers only 30m/ }],
      ['overlapping tag rules, precedence = file order: reversed, the broader rule decides', [payments4h, dev30], H, { outcome: 'auto', rule: 'payments-4h' }],
      ['overlapping tag rules, precedence = file order: a rule that does not match is skipped', [prodOnly, dev30, payments4h], 20 * M, { outcome: 'auto', rule: 'dev-30m' }],
    ])('%s', (_name, rules, durationMs, e) => {
      const d = evaluate({ config: policyConfig({ autoApprove: rules }), target: 'dev-db', durationMs });
      expectDecision(d, e);
      if (e.outcome === 'approval') expect(d.reasons.some((r) => r.includes('payments-4h'))).toBe(false);
    });
  });

  describe('6. approvers and quorum', () => {
    const quorum = (approvalsRequired: number, approvers = { users: ['U0APPROVER'], groups: ['S0SRE'] }) => withPolicy(policyConfig(), 'prod-web', { approvers, approvalsRequired });
    it.each<[string, Case, Expected]>([
      ['without group members the quorum is not checked', { config: quorum(5), target: 'prod-web' }, { outcome: 'approval', approvalsRequired: 5, reason: /needs 5 approvals/ }],
      ['enough approvers besides the requester', { config: quorum(2), target: 'prod-web', requester: 'U0ALICE', groupMembers: { S0SRE: ['U0ALICE', 'U0BOB'] } }, { outcome: 'approval', approvalsRequired: 2 }],
      ['a requester in the approver group does not count towards the quorum', { config: quorum(2), target: 'prod-web', requester: 'U0ALICE', groupMembers: { S0SRE: ['U0ALICE'] } }, { outcome: 'deny', rule: undefined, message: /`prod-web` needs 2 approvals from approvers other than you, and only 1 can approve it: ask an admin to add approvers\./, reason: /quorum of 2 cannot be met: 1 approver\(s\) besides the requester/ }],
      ['a named approver who is also a group member counts once', { config: quorum(3), target: 'prod-web', groupMembers: { S0SRE: ['U0APPROVER', 'U0BOB'] } }, { outcome: 'deny', message: /only 2 can approve it/ }],
      ['an unresolved group counts nobody', { config: quorum(2), target: 'prod-web', groupMembers: {} }, { outcome: 'deny', message: /only 1 can approve it/ }],
      ['a requester who is a named approver does not count either', { config: quorum(1, { users: ['U0ALICE'], groups: [] }), target: 'prod-web', requester: 'U0ALICE', groupMembers: {} }, { outcome: 'deny', message: /needs 1 approval from approvers other than you, and only 0/ }],
    ])('%s', (_name, c, e) => expectDecision(evaluate(c), e));

    it('returns the target’s own approvers', () => {
      const config = withPolicy(policyConfig(), 'prod-web', { approvers: { users: ['U0CAROL'], groups: ['S0DBA'] }, approvalsRequired: 2 });
      expect(evaluate({ config, target: 'prod-web' })).toMatchObject({ outcome: 'approval', approvers: { users: ['U0CAROL'], groups: ['S0DBA'] }, approvalsRequired: 2 });
    });
  });

  it('gives every reason in the order the policy looked at them', () => {
    const config = policyConfig({ denyRules: [deny('no-prod', { targets: ['prod-*'] }), deny('weekend', { window: weekend() })], autoApprove: [auto('dev', H, { tags: { ENV: 'dev' } })] });
    expect(evaluate({ config, target: 'dev-box', durationMs: 2 * H }).reasons).toEqual([
      'the target is open to everyone',
      'deny rule no-prod does not apply: target dev-box is not in prod-*',
      'deny rule weekend does not apply: outside its window (sat,sun 00:00–24:00 UTC)',
      'auto-approve rule dev matches but covers only 1h; 2h needs approval',
      'needs 1 approval',
    ]);
  });

  it('is deterministic: the same inputs give the same decision', () => {
    const config = policyConfig({ autoApprove: [auto('dev', H, { tags: { ENV: 'dev' } })] });
    expect(evaluate({ config, target: 'dev-db' })).toEqual(evaluate({ config, target: 'dev-db' }));
  });

  it('works on a parsed config the same way', () => {
    const parsed = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
denyRules:
  - { name: no-prod-weekends, tags: { ENV: prod }, window: { days: [sat, sun], from: "00:00", to: "24:00", timezone: Europe/London }, message: "Wait for Monday." }
autoApprove:
  - { name: dev, tags: { ENV: dev }, maxDuration: 1h }
targets:
  - { name: prod-db, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, tags: { ENV: prod }, breakGlass: true, requesters: { everyone: true } }
  - { name: dev-box, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, tags: { ENV: dev }, requesters: { everyone: true } }
`);
    const saturday = new Date('2026-11-21T12:00:00Z');
    expectDecision(evaluate({ config: parsed, target: 'prod-db', now: saturday, breakGlass: true }), { outcome: 'deny', rule: 'no-prod-weekends', message: /Wait for Monday\./ });
    expectDecision(evaluate({ config: parsed, target: 'prod-db', breakGlass: true }), { outcome: 'break-glass' });
    expectDecision(evaluate({ config: parsed, target: 'dev-box', now: saturday }), { outcome: 'auto', rule: 'dev' });
  });
});

describe('who may decide and revoke', () => {
  const config = withPolicy(withPolicy(policyConfig(), 'prod-db', { approvers: { users: ['U0DBA'], groups: ['S0DBAS'] } }), 'prod-web', { approvers: { users: ['U0WEB'], groups: [] } });
  const onDb = pendingRequest({ targetName: 'prod-db', requesterId: 'U0REQUESTER' });

  it.each<[string, string, string[], RegExp | undefined]>([
    ['a named approver of the target', 'U0DBA', [], undefined],
    ['a member of an approver group of the target', 'U0BOB', ['S0DBAS'], undefined],
    ['the requester, even in the approver group', 'U0REQUESTER', ['S0DBAS'], /cannot approve or deny your own request/],
    ['a non-approver', 'U0BOB', ['S0OTHER'], /not an approver for `prod-db`/],
    ['an approver of another target', 'U0WEB', [], /not an approver for `prod-db`/],
    ['a default approver the target replaced', 'U0APPROVER', [], /not an approver for `prod-db`/],
  ])('checkCanDecide: %s', (_name, actor, groups, error) => {
    if (error) {
      expect(() => checkCanDecide(config, onDb, actor, new Set(groups))).toThrow(NotAllowedError);
      // Whatever the reason (`error` was the old, telling message), the answer is the same neutral one.
      void error;
      expect(thrownWords(() => checkCanDecide(config, onDb, actor, new Set(groups)))).toMatch(/^You can't approve this request\.$/);
    } else {
      expect(checkCanDecide(config, onDb, actor, new Set(groups)).name).toBe('prod-db');
    }
  });

  it('checkCanDecide: an approver who already approved passes (the lifecycle refuses a second yes; a no is still theirs)', () => {
    const approved = pendingRequest({ targetName: 'prod-db', approvals: [{ by: 'U0DBA', at: '2026-11-22T10:01:00.000Z' }] });
    expect(checkCanDecide(config, approved, 'U0DBA').name).toBe('prod-db');
  });

  it('checkCanDecide: nobody decides on a target that is gone', () => {
    expect(thrownWords(() => checkCanDecide(config, pendingRequest({ targetName: 'gone' }), 'U0APPROVER'))).toMatch(/^You can't approve this request\.$/);
  });

  it.each<[string, string, string[], boolean, string?]>([
    ['the requester', 'U0REQUESTER', [], true],
    ['a named approver of the target', 'U0DBA', [], true],
    ['a group approver of the target', 'U0BOB', ['S0DBAS'], true],
    ['an approver of another target', 'U0WEB', [], false],
    ['someone else', 'U0BOB', [], false],
    ['a default approver when the target is gone', 'U0APPROVER', [], true, 'gone'],
    ['anyone else when the target is gone', 'U0DBA', [], false, 'gone'],
  ])('checkCanRevoke: %s → %s', (_name, actor, groups, allowed, targetName = 'prod-db') => {
    const r = pendingRequest({ targetName, requesterId: 'U0REQUESTER', status: 'ACTIVE' });
    if (allowed) expect(() => checkCanRevoke(config, r, actor, new Set(groups))).not.toThrow();
    else expect(() => checkCanRevoke(config, r, actor, new Set(groups))).toThrow(NotAllowedError);
  });

  it('isAnyApprover: default approvers and any target’s', () => {
    expect(isAnyApprover(config, 'U0APPROVER', NONE)).toBe(true);
    expect(isAnyApprover(config, 'U0WEB', NONE)).toBe(true);
    expect(isAnyApprover(config, 'U0BOB', new Set(['S0DBAS']))).toBe(true);
    expect(isAnyApprover(config, 'U0BOB', NONE)).toBe(false);
  });
});

describe('checkNarrowedDuration', () => {
  const ec2 = ec2Target({ minDurationMs: 5 * M, maxDurationMs: 4 * H });
  const role: Target = { name: 'ro', kind: 'aws-role', roleArn: 'arn:aws:iam::123456789012:role/ReadOnly', minDurationMs: 0, maxDurationMs: 4 * H, tags: {}, policy: testPolicy() };
  const asked = pendingRequest({ durationMs: H });

  it.each<[string, Target, AccessRequest, string | undefined, number | undefined]>([
    ['no duration: as asked', ec2, asked, undefined, undefined],
    ['blank: as asked', ec2, asked, '  ', undefined],
    ['equal to what was asked: not narrowed', ec2, asked, '1h', undefined],
    ['equal, written differently', ec2, asked, '60m', undefined],
    ['shorter', ec2, asked, '30m', 30 * M],
    ['down to the target minimum', ec2, asked, '5m', 5 * M],
    ['an extension may be narrowed down to 1m', ec2, pendingRequest({ durationMs: H, extends: 'jit-parent' }), '1m', M],
  ])('%s', (_name, target, request, text, expected) => {
    expect(checkNarrowedDuration(target, request, text)).toBe(expected);
  });

  it.each<[string, Target, AccessRequest, string, RegExp]>([
    ['longer than asked', ec2, asked, '2h', /2h is longer than the 1h asked for/],
    ['below the target minimum', ec2, asked, '4m', /4m is shorter than `prod-bastion` allows \(at least 5m\)/],
    ['below the STS minimum on a role target', role, pendingRequest({ durationMs: H, kind: 'aws-role' }), '10m', /at least 15m/],
    ['below 1m for an extension', ec2, pendingRequest({ durationMs: H, extends: 'jit-parent' }), '30s', /at least 1m/],
    ['not a duration', ec2, asked, 'soon', /`soon` is not a duration/],
  ])('refuses %s', (_name, target, request, text, message) => {
    expect(() => checkNarrowedDuration(target, request, text)).toThrow(ValidationError);
    expect(thrownWords(() => checkNarrowedDuration(target, request, text))).toMatch(message);
  });
});

describe('extensionHeadroom: the one home of the extension limits', () => {
  // minDuration 15m on purpose: extensions go by MIN_EXTENSION_MS (1m), not the target's minimum.
  const target = ec2Target({ minDurationMs: 15 * M, maxDurationMs: 2 * H, policy: testPolicy({ maxTotalDurationMs: 4 * H }) });
  it.each<[string, number, { maxMs: number; canExtend: boolean }]>([
    ['plenty left: the target maxDuration', H, { maxMs: 2 * H, canExtend: true }],
    ['less than maxDuration left: what the total cap leaves', 3 * H, { maxMs: H, canExtend: true }],
    ['less than the target minimum left: still extendable', 4 * H - 10 * M, { maxMs: 10 * M, canExtend: true }],
    ['exactly the minimum extension left', 4 * H - M, { maxMs: M, canExtend: true }],
    ['less than a minute left', 4 * H - 59_000, { maxMs: 59_000, canExtend: false }],
    ['at the cap', 4 * H, { maxMs: 0, canExtend: false }],
    ['over the cap (config lowered since): never negative', 5 * H, { maxMs: 0, canExtend: false }],
  ])('%s', (_name, grantedMs, expected) => {
    expect(extensionHeadroom(target, grantedMs)).toEqual(expected);
  });

  it('agrees with what the policy accepts: the longest offered extension is accepted, a minute more is refused with that maximum', () => {
    const grantedMs = 4 * H - 10 * M;
    const { maxMs } = extensionHeadroom(target, grantedMs);
    const decide = (durationMs: number) => evaluateRequest(policyConfig(), { target, requesterId: 'U0REQUESTER', durationMs, grantedMs }, { now: FRI_NOON, requesterGroups: new Set() });
    expect(checkExtensionDuration(target, '10m')).toBe(maxMs);
    expect(decide(maxMs).outcome).not.toBe('deny');
    expect(decide(maxMs + M)).toMatchObject({ outcome: 'deny', code: 'total-cap' });
    expect(denyWords(decide(maxMs + M))).toMatch(/can be extended by up to 10m\./);
    expect(decide(MIN_EXTENSION_MS).outcome).not.toBe('deny');
  });

  it('says it cannot be extended exactly when there is less than the minimum extension left', () => {
    const decide = (grantedMs: number) => evaluateRequest(policyConfig(), { target, requesterId: 'U0REQUESTER', durationMs: 30 * M, grantedMs }, { now: FRI_NOON, requesterGroups: new Set() });
    expect(denyWords(decide(4 * H - M))).toMatch(/can be extended by up to 1m\./);
    expect(denyWords(decide(4 * H - 59_000))).toMatch(/cannot be extended further/);
  });

  it('grantedMsOf: the time the grant holds so far, undefined before it is granted', () => {
    expect(grantedMsOf({ grantedAt: '2026-11-20T12:00:00.000Z', expiresAt: '2026-11-20T13:30:00.000Z' })).toBe(90 * M);
    expect(grantedMsOf({})).toBeUndefined();
  });
});

describe('checkExtensionDuration', () => {
  const target = ec2Target({ minDurationMs: 15 * M, maxDurationMs: 2 * H });
  it.each<[string, number]>([
    ['1m', M],
    ['30m', 30 * M],
    ['2h', 2 * H],
  ])('accepts %s (an extension may be shorter than the target minimum)', (text, ms) => {
    expect(checkExtensionDuration(target, text)).toBe(ms);
  });

  it.each<[string | undefined, RegExp]>([
    [undefined, /Say how much longer you need, e\.g\. `30m` \(up to 2h\)/],
    ['', /Say how much longer/],
    ['later', /`later` is not a duration/],
    ['30s', /between 1m and 2h/],
    ['2h1m', /between 1m and 2h/],
  ])('refuses %j', (text, message) => {
    expect(() => checkExtensionDuration(target, text)).toThrow(ValidationError);
    expect(thrownWords(() => checkExtensionDuration(target, text))).toMatch(message);
  });
});

describe('what a user sees', () => {
  const config = policyConfig({
    denyRules: [deny('no-prod-weekends', { tags: { ENV: 'prod' }, window: weekend(), message: 'Wait for Monday.' }), deny('contractors', { requesters: { users: [], groups: ['S0CONTRACT'] } })],
    autoApprove: [auto('dev-30m', 30 * M, { tags: { ENV: 'dev' } }), auto('payments', 4 * H, { tags: { team: 'payments' }, requesters: { users: [], groups: ['S0SRE'] } })],
  });

  it('visibleTargets: only what the user may request', () => {
    const names = (userId: string, groups: string[] = []) => visibleTargets(config, userId, new Set(groups)).map((t) => t.name);
    expect(names('U0BOB')).toEqual(['prod-db', 'prod-web', 'dev-box', 'dev-db']);
    expect(names('U0ALICE')).toEqual(['prod-db', 'prod-web', 'dev-box', 'dev-db', 'secret']);
    expect(names('U0BOB', ['S0SRE'])).toContain('secret');
  });

  it('referencedGroups: every group the config names, once, sorted', () => {
    const c = withPolicy(withPolicy(config, 'prod-db', { approvers: { users: [], groups: ['S0DBAS', 'S0SRE'] } }), 'prod-web', { requesters: { users: [], groups: ['S0WEB'] } });
    expect(referencedGroups({ ...c, approvers: { users: [], groups: ['S0ADMINS'] } })).toEqual(['S0ADMINS', 'S0CONTRACT', 'S0DBAS', 'S0SRE', 'S0WEB']);
    expect(referencedGroups(policyConfig())).toEqual(['S0SRE']);
  });

  it('summarizeFor: how each visible target would be decided for the caller now', () => {
    const saturday = new Date('2026-11-21T12:00:00Z');
    const byName = (s: TargetSummary[]) => Object.fromEntries(s.map((x) => [x.target.name, x]));
    const bob = byName(summarizeFor(config, 'U0BOB', NONE, saturday));
    expect(Object.keys(bob)).toEqual(['prod-db', 'prod-web', 'dev-box', 'dev-db']);
    expect(bob['prod-db']).toMatchObject({ approvers: { users: ['U0APPROVER'], groups: [] }, approvalsRequired: 1, breakGlass: true, maxTotalDurationMs: 8 * H, deniedBy: { rule: 'no-prod-weekends', message: 'Wait for Monday.' } });
    expect(bob['prod-db']!.autoApprove).toBeUndefined();
    expect(bob['dev-box']).toMatchObject({ autoApprove: { rule: 'dev-30m', maxDurationMs: 30 * M }, breakGlass: false });
    expect(bob['dev-box']!.deniedBy).toBeUndefined();
    // The first matching auto rule is shown, as it is the one that decides.
    expect(bob['dev-db']!.autoApprove).toEqual({ rule: 'dev-30m', maxDurationMs: 30 * M });

    const sre = byName(summarizeFor(config, 'U0BOB', new Set(['S0SRE']), FRI_NOON));
    expect(sre['prod-db']!.deniedBy).toBeUndefined();
    expect(sre['prod-db']!.autoApprove).toEqual({ rule: 'payments', maxDurationMs: 4 * H });
    expect(sre['secret']).toBeDefined();

    const contractor = byName(summarizeFor(config, 'U0EVE', new Set(['S0CONTRACT']), FRI_NOON));
    expect(contractor['dev-box']!.deniedBy).toEqual({ rule: 'contractors' });
  });

  it('validateSubmission: a target the caller may not request is reported as unknown', () => {
    const input = { requesterId: 'U0BOB', targetName: 'secret', duration: '30m', address: '203.0.113.7', reason: 'debugging' };
    let message = '';
    try {
      validateSubmission(config, input);
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('target');
      message = wordsOf(err);
    }
    expect(message).toBe('There is no target called `secret`. You can request: `prod-db`, `prod-web`, `dev-box`, `dev-db` (see `/jit targets`).');
    expect(thrownWords(() => validateSubmission(config, { ...input, targetName: undefined }))).toMatch(/^Say which target you need\. You can request: `prod-db`, `prod-web`, `dev-box`, `dev-db`\.$/);
    expect(validateSubmission(config, { ...input, requesterId: 'U0ALICE' }).target.name).toBe('secret');
    expect(validateSubmission(config, input, new Set(['S0SRE'])).target.name).toBe('secret');
  });

  it('validateSubmission: says so when the caller may request nothing', () => {
    const closed = { ...config, targets: config.targets.filter((t) => t.name === 'secret') };
    expect(thrownWords(() => validateSubmission(closed, { requesterId: 'U0BOB', targetName: 'secret', duration: '30m', reason: 'x' }))).toMatch(/You can request: nothing \(ask an admin to add you as a requester\)/);
  });
});

describe('redecide: the whole policy again on a stored request (issue 10 item 1)', () => {
  const cfg = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
defaults: { minDuration: 5m, maxDuration: 4h }
denyRules:
  - name: no-nights
    targets: [prod-*]
    window: { from: "20:00", to: "07:00", timezone: UTC }
autoApprove:
  - { name: mornings, targets: [prod-bastion], window: { from: "08:00", to: "09:00", timezone: UTC }, maxDuration: 1h }
targets:
  - { name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, maxDuration: 1h, breakGlass: true, requesters: { users: [U0REQUESTER] } }
  - { name: team-box, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef1, requesters: { groups: [S0TEAM] } }
  - { name: quorum-box, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef2, approvers: { groups: [S0DBA] }, approvalsRequired: 2 }
`);
  const day = new Date('2026-11-22T12:00:00Z');
  const night = new Date('2026-11-22T20:10:00Z');
  const ctx = (now: Date, groups: string[] = [], members?: Record<string, string[]>) => ({ now, requesterGroups: new Set(groups), ...(members ? { groupMembers: new Map(Object.entries(members)) } : {}) });
  const req = (o: Partial<AccessRequest> = {}) => pendingRequest({ targetName: 'prod-bastion', durationMs: 30 * 60_000, ...o });

  it.each<[string, Partial<AccessRequest>, Date, string[], Record<string, string[]> | undefined, string]>([
    ['still fine by day', {}, day, [], undefined, 'approval'],
    ['a deny window started since', {}, night, [], undefined, 'deny:deny-rule'],
    ['break-glass is decided as break-glass, and deny rules still beat it', { breakGlass: true, approvedVia: 'break-glass' }, night, [], undefined, 'deny:deny-rule'],
    ['break-glass by day stays break-glass', { breakGlass: true, approvedVia: 'break-glass' }, day, [], undefined, 'break-glass'],
    ['the requester left the target\'s requesters', { targetName: 'team-box' }, day, [], undefined, 'deny:not-requester'],
    ['the requester is still in the group', { targetName: 'team-box' }, day, ['S0TEAM'], undefined, 'approval'],
    ['the target is gone', { targetName: 'gone' }, day, [], undefined, 'deny:target-gone'],
    ['the target changed kind', { kind: 'aws-role' }, day, [], undefined, 'deny:target-changed'],
    ['the duration is now over the maximum', { durationMs: 2 * 3_600_000 }, day, [], undefined, 'deny:duration-out-of-bounds'],
    ['the stored address is a network', { cidr: '0.0.0.0/0' }, day, [], undefined, 'deny:address-invalid'],
    ['the quorum can no longer be met', { targetName: 'quorum-box' }, day, [], { S0DBA: ['U0DBA1', 'U0REQUESTER'] }, 'deny:quorum-unreachable'],
    ['an auto-approve rule that no longer matches is not a refusal', { approvedVia: 'auto', policyRule: 'mornings' }, day, [], undefined, 'approval'],
  ])('%s', (_name, overrides, now, groups, members, expected) => {
    const d = redecide(cfg, req(overrides), ctx(now, groups, members));
    expect(d.outcome === 'deny' ? `deny:${d.code}` : d.outcome).toBe(expected);
    if (expected === 'deny:deny-rule' && d.outcome === 'deny') expect(d.rule).toBe('no-nights');
  });

  it('an extension is capped by the grant as it stands', () => {
    const ext = req({ extends: 'jit-parent0000', durationMs: 30 * 60_000 });
    expect(redecide(cfg, ext, ctx(day), 30 * 60_000).outcome).toBe('approval');
    const over = redecide(cfg, ext, ctx(day), 3 * 3_600_000 + 45 * 60_000);
    expect(over).toMatchObject({ outcome: 'deny', code: 'total-cap' });
  });
});

describe('reason requirements', () => {
  const rule = compileReasonRule({ pattern: '^[A-Z]+-[0-9]+', message: 'Start with a ticket key such as OPS-123' });
  const target = ec2Target({ policy: testPolicy({ reason: rule }) });
  const config = { ...parseConfig('approverChannel: C0A\napprovers: { users: [U0APPROVER1] }\ntargets:\n  - { name: x, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n'), targets: [target] } as JitConfig;
  const input = (reason: string) => ({ requesterId: 'U0REQUESTER', targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason });

  it('a reason that follows the target\'s rule passes, trimmed', () => {
    expect(checkReason('  OPS-123 restart the worker ', target)).toBe('OPS-123 restart the worker');
    expect(validateSubmission(config, input('OPS-123 restart')).reason).toBe('OPS-123 restart');
  });

  it('one that does not is refused with the operator\'s message, on the reason field', () => {
    const err = (() => {
      try {
        validateSubmission(config, input('restart the worker'));
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('expected a refusal');
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe('reason');
    expect(err.problem).toEqual({ code: 'reason-format', params: { target: 'prod-bastion', message: 'Start with a ticket key such as OPS-123' } });
  });

  it('the existing checks come first; a target without a rule takes free text', () => {
    expect(() => checkReason('', target)).toThrow(expect.objectContaining({ problem: { code: 'reason-missing', params: {} } }));
    expect(() => checkReason('x'.repeat(501), target)).toThrow(expect.objectContaining({ problem: expect.objectContaining({ code: 'reason-too-long' }) }));
    expect(checkReason('anything at all', ec2Target())).toBe('anything at all');
  });
});
