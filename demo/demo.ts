/**
 * `npm run demo`: the whole lifecycle, locally, in real time, in about 16 seconds.
 *
 * Real parts: the bot as `npm start` wires it (Bolt HTTP receiver with signature checks, the core,
 * node-cron sweep and per-request timers, the embedded SQLite store in memory, the Slack notifier, the EC2
 * provider with a real @aws-sdk/client-ec2). Stand-ins: Slack's Web API (a local server) and EC2
 * (a SIMULATED endpoint speaking the EC2 query protocol). No Slack workspace, no AWS account.
 *
 * The script plays the users: it sends signed slash commands and button clicks exactly as Slack
 * would, waits (in real time) for each expected outcome, and prints what each person would have
 * seen. Exit 0 when every step happened in time; 1 (with the reason) otherwise.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION_APPROVE, ACTION_DENY, ACTION_REVOKE_NOW, CALLBACK_REQUEST_ACCESS_SHORTCUT } from '../blocks/ids';
import { exportAudit } from '../src/audit-export';
import type { AccessRequest } from '../src/domain/types';
import { waitFor } from '../testkit/wait';
import { bold, clockTime, cyan, dim, renderMessage, type RenderOptions, wrap } from './render';
import { APPROVER_CHANNEL, AUDIT_CHANNEL, type Ec2Event, nowMs, type Stack, startStack } from './stack';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const SG_BASTION = 'sg-0123456789abcdef0';
const REGION = 'eu-west-1';
const SWEEP_S = 1;
const SSO_INSTANCE = 'arn:aws:sso:::instance/ssoins-1111222233334444';
const SSO_STORE = 'd-1234567890';
const SSO_PERMISSION_SET = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
const SSO_ACCOUNTS = ['210987654321', '311111111111'];
/** Long enough for the config's floor (1m); nobody waits on it in the demo. */
const APPROVAL_TIMEOUT = '2m';
/** The whole demo must be done within this (it normally takes ~16 s). */
const BUDGET_MS = 30_000;

const CONFIG_YAML = `
approverChannel: ${APPROVER_CHANNEL}
auditChannel: ${AUDIT_CHANNEL}
approvers:
  users: [${BOB}, ${ALICE}]
defaults:
  minDuration: 5s
  maxDuration: 1h
  approvalTimeout: ${APPROVAL_TIMEOUT}
  expiryWarning: 3s
revocation:
  sweepInterval: ${SWEEP_S}s
targets:
  - name: prod-bastion
    kind: ec2-ssh
    description: production bastion host
    securityGroupId: ${SG_BASTION}
    port: 22
    region: ${REGION}
    host: bastion.prod.example.com
  - name: staging-db
    kind: ec2-ssh
    description: staging PostgreSQL
    securityGroupId: sg-0fedcba9876543210
    port: 5432
    region: ${REGION}
    reason:
      pattern: '^[A-Z]+-[0-9]+'
      message: Start the reason with the ticket key, e.g. OPS-123
    ticketUrl: https://jira.example.com/browse/{key}
  - name: prod-admin
    kind: sso-permission-set
    description: AdministratorAccess on the two production accounts
    instanceArn: ${SSO_INSTANCE}
    identityStoreId: ${SSO_STORE}
    permissionSetArn: ${SSO_PERMISSION_SET}
    accountIds: [${SSO_ACCOUNTS.map((a) => `"${a}"`).join(', ')}]
    region: ${REGION}
    portalUrl: https://d-1234567890.awsapps.com/start
`;

const launchedMs = nowMs();
/** t=0: the whole second the demo started in, so Slack's whole-second time tokens line up with it. */
const startMs = Math.floor(launchedMs / 1000) * 1000;

const color = process.stdout.isTTY === true;
const R: RenderOptions = {
  users: { [ALICE]: 'alice', [BOB]: 'bob', [CAROL]: 'carol', system: 'system' },
  channels: { [APPROVER_CHANNEL]: 'approvers', [AUDIT_CHANNEL]: 'audit' },
  startMs,
  color,
};
const WIDTH = 104;
const GUTTER = ' '.repeat(11);

// ---------------------------------------------------------------- transcript

const out = (s = '') => process.stdout.write(`${s}\n`);
const stamp = (at: number) => `[${((at - startMs) / 1000).toFixed(2).padStart(6)}s]`;
const user = (id: string) => (id === 'system' ? 'system' : `@${R.users[id] ?? id}`);

