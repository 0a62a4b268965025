/**
 * Ephemeral replies to the `/jit` slash command. Each stays well inside Slack's 50-block limit.
 */
import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../src/domain/duration';
import { isOpen, type AccessRequest, type Principals, type Target } from '../src/domain/types';
import { approvalsPhrase, type TargetSummary } from '../src/domain/policy-terms';
import {
  approvalsRequired,
  duration,
  durationRange,
  NAME_MAX,
  nodeList,
  permissionSetOnAccounts,
  quorumProgress,
  requestId,
  statusPhrase,
  targetName,
  when,
  whenText,
} from './common';
import { context, listBlocks, message, section, type SlackMessage } from './kit';
import { channelLink, code, escaped, escapeText, groupMention, LIMITS, mention, truncateMrkdwn } from './text';

/** Requests shown by `/jit list` before "…and N more". */
export const MAX_LISTED_REQUESTS = 20;
/** Targets shown by `/jit targets` before "…and N more". */
export const MAX_LISTED_TARGETS = 100;
/** Approvers (users and groups) named per target by `/jit targets` before "and N more". */
export const MAX_LISTED_APPROVERS = 10;

const EXAMPLE = '/jit request prod-bastion 30m 203.0.113.7 investigating checkout latency';

const USAGE: readonly [command: string, what: string][] = [
  ['/jit', 'open the request form'],
  ['/jit request <target> <duration> [<address>] <reason…>', 'ask for access; the address is your single public IP (ec2-ssh targets only)'],
  [
    '/jit request <target> <duration> [<address>] --break-glass <reason…>',
    'emergency access, on targets that allow it: granted at once, the approvers are alerted and review it afterwards',
  ],
  ['/jit list', 'your pending and active requests'],
  ['/jit revoke <id>', 'end your access early'],
  ['/jit targets', 'what you can ask for, who approves it, and how it would be decided now'],
  ['/jit policy check', 'the effective approval policy of every target (approvers only)'],
  ['/jit doctor', 'check everything the bot depends on: Slack, the store, AWS (approvers only)'],
  ['/jit audit <id>', "a request's whole timeline: who asked, who approved, the AWS ids, how it ended (approvers only)"],
  ['/jit audit @someone|<target> [since 7d]', 'their requests and how each came out, newest first (default 30 days; approvers only)'],
  ['/jit help', 'this message'],
];

let help: SlackMessage | undefined;

/** The same text every time: built once (it is sent in the ack of every `/jit help`). */
export function helpText(): SlackMessage {
  return (help ??= buildHelp());
}

function buildHelp(): SlackMessage {
  const usage = USAGE.map(([command, what]) => `• ${code(command)}: ${what}`).join('\n');
  return message('How to use /jit: request, list, revoke, targets, policy check, doctor, audit, help.', [
    section(
      '*/jit*: just-in-time access to AWS: SSH to hosts, temporary role credentials, Session Manager to managed nodes. ' +
        'Approvers decide each request (some are approved by a policy rule), and access ends by itself. ' +
        'Near the end, the warning DM can offer to extend it.',
    ),
    section(usage),
    context(`Example: ${code(EXAMPLE)}`),
  ]);
}

/**
 * The reply to `/jit request …`: sent for approval (and how many approvals it needs), or already
 * approved by a policy rule, or break-glass access taken.
 */
export function submittedReply(request: AccessRequest, channelId: string): SlackMessage {
  const id = escaped(request.id, NAME_MAX);
  const facts = `Request ${requestId(request)}: ${targetName(request)} for ${duration(request)}.`;
  if (request.approvedVia === 'auto') {
    return message(`Request ${id} auto-approved.`, [
      section(`🤖 Auto-approved by rule ${code(request.policyRule ?? 'unknown', NAME_MAX)}: ${grantState(request)} ${facts}`),
    ]);
  }
  if (request.approvedVia === 'break-glass') {
    const lead = request.status === 'FAILED' ? '🚨 Break-glass access was taken, but the grant failed (you will get a DM with the error);' : '🚨 Break-glass access granted;';
    return message(`Break-glass request ${id} ${request.status === 'FAILED' ? 'failed' : 'granted'}.`, [
      section(`${lead} the approvers were alerted and will review it. ${facts}`),
    ]);
  }
  if (request.status !== 'PENDING') {
    return message(`Request ${id}: ${statusPhrase(request, (iso) => whenText(request, iso))}.`, [
      section(`Request ${requestId(request)}: ${targetName(request)} for ${duration(request)}, ${statusPhrase(request, (iso) => when(request, iso))}.`),
    ]);
  }
  const required = approvalsRequired(request);
  const needs = required > 1 ? ` (needs ${approvalsPhrase(required)})` : '';
  return message(`Request ${id} sent for approval.`, [
    section(
      `📨 Request ${requestId(request)} sent to ${channelLink(channelId)} for approval${needs}: ${targetName(request)} for ${duration(request)}. ` +
        `You will get a DM when someone decides (approvers have until ${when(request, request.approvalDeadline)}).`,
    ),
  ]);
}

