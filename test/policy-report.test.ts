import { parseConfig } from '../src/config';
import { autoApproveChainFor, denyRulesFor, describePolicy, formatPrincipals, PRECEDENCE, ruleConditions } from '../src/policy-report';

const yaml = `
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER1, U0APPROVER2], groups: [S0SRE] }
defaults:
  reminders: { every: 10m }
denyRules:
  - name: no-prod-at-weekends
    tags: { ENV: prod }
    window: { days: [sat, sun], from: "00:00", to: "24:00", timezone: Europe/London }
    message: Production is frozen at weekends.
  - name: contractors-out
    targets: [prod-*]
    requesters: { groups: [S0CONTRACT] }
  - name: legacy-closed
    targets: [legacy-box]
autoApprove:
  - name: dev-office-hours
    tags: { ENV: dev }
    window: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", timezone: UTC }
    maxDuration: 2h
  - name: dev-any-time
    tags: { ENV: dev }
    maxDuration: 30m
  - name: never-reached
    targets: [dev-*]
    maxDuration: 4h
targets:
  - name: prod-db
    kind: ec2-ssh
    description: Primary database
    securityGroupId: sg-0123456789abcdef0
    tags: { ENV: prod, TEAM: data }
    maxDuration: 1h
    maxTotalDuration: 3h
    approvers: { users: [U0APPROVER1], groups: [S0DBA] }
    approvalsRequired: 2
    approvalTimeout: 20m
    reminders: { every: 5m, dm: true }
    breakGlass: true
    requesters: { users: [U0ONCALL], groups: [S0ENG] }
  - name: dev-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    tags: { ENV: dev }
    requesters: { everyone: true }
  - name: legacy-box
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
`;

const config = parseConfig(yaml, 'test.yaml');
const lines = describePolicy(config);

/** The block of lines of one target, heading included. */
function block(name: string): string[] {
  const start = lines.findIndex((l) => l.startsWith(`target ${name} `));
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start, end === -1 ? undefined : end);
}

it('starts with the approver channel, the default approvers and the precedence', () => {
  expect(lines.slice(0, 4)).toEqual([
    'approver channel: C0APPROVERS',
    'default approvers: users U0APPROVER1, U0APPROVER2; groups S0SRE',
    'rules: 3 deny rules (no-prod-at-weekends, contractors-out, legacy-closed), 3 auto-approve rules (dev-office-hours, dev-any-time, never-reached)',
    PRECEDENCE,
  ]);
  // The precedence is the order evaluateRequest uses.
  const steps = PRECEDENCE.replace(/^[^:]*: /, '').split(' → ');
  expect(steps.map((s) => s.split(' (')[0])).toEqual(['requesters', 'deny rules', 'maxTotalDuration', 'break-glass where allowed', 'the first auto-approve rule matching target, requester and time', 'the approvers']);
});

it('lists every target in file order, each in its own block', () => {
  expect(lines.filter((l) => l.startsWith('target '))).toEqual(['target prod-db (ec2-ssh): Primary database', 'target dev-box (ec2-ssh)', 'target legacy-box (ec2-ssh)']);
});

it('gives a target its own policy: quorum, group approvers, requesters, reminders by DM, break-glass, total cap', () => {
  expect(block('prod-db')).toEqual([
    'target prod-db (ec2-ssh): Primary database',
    '  durations: 5m–1h per request; maxTotalDuration 3h per grant, extensions included',
    '  tags: ENV=prod, TEAM=data',
    '  requesters: users U0ONCALL; groups S0ENG (hidden from everyone else)',
    '  approvers: users U0APPROVER1; groups S0DBA; 2 distinct approvals required (never the requester)',
    '  approval timeout: 20m',
    '  reminders: every 5m in the approval thread, and by DM to approvers who have not approved',
    '  break-glass: allowed (granted at once, @here alert, needs a review)',
    '  reason: free text (up to 500 characters)',
    '  deny rule no-prod-at-weekends: during sat,sun 00:00–24:00 Europe/London: "Production is frozen at weekends."',
    '  deny rule contractors-out: when the requester is among groups S0CONTRACT',
    '  auto-approve: none (the approvers decide)',
  ]);
});

it('falls back to the defaults: default approvers, one approval, everyone, no break-glass, twice maxDuration', () => {
  const dev = block('dev-box');
  expect(dev).toContain('  durations: 5m–4h per request; maxTotalDuration 8h per grant, extensions included');
  expect(dev).toContain('  requesters: everyone (every full member of the workspace)');
  expect(dev).toContain('  approvers: users U0APPROVER1, U0APPROVER2; groups S0SRE; 1 approval required (never the requester)');
  expect(dev).toContain('  approval timeout: 30m');
  expect(dev).toContain('  reminders: every 10m in the approval thread');
  expect(dev).toContain('  break-glass: not allowed');
  expect(dev).toContain('  deny rules: none');
});