function say(text: string, at = nowMs()): void {
  const [first, ...rest] = wrap(text, WIDTH - GUTTER.length, '  ');
  out(`${stamp(at)} ${first}`);
  for (const l of rest) out(`${GUTTER}${l}`);
}

function box(label: string, lines: string[], at = nowMs()): void {
  out(`${stamp(at)} ┌ ${cyan(R, label)}`);
  for (const line of lines) for (const w of wrap(line, WIDTH - GUTTER.length - 2, '  ')) out(`${GUTTER}│ ${w}`);
}

function section(n: number, title: string): void {
  out();
  out(bold(R, `── ${n}. ${title} ${'─'.repeat(Math.max(3, WIDTH - title.length - 8))}`));
}

// ---------------------------------------------------------------- following Slack and EC2

/** Prints everything the bot sent (Slack and EC2) since the last call, in the order it happened. */
class Follower {
  private callIdx = 0;
  private responseIdx = 0;
  private ec2Idx = 0;
  /** request id → the approval message as last printed. */
  private readonly shown = new Map<string, string[]>();

  constructor(private readonly s: Stack) {}

  flush(): void {
    const items: { at: number; print: () => void }[] = [];
    const { calls, responses } = this.s.slack;
    for (; this.callIdx < calls.length; this.callIdx++) {
      const call = calls[this.callIdx]!;
      const p = this.slackCall(call.method, call.args, call.at);
      if (p) items.push({ at: call.at, print: p });
    }
    for (; this.responseIdx < responses.length; this.responseIdx++) {
      const r = responses[this.responseIdx]!;
      const [role, id] = (r.name ?? 'someone:?').split(':') as [string, string];
      items.push({ at: r.at, print: () => box(`${role} (ephemeral) · only ${user(id)} sees this`, renderMessage(r.body as object, R), r.at) });
    }
    for (; this.ec2Idx < this.s.ec2Events.length; this.ec2Idx++) {
      const e = this.s.ec2Events[this.ec2Idx]!;
      items.push({ at: e.at, print: () => box(`AWS (simulated) · ${e.command.replace(/Command$/, '')}`, ec2Lines(e), e.at) });
    }
    items.sort((a, b) => a.at - b.at);
    for (const item of items) item.print();
  }

  /** The approval message of a request as it stands in the stand-in now. */
  approvalMessage(requestId: string) {
    return this.s.slack.messagesIn(APPROVER_CHANNEL).find((m) => !m.thread_ts && JSON.stringify(m.blocks ?? '').includes(requestId));
  }

  showApproval(requestId: string, label: string): void {
    const m = this.approvalMessage(requestId);
    if (m) box(label, renderMessage(m, R));
  }

  private slackCall(method: string, args: Record<string, unknown>, at: number): (() => void) | undefined {
    const channel = String(args.channel ?? '');
    const lines = renderMessage(args, R);
    const requestId = /jit-[0-9a-z]{10}/.exec(JSON.stringify(args.blocks ?? ''))?.[0] ?? '?';
    if (method === 'chat.postMessage' && channel === AUDIT_CHANNEL) return undefined; // shown together at the end
    if (method === 'chat.postMessage' && channel === APPROVER_CHANNEL && !args.thread_ts) {
      this.shown.set(requestId, lines);
      return () => box('#approvers · new message', lines, at);
    }
    if (method === 'chat.postMessage' && channel === APPROVER_CHANNEL) return () => box('#approvers · thread reply', lines, at);
    if (method === 'chat.postMessage') return () => box(`DM to ${user(channel)}`, lines, at);
    if (method === 'chat.update') {
      const before = this.shown.get(requestId);
      this.shown.set(requestId, lines);
      if (before && before.join('\n') === lines.join('\n')) return undefined; // re-rendered, nothing visible changed
      const unchanged = before ? countSameLeading(before, lines) : 0;
      const changed = lines.slice(unchanged);
      const note = unchanged > 0 ? [`(header, facts and reason unchanged${before?.some((l) => l.includes('[ Approve ]')) ? '; the buttons are gone' : ''})`] : [];
      return () => box(`#approvers · message edited in place (${requestId})`, [...note.map((n) => dim(R, n)), ...changed], at);
    }
    return undefined;
  }
}