/** Where a request approved by policy stands right after submission. */
function grantState(request: AccessRequest): string {
  switch (request.status) {
    case 'ACTIVE':
      return 'access is open; you will get a DM with the details.';
    case 'FAILED':
      return 'the grant failed; you will get a DM with the error.';
    default:
      return 'access is being granted; you will get a DM.';
  }
}

/** To an approver whose yes did not complete the quorum: recorded, and how many more are needed. */
export function approvalRecordedReply(request: AccessRequest): SlackMessage {
  const left = Math.max(0, approvalsRequired(request) - (request.approvals?.length ?? 0));
  const more = left > 0 ? `it needs ${approvalsPhrase(left)} more from other approvers before ${when(request, request.approvalDeadline)}` : 'it is complete';
  const moreText = left > 0 ? `it needs ${approvalsPhrase(left)} more` : 'it is complete';
  return message(`Your approval of ${escaped(request.id, NAME_MAX)} is recorded (${quorumProgress(request)}); ${moreText}.`, [
    section(`👍 Your approval of ${requestId(request)} for ${targetName(request)} is recorded (${quorumProgress(request)}); ${more}.`),
  ]);
}

/** An error we wrote (it may contain `code`); escaped all the same. */
export function errorReply(text: string): SlackMessage {
  const body = escaped(text, LIMITS.sectionText - 4);
  return message(`⚠️ ${escaped(text, LIMITS.fallbackText - 4)}`, [section(`⚠️ ${body}`)]);
}

/** Where an id came from: a `/jit` argument, a button, or a form's hidden metadata. */
export type BadIdSource = 'command' | 'button' | 'form';

/** The reply to an id that is not a request id. The value is never echoed (it may be anything). */
export function badIdText(source: BadIdSource): string {
  switch (source) {
    case 'command':
      return 'That is not a request id. Ids look like `jit-7k3m9q2xab`: `/jit list` shows yours.';
    case 'button':
      return 'This button does not carry a valid request id.';
    case 'form':
      return 'This form lost its request id; open it again from the request.';
  }
}

export const badIdReply = (source: BadIdSource): SlackMessage => errorReply(badIdText(source));

/** A refused action on a request that has moved on: what happened to it, and who decided. */
export function resolvedReply(request: AccessRequest): SlackMessage {
  const named = (user?: string) => (user && user !== 'system' ? ` by ${mention(user)}` : '');
  return message(escaped(`⚠️ Request ${request.id} ${resolvedPhrase(request, () => '', (iso) => whenText(request, iso), (t) => t)}. Nothing was changed.`, LIMITS.fallbackText), [
    section(`⚠️ Request ${requestId(request)} ${resolvedPhrase(request, named, (iso) => when(request, iso), (t) => code(t))}. Nothing was changed.`),
  ]);
}

function resolvedPhrase(request: AccessRequest, by: (user?: string) => string, time: (iso: string) => string, literal: (text: string) => string): string {
  switch (request.status) {
    case 'PENDING':
      return 'is still waiting for approval';
    case 'GRANTING':
      return `was already approved${by(request.decidedBy)}; access is being granted`;
    case 'ACTIVE':
      return `was already approved${by(request.decidedBy)} and is active${request.expiresAt ? ` until ${time(request.expiresAt)}` : ''}`;
    case 'REVOKING':
      return 'is being revoked';
    case 'REVOKED':
      return `has already ended${request.endReason === 'revoked' ? ` (revoked${by(request.endedBy)})` : ' (expired)'}`;
    case 'DENIED':
      return request.refusal ? 'was refused by the policy' : `was already denied${by(request.decidedBy)}`;
    case 'EXPIRED':
      return `expired: nobody approved it before ${time(request.approvalDeadline)}. Ask for it again with ${literal('/jit request')}`;
    case 'CANCELLED':
      return 'was withdrawn by the requester';
    case 'FAILED':
      return `was approved${by(request.decidedBy)} but the grant failed`;
    case 'EXTENDED':
      return `was already approved and applied: access extended${request.expiresAt ? ` until ${time(request.expiresAt)}` : ''}`;
  }
}

