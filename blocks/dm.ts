/**
 * Direct messages to the requester, one builder per notification kind, plus the approver-channel
 * alert. Each returns a short fallback `text` (no mentions, no reason) and blocks that say what
 * happened and what to do next.
 */
import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../src/domain/duration';
import type { AccessRequest, Ec2SshTarget, SsmSessionTarget, StsSession, Target } from '../src/domain/types';
import { ARN_MAX, duration, endNote, hostAddress, NAME_MAX, nodeList, reasonSection, requestFields, requestId, targetName, when, whenText } from './common';
import { credentialsProfile } from './credentials';
import { ACTION_SHOW_CREDENTIALS, BLOCK_SHOW_CREDENTIALS } from './ids';
import { actions, button, context, message, section, type SlackMessage } from './kit';
import { channelLink, code, escaped, mention } from './text';

const DEFAULT_SSH_USER = 'ec2-user';
const UNKNOWN_HOST = '<the instance address>';
const UNKNOWN_NODE = '<instance id>';
/** Session Manager's default document: `start-session` needs no --document-name for it. */
const DEFAULT_SSM_DOCUMENT = 'SSM-SessionManagerRunShell';
/** Nodes named in the grant DM before "and N more". */
const NODES_IN_DM = 50;
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

/**
 * dm.granted: access is open; how to use it and until when.
 *   ec2-ssh      the ssh command (established connections survive the rule's removal)
 *   aws-role     a "Show credentials" button: credentials appear only in a private modal
 *   ssm-session  the `aws ssm start-session` command, the nodes, and the same button
 * No credential is ever part of a message.
 */
export function grantedDm(request: AccessRequest, target: Target | undefined): SlackMessage {
  switch (request.kind) {
    case 'ec2-ssh':
      return ec2GrantedDm(request, target?.kind === 'ec2-ssh' ? target : undefined);
    case 'aws-role':
      return roleGrantedDm(request, target);
    case 'ssm-session':
      return ssmGrantedDm(request, target?.kind === 'ssm-session' ? target : undefined);
  }
}

function ec2GrantedDm(request: AccessRequest, target: Ec2SshTarget | undefined): SlackMessage {
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  const from = request.cidr ? ` from ${code(request.cidr, NAME_MAX)}` : '';
  const logoutBy = request.expiresAt ? `by ${when(request, request.expiresAt)}` : 'before it ends';
  return message(`Access to ${escaped(request.targetName, NAME_MAX)} is open${untilText(request)}.`, [
    section(`✅ Access to ${targetName(request)} is open${from}${until} (${duration(request)}).`),
    section(`*Connect*\n\`\`\`${escaped(sshCommand(request, target), 500)}\`\`\``),
    context(
      `Established SSH connections are not cut when the rule is removed, so log out ${logoutBy}. ` +
        `Done early? ${revokeHint(request)} closes it now.`,
    ),
  ]);
}

function roleGrantedDm(request: AccessRequest, target: Target | undefined): SlackMessage {
  const grant = request.grant?.kind === 'aws-role' ? request.grant : undefined;
  const roleArn = grant?.roleArn ?? (target?.kind === 'aws-role' ? target.roleArn : undefined);
  const role = roleArn ? `${targetName(request)} (role ${code(roleArn, ARN_MAX)})` : targetName(request);
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  return message(`Temporary credentials for ${escaped(request.targetName, NAME_MAX)} are ready${untilText(request)}.`, [
    section(`✅ Temporary credentials for ${role} are ready${until} (${duration(request)}).`),
    showCredentials(request),
    context(`${credentialsNote(request, grant)} Done early? ${revokeHint(request)} ends it now.`),
  ]);
}

function ssmGrantedDm(request: AccessRequest, target: SsmSessionTarget | undefined): SlackMessage {
  const grant = request.grant?.kind === 'ssm-session' ? request.grant : undefined;
  const ids = grant && grant.instanceIds.length > 0 ? grant.instanceIds : (target?.instanceIds ?? []);
  const nodes = ids.length > 0 ? nodeList(ids, {}, NODES_IN_DM) : nodeList([], target?.tags ?? {}, NODES_IN_DM);
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  const profile = credentialsProfile(request);
  const blocks: KnownBlock[] = [
    section(`✅ Session Manager access to ${targetName(request)} is open${until} (${duration(request)}).`),
    section(`*Connect*\n\`\`\`${escaped(ssmCommand(request, target), 500)}\`\`\`\n*Nodes*: ${nodes}${ids.length > 1 ? ' (use any of them as --target)' : ''}`),
    showCredentials(request),
    context(
      `Export the credentials from *Show credentials* first (or save its profile and add ${code(`--profile ${profile}`)}); ` +
        `the command also needs the Session Manager plugin. ${credentialsNote(request, grant)} Done early? ${revokeHint(request)} ends it now.`,
    ),
  ];
  return message(`Session Manager access to ${escaped(request.targetName, NAME_MAX)} is open${untilText(request)}.`, blocks);
}

