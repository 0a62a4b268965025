import type { Button, KnownBlock } from '@slack/types';
import {
  alertMessage,
  deniedDm,
  endedDm,
  extendedDm,
  failedDm,
  grantedDm,
  reminderDm,
  sshCommand,
  ssmCommand,
  submittedDm,
  timeoutDm,
  warningDm,
} from '../../blocks/dm';
import { ACTION_EXTEND, ACTION_REVOKE_NOW, ACTION_SHOW_CREDENTIALS, BLOCK_EXTEND, BLOCK_SHOW_CREDENTIALS } from '../../blocks/ids';
import type { SlackMessage } from '../../blocks/kit';
import type { AccessRequest } from '../../src/domain/types';
import {
  APPROVER,
  CHANNEL,
  CREDENTIAL_LIKE,
  roleGrant,
  roleRequest,
  roleTarget,
  ssmGrant,
  ssmRequest,
  ssmTarget,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  NASTY_ESCAPED,
  PARENT,
  REQUESTER,
  SECOND_APPROVER,
  REVOKER,
  target,
  textObjects,
} from './fixtures';

const allText = (blocks: KnownBlock[]) => textObjects(blocks).map((t) => t.text).join('\n');
const buttons = (blocks: KnownBlock[]) => blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as Button[]) : []));

/** Every DM builder with the status it is sent in. */
const BUILDERS: [name: string, build: (r: AccessRequest) => SlackMessage, status: AccessRequest['status']][] = [
  ['submittedDm', (r) => submittedDm(r, target(), CHANNEL), 'PENDING'],
  ['grantedDm', (r) => grantedDm(r, target()), 'ACTIVE'],
  ['deniedDm', deniedDm, 'DENIED'],
  ['timeoutDm', timeoutDm, 'EXPIRED'],
  ['warningDm', (r) => warningDm(r), 'ACTIVE'],
  ['endedDm', endedDm, 'REVOKED'],
  ['failedDm', failedDm, 'FAILED'],
  ['alertMessage', (r) => alertMessage(r, NASTY), 'REVOKING'],
  ['warningDm (can extend)', (r) => warningDm(r, undefined, { canExtend: true }), 'ACTIVE'],
  ['extendedDm', (r) => extendedDm({ ...r, extensions: [{ id: 'jit-ext1', durationMs: 30 * 60_000, at: r.grantedAt! }] }), 'ACTIVE'],
  ['reminderDm', (r) => reminderDm(r, target(), CHANNEL), 'PENDING'],
  ['deniedDm (extension, with a note)', (r) => deniedDm({ ...r, extends: PARENT, decisionComment: r.reason }), 'DENIED'],
  ['failedDm (extension)', (r) => failedDm({ ...r, extends: PARENT }), 'FAILED'],
  ['timeoutDm (extension)', (r) => timeoutDm({ ...r, extends: PARENT }), 'EXPIRED'],
  ['submittedDm (extension)', (r) => submittedDm({ ...r, extends: PARENT }, target(), CHANNEL), 'PENDING'],
  [
    'grantedDm (notes)',
    (r) => grantedDm({ ...r, requestedDurationMs: 3_600_000, approvals: [{ by: APPROVER, at: r.createdAt, comment: r.reason }], approvedVia: 'auto', policyRule: r.reason }, target()),
    'ACTIVE',
  ],
];

describe('submittedDm', () => {
  const msg = submittedDm(inStatus('PENDING'), target(), CHANNEL);

  it('says where the request waits', () => {
    expect(allText(msg.blocks)).toContain(`Your request \`jit-abc123\` for *prod-bastion* (30m) is waiting for approval in <#${CHANNEL}>.`);
    expect(msg.text).toBe('Your request jit-abc123 for prod-bastion is waiting for approval.');
  });

  it('repeats the facts and the reason', () => {
    expect(allText(msg.blocks)).toContain('*Reason*\ninvestigating checkout latency');
    expect(allText(msg.blocks)).toContain('*Duration*\n30m');
  });
});