/** The caller's pending and active requests (other statuses are left out). */
export function listReply(requests: AccessRequest[]): SlackMessage {
  const open = requests.filter((r) => isOpen(r.status));
  if (open.length === 0) return message('You have no pending or active requests.', [section('You have no pending or active requests.')]);
  const lines = open.map(
    (r) => `• ${requestId(r)} · ${targetName(r)} · ${r.extends ? `${duration(r)} more for ${code(r.extends, NAME_MAX)}` : duration(r)} · ${statusPhrase(r, (iso) => when(r, iso))}`,
  );
  return message(`You have ${open.length} pending or active request${open.length === 1 ? '' : 's'}.`, [
    section('*Your pending and active requests*'),
    ...listBlocks(lines, MAX_LISTED_REQUESTS),
    context(`End access early with ${code('/jit revoke <id>')}.`),
  ]);
}

/**
 * `/jit targets`: the targets the caller may request, each with what it grants, who approves it
 * and how a request would be decided right now. Mentions in an ephemeral reply notify nobody.
 */
export function targetsReply(summaries: TargetSummary[]): SlackMessage {
  if (summaries.length === 0) return message('There are no targets you can request.', [section('There are no targets you can request.')]);
  const breakGlass = summaries.some((s) => s.breakGlass && !s.deniedBy)
    ? ` In an emergency, add ${code('--break-glass')} on a target that allows it: access is granted at once and the approvers review it.`
    : '';
  const footer = context(
    `Ask with ${code('/jit request <target> <duration> [<address>] <reason…>')} (the address only for ec2-ssh targets).${breakGlass}`,
  );
  const blocks: KnownBlock[] = [section('*Targets you can request*')];
  blocks.push(...listBlocks(summaries.map(targetLine), MAX_LISTED_TARGETS, LIMITS.blocksPerMessage - 2), footer);
  return message(`${summaries.length} target${summaries.length === 1 ? '' : 's'} can be requested.`, blocks);
}