it('names the auto-approve rule that decides, and the one consulted when its window does not hold', () => {
  expect(block('dev-box').filter((l) => l.includes('auto-approve'))).toEqual([
    "  auto-approve rule dev-office-hours: grants up to 2h (for an extension: the grant's total), during mon,tue,wed,thu,fri 08:00–18:00 UTC; longer goes to the approvers",
    "    otherwise auto-approve rule dev-any-time: grants up to 30m (for an extension: the grant's total), always; longer goes to the approvers",
  ]);
  // An unconditional rule always decides: the rules after it are never consulted.
  expect(autoApproveChainFor(config, config.targets[1]!).map((r) => r.name)).toEqual(['dev-office-hours', 'dev-any-time']);
});

it('says when a conditional auto-approve rule is the only one: otherwise the approvers decide', () => {
  const c = parseConfig(yaml.replace(/  - name: dev-any-time\n[\s\S]*?maxDuration: 4h\n/, ''), 'test.yaml');
  const all = describePolicy(c);
  const start = all.indexOf('target dev-box (ec2-ssh)');
  expect(all.slice(start, all.indexOf('', start)).slice(-2)).toEqual([
    "  auto-approve rule dev-office-hours: grants up to 2h (for an extension: the grant's total), during mon,tue,wed,thu,fri 08:00–18:00 UTC; longer goes to the approvers",
    '    otherwise the approvers decide',
  ]);
});

it('flags a deny rule that refuses every request for a target', () => {
  expect(block('legacy-box')).toContain('  deny rule legacy-closed: always (every request for this target is refused)');
  expect(denyRulesFor(config, config.targets[2]!).map((r) => r.name)).toEqual(['legacy-closed']);
  // Rules by tag and by name pattern apply only where they match.
  expect(denyRulesFor(config, config.targets[1]!)).toEqual([]);
});

it('describes overnight windows and rules that name requesters and a window', () => {
  expect(ruleConditions({ requesters: { users: ['U0X'], groups: [] }, window: { days: ['fri'], from: '18:00', to: '08:00', timezone: 'UTC' } })).toBe(
    'when the requester is among users U0X and during fri 18:00–08:00 UTC (overnight, into the next day)',
  );
  expect(ruleConditions({ targets: ['a'] })).toBe('always');
  expect(formatPrincipals({ users: [], groups: [] })).toBe('nobody');
});

it('says when there are no default approvers', () => {
  const c = parseConfig(
    `approverChannel: C0APPROVERS\ntargets:\n  - { name: a, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, approvers: { users: [U0APPROVER1] } }\n`,
    'test.yaml',
  );
  expect(describePolicy(c)[1]).toBe('default approvers: none (every target names its own)');
  expect(describePolicy(c)[2]).toBe('rules: 0 deny rules, 0 auto-approve rules');
});

it('is deterministic', () => {
  expect(describePolicy(parseConfig(yaml, 'test.yaml'))).toEqual(lines);
});

describe('warnings (issue 10)', () => {
  it('warns about explicit everyone and allowGuests, and states guests and rate limits', () => {
    const c = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER1] }
allowGuests: true
autoApprove:
  - { name: open-dev, tags: { ENV: dev }, maxDuration: 1h, requesters: { everyone: true } }
targets:
  - { name: bg, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, breakGlass: true, requesters: { everyone: true } }
  - { name: dev, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, tags: { ENV: dev } }
`);
    const out = describePolicy(c);
    expect(out).toContain('WARNING: target bg: requesters is everyone, with break-glass: any workspace member gets access at once');
    expect(out).toContain('WARNING: auto-approve rule open-dev: requesters is everyone: it grants to any workspace member');
    expect(out).toContain('WARNING: allowGuests is true: guest accounts may request and approve');
    expect(out).toContain('guests: may request and approve (allowGuests: true); other workspaces, deactivated accounts and bots: refused; rate limits per user: 10 requests per 1h, 2 break-glass per 1d');
    expect(out.filter((l) => l.startsWith('WARNING'))).toHaveLength(3);
  });

  it('a config with everyone named nowhere has no warnings', () => {
    expect(describePolicy(parseConfig('approverChannel: C0APPROVERS\napprovers: { users: [U0APPROVER1] }\ntargets:\n  - { name: a, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n')).filter((l) => l.startsWith('WARNING'))).toEqual([]);
  });
});
