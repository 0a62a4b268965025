/**
 * Direct messages to the requester, one builder per notification kind, plus the approver-channel
 * alert. Each returns a short fallback `text` (no mentions, no reason) and blocks that say what
 * happened and what to do next.
 */
import type { AccessRequest, Target } from '../src/domain/types';
import { duration, endNote, hostAddress, NAME_MAX, reasonSection, requestFields, requestId, targetName, when, whenText } from './common';
import { context, message, section, type SlackMessage } from './kit';
import { channelLink, code, escaped, mention } from './text';

const DEFAULT_SSH_USER = 'ec2-user';
const UNKNOWN_HOST = '<the instance address>';
const FAILURE_MAX = 1_000;
const ALERT_MAX = 2_000;

/** dm.submitted: the request is waiting in the approver channel. */
export function submittedDm(request: AccessRequest, target: Target | undefined, channelId: string): SlackMessage {
  const lead = `Your request ${requestId(request)} for ${targetName(request)} (${duration(request)}) is waiting for approval in ${channelLink(channelId)}.`;
  return message(`${plainRef(request)} is waiting for approval.`, [
    section(`📨 ${lead}`),
    requestFields(request, target),
    reasonSection(request),
    context(`Approvers have until ${when(request, request.approvalDeadline)}. You will get a DM when someone decides.`),
  ]);
}

/** dm.granted: access is open; how to connect and until when. */
export function grantedDm(request: AccessRequest, target: Target | undefined): SlackMessage {
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  const from = request.cidr ? ` from ${code(request.cidr, NAME_MAX)}` : '';
  const logoutBy = request.expiresAt ? `by ${when(request, request.expiresAt)}` : 'before it ends';
  const untilText = request.expiresAt ? ` until ${whenText(request, request.expiresAt)}` : '';
  return message(`Access to ${escaped(request.targetName, NAME_MAX)} is open${untilText}.`, [
    section(`✅ Access to ${targetName(request)} is open${from}${until} (${duration(request)}).`),
    section(`*Connect*\n\`\`\`${escaped(sshCommand(request, target), 500)}\`\`\``),
    context(
      `Established SSH connections are not cut when the rule is removed, so log out ${logoutBy}. ` +
        `Done early? ${code(`/jit revoke ${request.id}`)} closes it now.`,
    ),
  ]);
}

/** dm.denied: an approver said no. */
export function deniedDm(request: AccessRequest): SlackMessage {
  const by = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  return message(`${plainRef(request)} was denied.`, [
    section(`❌ Your request ${requestId(request)} for ${targetName(request)} was denied${by}. Nothing was opened.`),
    context('If you still need access, talk to the approver or send a new request with more detail.'),
  ]);
}

/** dm.timeout: nobody decided before the approval deadline. */
export function timeoutDm(request: AccessRequest): SlackMessage {
  const where = request.approvalMessage ? ` in ${channelLink(request.approvalMessage.channel)}` : '';
  return message(`${plainRef(request)} expired: nobody approved it in time.`, [
    section(
      `⌛ Nobody approved your request ${requestId(request)} for ${targetName(request)} before ` +
        `${when(request, request.approvalDeadline)}, so it expired. Nothing was opened.`,
    ),
    context(`Still need it? Ask again with ${requestAgain(request)} or ping the approvers${where}.`),
  ]);
}

/**
 * dm.warning: access ends soon. `now` (default: the request's warnAt) gives the "in N minutes";
 * without either the minutes are left out.
 */
export function warningDm(request: AccessRequest, now?: Date): SlackMessage {
  const minutes = timeLeft(request, now);
  const ends = request.expiresAt ? `at ${when(request, request.expiresAt)}${minutes}` : 'soon';
  const endsText = request.expiresAt ? `at ${whenText(request, request.expiresAt)}${minutes}` : 'soon';
  return message(`Your access to ${escaped(request.targetName, NAME_MAX)} ends ${endsText}.`, [
    section(`⏰ Your access to ${targetName(request)} (${requestId(request)}) ends ${ends}.`),
    context(
      `To keep working, run ${requestAgain(request)} again: more time needs a new approval. ` +
        'Open SSH sessions are not cut at expiry, so log out before then.',
    ),
  ]);
}

/** dm.ended: the grant was removed (expired or revoked early). */
export function endedDm(request: AccessRequest): SlackMessage {
  const at = request.endedAt ? ` at ${when(request, request.endedAt)}` : '';
  const rule = request.cidr ? `The rule for ${code(request.cidr, NAME_MAX)} was removed. ` : 'The rule was removed. ';
  return message(`Your access to ${escaped(request.targetName, NAME_MAX)} has ended.`, [
    section(`🔒 Your access to ${targetName(request)} (${requestId(request)}) ended${at} (${endNote(request)}).`),
    context(`${rule}Established SSH sessions are not cut: log out if you are still connected. Need more time? ${requestAgain(request)}`),
  ]);
}

/** dm.failed: approved, but the grant could not be made. */
export function failedDm(request: AccessRequest): SlackMessage {
  const by = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  const failure = escaped(request.failure ?? 'unknown error', FAILURE_MAX);
  return message(`${plainRef(request)} was approved but the grant failed. Nothing was opened.`, [
    section(`⚠️ Your request ${requestId(request)} for ${targetName(request)} was approved${by}, but the grant failed: ${failure}`),
    context('Nothing was opened. You can send the request again; if it keeps failing, tell the approvers.'),
  ]);
}

/**
 * channel.alert (not a DM: posted in the approver channel, threaded under the approval message):
 * something needs a human. `alert` is plain text from the core; it is escaped here.
 */
export function alertMessage(request: AccessRequest, alert: string): SlackMessage {
  const about = `${requestId(request)} · ${targetName(request)} · requested by ${mention(request.requesterId)}`;
  return message(`Needs attention: ${escaped(alert, ALERT_MAX)}`, [
    section(`🚨 *Needs attention:* ${escaped(alert || 'no details were given', ALERT_MAX)}`),
    context(about),
  ]);
}

/** The ssh hint: `ssh [-p PORT] USER@HOST`, raw text (the caller escapes it). */
export function sshCommand(request: AccessRequest, target: Target | undefined): string {
  const port = target?.port ?? request.grant?.port ?? 22;
  const user = target?.sshUser ?? DEFAULT_SSH_USER;
  const host = target?.host ?? UNKNOWN_HOST;
  return `ssh ${port === 22 ? '' : `-p ${port} `}${user}@${host}`.replace(/`/g, "'");
}

/** `/jit request prod-bastion 30m 203.0.113.7 <reason>` as inline code. */
function requestAgain(request: AccessRequest): string {
  const address = hostAddress(request);
  return code(`/jit request ${request.targetName} ${duration(request)}${address ? ` ${address}` : ''} <reason>`, 300);
}

function timeLeft(request: AccessRequest, now: Date | undefined): string {
  const from = now?.getTime() ?? (request.warnAt ? Date.parse(request.warnAt) : NaN);
  const left = Date.parse(request.expiresAt ?? '') - from;
  if (!Number.isFinite(left) || left <= 0) return '';
  if (left < 90_000) {
    const seconds = Math.max(1, Math.round(left / 1000));
    return `, in ${seconds} second${seconds === 1 ? '' : 's'}`;
  }
  const minutes = Math.round(left / 60_000);
  return `, in ${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** "Your request jit-… for prod-bastion" for fallback text. */
function plainRef(request: AccessRequest): string {
  return `Your request ${escaped(request.id, NAME_MAX)} for ${escaped(request.targetName, NAME_MAX)}`;
}