describe('grantedDm', () => {
  const r = inStatus('ACTIVE');

  it('gives the ssh command, the address and the end time', () => {
    const text = allText(grantedDm(r, target()).blocks);
    expect(text).toContain('```ssh ubuntu@bastion.prod.example.com```');
    expect(text).toContain('open from `203.0.113.7/32` until <!date^');
    expect(text).toContain('|10:36 UTC>');
  });

  it('warns that established connections are not cut', () => {
    expect(allText(grantedDm(r, target()).blocks)).toMatch(/Established SSH connections are not cut when the rule is removed, so log out by <!date\^/);
  });

  it('fallback text says until when, in UTC', () => {
    expect(grantedDm(r, target()).text).toBe('Access to prod-bastion is open until 10:36 UTC.');
  });

  it.each([
    [target(), 'ssh ubuntu@bastion.prod.example.com'],
    [target({ port: 2222 }), 'ssh -p 2222 ubuntu@bastion.prod.example.com'],
    [target({ sshUser: undefined, host: undefined }), 'ssh ec2-user@<the instance address>'],
    [undefined, 'ssh ec2-user@<the instance address>'],
  ])('ssh hint for %j is %s', (t, expected) => {
    expect(sshCommand(r, t)).toBe(expected);
  });

  it('escapes the placeholder host inside the code block', () => {
    expect(allText(grantedDm(r, undefined).blocks)).toContain('```ssh ec2-user@&lt;the instance address&gt;```');
  });
});

describe('deniedDm / timeoutDm / failedDm', () => {
  it('deniedDm names who denied', () => {
    const msg = deniedDm(inStatus('DENIED'));
    expect(allText(msg.blocks)).toContain(`was denied by <@${APPROVER}>. Nothing was opened.`);
    expect(msg.text).not.toContain('<@');
  });

  it('timeoutDm explains and suggests asking again or pinging the approvers', () => {
    const text = allText(timeoutDm(inStatus('EXPIRED', { approvalMessage: { channel: CHANNEL, ts: '1.2' } })).blocks);
    expect(text).toContain('Nobody approved your request `jit-abc123`');
    expect(text).toContain('`/jit request prod-bastion 30m 203.0.113.7 &lt;reason&gt;`');
    expect(text).toContain(`ping the approvers in <#${CHANNEL}>`);
  });

  it('failedDm gives the reason and says nothing was opened', () => {
    const text = allText(failedDm(inStatus('FAILED')).blocks);
    expect(text).toContain('the grant failed: AWS could not find the resource (aws-not-found, ref 7KQ3M9XD)');
    expect(text).toContain('Nothing was opened.');
  });
});

describe('warningDm', () => {
  const r = inStatus('ACTIVE');

  it('says when access ends and in how many minutes (from warnAt by default)', () => {
    const msg = warningDm(r);
    expect(msg.text).toBe('Your access to prod-bastion ends at 10:36 UTC, in 5 minutes.');
    expect(allText(msg.blocks)).toMatch(/ends at <!date\^\d+\^[^|]+\|10:36 UTC>, in 5 minutes\./);
  });

  it('counts from the given time, in seconds under 90 s, singular for one', () => {
    expect(warningDm(r, new Date('2026-11-22T10:35:30.000Z')).text).toContain('in 30 seconds.');
    expect(warningDm(r, new Date('2026-11-22T10:35:59.000Z')).text).toContain('in 1 second.');
    expect(warningDm(r, new Date('2026-11-22T10:34:30.000Z')).text).toContain('in 2 minutes.'); // 90 s left
    expect(warningDm(r, new Date('2026-11-22T10:20:01.000Z')).text).toContain('in 16 minutes.');
  });

  it('tells how to continue', () => {
    expect(allText(warningDm(r).blocks)).toContain('run `/jit request prod-bastion 30m 203.0.113.7 &lt;reason&gt;` again');
  });
});

describe('endedDm', () => {
  it('says it expired', () => {
    expect(allText(endedDm(inStatus('REVOKED')).blocks)).toMatch(/ended at <!date\^\d+\^[^|]+\|10:36 UTC> \(expired\)\./);
  });

  it('says who revoked it early', () => {
    const r = inStatus('REVOKED', { endReason: 'revoked', endedBy: REVOKER });
    expect(allText(endedDm(r).blocks)).toContain(`(revoked early by <@${REVOKER}>).`);
  });

  it('reminds that open SSH sessions survive', () => {
    expect(allText(endedDm(inStatus('REVOKED')).blocks)).toContain('Established SSH sessions are not cut');
  });
});

