import type { KnownBlock } from '@slack/types';
import {
  approvalRecordedReply,
  errorReply,
  helpText,
  listReply,
  MAX_LISTED_APPROVERS,
  MAX_LISTED_REQUESTS,
  policyReply,
  resolvedReply,
  revokedReply,
  submittedReply,
  targetsReply,
} from '../../blocks/command';
import type { RequestStatus, Target } from '../../src/domain/types';
import {
  ALL_STATUSES,
  APPROVER,
  APPROVER_GROUP,
  CHANNEL,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  NASTY_ESCAPED,
  PARENT,
  policy,
  REVOKER,
  roleRequest,
  roleTarget,
  ssmRequest,
  ssmTarget,
  summary,
  target,
  textObjects,
} from './fixtures';

const allText = (blocks: KnownBlock[]) => textObjects(blocks).map((t) => t.text).join('\n');

describe('helpText', () => {
  const text = allText(helpText().blocks);

  it.each(['`/jit`', '/jit request', '/jit list', '/jit revoke', '/jit targets', '/jit policy check', '/jit doctor', '/jit help', '--break-glass'])('mentions %s', (sub) => {
    expect(text).toContain(sub);
  });

  it('shows the request syntax and an example, escaped', () => {
    expect(text).toContain('`/jit request &lt;target&gt; &lt;duration&gt; [&lt;address&gt;] &lt;reason…&gt;`');
    expect(text).toContain('`/jit request prod-bastion 30m 203.0.113.7 investigating checkout latency`');
    expect(text).toContain('`/jit revoke &lt;id&gt;`');
    expectMessageWithinLimits(helpText());
  });

  it('explains break-glass and the policy check', () => {
    expect(text).toContain('• `/jit request &lt;target&gt; &lt;duration&gt; [&lt;address&gt;] --break-glass &lt;reason…&gt;`: emergency access, on targets that allow it: granted at once');
    expect(text).toContain('• `/jit policy check`: the effective approval policy of every target (approvers only)');
    expect(text).toContain('• `/jit doctor`: check everything the bot depends on: Slack, the store, AWS (approvers only)');
  });
});

describe('submittedReply', () => {
  it('names the request, the channel and the deadline', () => {
    const msg = submittedReply(inStatus('PENDING'), CHANNEL);
    expect(allText(msg.blocks)).toMatch(new RegExp(`^📨 Request \`jit-abc123\` sent to <#${CHANNEL}> for approval: \\*prod-bastion\\* for 30m\\.`));
    expect(allText(msg.blocks)).toContain('|10:30 UTC>');
    expect(msg.text).toBe('Request jit-abc123 sent for approval.');
    expect(allText(msg.blocks)).not.toContain('approvals');
  });

  it('says how many approvals it needs when more than one', () => {
    expect(allText(submittedReply(inStatus('PENDING', { approvalsRequired: 2 }), CHANNEL).blocks)).toContain(`sent to <#${CHANNEL}> for approval (needs 2 approvals): *prod-bastion* for 30m.`);
  });

  it.each([
    ['GRANTING', 'access is being granted; you will get a DM.'],
    ['ACTIVE', 'access is open; you will get a DM with the details.'],
    ['FAILED', 'the grant failed; you will get a DM with the error.'],
  ] as const)('auto-approved, %s: names the rule', (status, state) => {
    const msg = submittedReply(inStatus(status, { approvedVia: 'auto', policyRule: 'office-hours', decidedBy: undefined }), CHANNEL);
    expect(allText(msg.blocks)).toBe(`🤖 Auto-approved by rule \`office-hours\`: ${state} Request \`jit-abc123\`: *prod-bastion* for 30m.`);
    expect(msg.text).toBe('Request jit-abc123 auto-approved.');
  });

  it('break-glass: granted, and the approvers were alerted', () => {
    const msg = submittedReply(inStatus('ACTIVE', { approvedVia: 'break-glass', breakGlass: true }), CHANNEL);
    expect(allText(msg.blocks)).toContain('🚨 Break-glass access granted; the approvers were alerted and will review it.');
    expect(msg.text).toBe('Break-glass request jit-abc123 granted.');
    expect(allText(submittedReply(inStatus('FAILED', { approvedVia: 'break-glass', breakGlass: true }), CHANNEL).blocks)).toContain('the grant failed');
  });

  it('escapes a rule name', () => {
    expectNoRawPing(submittedReply(inStatus('GRANTING', { approvedVia: 'auto', policyRule: NASTY }), CHANNEL));
  });
});

