import type { KnownBlock } from '@slack/types';
import {
  errorReply,
  helpText,
  listReply,
  MAX_LISTED_REQUESTS,
  resolvedReply,
  revokedReply,
  submittedReply,
  targetsReply,
} from '../../blocks/command';
import type { RequestStatus } from '../../src/domain/types';
import {
  ALL_STATUSES,
  APPROVER,
  CHANNEL,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  NASTY_ESCAPED,
  REVOKER,
  roleRequest,
  roleTarget,
  ssmRequest,
  ssmTarget,
  target,
  textObjects,
} from './fixtures';

const allText = (blocks: KnownBlock[]) => textObjects(blocks).map((t) => t.text).join('\n');

describe('helpText', () => {
  const text = allText(helpText().blocks);

  it.each(['`/jit`', '/jit request', '/jit list', '/jit revoke', '/jit targets', '/jit help'])('mentions %s', (sub) => {
    expect(text).toContain(sub);
  });

  it('shows the request syntax and an example, escaped', () => {
    expect(text).toContain('`/jit request &lt;target&gt; &lt;duration&gt; [&lt;address&gt;] &lt;reason…&gt;`');
    expect(text).toContain('`/jit request prod-bastion 30m 203.0.113.7 investigating checkout latency`');
    expect(text).toContain('`/jit revoke &lt;id&gt;`');
    expectMessageWithinLimits(helpText());
  });
});

describe('submittedReply', () => {
  it('names the request, the channel and the deadline', () => {
    const msg = submittedReply(inStatus('PENDING'), CHANNEL);
    expect(allText(msg.blocks)).toMatch(new RegExp(`^📨 Request \`jit-abc123\` sent to <#${CHANNEL}> for approval: \\*prod-bastion\\* for 30m\\.`));
    expect(allText(msg.blocks)).toContain('|10:30 UTC>');
    expect(msg.text).toBe('Request jit-abc123 sent for approval.');
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
    for (const hidden of ['jit-4', 'jit-5', 'jit-6', 'jit-7', 'jit-8']) expect(text).not.toContain(hidden);
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
  it('lists name, kind, port, duration range and approvers', () => {
    const msg = targetsReply([target(), target({ name: 'staging-db', description: undefined, port: 5432 })], [APPROVER, REVOKER]);
    const text = allText(msg.blocks);
    expect(text).toContain('• *prod-bastion* · Bastion host in the production VPC · ec2-ssh · port 22 · 15m–4h');
    expect(text).toContain('• *staging-db* · ec2-ssh · port 5432 · 15m–4h');
    expect(text).toContain(`Approvers: <@${APPROVER}>, <@${REVOKER}>.`);
    expect(msg.text).toBe('2 targets can be requested.');
  });

  it('has an empty state and says when nobody approves', () => {
    expect(targetsReply([], []).text).toBe('No targets are configured.');
    expect(allText(targetsReply([target()], []).blocks)).toContain('Approvers: none configured.');
  });

  it('stays within limits with 150 long targets and 50 approvers', () => {
    const targets = Array.from({ length: 150 }, (_, i) => target({ name: `t${i}-${'n'.repeat(200)}`, description: NASTY.repeat(20) }));
    const approvers = Array.from({ length: 50 }, (_, i) => `U${String(i).padStart(8, '0')}`);
    const msg = targetsReply(targets, approvers);
    expectMessageWithinLimits(msg);
    expectNoRawPing(msg);
    expect(allText(msg.blocks)).toContain('…and 50 more.');
    expect(allText(msg.blocks)).toContain('and 30 more.');
  });
});

describe('targetsReply: mixed kinds', () => {
  const targets = [target(), roleTarget(), ssmTarget(), ssmTarget({ name: 'build-fleet', description: undefined, instanceIds: ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'], tags: {} })];
  const text = allText(targetsReply(targets, [APPROVER]).blocks);

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
        : ssmTarget({ name: `s${i}-${'n'.repeat(200)}`, instanceIds: Array.from({ length: 50 }, () => 'i'.repeat(300)), tags: { [NASTY]: 'v'.repeat(500), B: NASTY } }),
    );
    const msg = targetsReply(many, [APPROVER]);
    expectMessageWithinLimits(msg);
    expectNoRawPing(msg);
    expect(allText(msg.blocks)).toContain('…and 50 more.');
    expect(allText(msg.blocks)).toContain(`Approvers: <@${APPROVER}>.`);
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