describe('sso-permission-set DMs', () => {
  const grant = { kind: 'sso-permission-set' as const, region: 'eu-west-1', instanceArn: 'arn:aws:sso:::instance/ssoins-1111222233334444', permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd', accountIds: ['210987654321'], principalId: 'u-1', email: 'alice@example.com', sessionDuration: 'PT2H' };
  const ssoTarget = { name: 'prod-admin', kind: 'sso-permission-set' as const, instanceArn: grant.instanceArn, identityStoreId: 'd-1234567890', permissionSetArn: grant.permissionSetArn, accountIds: grant.accountIds, accountsPerRequest: 1, portalUrl: 'https://d-1234567890.awsapps.com/start', endSessions: false, minDurationMs: 60_000, maxDurationMs: 3_600_000, tags: {}, policy: target().policy };
  const active = inStatus('ACTIVE', { kind: 'sso-permission-set', targetName: 'prod-admin', cidr: undefined, grant });

  it('grant: what is assigned on which account, where to sign in, and how long a portal session can outlive the end; no credentials button', () => {
    const m = grantedDm(active, ssoTarget);
    const text = allText(m.blocks);
    expect(text).toContain('permission set `ps-aaaabbbbccccdddd` on account `210987654321` is assigned to you until <!date^');
    expect(text).toContain('Sign in at https://d-1234567890.awsapps.com/start and pick account `210987654321`.');
    expect(text).toContain('can last up to 2h longer');
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual([ACTION_REVOKE_NOW]);
  });

  it('without a portal URL or a recorded session duration, it still says where to go and what bounds a session', () => {
    const text = allText(grantedDm({ ...active, grant: { ...grant, sessionDuration: undefined } }, { ...ssoTarget, portalUrl: undefined }).blocks);
    expect(text).toContain('Sign in through your AWS access portal');
    expect(text).toContain("lasts until the permission set's session duration runs out");
  });

  it('several accounts: all named (up to five), any of them to pick, and where the user already held it', () => {
    const six = ['111111111111', '222222222222', '333333333333', '444444444444', '555555555555', '666666666666'];
    const text = allText(grantedDm({ ...active, grant: { ...grant, accountIds: six, standing: ['777777777777'] } }, { ...ssoTarget, accountIds: [...six, '777777777777'] }).blocks);
    expect(text).toContain('permission set `ps-aaaabbbbccccdddd` on 6 accounts: `111111111111`, `222222222222`, `333333333333`, `444444444444`, `555555555555` and 1 more are assigned to you');
    expect(text).toContain('and pick any of those accounts.');
    expect(text).toContain('You already held it on `777777777777` outside the bot: that is left as it is');
  });

  it('with endSessions: earlier portal sessions are denied at the end, within minutes, at most the session duration', () => {
    const ending = { ...active, grant: { ...grant, endSessions: true as const } };
    expect(allText(grantedDm(ending, { ...ssoTarget, endSessions: true }).blocks)).toContain('a console or CLI session opened from the portal before the end is then denied too (IAM applies the deny within a few minutes; 2h at the very most)');
    expect(allText(endedDm({ ...ending, status: 'REVOKED' }).blocks)).toContain('The Identity Center assignment was deleted; a console or CLI session opened from the portal before the end is then denied too');
  });

  it('end: the assignment was deleted, and the same bound', () => {
    const text = allText(endedDm({ ...active, status: 'REVOKED' }).blocks);
    expect(text).toContain('The Identity Center assignment was deleted; a console or CLI session opened from the portal before the end can last up to 2h longer');
    expect(text).toContain('`/jit request prod-admin 30m &lt;reason&gt;`'); // no address: this kind takes none
  });
});

describe('alertMessage', () => {
  it('shows the alert with the request it is about', () => {
    const text = allText(alertMessage(inStatus('REVOKING'), 'revoke keeps failing').blocks);
    expect(text).toContain('🚨 *Needs attention:* revoke keeps failing');
    expect(text).toContain(`\`jit-abc123\` · *prod-bastion* · requested by <@${REQUESTER}>`);
  });
});

describe.each(BUILDERS)('%s', (_name, build, status) => {
  it('escapes what the user (or AWS) wrote', () => {
    const msg = build(inStatus(status, { reason: NASTY, failure: NASTY }));
    expectNoRawPing(msg);
    expect(msg.text).not.toContain('<@');
  });

  it('stays within Slack limits with 10,000-character user text', () => {
    const long = 'y'.repeat(10_000);
    const msg = build(inStatus(status, { reason: long, failure: long, targetName: 'n'.repeat(500), cidr: 'c'.repeat(500) }));
    expectMessageWithinLimits(msg);
  });
});

describe('warningDm time left', () => {
  it.each([
    [2_000, 'in 2 seconds'],
    [60_000, 'in 60 seconds'],
    [5 * 60_000, 'in 5 minutes'],
    [61 * 60_000, 'in 61 minutes'],
  ])('%d ms before expiry says "%s"', (ms, phrase) => {
    const expiresAt = '2026-11-22T11:00:00.000Z';
    const msg = warningDm(inStatus('ACTIVE', { expiresAt }), new Date(Date.parse(expiresAt) - ms));
    expect(JSON.stringify(msg)).toContain(phrase);
  });
});

describe('grantedDm: aws-role', () => {
  const r = roleRequest('ACTIVE');
  const msg = grantedDm(r, roleTarget());
  const text = allText(msg.blocks);

  it('says the temporary credentials for the role are ready, until when', () => {
    expect(text).toMatch(
      /^✅ Temporary credentials for \*prod-readonly\* \(role `arn:aws:iam::123456789012:role\/jit\/ProdReadOnly`\) are ready until <!date\^\d+\^[^|]+\|10:36 UTC> \(30m\)\.$/m,
    );
    expect(msg.text).toBe('Temporary credentials for prod-readonly are ready until 10:36 UTC.');
  });

  it('has one primary "Show credentials" button whose value is exactly the request id, then "Revoke now"', () => {
    const [show, revoke, ...others] = buttons(msg.blocks);
    expect(others).toHaveLength(0);
    expect(revoke).toMatchObject({ action_id: ACTION_REVOKE_NOW, value: r.id, style: 'danger' });
    expect(show).toMatchObject({ type: 'button', action_id: ACTION_SHOW_CREDENTIALS, value: r.id, style: 'primary', text: { text: 'Show credentials' } });
    expect(msg.blocks.find((b) => b.type === 'actions')).toMatchObject({ block_id: BLOCK_SHOW_CREDENTIALS });
  });

  it('explains the private window, and has no ssh hint or address', () => {
    expect(text).toContain('Credentials are shown in a private window that is not kept in the chat history.');
    expect(text).not.toContain('ssh ');
    expect(text).not.toContain('203.0.113.7');
    expect(text).toContain('`/jit revoke jit-abc123`');
  });

  it("when clamped to the role's maximum, says how long they last and to press again", () => {
    const clamped = allText(grantedDm(roleRequest('ACTIVE', { grant: roleGrant({ clamped: 'max', durationSeconds: 3_600 }) }), roleTarget()).blocks);
    expect(clamped).toContain("They last 1h (the role's maximum session): press *Show credentials* again for fresh ones until access ends at <!date^");
  });

  it('when clamped to the STS minimum, says access still ends on time', () => {
    const clamped = allText(grantedDm(roleRequest('ACTIVE', { grant: roleGrant({ clamped: 'min', durationSeconds: 900 }) }), roleTarget()).blocks);
    expect(clamped).toMatch(/STS issues credentials for at least 15 minutes, but access still ends at <!date\^\d+\^[^|]+\|10:36 UTC>/);
  });

  it('names the role from the target when there is no grant yet, or just the target', () => {
    expect(allText(grantedDm(roleRequest('ACTIVE', { grant: undefined }), roleTarget({ roleArn: 'arn:aws:iam::1:role/Other' })).blocks)).toContain('(role `arn:aws:iam::1:role/Other`)');
    expect(allText(grantedDm(roleRequest('ACTIVE', { grant: undefined }), undefined).blocks)).toContain('Temporary credentials for *prod-readonly* are ready');
  });
});

describe('grantedDm: ssm-session', () => {
  const r = ssmRequest('ACTIVE');
  const msg = grantedDm(r, ssmTarget());
  const text = allText(msg.blocks);

  it('gives the start-session command for the first node, and lists every node', () => {
    expect(text).toContain('```aws ssm start-session --target i-0123456789abcdef0 --region eu-west-1```');
    expect(text).toContain('*Nodes*: `i-0123456789abcdef0`, `i-0fedcba9876543210`');
    expect(msg.text).toBe('Session Manager access to dev-nodes is open until 10:36 UTC.');
  });

  it('has the Show credentials button (value = the id) and says to export the credentials first', () => {
    expect(buttons(msg.blocks)).toEqual([
      expect.objectContaining({ action_id: ACTION_SHOW_CREDENTIALS, value: r.id, style: 'primary' }),
      expect.objectContaining({ action_id: ACTION_REVOKE_NOW, value: r.id, style: 'danger' }),
    ]);
    expect(text).toContain('Export the credentials from *Show credentials* first (or save its profile and add `--profile jit-dev-nodes`)');
  });

  it.each([
    [ssmTarget(), ssmGrant(), 'aws ssm start-session --target i-0123456789abcdef0 --region eu-west-1'],
    [ssmTarget(), ssmGrant({ documentName: 'AWS-StartSSHSession', region: 'us-east-1' }), 'aws ssm start-session --target i-0123456789abcdef0 --region us-east-1 --document-name AWS-StartSSHSession'],
    [ssmTarget({ instanceIds: ['i-0aaa'], nodeTags: {} }), undefined, 'aws ssm start-session --target i-0aaa --region eu-west-1'],
    [undefined, undefined, 'aws ssm start-session --target <instance id>'],
  ])('command for target %j and grant %j is %s', (t, grant, expected) => {
    expect(ssmCommand(ssmRequest('ACTIVE', { grant }), t)).toBe(expected);
  });

  it('names the tag selector when no node was resolved yet', () => {
    expect(allText(grantedDm(ssmRequest('ACTIVE', { grant: undefined }), ssmTarget()).blocks)).toContain('*Nodes*: nodes tagged `ENV=dev`');
  });

  it('a tag-selected grant names its listed nodes and its tags, and connects to a node the tags matched', () => {
    const tagged = ssmRequest('ACTIVE', { grant: ssmGrant({ instanceIds: [], nodeTags: { ENV: 'dev' }, sampleNodes: ['i-0abc0000000000001', 'i-0abc0000000000002'] }) });
    const body = allText(grantedDm(tagged, ssmTarget({ instanceIds: [] })).blocks);
    expect(body).toContain('*Nodes*: nodes tagged `ENV=dev`');
    expect(ssmCommand(tagged, ssmTarget({ instanceIds: [] }))).toBe('aws ssm start-session --target i-0abc0000000000001 --region eu-west-1');
  });

  it('keeps a grant of 500 nodes within limits, naming 50', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `i-${String(i).padStart(17, '0')}`);
    const big = grantedDm(ssmRequest('ACTIVE', { grant: ssmGrant({ instanceIds: ids }) }), ssmTarget());
    expectMessageWithinLimits(big);
    expect(allText(big.blocks)).toContain('and 450 more');
  });
});