/** The "Show credentials" button: its value is the request id and nothing else. */
function showCredentials(request: AccessRequest): KnownBlock {
  return actions(BLOCK_SHOW_CREDENTIALS, [button('Show credentials', ACTION_SHOW_CREDENTIALS, request.id, 'primary')]);
}

/** Where the credentials appear, and how long they last when STS or the role clamped them. */
function credentialsNote(request: AccessRequest, session: StsSession | undefined): string {
  const shown = 'Credentials are shown in a private window that is not kept in the chat history.';
  const ends = request.expiresAt ? ` at ${when(request, request.expiresAt)}` : '';
  switch (session?.clamped) {
    case 'max':
      return (
        `${shown} They last ${formatDuration(session.durationSeconds * 1000)} (the role's maximum session): ` +
        `press *Show credentials* again for fresh ones until access ends${ends}.`
      );
    case 'min':
      return `${shown} STS issues credentials for at least 15 minutes, but access still ends${ends}: they are denied from then on.`;
    default:
      return `${shown} They stop working when access ends${ends}; press the button again for a fresh set.`;
  }
}

function untilText(request: AccessRequest): string {
  return request.expiresAt ? ` until ${whenText(request, request.expiresAt)}` : '';
}

function revokeHint(request: AccessRequest): string {
  return code(`/jit revoke ${request.id}`);
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

/** What happens to work in progress when access ends, per kind. */
const AT_EXPIRY: Record<AccessRequest['kind'], string> = {
  'ec2-ssh': 'Open SSH sessions are not cut at expiry, so log out before then.',
  'aws-role': 'At expiry every credential issued for this grant is denied, including ones shown earlier.',
  'ssm-session': 'At expiry live sessions are terminated and the credentials are denied, so save your work before then.',
};

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
      `To keep working, run ${requestAgain(request)} again: more time needs a new approval. ${AT_EXPIRY[request.kind]}`,
    ),
  ]);
}

/** dm.ended: the grant was removed (expired or revoked early). */
export function endedDm(request: AccessRequest): SlackMessage {
  const at = request.endedAt ? ` at ${when(request, request.endedAt)}` : '';
  return message(`Your access to ${escaped(request.targetName, NAME_MAX)} has ended.`, [
    section(`🔒 Your access to ${targetName(request)} (${requestId(request)}) ended${at} (${endNote(request)}).`),
    context(`${endedNote(request)} Need more time? ${requestAgain(request)}`),
  ]);
}

function endedNote(request: AccessRequest): string {
  const denied = 'The credentials were denied by an IAM policy on the role — denial can take a few minutes to propagate.';
  switch (request.kind) {
    case 'ec2-ssh': {
      const rule = request.cidr ? `The rule for ${code(request.cidr, NAME_MAX)} was removed.` : 'The rule was removed.';
      return `${rule} Established SSH sessions are not cut: log out if you are still connected.`;
    }
    case 'aws-role':
      return denied;
    case 'ssm-session':
      return `Live sessions were terminated. ${denied}`;
  }
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

/** The ssh hint for an ec2-ssh request: `ssh [-p PORT] USER@HOST`, raw text (the caller escapes it). */
export function sshCommand(request: AccessRequest, target: Ec2SshTarget | undefined): string {
  const grantPort = request.grant?.kind === 'ec2-ssh' ? request.grant.port : undefined;
  const port = target?.port ?? grantPort ?? 22;
  const user = target?.sshUser ?? DEFAULT_SSH_USER;
  const host = target?.host ?? UNKNOWN_HOST;
  return `ssh ${port === 22 ? '' : `-p ${port} `}${user}@${host}`.replace(/`/g, "'");
}

/**
 * The Session Manager hint for an ssm-session request:
 * `aws ssm start-session --target <first node> --region <region> [--document-name <doc>]`,
 * raw text (the caller escapes it). The document is named unless it is Session Manager's default.
 */
export function ssmCommand(request: AccessRequest, target: SsmSessionTarget | undefined): string {
  const grant = request.grant?.kind === 'ssm-session' ? request.grant : undefined;
  const node = grant?.instanceIds[0] ?? target?.instanceIds[0] ?? UNKNOWN_NODE;
  const region = grant?.region ?? target?.region;
  const document = grant?.documentName ?? target?.documentName;
  const parts = ['aws ssm start-session', `--target ${node}`];
  if (region) parts.push(`--region ${region}`);
  if (document && document !== DEFAULT_SSM_DOCUMENT) parts.push(`--document-name ${document}`);
  return parts.join(' ').replace(/`/g, "'");
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
