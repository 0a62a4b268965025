/**
 * `/jit audit` through signed requests to the real Bolt receiver, the real core on embedded
 * dynalite and EC2 mocked at the SDK client: an approver reads a request's timeline after it
 * expired; anyone else gets the one refusal and learns nothing; listings by person and by target,
 * `since`, and paging with the "More" button; bad input gets a clear reply.
 */
import { AuthorizeSecurityGroupIngressCommand, DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { ACTION_APPROVE, ACTION_AUDIT_MORE, ACTION_DENY } from '../../blocks/ids';
import { exportAudit } from '../../src/audit-export';
import { blockAction } from '../../testkit/slack-requests';
import { waitFor } from '../../testkit/wait';
import { APPROVER, APPROVER2, APPROVER_CHANNEL, Harness, OUTSIDER, REQUESTER, SIGNING_SECRET } from '../support/harness';

jest.setTimeout(120_000);

const ec2 = mockClient(EC2Client);
const MIN = 60_000;
const REFUSAL = '⚠️ Only approvers can read the audit. `/jit list` shows your own open requests.';

const CONFIG = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [${APPROVER}, ${APPROVER2}]
rateLimits: { requests: { max: 100, per: 1h } }
defaults:
  minDuration: 5m
  maxDuration: 4h
  approvalTimeout: 30m
  expiryWarning: 5m
targets:
  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    port: 22
    region: eu-west-1
  - name: staging-db
    kind: ec2-ssh
    securityGroupId: sg-0fedcba9876543210
    port: 5432
    region: eu-west-1
`;

let h: Harness;
let expiredId: string;
let deniedId: string;

const all = (reply: { text: string; blocks?: unknown[] } | undefined) => `${reply?.text ?? ''}\n${JSON.stringify(reply?.blocks ?? [])}`;

beforeAll(async () => {
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true, SecurityGroupRules: [{ SecurityGroupRuleId: 'sgr-0aaa1111bbbb2222c', GroupId: 'sg-0123456789abcdef0' }] });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  h = await Harness.start({ configYaml: CONFIG });
  // An old request (40 days ago), denied with a note.
  deniedId = await h.request('request prod-bastion 30m 203.0.113.7 old <!channel> work');
  await h.click(APPROVER2, ACTION_DENY, deniedId);
  h.clock.advance(40 * 24 * 60 * MIN);
  // A request approved, granted, and expired: the demo's shape.
  expiredId = await h.request('request prod-bastion 30m 203.0.113.7 investigating <!here> checkout latency');
  await h.click(APPROVER, ACTION_APPROVE, expiredId);
  h.clock.advance(31 * MIN);
  await h.sweep();
  await h.sweep();
  await waitFor(async () => (await h.bot.service.get(expiredId))?.status === 'REVOKED', { message: 'not revoked' });
});
afterAll(async () => {
  await h.stop();
});

describe('/jit audit <id>', () => {
  it('an approver sees the whole timeline: who, what, when, the approver, the AWS ids, the verified revoke', async () => {
    const { reply } = await h.command(APPROVER2, `audit ${expiredId}`);
    expect(reply?.response_type).toBe('ephemeral');
    expect(reply?.text).toBe(`Audit of ${expiredId}: REVOKED, 5 records.`);
    const shown = all(reply);
    for (const fact of [`<@${REQUESTER}>`, `<@${APPROVER}>`, 'prod-bastion', '*request*', '*approve*', '*grant*', '*expire*', '*revoked*', 'sgr-0aaa1111bbbb2222c', 'sg-0123456789abcdef0', '203.0.113.7/32', 'verified gone in AWS', 'PENDING → GRANTING']) {
      expect(shown).toContain(fact);
    }
    // The reason is user text: escaped, never a live @here.
    expect(shown).toContain('investigating &lt;!here&gt; checkout latency');
    expect(shown).not.toContain('<!here>');
  });

  it('anyone else gets the one refusal, whether the request exists or not, and nothing about it', async () => {
    const real = await h.command(OUTSIDER, `audit ${expiredId}`);
    const missing = await h.command(OUTSIDER, 'audit jit-0000000000');
    const listing = await h.command(REQUESTER, `audit <@${REQUESTER}|me>`);
    const bad = await h.command(OUTSIDER, 'audit');
    for (const r of [real, missing, listing, bad]) {
      expect(r.reply?.text).toBe(REFUSAL);
      expect(all(r.reply)).not.toContain('prod-bastion');
      expect(all(r.reply)).not.toContain('jit-');
    }
  });

  it('a bad id or an unknown one gets a clear reply', async () => {
    expect((await h.command(APPROVER, 'audit jit-NOPE')).reply?.text).toMatch(/^⚠️ That is not a request id\. Ids look like/);
    expect((await h.command(APPROVER, 'audit jit-0000000000')).reply?.text).toMatch(/^⚠️ There is no request `jit-0000000000`/);
    expect((await h.command(APPROVER, 'audit')).reply?.text).toMatch(/^⚠️ Say what to audit: `\/jit audit &lt;id&gt;`/);
    expect((await h.command(APPROVER, 'audit prod-bastion since')).reply?.text).toMatch(/since 7d/);
    expect((await h.command(APPROVER, 'audit @alice')).reply?.text).toMatch(/^⚠️ Slack sent that name as plain text, not as a person/);
    expect((await h.command(APPROVER, 'audit prod-bastion since 7x')).reply?.text).toMatch(/^⚠️ `7x` is not a look-back/);
    expect((await h.command(APPROVER, 'audit prod-bastion since 500d')).reply?.text).toMatch(/at most 400d/);
  });
});

describe('/jit audit @user | <target> [since]', () => {
  it('by person: their requests with the outcome, newest first; the default 30 days leave the old one out, since 60d brings it back', async () => {
    const { reply } = await h.command(APPROVER, `audit <@${REQUESTER}|alice>`);
    const shown = all(reply);
    expect(shown).toContain(expiredId);
    expect(shown).toContain('*REVOKED*');
    expect(shown).toContain(`approved by <@${APPROVER}>`);
    expect(shown).toContain('expired');
    expect(shown).not.toContain(deniedId);
    const longer = all((await h.command(APPROVER, `audit ${REQUESTER} since 60d`)).reply); // a member ID works too
    expect(longer).toContain(deniedId);
    expect(longer).toContain(`denied by <@${APPROVER2}>`);
    expect(longer.indexOf(expiredId)).toBeLessThan(longer.indexOf(deniedId)); // newest first
    expect(longer).not.toContain('&lt;!channel'); // reasons are not listed, only outcomes
  });

  it('by target: only that target', async () => {
    const staging = await h.request('request staging-db 30m 203.0.113.8 vacuum', APPROVER2);
    const prod = all((await h.command(APPROVER, 'audit prod-bastion since 60d')).reply);
    expect(prod).toContain(expiredId);
    expect(prod).toContain(deniedId);
    expect(prod).not.toContain(staging);
    const db = all((await h.command(APPROVER, 'audit staging-db')).reply);
    expect(db).toContain(staging);
    expect(db).not.toContain(expiredId);
    expect(all((await h.command(APPROVER, 'audit no-such-target')).reply)).toContain('No requests in that window.');
  });

  it('pages of 20 with a "More" button that carries only a page token; a forged token is refused', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 22; i++) {
      ids.push(await h.request(`request staging-db 30m 203.0.113.9 batch ${i}`, OUTSIDER));
      h.clock.advance(1_000);
    }
    const first = (await h.command(APPROVER, `audit <@${OUTSIDER}>`)).reply;
    const firstText = all(first);
    const shownFirst = ids.filter((id) => firstText.includes(id));
    expect(shownFirst).toEqual(ids.slice(2)); // the 20 newest
    const more = (first?.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).flatMap((b) => (b.type === 'actions' ? b.elements! : []));
    expect(more.map((b) => b.action_id)).toEqual([ACTION_AUDIT_MORE]);
    expect(more[0]!.value).toMatch(new RegExp(`^u\\|${OUTSIDER}\\|[0-9T:.Z-]+\\|[0-9T:.Z-]+\\|jit-[0-9a-z]{10}$`));

    const click = async (userId: string, value: string) => {
      const responseUrl = h.slack.responseUrl();
      await blockAction(h.url, SIGNING_SECRET, { userId, actionId: ACTION_AUDIT_MORE, value, channel: APPROVER_CHANNEL, messageTs: '0', responseUrl, ephemeral: true });
      await h.settle();
      return waitFor(() => h.slack.responses.find((r) => r.url === responseUrl)?.body as { text: string; blocks?: unknown[] } | undefined, { message: 'no reply to More' });
    };
    const second = await click(APPROVER, more[0]!.value);
    const secondText = all(second);
    expect(ids.filter((id) => secondText.includes(id))).toEqual(ids.slice(0, 2));
    expect(secondText).not.toContain(ACTION_AUDIT_MORE); // the last page
    // The same button pressed by someone who may not read the audit: the refusal, nothing listed.
    const outsider = await click(REQUESTER, more[0]!.value);
    expect(outsider.text).toBe(REFUSAL);
    // A forged value never reaches the core.
    const forged = await click(APPROVER, `u|<!channel>|2026-01-01T00:00:00.000Z||`);
    expect(forged.text).toBe('⚠️ This button does not carry a valid page; run the `/jit audit` command again.');
  });
});

it('/jit help lists audit', async () => {
  const help = all((await h.command(OUTSIDER, 'help')).reply);
  expect(help).toContain('/jit audit &lt;id&gt;');
});

it('the export reads the same store: every transition of the expired grant, with its AWS ids and the verified revoke', async () => {
  const lines: string[] = [];
  const now = h.clock.now().getTime();
  await exportAudit(h.bot.store, { sinceIso: new Date(now - 60 * MIN).toISOString(), untilIso: new Date(now).toISOString(), format: 'jsonl' }, { write: async (c) => void lines.push(...c.split('\n').filter(Boolean)), progress: () => undefined });
  const records = lines.map((l) => JSON.parse(l) as Record<string, string>).filter((r) => r.requestId === expiredId);
  expect(records.map((r) => [r.action, r.actor, r.from, r.to])).toEqual([
    ['request', REQUESTER, '', 'PENDING'],
    ['approve', APPROVER, 'PENDING', 'GRANTING'],
    ['grant', 'system', 'GRANTING', 'ACTIVE'],
    ['expire', 'system', 'ACTIVE', 'REVOKING'],
    ['revoked', 'system', 'REVOKING', 'REVOKED'],
  ]);
  expect(records[2]).toMatchObject({ securityGroupRuleId: 'sgr-0aaa1111bbbb2222c', cidr: '203.0.113.7/32' });
  expect(records[4]).toMatchObject({ verification: 'verified', status: 'REVOKED', reason: 'investigating <!here> checkout latency' });
});