describe('grantedDm: ec2-ssh keeps its ssh hint only', () => {
  it('has only "Revoke now" and no credentials note', () => {
    const msg = grantedDm(inStatus('ACTIVE'), target());
    expect(buttons(msg.blocks).map((b) => b.action_id)).toEqual([ACTION_REVOKE_NOW]);
    expect(allText(msg.blocks)).not.toContain('Show credentials');
  });

  it('uses the ssh hint only with an ec2 target (a role target is ignored)', () => {
    expect(allText(grantedDm(inStatus('ACTIVE'), roleTarget()).blocks)).toContain('```ssh ec2-user@&lt;the instance address&gt;```');
  });

  it('takes the port from an ec2 grant when the target is gone', () => {
    expect(sshCommand(inStatus('ACTIVE', { grant: { kind: 'ec2-ssh', region: 'eu-west-1', securityGroupId: 'sg-1', securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32', port: 2200 } }), undefined)).toBe(
      'ssh -p 2200 ec2-user@<the instance address>',
    );
  });
});

describe('endedDm and warningDm per kind', () => {
  it('aws-role: the credentials were denied by an IAM policy, which can take minutes', () => {
    const text = allText(endedDm(roleRequest('REVOKED')).blocks);
    expect(text).toMatch(/🔒 Your access to \*prod-readonly\* \(`jit-abc123`\) ended at <!date\^\d+\^[^|]+\|10:36 UTC> \(expired\)\./);
    expect(text).toContain('The credentials were denied by an IAM policy on the role — denial can take a few minutes to propagate.');
    expect(text).not.toContain('SSH');
    expect(text).not.toContain('Live sessions');
    expect(text).toContain('`/jit request prod-readonly 30m &lt;reason&gt;`');
  });

  it('ssm-session: live sessions were terminated, and the credentials denied', () => {
    const text = allText(endedDm(ssmRequest('REVOKED', { endReason: 'revoked', endedBy: REVOKER })).blocks);
    expect(text).toContain(`(revoked early by <@${REVOKER}>).`);
    expect(text).toContain('Live sessions were terminated. The credentials were denied by an IAM policy on the role');
    expect(text).not.toContain('SSH');
  });

  it('ec2-ssh is unchanged', () => {
    expect(allText(endedDm(inStatus('REVOKED')).blocks)).toContain('The rule for `203.0.113.7/32` was removed. Established SSH sessions are not cut');
  });

  it.each([
    [roleRequest('ACTIVE'), 'every credential issued for this grant is denied'],
    [ssmRequest('ACTIVE'), 'live sessions are terminated'],
    [inStatus('ACTIVE'), 'Open SSH sessions are not cut'],
  ])('warningDm for %#: %s', (r, phrase) => {
    expect(allText(warningDm(r).blocks)).toContain(phrase);
  });
});

/** Every DM builder for the role-backed kinds, with the status it is sent in. */
const STS_BUILDERS: [name: string, build: (r: AccessRequest) => SlackMessage, status: AccessRequest['status']][] = [
  ['submittedDm', (r) => submittedDm(r, r.kind === 'aws-role' ? roleTarget() : ssmTarget(), CHANNEL), 'PENDING'],
  ['grantedDm', (r) => grantedDm(r, r.kind === 'aws-role' ? roleTarget() : ssmTarget()), 'ACTIVE'],
  ['grantedDm (target gone)', (r) => grantedDm(r, undefined), 'ACTIVE'],
  ['deniedDm', deniedDm, 'DENIED'],
  ['timeoutDm', timeoutDm, 'EXPIRED'],
  ['warningDm', (r) => warningDm(r), 'ACTIVE'],
  ['endedDm', endedDm, 'REVOKED'],
  ['failedDm', failedDm, 'FAILED'],
  ['alertMessage', (r) => alertMessage(r, NASTY), 'REVOKING'],
  ['warningDm (can extend)', (r) => warningDm(r, undefined, { canExtend: true }), 'ACTIVE'],
  ['extendedDm', (r) => extendedDm({ ...r, extensions: [{ id: 'jit-ext1', durationMs: 30 * 60_000, at: r.grantedAt! }] }), 'ACTIVE'],
  ['reminderDm', (r) => reminderDm(r, r.kind === 'aws-role' ? roleTarget() : ssmTarget(), CHANNEL), 'PENDING'],
];

describe.each([
  ['aws-role', roleRequest],
  ['ssm-session', ssmRequest],
] as const)('%s DMs', (_kind, make) => {
  describe.each(STS_BUILDERS)('%s', (_name, build, status) => {
    it('carries nothing that looks like a credential', () => {
      const msg = build(make(status));
      expect(JSON.stringify(msg)).not.toMatch(CREDENTIAL_LIKE);
    });

    it('has no address field or address in the request hint', () => {
      const json = JSON.stringify(build(make(status)));
      expect(json).not.toContain('*Address*');
      expect(json).not.toContain('203.0.113.7');
    });

    it('escapes what the user wrote and stays within limits with 10,000-character text', () => {
      const long = 'y'.repeat(10_000);
      expectNoRawPing(build(make(status, { reason: NASTY, failure: NASTY, targetName: NASTY })));
      expectMessageWithinLimits(build(make(status, { reason: long, failure: long, targetName: 'n'.repeat(500) })));
    });
  });
});

describe('warningDm: Extend', () => {
  const r = inStatus('ACTIVE');

  it('offers Extend (value = the id) and says to press it instead of requesting again', () => {
    const msg = warningDm(r, undefined, { canExtend: true });
    const actions = msg.blocks.filter((b) => b.type === 'actions');
    expect(actions).toEqual([expect.objectContaining({ block_id: BLOCK_EXTEND })]);
    expect(buttons(msg.blocks)).toEqual([expect.objectContaining({ type: 'button', action_id: ACTION_EXTEND, value: r.id, text: expect.objectContaining({ text: 'Extend' }) })]);
    const text = allText(msg.blocks);
    expect(text).toContain('press *Extend* to ask for more time');
    expect(text).not.toContain('/jit request');
    expect(text).toContain('Open SSH sessions are not cut');
    expect(msg.text).toBe(warningDm(r).text);
  });

  it('without canExtend (or by default) has no button and says to request again', () => {
    for (const msg of [warningDm(r), warningDm(r, undefined, { canExtend: false })]) {
      expect(buttons(msg.blocks)).toHaveLength(0);
      expect(allText(msg.blocks)).toContain('run `/jit request prod-bastion 30m 203.0.113.7 &lt;reason&gt;` again');
    }
  });
});

describe('extendedDm', () => {
  const grant = inStatus('ACTIVE', {
    expiresAt: '2026-11-22T11:06:00.000Z',
    extensions: [
      { id: 'jit-ext1', durationMs: 15 * 60_000, at: '2026-11-22T10:20:00.000Z' },
      { id: 'jit-ext2', durationMs: 15 * 60_000 + 30 * 60_000, at: '2026-11-22T10:30:00.000Z' },
    ],
  });

  it('says until when access now lasts, and by how much the last extension moved it', () => {
    const msg = extendedDm(grant);
    expect(allText(msg.blocks)).toMatch(/^⏱ Your access to \*prod-bastion\* \(`jit-abc123`\) now lasts until <!date\^\d+\^[^|]+\|11:06 UTC> \(extended by 45m\)\.$/m);
    expect(msg.text).toBe('Your access to prod-bastion now lasts until 11:06 UTC (extended by 45m).');
    expect(buttons(msg.blocks)).toHaveLength(0);
  });

  it('for role-backed kinds, offers fresh credentials', () => {
    const msg = extendedDm(roleRequest('ACTIVE', { extensions: grant.extensions }));
    expect(buttons(msg.blocks)).toEqual([expect.objectContaining({ action_id: ACTION_SHOW_CREDENTIALS, value: 'jit-abc123' })]);
    expect(allText(msg.blocks)).toContain('press *Show credentials* for a fresh set');
  });
});

describe('grantedDm: how it was decided', () => {
  it('says it was approved for less than asked, and shows approver notes with the approver, escaped', () => {
    const r = inStatus('ACTIVE', {
      durationMs: 30 * 60_000,
      requestedDurationMs: 3_600_000,
      approvals: [
        { by: APPROVER, at: '2026-11-22T10:05:00.000Z', comment: `keep it short\n${NASTY}` },
        { by: SECOND_APPROVER, at: '2026-11-22T10:05:00.000Z' },
      ],
    });
    const msg = grantedDm(r, target());
    const text = allText(msg.blocks);
    expect(text).toContain('Approved for 30m instead of the 1h you asked for.');
    expect(text).toContain(`💬 <@${APPROVER}>: “keep it short ${NASTY_ESCAPED}”`);
    expect(text).not.toContain(`<@${SECOND_APPROVER}>`);
    expect(text).toContain('```ssh ubuntu@bastion.prod.example.com```');
    expectNoRawPing(msg);
    expect(msg.text).toBe('Access to prod-bastion is open until 10:36 UTC.');
  });

  it('names the auto-approve rule', () => {
    expect(allText(grantedDm(inStatus('ACTIVE', { approvedVia: 'auto', policyRule: 'office-hours' }), target()).blocks)).toContain('Auto-approved by rule `office-hours`.');
  });

  it('says break-glass approvers were alerted and will review it', () => {
    expect(allText(grantedDm(roleRequest('ACTIVE', { approvedVia: 'break-glass', breakGlass: true }), roleTarget()).blocks)).toContain(
      'Break-glass: the approvers were alerted and will review it.',
    );
  });

  it('adds nothing to a plain approval', () => {
    expect(grantedDm(inStatus('ACTIVE'), target()).blocks).toHaveLength(4);
  });

  it('keeps within limits with many long notes', () => {
    const approvals = Array.from({ length: 40 }, (_, i) => ({ by: `U${String(i).padStart(8, '0')}`, at: '2026-11-22T10:05:00.000Z', comment: '<'.repeat(500) }));
    const msg = grantedDm(ssmRequest('ACTIVE', { approvals }), ssmTarget());
    expectMessageWithinLimits(msg);
    expect(allText(msg.blocks)).toContain('…and 30 more notes.');
  });
});

describe('deniedDm: note and extensions', () => {
  it('quotes the escaped note', () => {
    const msg = deniedDm(inStatus('DENIED', { decisionComment: `not now\n${NASTY}` }));
    expect(allText(msg.blocks)).toContain(`> not now\n> ${NASTY_ESCAPED}`);
    expect(msg.text).not.toContain('not now');
    expectNoRawPing(msg);
  });

  it('a 10,000-character note stays within limits', () => {
    expectMessageWithinLimits(deniedDm(inStatus('DENIED', { decisionComment: '&'.repeat(10_000) })));
  });

  it('an extension: access still ends at its current time', () => {
    const msg = deniedDm(inStatus('DENIED', { extends: PARENT }));
    expect(allText(msg.blocks)).toContain(`Your extension \`jit-abc123\` of \`${PARENT}\` (*prod-bastion*) was denied by <@${APPROVER}>; access still ends at its current time.`);
    expect(allText(msg.blocks)).not.toContain('Nothing was opened');
  });
});

describe('extension requests in the other DMs', () => {
  it('failedDm: the extension could not be applied', () => {
    const text = allText(failedDm(inStatus('FAILED', { extends: PARENT })).blocks);
    expect(text).toContain(`Your extension \`jit-abc123\` of \`${PARENT}\` (*prod-bastion*) could not be applied: AWS could not find the resource (aws-not-found, ref 7KQ3M9XD)`);
    expect(text).toContain('Access still ends at its current time.');
  });

  it('timeoutDm: nobody approved the extension', () => {
    const text = allText(timeoutDm(inStatus('EXPIRED', { extends: PARENT })).blocks);
    expect(text).toContain(`Nobody approved your extension \`jit-abc123\` of \`${PARENT}\``);
    expect(text).not.toContain('/jit request');
  });

  it('submittedDm: the extension waits, and a quorum is named', () => {
    const text = allText(submittedDm(inStatus('PENDING', { extends: PARENT, approvalsRequired: 2 }), target(), CHANNEL).blocks);
    expect(text).toContain(`Your extension \`jit-abc123\` of \`${PARENT}\` (30m more on *prod-bastion*) is waiting for approval in <#${CHANNEL}>.`);
    expect(text).toContain('It needs 2 approvals.');
  });
});

describe('reminderDm', () => {
  const r = inStatus('PENDING', { approvalsRequired: 2, approvals: [{ by: APPROVER, at: '2026-11-22T10:05:00.000Z' }] });
  const msg = reminderDm(r, target(), CHANNEL);

  it('says whose request waits where, and until when', () => {
    expect(allText(msg.blocks)).toMatch(
      new RegExp(`^⏰ <@${REQUESTER}>'s request \`jit-abc123\` for \\*prod-bastion\\* is waiting for your approval in <#${CHANNEL}> \\(1 of 2 approvals\\)\\. Approvers have until <!date`, 'm'),
    );
    expect(allText(msg.blocks)).toContain('*Reason*\ninvestigating checkout latency');
    expect(buttons(msg.blocks)).toHaveLength(0);
  });

  it('has a fallback text without mentions or the reason', () => {
    expect(msg.text).toBe('A request for prod-bastion (jit-abc123) is waiting for your approval until 10:30 UTC.');
  });

  it('names an extension as one', () => {
    expect(allText(reminderDm(inStatus('PENDING', { extends: PARENT }), target(), CHANNEL).blocks)).toContain(`'s extension \`jit-abc123\` of \`${PARENT}\``);
  });
});

describe('grantedDm: Revoke now', () => {
  it.each([
    ['ec2-ssh', inStatus('ACTIVE'), target()],
    ['aws-role', roleRequest('ACTIVE'), roleTarget()],
    ['ssm-session', ssmRequest('ACTIVE'), ssmTarget()],
  ] as const)('%s: one "Revoke now" (value = the id only) with a confirmation worded for the requester', (_kind, r, t) => {
    const msg = grantedDm(r, t);
    const revoke = buttons(msg.blocks).filter((b) => b.action_id === ACTION_REVOKE_NOW);
    expect(revoke).toHaveLength(1);
    expect(revoke[0]).toMatchObject({ value: r.id, style: 'danger', text: { text: 'Revoke now' } });
    expect(revoke[0]!.confirm).toMatchObject({ confirm: { text: 'Revoke' }, deny: { text: 'Cancel' }, style: 'danger' });
    expect(revoke[0]!.confirm!.text.text).toContain(`your access to *${r.targetName}*`);
    expect(allText(msg.blocks)).toContain(`*Revoke now* (or \`/jit revoke ${r.id}\`)`);
  });
});