describe('approvalRecordedReply', () => {
  it('says the approval is recorded and how many more are needed', () => {
    const msg = approvalRecordedReply(inStatus('PENDING', { approvalsRequired: 3, approvals: [{ by: APPROVER, at: '2026-11-22T10:05:00.000Z' }] }));
    expect(allText(msg.blocks)).toMatch(/^👍 Your approval of `jit-abc123` for \*prod-bastion\* is recorded \(1 of 3 approvals\); it needs 2 approvals more from other approvers before <!date/);
    expect(msg.text).toBe('Your approval of jit-abc123 is recorded (1 of 3 approvals); it needs 2 approvals more.');
  });
});

describe('policyReply', () => {
  it('wraps the lines in a code block, escaped', () => {
    const msg = policyReply(['prod-bastion', '  approvers: <@U1>, <!channel>', '  needs ```2``` approvals']);
    expect(msg.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', verbatim: true, text: "```prod-bastion\n  approvers: &lt;@U1&gt;, &lt;!channel&gt;\n  needs '''2''' approvals```" } },
    ]);
    expect(msg.text).toBe('Effective approval policy (3 lines).');
    expectNoRawPing(msg);
  });

  it('splits long reports into blocks that fit, and cuts beyond 50 blocks', () => {
    const lines = Array.from({ length: 5_000 }, (_, i) => `line ${i} ${'<'.repeat(100)}`);
    const msg = policyReply(lines);
    expectMessageWithinLimits(msg);
    expect(msg.blocks).toHaveLength(50);
    for (const b of msg.blocks.slice(0, 49)) expect(allText([b])).toMatch(/^```[\s\S]*```$/);
    const shown = (allText(msg.blocks).match(/line \d+/g) ?? []).length;
    expect(allText(msg.blocks.slice(-1))).toBe(`…and ${5_000 - shown} more lines.`);
  });

  it('keeps every line of a report that fits, in order', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(50)}`);
    const text = allText(policyReply(lines).blocks);
    expect(text.match(/line \d+/g)).toEqual(lines.map((_, i) => `line ${i}`));
  });

  it('cuts one very long line, and has an empty state', () => {
    expectMessageWithinLimits(policyReply(['y'.repeat(10_000)]));
    expect(policyReply([]).text).toBe('There is no policy to show.');
  });
});

describe('errorReply', () => {
  it('shows the message with a warning sign, keeping backticks', () => {
    const msg = errorReply('Say which request to end: `/jit revoke <id>`.');
    expect(msg.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '⚠️ Say which request to end: `/jit revoke &lt;id&gt;`.', verbatim: true } },
    ]);
    expect(msg.text).toBe('⚠️ Say which request to end: `/jit revoke &lt;id&gt;`.');
  });

  it('escapes and cuts anything', () => {
    const msg = errorReply(`${NASTY} ${'z'.repeat(10_000)}`);
    expectNoRawPing(msg);
    expect(allText(msg.blocks)).toContain(NASTY_ESCAPED);
    expectMessageWithinLimits(msg);
  });
});

describe('listReply', () => {
  it('has an empty state', () => {
    const msg = listReply([]);
    expect(msg.text).toBe('You have no pending or active requests.');
    expect(allText(msg.blocks)).toBe('You have no pending or active requests.');
  });

  it('shows only pending and active requests, with id, target, status and time', () => {
    const requests = ALL_STATUSES.map((status, i) => inStatus(status, { id: `jit-${i}` }));
    const msg = listReply(requests);
    const text = allText(msg.blocks);
    expect(msg.text).toBe('You have 4 pending or active requests.');
    expect(text).toMatch(/• `jit-0` · \*prod-bastion\* · 30m · waiting for approval until <!date\^\d+\^[^|]+\|10:30 UTC>/);
    expect(text).toContain('• `jit-1` · *prod-bastion* · 30m · approved, granting access');
    expect(text).toMatch(/• `jit-2` · \*prod-bastion\* · 30m · active until <!date\^\d+\^[^|]+\|10:36 UTC>/);
    expect(text).toContain('• `jit-3` · *prod-bastion* · 30m · revoking access');
    for (const hidden of ['jit-4', 'jit-5', 'jit-6', 'jit-7', 'jit-8', 'jit-9']) expect(text).not.toContain(hidden);
  });

  it('shows an extension as the time it adds to its grant, and a quorum in progress', () => {
    const text = allText(listReply([inStatus('PENDING', { extends: PARENT, approvalsRequired: 2 })]).blocks);
    expect(text).toMatch(new RegExp(`• \`jit-abc123\` · \\*prod-bastion\\* · 30m more for \`${PARENT}\` · waiting for approval \\(0 of 2 approvals\\) until <!date`));
  });

  it(`lists at most ${MAX_LISTED_REQUESTS} and says how many more`, () => {
    const many = Array.from({ length: 45 }, (_, i) => inStatus('ACTIVE', { id: `jit-${i}`, targetName: 't'.repeat(300) }));
    const msg = listReply(many);
    const text = allText(msg.blocks);
    expect(text).toContain('`jit-19`');
    expect(text).not.toContain('`jit-20`');
    expect(text).toContain('…and 25 more.');
    expectMessageWithinLimits(msg);
  });
});

describe('targetsReply', () => {
  const summaries = (targets: Target[]) => targets.map((t) => summary(t));

  it('lists name, description, kind, port, duration range and approvers per target', () => {
    const msg = targetsReply(
      summaries([target(), target({ name: 'staging-db', description: undefined, port: 5432, policy: policy({ approvers: { users: [APPROVER, REVOKER], groups: [APPROVER_GROUP] } }) })]),
    );
    const text = allText(msg.blocks);
    expect(text).toContain(`• *prod-bastion* · Bastion host in the production VPC · ec2-ssh · port 22 · 15m–4h · approved by <@${APPROVER}>`);
    expect(text).toContain(`• *staging-db* · ec2-ssh · port 5432 · 15m–4h · approved by <@${APPROVER}>, <@${REVOKER}>, <!subteam^${APPROVER_GROUP}>`);
    expect(msg.text).toBe('2 targets can be requested.');
    expect(msg.text).not.toContain('<');
  });

  it('shows the quorum, auto-approval, break-glass and a deny rule that refuses now', () => {
    const text = allText(
      targetsReply([
        summary(target({ name: 'quorum' }), { approvalsRequired: 2 }),
        summary(target({ name: 'auto' }), { autoApprove: { rule: 'office-hours', maxDurationMs: 3_600_000 } }),
        summary(target({ name: 'glass' }), { breakGlass: true }),
        summary(target({ name: 'frozen' }), { deniedBy: { rule: 'change-freeze', message: 'No prod changes during the freeze.' } }),
      ]).blocks,
    );
    expect(text).toMatch(/• \*quorum\* .* · approved by <@U0APPROVER> · 2 approvals$/m);
    expect(text).toMatch(/• \*auto\* .* · approved by <@U0APPROVER> · auto-approved up to 1h \(rule `office-hours`\)$/m);
    expect(text).toMatch(/• \*glass\* .* · break-glass allowed$/m);
    expect(text).toMatch(/• \*frozen\* .* · ⛔ refused now by rule `change-freeze`: No prod changes during the freeze\.$/m);
    expect(text).toContain('add `--break-glass` on a target that allows it');
    expect(text).not.toMatch(/• \*quorum\* .*(auto-approved|break-glass|refused)/);
  });

  it('leaves out one approval, and says when nobody approves', () => {
    const text = allText(targetsReply([summary(target(), { approvers: { users: [], groups: [] } })]).blocks);
    expect(text).not.toContain('1 approval');
    expect(text).toContain('· no approvers configured');
    expect(text).not.toContain('--break-glass');
  });

  it('has an empty state', () => {
    const msg = targetsReply([]);
    expect(msg.text).toBe('There are no targets you can request.');
    expect(allText(msg.blocks)).toBe('There are no targets you can request.');
  });

  it('escapes rule names, deny messages and group ids that are not ids', () => {
    const msg = targetsReply([
      summary(target(), {
        approvers: { users: [NASTY], groups: [NASTY, '<!here>'] },
        autoApprove: { rule: NASTY, maxDurationMs: 60_000 },
        deniedBy: { rule: NASTY, message: NASTY },
      }),
    ]);
    expectNoRawPing(msg);
    expect(JSON.stringify(msg)).not.toContain('<!here>');
    expect(allText(msg.blocks)).toContain(NASTY_ESCAPED);
  });

  it(`names at most ${MAX_LISTED_APPROVERS} approvers per target`, () => {
    const users = Array.from({ length: 30 }, (_, i) => `U${String(i).padStart(8, '0')}`);
    const groups = Array.from({ length: 5 }, (_, i) => `S${String(i).padStart(8, '0')}`);
    const text = allText(targetsReply([summary(target(), { approvers: { users, groups } })]).blocks);
    expect(text).toContain('<@U00000009> and 25 more');
    expect(text).not.toContain('<@U00000010>');
  });

  it('stays within limits with 150 long targets and 50 approvers each, saying how many are left out', () => {
    const users = Array.from({ length: 50 }, (_, i) => `U${String(i).padStart(8, '0')}`);
    const many = Array.from({ length: 150 }, (_, i) =>
      summary(target({ name: `t${i}-${'n'.repeat(200)}`, description: NASTY.repeat(20) }), {
        approvers: { users, groups: users.map((u) => u.replace('U', 'S')) },
        approvalsRequired: 3,
        autoApprove: { rule: 'r'.repeat(300), maxDurationMs: 3_600_000 },
        deniedBy: { rule: 'd'.repeat(300), message: NASTY.repeat(100) },
        breakGlass: true,
      }),
    );
    const msg = targetsReply(many);
    expectMessageWithinLimits(msg);
    expectNoRawPing(msg);
    const text = allText(msg.blocks);
    expect(text).toMatch(/…and \d+ more\./);
    const hidden = Number(/…and (\d+) more\./.exec(text)![1]);
    const listed = (text.match(/^• \*t\d+-/gm) ?? []).length;
    expect(listed + hidden).toBe(150);
    expect(hidden).toBeGreaterThanOrEqual(50);
    // The footer survives.
    expect(textObjects(msg.blocks.slice(-1)).map((t) => t.text).join('')).toContain('(the address only for ec2-ssh targets)');
  });
});

describe('targetsReply: mixed kinds', () => {
  const targets = [target(), roleTarget(), ssmTarget(), ssmTarget({ name: 'build-fleet', description: undefined, instanceIds: ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'], nodeTags: {} })];
  const text = allText(targetsReply(targets.map((t) => summary(t))).blocks);

  it('says per kind what is granted, with the duration bounds', () => {
    expect(text).toContain('• *prod-bastion* · Bastion host in the production VPC · ec2-ssh · port 22 · 15m–4h');
    expect(text).toContain(
      '• *prod-readonly* · Read-only access to the production account · aws-role · temporary credentials for `arn:aws:iam::123456789012:role/jit/ProdReadOnly` · 15m–12h',
    );
    expect(text).toContain('• *dev-nodes* · ssm-session · Session Manager to nodes tagged `ENV=dev` · 15m–1h');
    expect(text).toContain('• *build-fleet* · ssm-session · Session Manager to `i-1`, `i-2`, `i-3` and 2 more · 15m–1h');
  });

  it('says the address is only for ec2-ssh targets', () => {
    expect(text).toContain('(the address only for ec2-ssh targets)');
  });

  it('escapes tag selectors and ARNs, and stays within limits with 150 long role and SSM targets', () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      i % 2
        ? roleTarget({ name: `r${i}-${'n'.repeat(200)}`, roleArn: `${NASTY}${'a'.repeat(3_000)}`, description: NASTY.repeat(20) })
        : ssmTarget({ name: `s${i}-${'n'.repeat(200)}`, instanceIds: Array.from({ length: 50 }, () => 'i'.repeat(300)), nodeTags: { [NASTY]: 'v'.repeat(500), B: NASTY } }),
    );
    const msg = targetsReply(many.map((t) => summary(t)));
    expectMessageWithinLimits(msg);
    expectNoRawPing(msg);
    expect(allText(msg.blocks)).toMatch(/…and \d+ more\./);
    expect(allText(msg.blocks)).toContain('(the address only for ec2-ssh targets)');
  });
});

describe('revokedReply per kind', () => {
  it.each([
    [roleRequest('REVOKED'), 'Its credentials are denied (this can take a few minutes to propagate).'],
    [ssmRequest('REVOKED'), 'Live sessions were terminated and its credentials are denied.'],
    [inStatus('REVOKED'), 'Log out of any open SSH session.'],
    [roleRequest('REVOKING'), 'You will get a DM when the credentials are denied.'],
    [inStatus('REVOKING'), 'You will get a DM when the rule is gone.'],
  ])('%#: %s', (r, phrase) => {
    expect(allText(revokedReply(r).blocks)).toContain(phrase);
  });
});

describe('revokedReply', () => {
  const cases: [RequestStatus, Partial<Parameters<typeof inStatus>[1]>, string][] = [
    ['REVOKING', { endReason: 'revoked', endedBy: REVOKER }, '⏳ Revoking access `jit-abc123` for *prod-bastion*…'],
    ['REVOKED', { endReason: 'revoked', endedBy: REVOKER }, '🔒 Access `jit-abc123` for *prod-bastion* revoked.'],
    ['CANCELLED', {}, '↩️ Request `jit-abc123` for *prod-bastion* withdrawn.'],
  ];

  it.each(cases)('%s', (status, overrides, expected) => {
    const msg = revokedReply(inStatus(status, overrides));
    expect(allText(msg.blocks)).toContain(expected);
    expect(msg.text).toMatch(/^Request jit-abc123: .+\.$/);
  });
});

describe('resolvedReply', () => {
  it('EXTENDED: already approved and applied', () => {
    const msg = resolvedReply(inStatus('EXTENDED'));
    expect(allText(msg.blocks)).toMatch(/^⚠️ Request `jit-abc123` was already approved and applied: access extended until <!date\^\d+\^[^|]+\|11:06 UTC>\. Nothing was changed\.$/);
  });

  it('names who decided with a real mention, and escapes nothing it should not', () => {
    const denied = resolvedReply(inStatus('DENIED', { decidedBy: APPROVER }));
    expect(allText(denied.blocks)).toContain(`was already denied by <@${APPROVER}>`);
    expect(denied.text).toMatch(/was already denied\. Nothing was changed/);
    expect(denied.text).not.toContain('<@');
    const revoked = resolvedReply(inStatus('REVOKED', { endReason: 'revoked', endedBy: REVOKER }));
    expect(allText(revoked.blocks)).toContain(`(revoked by <@${REVOKER}>)`);
  });

  it.each(ALL_STATUSES)('%s stays within limits', (status) => {
    expectMessageWithinLimits(resolvedReply(inStatus(status)));
  });
});
