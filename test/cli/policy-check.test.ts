import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/policy-check';

const EXAMPLE = join(__dirname, '..', '..', 'jit.config.example.yaml');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-check-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = run(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const head = 'approverChannel: C0APPROVERS\napprovers: { users: [U0APPROVER1, U0APPROVER2] }\n';

it('passes the example config and prints the effective policy per target', () => {
  const { code, out, err } = check([EXAMPLE]);
  expect(err).toEqual([]);
  expect(code).toBe(0);
  expect(out[0]).toBe('approver channel: C0123456789');
  expect(out.filter((l) => l.startsWith('target '))).toEqual([
    'target prod-bastion (ec2-ssh): Production bastion host',
    'target staging-db (ec2-ssh)',
    'target prod-readonly (aws-role): Read-only access to production',
    'target dev-nodes (ssm-session)',
  ]);
  // The example shows every policy feature.
  expect(out).toContain('  approvers: users U0AAAAAAAAA; groups S0SREONCALL; 2 distinct approvals required (never the requester)');
  expect(out).toContain('  break-glass: allowed (granted at once, @here alert, needs a review)');
  expect(out).toContain('  requesters: groups S0DBATEAMXX (hidden from everyone else)');
  expect(out.some((l) => l.startsWith('  deny rule contractors-prod-office-hours: when the requester is among groups S0CONTRACTR and during'))).toBe(true);
  expect(out.some((l) => l.startsWith('  auto-approve rule dev-self-service: grants up to 1h'))).toBe(true);
  expect(out).toContain('  reason: must match /^[A-Z][A-Z0-9]+-[0-9]+\\b/ (requests and extensions), else refused with "Start the reason with the ticket key, e.g. OPS-123 restart the stuck worker."; the ticket key (the match) is linked as https://jira.example.com/browse/{key} in the approval message and recorded in the audit');
  expect(out).toContain('  reason: free text (up to 500 characters)');
  expect(out.at(-1)).toBe('OK: 4 targets');
});

it('fails with the key when the policy is invalid', () => {
  const quorum = file('quorum.yaml', `${head}targets:\n  - { name: a, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, approvalsRequired: 0 }\n`);
  const q = check([quorum]);
  expect(q.code).toBe(1);
  expect(q.out).toEqual([]);
  expect(q.err.join('\n')).toMatch(/targets\[0\]\.approvalsRequired: /);

  const tooFew = file('too-few.yaml', `${head}targets:\n  - { name: a, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0, approvalsRequired: 3 }\n`);
  expect(check([tooFew]).err.join('\n')).toMatch(/approvers: 3 approvals are required for targets\[0\] but only 2 approver\(s\) are named/);

  const zone = file(
    'zone.yaml',
    `${head}denyRules:\n  - { name: night, targets: [a], window: { from: "20:00", to: "07:00", timezone: Mars/Olympus } }\ntargets:\n  - { name: a, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n`,
  );
  const z = check([zone]);
  expect(z.code).toBe(1);
  expect(z.err.join('\n')).toMatch(/denyRules\[0\]\.window\.timezone: must be an IANA time zone/);
});

it('fails when the file cannot be read, and on a usage error', () => {
  const missing = check([join(dir, 'nope.yaml')]);
  expect(missing.code).toBe(1);
  expect(missing.err.join('\n')).toMatch(/cannot read .*nope\.yaml \(ENOENT\)/);
  expect(check(['a.yaml', 'b.yaml']).code).toBe(2);
});

it('reads ./jit.config.yaml when no file is given', () => {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    file('jit.config.yaml', `${head}targets:\n  - { name: a, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }\n`);
    const { code, out } = check([]);
    expect(code).toBe(0);
    expect(out.at(-1)).toBe('OK: 1 target');
  } finally {
    process.chdir(cwd);
  }
});