function countSameLeading(a: string[], b: string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

type SdkRule = { SecurityGroupRuleId?: string; GroupId?: string; IpProtocol?: string; FromPort?: number; ToPort?: number; CidrIpv4?: string; CidrIpv6?: string; Description?: string; Tags?: { Key?: string; Value?: string }[] };

function ec2Lines(e: Ec2Event): string[] {
  if (e.error) return [`failed: ${e.error}`];
  switch (e.command) {
    case 'DescribeSecurityGroupRulesCommand': {
      const filters = (e.input.Filters ?? []) as { Name?: string; Values?: string[] }[];
      const shown = filters.map((f) => `${f.Name}=${(f.Values ?? []).join(',')}`).join(', ');
      const n = ((e.output?.SecurityGroupRules ?? []) as unknown[]).length;
      const rules = `${n} rule${n === 1 ? '' : 's'}`;
      if (filters.some((f) => f.Name === 'security-group-rule-id')) {
        return [`verify the revoke: is the rule still listed? (${shown})`, n === 0 ? '→ not listed: removal verified' : `→ still listed (${rules})`];
      }
      if (filters.some((f) => f.Name?.startsWith('tag:'))) {
        return [`before granting: is there a rule tagged for this request already? (${shown})`, `→ ${rules}${n === 0 ? ': nothing to adopt, so create one' : ''}`];
      }
      return [`drift check (runs at start, then every few minutes): list the managed groups' rules (${shown})`, `→ ${rules}${n === 0 ? ': nothing left over, nothing unmanaged' : ''}`];
    }
    case 'AuthorizeSecurityGroupIngressCommand': {
      const rule = ((e.output?.SecurityGroupRules ?? []) as SdkRule[])[0];
      return rule ? ['→ rule created', ...ruleLines(rule)] : ['→ no rule returned'];
    }
    case 'RevokeSecurityGroupIngressCommand':
      return [`GroupId=${String(e.input.GroupId)} SecurityGroupRuleIds=${((e.input.SecurityGroupRuleIds ?? []) as string[]).join(',')}`, `→ Return=${String(e.output?.Return)}: rule removed`];
    default:
      return [JSON.stringify(e.input)];
  }
}

function ruleLines(rule: SdkRule): string[] {
  const tags = (rule.Tags ?? []).map((t) => `${t.Key}=${t.Value}`);
  return [
    `${dim(R, 'rule  ')} ${rule.SecurityGroupRuleId}`,
    `${dim(R, 'group ')} ${rule.GroupId} (${REGION})`,
    `${dim(R, 'allows')} ${rule.IpProtocol}/${rule.FromPort}${rule.ToPort !== rule.FromPort ? `-${rule.ToPort}` : ''} from ${rule.CidrIpv4 ?? rule.CidrIpv6}`,
    `${dim(R, 'desc  ')} ${rule.Description ?? ''}`,
    `${dim(R, 'tags  ')} ${tags.join(', ')}`,
  ];
}

/** The simulated security group as it is right now. */
function showGroup(s: Stack, groupId: string): void {
  const rules = s.ec2.rules().filter((r) => r.groupId === groupId);
  const lines = rules.length === 0
    ? ['(no ingress rules: nothing is open)']
    : rules.map((r) => `${r.securityGroupRuleId}  ${r.ipProtocol}/${r.fromPort} from ${r.cidrIpv4 ?? r.cidrIpv6}  tags: ${Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  box(`AWS (simulated) · ingress rules of ${groupId} now`, lines);
}

// ---------------------------------------------------------------- steps

class StepFailed extends Error {}

async function expect<T>(what: string, timeoutMs: number, fn: () => T | Promise<T>): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  try {
    return await waitFor(fn, { timeoutMs, intervalMs: 10, message: what });
  } catch {
    throw new StepFailed(`${what}: did not happen within ${(timeoutMs / 1000).toFixed(1)} s`);
  }
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new StepFailed(what);
}

const responseTo = (s: Stack, url: string) => s.slack.responses.find((r) => r.url === url);
const dmsTo = (s: Stack, userId: string) => s.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === userId);
const ec2CallsFor = (s: Stack, requestId: string) => s.ec2Events.filter((e) => JSON.stringify(e.input).includes(requestId));

async function slash(s: Stack, userId: string, text: string): Promise<{ url: string; ackMs: number }> {
  say(`${bold(R, user(userId))} types  ${bold(R, `/jit ${text}`)}`);
  const url = s.slack.responseUrl(`requester:${userId}`);
  const t0 = nowMs();
  const res = await s.command(userId, text, url);
  const ackMs = nowMs() - t0;
  check(res.status === 200, `the bot answered the signed slash command with HTTP ${res.status}, not 200`);
  say(dim(R, `Slack → bot: signed POST /slack/events → HTTP ${res.status}, acked in ${ackMs.toFixed(0)} ms`));
  await expect(`the ephemeral reply to "/jit ${text}"`, 5_000, () => responseTo(s, url));
  return { url, ackMs };
}

async function click(s: Stack, userId: string, role: string, label: string, actionId: string, requestId: string): Promise<string> {
  say(`${bold(R, user(userId))} clicks ${bold(R, `[ ${label} ]`)} on the approval message of ${requestId}`);
  const url = s.slack.responseUrl(`${role}:${userId}`);
  const t0 = nowMs();
  const res = await s.click(userId, actionId, requestId, url);
  check(res.status === 200, `the bot answered the signed button click with HTTP ${res.status}, not 200`);
  say(dim(R, `Slack → bot: signed block_actions payload → HTTP ${res.status}, acked in ${(nowMs() - t0).toFixed(0)} ms`));
  return url;
}

/** The user opens the bot's Home tab (a signed app_home_opened event); shows what the bot publishes. */
async function showHome(s: Stack, userId: string, label: string): Promise<string> {
  const published = () => s.slack.callsTo('views.publish').filter((c) => c.args.user_id === userId);
  const before = published().length;
  say(`${bold(R, user(userId))} opens the bot's ${bold(R, 'Home')} tab`);
  const res = await s.openHome(userId);
  check(res.status === 200, `the bot answered the signed app_home_opened event with HTTP ${res.status}, not 200`);
  const call = await expect(`the Home tab published for ${user(userId)}`, 5_000, () => published()[before]);
  const view = call.args.view as { blocks?: unknown };
  box(`${user(userId)}'s Home tab · ${label}`, renderMessage({ blocks: view.blocks }, R));
  return JSON.stringify(view.blocks ?? '');
}

async function run(s: Stack): Promise<void> {
  const f = new Follower(s);
  const get = async (id: string) => (await s.bot.service.get(id)) as AccessRequest;

  // ---- 1. request
  section(1, '@alice asks for 10 seconds of SSH access to prod-bastion');
  const { url: replyUrl } = await slash(s, ALICE, 'request prod-bastion 10s 203.0.113.7 investigating checkout latency');
  const reply = responseTo(s, replyUrl)!.body as { text?: string };
  const id = /jit-[0-9a-z]{10}/.exec(reply.text ?? '')?.[0];
  check(id !== undefined, `the reply names no request id: ${JSON.stringify(reply)}`);
  const requestId = id!;
  await expect('the approval message in #approvers', 5_000, () => f.approvalMessage(requestId));
  f.flush();
  const stored = await get(requestId);
  check(stored.status === 'PENDING', `request stored as ${stored.status}, not PENDING`);
  say(`store: ${requestId} is ${bold(R, 'PENDING')}; approvers have until ${clockTime(Date.parse(stored.approvalDeadline), R, true)}`);
  const bobsHome = await showHome(s, BOB, 'what waits on him');
  check(bobsHome.includes(requestId) && bobsHome.includes('Waiting on me'), `@bob's Home tab does not list ${requestId} under Waiting on me`);

  // ---- 2. bad input
  section(2, '@alice sends a request for the whole internet');
  const callsBefore = s.slack.callsTo('chat.postMessage').length;
  await slash(s, ALICE, 'request prod-bastion 30m 0.0.0.0/0 oops');
  await s.bot.listenersIdle();
  f.flush();
  const open = await s.bot.service.listOpen(ALICE);
  check(open.length === 1 && open[0]!.id === requestId, `the refused request was stored: @alice has ${open.length} open requests`);
  check(s.slack.callsTo('chat.postMessage').length === callsBefore, 'something was posted for the refused request');
  say(`store: @alice still has exactly 1 open request (${requestId}); the refused one was never stored or posted`);

  // ---- 3. self-approval
  section(3, '@alice (also an approver) tries to approve her own request');
  const selfUrl = await click(s, ALICE, 'requester', 'Approve', ACTION_APPROVE, requestId);
  await expect('the refusal of the self-approval', 5_000, () => responseTo(s, selfUrl));
  await s.bot.listenersIdle();
  f.flush();
  check((await get(requestId)).status === 'PENDING', 'the self-approval changed the request');
  check(ec2CallsFor(s, requestId).length === 0 && !s.ec2Events.some((e) => e.command === 'AuthorizeSecurityGroupIngressCommand'), 'the self-approval reached EC2');
  say(`store: ${requestId} is still ${bold(R, 'PENDING')}; nothing reached AWS (no EC2 call for it)`);

  // ---- 4. approval
  section(4, '@bob approves: the rule is added to the (simulated) security group');
  await click(s, BOB, 'approver', 'Approve', ACTION_APPROVE, requestId);
  const active = await expect(`${requestId} ACTIVE in the store`, 5_000, async () => {
    const r = await get(requestId);
    return r.status === 'ACTIVE' ? r : undefined;
  });
  await expect('the grant DM to @alice', 5_000, () => dmsTo(s, ALICE).some((c) => String(c.args.text).includes('is open')));
  await expect('the approval message showing the grant', 5_000, () => JSON.stringify(f.approvalMessage(requestId)?.blocks ?? '').includes('active until'));
  await s.bot.outbox.idle();
  f.flush();
  const rule = s.ec2.rules().find((r) => r.tags['jit:request-id'] === requestId);
  check(rule !== undefined && active.grant?.kind === 'ec2-ssh' && rule.securityGroupRuleId === active.grant.securityGroupRuleId, 'the simulated security group has no rule for the request');
  check(rule!.cidrIpv4 === '203.0.113.7/32' && rule!.fromPort === 22 && rule!.groupId === SG_BASTION, `unexpected rule ${JSON.stringify(rule)}`);
  showGroup(s, SG_BASTION);
  const expiresAt = Date.parse(active.expiresAt!);
  const warnAt = Date.parse(active.warnAt!);
  const alicesHome = await showHome(s, ALICE, 'her access, with [ Revoke now ] and [ Extend ]');
  check(alicesHome.includes(requestId) && alicesHome.includes(ACTION_REVOKE_NOW), `@alice's Home tab does not show ${requestId} with Revoke now`);
  say(`store: ${requestId} is ${bold(R, 'ACTIVE')}: granted at ${clockTime(Date.parse(active.grantedAt!), R, true)}, warning due ${clockTime(warnAt, R, true)}, expires ${clockTime(expiresAt, R, true)}`);

  // ---- 5. warning and expiry, in real time
  section(5, 'time passes (real time): the expiry warning, then the revocation');
  say(dim(R, `waiting: no clock tricks, the bot's own timers and its ${SWEEP_S}s node-cron sweep do the work…`));
  await expect('the expiry-warning DM to @alice', warnAt - Date.now() + SWEEP_S * 1000 + 2_000, () => dmsTo(s, ALICE).some((c) => String(c.args.text).includes('ends at')));
  await s.bot.outbox.idle();
  f.flush();
  check(s.ec2.rules().some((r) => r.tags['jit:request-id'] === requestId), 'the rule was removed before expiry');
  showGroup(s, SG_BASTION);
  const goneAt = await expect(`the rule of ${requestId} removed from the simulated EC2`, expiresAt - Date.now() + SWEEP_S * 1000 + 2_000, () =>
    s.ec2.rules().some((r) => r.tags['jit:request-id'] === requestId) ? undefined : nowMs(),
  );
  await expect(`${requestId} REVOKED in the store`, 3_000, async () => (await get(requestId)).status === 'REVOKED');
  await expect('the "access ended" DM to @alice', 3_000, () => dmsTo(s, ALICE).some((c) => String(c.args.text).includes('has ended')));
  await expect('the approval message showing the end', 3_000, () => JSON.stringify(f.approvalMessage(requestId)?.blocks ?? '').includes('Access ended'));
  await expect('the "revoked and verified" reply in the thread', 3_000, () =>
    s.slack.callsTo('chat.postMessage').some((c) => c.args.channel === APPROVER_CHANNEL && c.args.thread_ts && String(c.args.text).includes(requestId)),
  );
  await s.bot.outbox.idle();
  f.flush();
  const revokeCall = s.ec2Events.find((e) => e.command === 'RevokeSecurityGroupIngressCommand' && JSON.stringify(e.input).includes(rule!.securityGroupRuleId));
  showGroup(s, SG_BASTION);
  say(`the rule was removed ${(((revokeCall?.at ?? goneAt) - expiresAt) / 1000).toFixed(2)} s after the grant expired (limit: the ${SWEEP_S}s sweep interval + 2 s)`);
  f.showApproval(requestId, `#approvers · the approval message of ${requestId} as it stands now`);

  // ---- 6. a reason rule, a ticket link and a denial
  section(6, '@carol asks for staging-db, which wants a ticket key; @bob denies it');
  const ec2Before = s.ec2Events.length;
  const postsBefore = s.slack.callsTo('chat.postMessage').length;
  const { url: noKeyUrl } = await slash(s, CAROL, 'request staging-db 15m 198.51.100.23 run the quarterly billing export');
  const noKey = (responseTo(s, noKeyUrl)!.body as { text?: string }).text ?? '';
  check(noKey.includes('Start the reason with the ticket key'), `the reason without a ticket key was not refused with the target's message: ${noKey}`);
  check((await s.bot.service.listOpen(CAROL)).length === 0 && s.slack.callsTo('chat.postMessage').length === postsBefore, 'the refused request was stored or posted');
  f.flush();
  say('store: nothing stored, nothing posted; @carol is told what the target wants');
  const { url: carolUrl } = await slash(s, CAROL, 'request staging-db 15m 198.51.100.23 FIN-42 run the quarterly billing export');
  const id2 = /jit-[0-9a-z]{10}/.exec((responseTo(s, carolUrl)!.body as { text?: string }).text ?? '')?.[0];
  check(id2 !== undefined, 'the reply to @carol names no request id');
  await expect('the approval message for @carol', 5_000, () => f.approvalMessage(id2!));
  f.flush();
  check(JSON.stringify(f.approvalMessage(id2!)?.blocks ?? '').includes('https://jira.example.com/browse/FIN-42'), 'the approval message does not link the ticket');
  say(`the approval message links the ticket: ${bold(R, 'FIN-42')} → https://jira.example.com/browse/FIN-42`);
  await click(s, BOB, 'approver', 'Deny', ACTION_DENY, id2!);
  await expect(`${id2} DENIED in the store`, 5_000, async () => (await get(id2!)).status === 'DENIED');
  await expect('the denial DM to @carol', 5_000, () => dmsTo(s, CAROL).some((c) => String(c.args.text).includes('was denied')));
  await expect('the approval message showing the denial', 5_000, () => JSON.stringify(f.approvalMessage(id2!)?.blocks ?? '').includes('Denied'));
  await s.bot.outbox.idle();
  f.flush();
  check(s.ec2Events.length === ec2Before && ec2CallsFor(s, id2!).length === 0, 'the denied request reached EC2');
  box('AWS (simulated)', [`no EC2 call was made for ${id2}: a denied request never reaches AWS`]);

  // ---- 7. Revoke now
  section(7, '@carol gets prod-bastion for 30 minutes; @bob ends it early with [ Revoke now ]');
  const { url: thirdUrl } = await slash(s, CAROL, 'request prod-bastion 30m 198.51.100.23 rotate the TLS certificate');
  const id3 = /jit-[0-9a-z]{10}/.exec((responseTo(s, thirdUrl)!.body as { text?: string }).text ?? '')?.[0];
  check(id3 !== undefined, 'the reply to @carol names no request id');
  await expect('the approval message for @carol', 5_000, () => f.approvalMessage(id3!));
  await click(s, BOB, 'approver', 'Approve', ACTION_APPROVE, id3!);
  await expect(`${id3} ACTIVE in the store`, 5_000, async () => (await get(id3!)).status === 'ACTIVE');
  await expect('[ Revoke now ] on the approval message', 5_000, () => JSON.stringify(f.approvalMessage(id3!)?.blocks ?? '').includes(ACTION_REVOKE_NOW));
  await s.bot.outbox.idle();
  f.flush();
  check(s.ec2.rules().some((r) => r.tags['jit:request-id'] === id3), 'no rule for the approved request');
  say(dim(R, 'the button asks first: "Revoke access now?" naming the target and @carol; @bob confirms'));
  const revokeUrl = await click(s, BOB, 'approver', 'Revoke now', ACTION_REVOKE_NOW, id3!);
  await expect('the reply to [ Revoke now ]', 5_000, () => responseTo(s, revokeUrl));
  await expect(`${id3} REVOKED in the store`, 5_000, async () => (await get(id3!)).status === 'REVOKED');
  await expect('the approval message without the button', 5_000, () => !JSON.stringify(f.approvalMessage(id3!)?.blocks ?? '').includes(ACTION_REVOKE_NOW));
  await s.bot.outbox.idle();
  f.flush();
  check(!s.ec2.rules().some((r) => r.tags['jit:request-id'] === id3), 'the rule is still in the simulated EC2');
  const ended = await get(id3!);
  say(`store: ${id3} is ${bold(R, 'REVOKED')} (${ended.endReason ?? 'revoked'} by ${user(ended.endedBy ?? BOB)}), ${((Date.parse(ended.expiresAt!) - Date.parse(ended.endedAt!)) / 60_000).toFixed(0)} minutes before it would have expired; the rule is gone`);

  // ---- 8. the shortcut
  section(8, '@carol opens the ⚡ "Request access" shortcut (no need to remember /jit)');
  const opened = s.slack.callsTo('views.open').length;
  say(`${bold(R, user(CAROL))} picks ${bold(R, 'Request access')} from the shortcuts menu`);
  const sc = await s.shortcut(CAROL, CALLBACK_REQUEST_ACCESS_SHORTCUT);
  check(sc.status === 200, `the bot answered the signed shortcut with HTTP ${sc.status}, not 200`);
  const form = await expect('the request form (views.open)', 5_000, () => s.slack.callsTo('views.open')[opened]);
  const view = form.args.view as { title?: { text?: string } };
  say(`the bot opens the form "${view.title?.text ?? '?'}": the same one \`/jit\` opens`);

  // ---- 9. audit
  section(9, `@bob reads the audit of ${requestId}; @carol may not`);
  const { url: auditUrl } = await slash(s, BOB, `audit ${requestId}`);
  const timeline = responseTo(s, auditUrl)!.body as { text?: string; blocks?: unknown };
  box(`reply to @bob (only he sees it)`, renderMessage(timeline, R));
  const { url: refusedUrl } = await slash(s, CAROL, `audit ${requestId}`);
  const refused = (responseTo(s, refusedUrl)!.body as { text?: string }).text ?? '';
  check(!refused.includes(requestId) || refused.includes('Only approvers'), `the audit refusal says something about the request: ${refused}`);
  say(`@carol is told: ${refused.replace(/^⚠️ /, '')}`);
  const final = await get(requestId);

  // ---- 10. export
  section(10, 'the export for a SIEM: one CSV record per transition (npm run audit:export -- --since 1d --format csv)');
  let csv = '';
  const summary = await exportAudit(s.bot.store, { sinceIso: new Date(startMs - 60_000).toISOString(), untilIso: new Date(nowMs() + 1_000).toISOString(), format: 'csv' }, { write: async (c) => void (csv += c), progress: () => undefined });
  const [header, ...rows] = csv.trim().split('\r\n');
  const mine = rows.filter((r) => r.includes(requestId));
  check(summary.requests === 3 && mine.length === final.audit.length, `the export has ${summary.requests} requests and ${mine.length} records of ${requestId}, not 3 and ${final.audit.length}`);
  const cols = header!.split(',');
  box(`${summary.records} records from ${summary.requests} requests; ${cols.length} columns`, [
    dim(R, cols.slice(0, 12).join(',') + ',…'),
    ...mine.map((r) => r.split(',').slice(0, 12).join(',') + ',…'),
  ]);

  // ---- 11. the audit channel
  section(11, 'the #audit channel: a second, independent copy in Slack, one line per transition');
  await s.bot.outbox.idle();
  const posts = s.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === AUDIT_CHANNEL);
  const ofFirst = posts.filter((c) => String(c.args.text).includes(requestId));
  check(ofFirst.length === final.audit.length, `#audit has ${ofFirst.length} lines for ${requestId}, not ${final.audit.length}`);
  box(`#audit · ${posts.length} lines in all; the ${ofFirst.length} of ${requestId}`, ofFirst.flatMap((c) => renderMessage(c.args, R)));

  // ---- 12. IAM Identity Center
  section(12, '@carol gets AdministratorAccess on both production accounts through IAM Identity Center (one request), then ends it herself');
  // Identity Center (simulated): carol's user, found by the email Slack shares, and the permission set.
  const carolUser = s.sso.addUser({ identityStoreId: SSO_STORE, userName: 'carol', email: `${CAROL.toLowerCase()}@example.com` });
  s.sso.addPermissionSet({ instanceArn: SSO_INSTANCE, permissionSetArn: SSO_PERMISSION_SET, name: 'AdministratorAccess', sessionDuration: 'PT1H' });
  s.sso.setProvisioningPolls(1);
  const { url: ssoUrl } = await slash(s, CAROL, 'request prod-admin 20m INC-4711 restore the payments queue');
  const id4 = /jit-[0-9a-z]{10}/.exec((responseTo(s, ssoUrl)!.body as { text?: string }).text ?? '')?.[0];
  check(id4 !== undefined, 'the reply to @carol names no request id');
  await expect('the approval message for prod-admin', 5_000, () => f.approvalMessage(id4!));
  await click(s, BOB, 'approver', 'Approve', ACTION_APPROVE, id4!);
  await expect(`${id4} ACTIVE in the store`, 10_000, async () => (await get(id4!)).status === 'ACTIVE');
  await s.bot.outbox.idle();
  f.flush();
  const assigned = () => s.sso.assignments().filter((a) => a.principalId === carolUser && SSO_ACCOUNTS.includes(a.accountId));
  check(assigned().length === SSO_ACCOUNTS.length, `@carol has ${assigned().length} Identity Center assignments, not ${SSO_ACCOUNTS.length}`);
  const ops = s.sso.calls.map((c) => c.operation);
  say(`Identity Center (simulated): ${ops.join(', ')}: each account's assignment created, provisioned and read back, in parallel`);
  const { url: endUrl } = await slash(s, CAROL, `revoke ${id4}`);
  await expect(`${id4} REVOKED in the store`, 10_000, async () => (await get(id4!)).status === 'REVOKED');
  await s.bot.outbox.idle();
  f.flush();
  check(responseTo(s, endUrl) !== undefined && assigned().length === 0, 'the assignment is still in Identity Center');
  say(`store: ${id4} is ${bold(R, 'REVOKED')}; Identity Center no longer lists either assignment (${s.sso.calls.slice(ops.length).map((c) => c.operation).join(', ')})`);
}

function logSummary(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const bad = lines.filter((l) => (JSON.parse(l) as { level?: number }).level! >= 40).length;
    return `${lines.length} log lines, ${bad} warning${bad === 1 ? '' : 's'} or errors`;
  } catch {
    return 'log unreadable';
  }
}

