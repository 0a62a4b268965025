import type { KnownBlock } from '@slack/types';
import {
  alertMessage,
  deniedDm,
  endedDm,
  failedDm,
  grantedDm,
  sshCommand,
  submittedDm,
  timeoutDm,
  warningDm,
} from '../../blocks/dm';
import type { SlackMessage } from '../../blocks/kit';
import type { AccessRequest } from '../../src/domain/types';
import {
  APPROVER,
  CHANNEL,
  expectMessageWithinLimits,
  expectNoRawPing,
  inStatus,
  NASTY,
  REQUESTER,
  REVOKER,
  target,
  textObjects,
} from './fixtures';

const allText = (blocks: KnownBlock[]) => textObjects(blocks).map((t) => t.text).join('\n');

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
    expect(text).toContain('the grant failed: InvalidGroup.NotFound: the security group does not exist');
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
