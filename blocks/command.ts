/**
 * Ephemeral replies to the `/jit` slash command. Each stays well inside Slack's 50-block limit.
 */
import type { AccessRequest, Target } from '../src/domain/types';
import { duration, durationRange, NAME_MAX, nodeList, OPEN_STATUSES, requestId, statusPhrase, targetName, when, whenText } from './common';
import { context, listBlocks, message, section, type SlackMessage } from './kit';
import { channelLink, code, escaped, LIMITS, mention } from './text';

/** Requests shown by `/jit list` before "…and N more". */
export const MAX_LISTED_REQUESTS = 20;
/** Targets shown by `/jit targets` before "…and N more". */
export const MAX_LISTED_TARGETS = 100;
/** Approvers named by `/jit targets` before "and N more". */
export const MAX_LISTED_APPROVERS = 20;

const EXAMPLE = '/jit request prod-bastion 30m 203.0.113.7 investigating checkout latency';

const USAGE: readonly [command: string, what: string][] = [
  ['/jit', 'open the request form'],
  ['/jit request <target> <duration> [<address>] <reason…>', 'ask for access; the address is your single public IP (ec2-ssh targets only)'],
  ['/jit list', 'your pending and active requests'],
  ['/jit revoke <id>', 'end your access early'],
  ['/jit targets', 'what you can ask for, and who approves'],
  ['/jit help', 'this message'],
];

export function helpText(): SlackMessage {
  const usage = USAGE.map(([command, what]) => `• ${code(command)}: ${what}`).join('\n');
  return message('How to use /jit: request, list, revoke, targets, help.', [
    section('*/jit*: just-in-time access to AWS: SSH to hosts, temporary role credentials, Session Manager to managed nodes. A human approves every request, and access ends by itself.'),
    section(usage),
    context(`Example: ${code(EXAMPLE)}`),
  ]);
}

export function submittedReply(request: AccessRequest, channelId: string): SlackMessage {
  return message(`Request ${escaped(request.id, NAME_MAX)} sent for approval.`, [
    section(
      `📨 Request ${requestId(request)} sent to ${channelLink(channelId)} for approval: ${targetName(request)} for ${duration(request)}. ` +
        `You will get a DM when someone decides (approvers have until ${when(request, request.approvalDeadline)}).`,
    ),
  ]);
}

/** An error we wrote (it may contain `code`); escaped all the same. */
export function errorReply(text: string): SlackMessage {
  const body = escaped(text, LIMITS.sectionText - 4);
  return message(`⚠️ ${escaped(text, LIMITS.fallbackText - 4)}`, [section(`⚠️ ${body}`)]);
}

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
      return `was already denied${by(request.decidedBy)}`;
    case 'EXPIRED':
      return `expired: nobody approved it before ${time(request.approvalDeadline)}. Ask for it again with ${literal('/jit request')}`;
    case 'CANCELLED':
      return 'was withdrawn by the requester';
    case 'FAILED':
      return `was approved${by(request.decidedBy)} but the grant failed`;
  }
}

/** The caller's pending and active requests (other statuses are left out). */
export function listReply(requests: AccessRequest[]): SlackMessage {
  const open = requests.filter((r) => OPEN_STATUSES.includes(r.status));
  if (open.length === 0) return message('You have no pending or active requests.', [section('You have no pending or active requests.')]);
  const lines = open.map(
    (r) => `• ${requestId(r)} · ${targetName(r)} · ${duration(r)} · ${statusPhrase(r, (iso) => when(r, iso))}`,
  );
  return message(`You have ${open.length} pending or active request${open.length === 1 ? '' : 's'}.`, [
    section('*Your pending and active requests*'),
    ...listBlocks(lines, MAX_LISTED_REQUESTS),
    context(`End access early with ${code('/jit revoke <id>')}.`),
  ]);
}

export function targetsReply(targets: Target[], approverIds: string[]): SlackMessage {
  if (targets.length === 0) return message('No targets are configured.', [section('No targets are configured yet.')]);
  return message(`${targets.length} target${targets.length === 1 ? '' : 's'} can be requested.`, [
    section('*Targets you can request*'),
    ...listBlocks(targets.map(targetLine), MAX_LISTED_TARGETS),
    context(
      `Approvers: ${approverList(approverIds)}. Ask with ${code('/jit request <target> <duration> [<address>] <reason…>')} ` +
        '(the address only for ec2-ssh targets).',
    ),
  ]);
}

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
      return `⏳ Revoking access ${ref}… You will get a DM when ${request.kind === 'ec2-ssh' ? 'the rule is gone' : 'the credentials are denied'}.`;
  }
}

/** What a revoke means for work in progress, per kind. */
const REVOKED_NOTE: Record<AccessRequest['kind'], string> = {
  'ec2-ssh': 'Log out of any open SSH session.',
  'aws-role': 'Its credentials are denied (this can take a few minutes to propagate).',
  'ssm-session': 'Live sessions were terminated and its credentials are denied.',
};

/** Nodes named per target in `/jit targets` before "and N more". */
const NODES_IN_TARGETS = 3;
/** A role ARN in `/jit targets` is cut here, so 100 targets still fit the message's 50 blocks. */
const LISTED_ARN_MAX = 250;

/** "• *name* · description · kind · what is granted · 15m–4h". */
function targetLine(t: Target): string {
  const description = t.description ? ` ${escaped(t.description, 150)} ·` : '';
  return `• *${escaped(t.name, NAME_MAX)}* ·${description} ${t.kind} · ${granted(t)} · ${durationRange(t)}`;
}

function granted(t: Target): string {
  switch (t.kind) {
    case 'ec2-ssh':
      return `port ${t.port}`;
    case 'aws-role':
      return `temporary credentials for ${code(t.roleArn, LISTED_ARN_MAX)}`;
    case 'ssm-session':
      return `Session Manager to ${nodeList(t.instanceIds, t.tags, NODES_IN_TARGETS)}`;
  }
}

function approverList(ids: string[]): string {
  if (ids.length === 0) return 'none configured';
  const shown = ids.slice(0, MAX_LISTED_APPROVERS).map(mention).join(', ');
  const hidden = ids.length - MAX_LISTED_APPROVERS;
  return hidden > 0 ? `${shown} and ${hidden} more` : shown;
}