/** The lines of a policy report (plain text from the core), in code blocks that fit the message. */
export function policyReply(lines: string[]): SlackMessage {
  if (lines.length === 0) return message('There is no policy to show.', [section('There is no policy to show.')]);
  const budget = LIMITS.sectionText - 2 * FENCE.length;
  // Escaped for Slack; a run of backticks would end the code block early.
  const escapedLines = lines.map((l) => truncateMrkdwn(escapeText(l.replace(/`{3,}/g, (m) => "'".repeat(m.length))), budget));
  const chunks: string[][] = [];
  let size = 0;
  for (const line of escapedLines) {
    const last = chunks[chunks.length - 1];
    if (last && size + 1 + line.length <= budget) {
      last.push(line);
      size += 1 + line.length;
    } else {
      chunks.push([line]);
      size = line.length;
    }
  }
  const max = LIMITS.blocksPerMessage;
  const shown = chunks.length > max ? chunks.slice(0, max - 1) : chunks;
  const blocks: KnownBlock[] = shown.map((c) => section(`${FENCE}${c.join('\n') || ' '}${FENCE}`));
  const hidden = chunks.slice(shown.length).reduce((n, c) => n + c.length, 0);
  if (hidden > 0) blocks.push(context(`…and ${hidden} more lines.`));
  return message(`Effective approval policy (${lines.length} line${lines.length === 1 ? '' : 's'}).`, blocks);
}

const FENCE = '```';

export function revokedReply(request: AccessRequest): SlackMessage {
  const status = statusPhrase(request, (iso) => whenText(request, iso));
  return message(`Request ${escaped(request.id, NAME_MAX)}: ${status}.`, [section(revokeLine(request))]);
}

function revokeLine(request: AccessRequest): string {
  const ref = `${requestId(request)} for ${targetName(request)}`;
  switch (request.status) {
    case 'CANCELLED':
      return `↩️ Request ${ref} withdrawn. Nothing was opened.`;
    case 'REVOKED':
      return `🔒 Access ${ref} revoked. ${REVOKED_NOTE[request.kind]}`;
    default:
      return `⏳ Revoking access ${ref}… You will get a DM when ${REVOKING_DONE[request.kind]}.`;
  }
}

/** What the requester waits for while a revoke is under way, per kind. */
const REVOKING_DONE: Record<AccessRequest['kind'], string> = {
  'ec2-ssh': 'the rule is gone',
  'aws-role': 'the credentials are denied',
  'ssm-session': 'the credentials are denied',
  'sso-permission-set': 'the assignment is gone',
};

/** What a revoke means for work in progress, per kind. */
const REVOKED_NOTE: Record<AccessRequest['kind'], string> = {
  'ec2-ssh': 'Log out of any open SSH session.',
  'aws-role': 'Its credentials are denied (this can take a few minutes to propagate).',
  'ssm-session': 'Live sessions were terminated and its credentials are denied.',
  'sso-permission-set': 'Identity Center no longer assigns you the permission set; a portal session opened before stays usable until its own end.',
};

/** Nodes named per target in `/jit targets` before "and N more". */
const NODES_IN_TARGETS = 3;
/** A role ARN in `/jit targets` is cut here, so 100 targets still fit the message's 50 blocks. */
const LISTED_ARN_MAX = 250;

/**
 * "• *name* · description · kind · what is granted · 15m–4h · approved by <@U1>, <!subteam^S1> ·
 * 2 approvals · auto-approved up to 1h (rule `x`) · break-glass allowed · ⛔ refused now by rule `y`".
 */
function targetLine(s: TargetSummary): string {
  const t = s.target;
  const description = t.description ? ` ${escaped(t.description, 150)} ·` : '';
  const parts = [`• *${escaped(t.name, NAME_MAX)}* ·${description} ${t.kind}`, granted(t), durationRange(t), approvedBy(s.approvers)];
  if (s.approvalsRequired > 1) parts.push(approvalsPhrase(s.approvalsRequired));
  if (s.autoApprove) parts.push(`auto-approved up to ${formatDuration(s.autoApprove.maxDurationMs)} (rule ${code(s.autoApprove.rule, NAME_MAX)})`);
  if (s.breakGlass) parts.push('break-glass allowed');
  if (s.deniedBy) parts.push(`⛔ refused now by rule ${code(s.deniedBy.rule, NAME_MAX)}${s.deniedBy.message ? `: ${escaped(s.deniedBy.message, DENY_MESSAGE_MAX)}` : ''}`);
  return parts.join(' · ');
}

/** A deny rule's message in `/jit targets` is cut here. */
const DENY_MESSAGE_MAX = 200;

function granted(t: Target): string {
  switch (t.kind) {
    case 'ec2-ssh':
      return `port ${t.port}`;
    case 'aws-role':
      return `temporary credentials for ${code(t.roleArn, LISTED_ARN_MAX)}`;
    case 'ssm-session':
      return `Session Manager to ${nodeList(t.instanceIds, t.nodeTags, NODES_IN_TARGETS)}`;
    case 'sso-permission-set':
      return `Identity Center ${permissionSetOnAccounts(t.permissionSetArn, t.accountIds)}${t.accountIds.length > 1 ? (t.accountsPerRequest < t.accountIds.length ? ` (a request picks ${t.accountsPerRequest === 1 ? 'one' : `up to ${t.accountsPerRequest}`}: ${code('--accounts=<id>')})` : ` (all, or some with ${code('--accounts=<id>,<id>')})`) : ''}`;
  }
}

/** "approved by <@U1>, <!subteam^S1>", at most MAX_LISTED_APPROVERS named. */
function approvedBy(approvers: Principals): string {
  const all = [...approvers.users.map(mention), ...approvers.groups.map(groupMention)];
  if (all.length === 0) return 'no approvers configured';
  const shown = all.slice(0, MAX_LISTED_APPROVERS).join(', ');
  const hidden = all.length - MAX_LISTED_APPROVERS;
  return `approved by ${hidden > 0 ? `${shown} and ${hidden} more` : shown}`;
}