async function main(): Promise<number> {
  const logFile = join(mkdtempSync(join(tmpdir(), 'jit-demo-')), 'bot.log');
  out(bold(R, 'jit-access-bot demo: request → App Home → approve → rule added → warning → revoked at expiry → ticket rule → Revoke now → shortcut → audit → export → #audit → Identity Center'));
  out(dim(R, `Everything runs locally, in real time. [Times] are seconds since t=0 = ${new Date(startMs).toISOString().slice(11, 19)} UTC.`));
  const s = await startStack({ configYaml: CONFIG_YAML, logFile, owner: 'demo-replica' });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= s.stop());
  const watchdog = setTimeout(() => {
    out(`\n✘ demo failed: not finished within ${BUDGET_MS / 1000} s`);
    void Promise.race([stop(), new Promise((r) => setTimeout(r, 3_000))]).then(() => process.exit(1));
  }, BUDGET_MS);
  watchdog.unref();

  box('setup', [
    `Slack    local Web API stand-in at ${s.slack.url} (no workspace needed);`,
    `         this script plays the users and signs its requests as Slack does`,
    `AWS      ${bold(R, 'SIMULATED EC2 — no AWS account is used')}: ${s.ec2.url}`,
    `         speaks the EC2 query protocol to the bot's real @aws-sdk/client-ec2`,
    `store    embedded, in memory (SQLite; dynalite on a Node without node:sqlite)`,
    `bot      startBot() listening on ${s.url}`,
    `         revocation: a timer per request + node-cron sweep every ${SWEEP_S}s, real clock`,
    `bot log  ${logFile} (pino JSON, level info)`,
    `policy   prod-bastion (tcp/22, ${SG_BASTION}) and staging-db (tcp/5432): 5s–1h;`,
    `         approval timeout ${APPROVAL_TIMEOUT}; expiry warning 3s before the end (at 80% for short grants)`,
    `people   @alice and @carol request; @bob approves; @alice approves too, never her own`,
  ]);

  let code = 0;
  try {
    await run(s);
  } catch (err) {
    code = 1;
    out();
    out(`✘ demo failed: ${err instanceof Error ? err.message : String(err)}`);
    if (!(err instanceof StepFailed) && err instanceof Error && err.stack) out(dim(R, err.stack));
    out(dim(R, `the bot's log: ${logFile}`));
  }
  const left = s.ec2.rules().length;
  const assignmentsLeft = s.sso.assignments().length;
  await stop();
  clearTimeout(watchdog);
  const seconds = (nowMs() - launchedMs) / 1000;
  if (code === 0) {
    out();
    out(bold(R, `✔ demo finished in ${seconds.toFixed(1)} s`) + ` — 6 requests: 1 revoked at expiry, 1 revoked early with the button, 1 Identity Center assignment ended with /jit revoke, 1 denied, 2 refused at input; ${left} rule${left === 1 ? '' : 's'} left in the simulated EC2, ${assignmentsLeft} assignment${assignmentsLeft === 1 ? '' : 's'} in the simulated Identity Center`);
    out(dim(R, `  bot log: ${logFile} (${logSummary(logFile)})`));
  }
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 2_000).unref();
  },
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
