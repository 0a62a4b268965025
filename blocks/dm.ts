/**
 * Direct messages to the requester, one builder per notification kind, the reminder DM to an
 * approver, and the approver-channel alert. Each returns a short fallback `text` (no mentions,
 * no reason) and blocks that say what happened and what to do next. Extension requests (those
 * with `extends`) are worded as extensions: whatever happens to one, the grant keeps its time.
 */
import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../src/domain/duration';
import { isStsKind, type AccessRequest, type Ec2SshTarget, type SsmSessionTarget, type SsoPermissionSetTarget, type StsSession, type Target } from '../src/domain/types';
import { approvalsPhrase } from '../src/domain/policy-terms';
import {
  accountList,
  approvalsRequired,
  ARN_MAX,
  duration,
  endNote,
  hostAddress,
  NAME_MAX,
  nodeList,
  permissionSetOnAccounts,
  quorumProgress,
  quotedNote,
  reasonSection,
  requestFields,
  requestId,
  ssoSessionBound,
  targetName,
  when,
  whenText,
} from './common';
import { credentialsProfile } from './credentials';
import { refusalWords, requestFailureWords } from './outcome';
import { ACTION_EXTEND, ACTION_SHOW_CREDENTIALS, BLOCK_EXTEND, BLOCK_REVOKE_NOW, BLOCK_SHOW_CREDENTIALS } from './ids';
import { revokeNowActions } from './revoke';
import { actions, button, context, message, section, type SlackMessage } from './kit';
import { channelLink, code, escaped, escapeText, LIMITS, mention, oneLine, truncateMrkdwn } from './text';

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
  const lead = request.extends
    ? `Your extension ${requestId(request)} of ${parentRef(request)} (${duration(request)} more on ${targetName(request)}) is waiting for approval in ${channelLink(channelId)}.`
    : `Your request ${requestId(request)} for ${targetName(request)} (${duration(request)}) is waiting for approval in ${channelLink(channelId)}.`;
  const required = approvalsRequired(request);
  const quorum = required > 1 ? ` It needs ${approvalsPhrase(required)}.` : '';
  const until = request.extends ? ' Until then, your access ends as planned.' : '';
  return message(`${plainRef(request)} is waiting for approval.`, [
    section(`📨 ${lead}`),
    requestFields(request, target),
    reasonSection(request),
    context(`Approvers have until ${when(request, request.approvalDeadline)}.${quorum} You will get a DM when someone decides.${until}`),
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
  const msg = grantedByKind(request, target);
  const notes = decisionNotes(request);
  if (notes.length === 0) return msg;
  // Right under the lead line: how it was approved, and what the approvers said.
  return message(msg.text, [...msg.blocks.slice(0, 1), section(notes.join('\n')), ...msg.blocks.slice(1)]);
}

function grantedByKind(request: AccessRequest, target: Target | undefined): SlackMessage {
  switch (request.kind) {
    case 'ec2-ssh':
      return ec2GrantedDm(request, target?.kind === 'ec2-ssh' ? target : undefined);
    case 'aws-role':
      return roleGrantedDm(request, target);
    case 'ssm-session':
      return ssmGrantedDm(request, target?.kind === 'ssm-session' ? target : undefined);
    case 'sso-permission-set':
      return ssoGrantedDm(request, target?.kind === 'sso-permission-set' ? target : undefined);
  }
}

/** The permission set is assigned: where to sign in, and what outlives the end. */
function ssoGrantedDm(request: AccessRequest, target: SsoPermissionSetTarget | undefined): SlackMessage {
  const grant = request.grant?.kind === 'sso-permission-set' ? request.grant : undefined;
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  const accounts = grant?.accountIds ?? request.accounts ?? target?.accountIds ?? [];
  const what = grant ? permissionSetOnAccounts(grant.permissionSetArn, grant.accountIds) : targetName(request);
  const pick = accounts.length === 1 ? `pick account ${accountList(accounts)}` : 'pick any of those accounts';
  const portal = target?.portalUrl ? `Sign in at ${escapeText(target.portalUrl)} and ${pick}.` : `Sign in through your AWS access portal and ${pick}.`;
  const standing = grant?.standing?.length ? ` You already held it on ${accountList(grant.standing)} outside the bot: that is left as it is, and not ended with this grant.` : '';
  return message(`Identity Center access to ${escaped(request.targetName, NAME_MAX)} is open${untilText(request)}.`, [
    section(`✅ ${what} ${accounts.length === 1 ? 'is' : 'are'} assigned to you${until} (${duration(request)}).${standing}`),
    section(portal),
    revokeNow(request),
    context(`At the end the ${accounts.length === 1 ? 'assignment is' : 'assignments are'} deleted; ${ssoSessionBound(grant ?? {})}. Done early? *Revoke now* (or ${revokeHint(request)}) ends it now.`),
  ]);
}

/** Approver notes named in the grant DM before "and N more". */
const NOTES_IN_DM = 10;
/** Characters one note may take in the grant DM (escaped), so ten fit one section. */
const NOTE_IN_DM_MAX = 250;

/**
 * How the grant was decided, for the requester: the rule or break-glass, a shortened duration,
 * and each approver's note ("<@A>: “note”"). Empty for a plain approval without notes.
 */
function decisionNotes(request: AccessRequest): string[] {
  const lines: string[] = [];
  if (request.approvedVia === 'auto') lines.push(`🤖 Auto-approved by rule ${code(request.policyRule ?? 'unknown', NAME_MAX)}.`);
  if (request.approvedVia === 'break-glass') lines.push('🚨 Break-glass: the approvers were alerted and will review it.');
  if (request.requestedDurationMs !== undefined && request.requestedDurationMs !== request.durationMs) {
    lines.push(`✂️ Approved for ${duration(request)} instead of the ${formatDuration(request.requestedDurationMs)} you asked for.`);
  }
  const noted = (request.approvals ?? []).filter((a) => a.comment && oneLine(a.comment) !== '');
  for (const a of noted.slice(0, NOTES_IN_DM)) lines.push(`💬 ${mention(a.by)}: ${quotedNote(a.comment ?? '', NOTE_IN_DM_MAX)}`);
  if (noted.length > NOTES_IN_DM) lines.push(`…and ${noted.length - NOTES_IN_DM} more notes.`);
  return lines;
}

function ec2GrantedDm(request: AccessRequest, target: Ec2SshTarget | undefined): SlackMessage {
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  const from = request.cidr ? ` from ${code(request.cidr, NAME_MAX)}` : '';
  const logoutBy = request.expiresAt ? `by ${when(request, request.expiresAt)}` : 'before it ends';
  return message(`Access to ${escaped(request.targetName, NAME_MAX)} is open${untilText(request)}.`, [
    section(`✅ Access to ${targetName(request)} is open${from}${until} (${duration(request)}).`),
    section(`*Connect*\n\`\`\`${escaped(sshCommand(request, target), 500)}\`\`\``),
    revokeNow(request),
    context(
      `Established SSH connections are not cut when the rule is removed, so log out ${logoutBy}. ` +
        `Done early? *Revoke now* (or ${revokeHint(request)}) closes it now.`,
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
    revokeNow(request),
    context(`${credentialsNote(request, grant)} Done early? *Revoke now* (or ${revokeHint(request)}) ends it now.`),
  ]);
}

function ssmGrantedDm(request: AccessRequest, target: SsmSessionTarget | undefined): SlackMessage {
  const grant = request.grant?.kind === 'ssm-session' ? request.grant : undefined;
  const ids = grant ? [...grant.instanceIds, ...(grant.sampleNodes ?? [])] : (target?.instanceIds ?? []);
  const nodes = grant?.nodeTags ? nodeList(grant.instanceIds, grant.nodeTags, NODES_IN_DM) : ids.length > 0 ? nodeList(ids, {}, NODES_IN_DM) : nodeList([], target?.nodeTags ?? {}, NODES_IN_DM);
  const until = request.expiresAt ? ` until ${when(request, request.expiresAt)}` : '';
  const profile = credentialsProfile(request);
  const blocks: KnownBlock[] = [
    section(`✅ Session Manager access to ${targetName(request)} is open${until} (${duration(request)}).`),
    section(`*Connect*\n\`\`\`${escaped(ssmCommand(request, target), 500)}\`\`\`\n*Nodes*: ${nodes}${ids.length > 1 ? ' (use any of them as --target)' : ''}`),
    showCredentials(request),
    revokeNow(request),
    context(
      `Export the credentials from *Show credentials* first (or save its profile and add ${code(`--profile ${profile}`)}); ` +
        `the command also needs the Session Manager plugin. ${credentialsNote(request, grant)} Done early? *Revoke now* (or ${revokeHint(request)}) ends it now.`,
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

/** "Revoke now" for the requester (the grant DM): what `/jit revoke` does, after a confirmation. */
function revokeNow(request: AccessRequest): KnownBlock {
  return revokeNowActions(BLOCK_REVOKE_NOW, request, 'requester');
}

/** dm.denied: an approver said no. */
export function deniedDm(request: AccessRequest): SlackMessage {
  if (request.refusal) return refusedDm(request, request.refusal);
  const by = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  const note = request.decisionComment && request.decisionComment.trim() !== '' ? [section(quote(request.decisionComment, LIMITS.sectionText))] : [];
  if (request.extends) {
    return message(`Your extension ${escaped(request.id, NAME_MAX)} of ${escaped(request.extends, NAME_MAX)} was denied; access still ends at its current time.`, [
      section(`❌ Your extension ${requestId(request)} of ${parentRef(request)} (${targetName(request)}) was denied${by}; access still ends at its current time.`),
      ...note,
      context('If you need more time after it ends, talk to the approver or send a new request with more detail.'),
    ]);
  }
  return message(`${plainRef(request)} was denied.`, [
    section(`❌ Your request ${requestId(request)} for ${targetName(request)} was denied${by}. Nothing was opened.`),
    ...note,
    context('If you still need access, talk to the approver or send a new request with more detail.'),
  ]);
}

/** dm.denied for a request the policy refused when it decided it again (approvals recorded do not override it). */
function refusedDm(request: AccessRequest, refusal: NonNullable<AccessRequest['refusal']>): SlackMessage {
  const why = refusalWords(refusal, (rule) => code(rule, NAME_MAX));
  const plainWhy = refusalWords(refusal);
  const what = request.extends ? `Your extension ${requestId(request)} of ${parentRef(request)} (${targetName(request)})` : `Your request ${requestId(request)} for ${targetName(request)}`;
  const after = request.extends ? 'access still ends at its current time.' : 'nothing was opened.';
  return message(escaped(`${request.extends ? `Your extension ${request.id}` : plainRef(request)} was refused by the policy: ${plainWhy}.`, LIMITS.fallbackText), [
    section(`❌ ${what} was refused when the policy decided it again: ${why}. Approvals already given do not override it; ${after}`),
    context('If you still need access, send a new request: it is decided by the policy as it stands now.'),
  ]);
}

/**
 * A note someone typed as a mrkdwn quote ("> …" on every line), escaped and cut to `max`
 * characters in all.
 */
function quote(raw: string, max: number): string {
  const lines = raw.trim().split(/\r?\n/).map((l) => `> ${escapeText(l)}`);
  return truncateMrkdwn(lines.join('\n'), max);
}

/** dm.timeout: nobody decided before the approval deadline. */
export function timeoutDm(request: AccessRequest): SlackMessage {
  const where = request.approvalMessage ? ` in ${channelLink(request.approvalMessage.channel)}` : '';
  if (request.extends) {
    return message(`Your extension ${escaped(request.id, NAME_MAX)} expired: nobody approved it in time. Access still ends at its current time.`, [
      section(
        `⌛ Nobody approved your extension ${requestId(request)} of ${parentRef(request)} (${targetName(request)}) before ` +
          `${when(request, request.approvalDeadline)}, so it expired. Access still ends at its current time.`,
      ),
      context(`Still need it? Send a new request when your access ends, or ping the approvers${where}.`),
    ]);
  }
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
  'sso-permission-set': 'At expiry the assignment is deleted; a portal session opened before then lasts until its own end.',
};

/**
 * dm.warning: access ends soon. `now` (default: the request's warnAt) gives the "in N minutes";
 * without either the minutes are left out.
 */
export function warningDm(request: AccessRequest, now?: Date, opts: { canExtend?: boolean } = {}): SlackMessage {
  const minutes = timeLeft(request, now);
  const ends = request.expiresAt ? `at ${when(request, request.expiresAt)}${minutes}` : 'soon';
  const endsText = request.expiresAt ? `at ${whenText(request, request.expiresAt)}${minutes}` : 'soon';
  const lead = section(`⏰ Your access to ${targetName(request)} (${requestId(request)}) ends ${ends}.`);
  const text = `Your access to ${escaped(request.targetName, NAME_MAX)} ends ${endsText}.`;
  if (opts.canExtend) {
    return message(text, [
      lead,
      actions(BLOCK_EXTEND, [button('Extend', ACTION_EXTEND, request.id, 'primary')]),
      context(`To keep working, press *Extend* to ask for more time: it is decided like a request, and until then access ends as planned. ${AT_EXPIRY[request.kind]}`),
    ]);
  }
  return message(text, [
    lead,
    context(
      `To keep working, run ${requestAgain(request)} again: more time needs a new approval. ${AT_EXPIRY[request.kind]}`,
    ),
  ]);
}

/**
 * dm.extended: an extension was approved and the grant's expiry moved. `request` is the grant,
 * with the applied extensions (the last one is the news).
 */
export function extendedDm(request: AccessRequest): SlackMessage {
  const last = request.extensions?.at(-1);
  const by = last ? ` (extended by ${formatDuration(last.durationMs)})` : '';
  const until = request.expiresAt ? `now lasts until ${when(request, request.expiresAt)}` : 'was extended';
  const untilText = request.expiresAt ? `now lasts until ${whenText(request, request.expiresAt)}` : 'was extended';
  const blocks: KnownBlock[] = [section(`⏱ Your access to ${targetName(request)} (${requestId(request)}) ${until}${by}.`)];
  if (isStsKind(request.kind)) blocks.push(showCredentials(request));
  blocks.push(context(`${EXTENDED_NOTE[request.kind]} ${AT_EXPIRY[request.kind]} Done early? ${revokeHint(request)} ends it now.`));
  return message(`Your access to ${escaped(request.targetName, NAME_MAX)} ${untilText}${by}.`, blocks);
}

/** What an extension means for what the requester already holds, per kind. */
const EXTENDED_NOTE: Record<AccessRequest['kind'], string> = {
  'ec2-ssh': 'The same rule stays open until then.',
  'aws-role': 'Credentials shown earlier still stop at their own expiry: press *Show credentials* for a fresh set.',
  'ssm-session': 'Credentials shown earlier still stop at their own expiry: press *Show credentials* for a fresh set before starting a new session.',
  'sso-permission-set': 'The same assignment stays until then.',
};

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
    case 'sso-permission-set': {
      const g = request.grant?.kind === 'sso-permission-set' ? request.grant : undefined;
      return `The Identity Center ${g && g.accountIds.length > 1 ? 'assignments were' : 'assignment was'} deleted; ${ssoSessionBound(g ?? {})}.`;
    }
  }
}

/** dm.failed: approved, but the grant could not be made. */
export function failedDm(request: AccessRequest): SlackMessage {
  const by = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  const failure = escaped(requestFailureWords(request), FAILURE_MAX);
  if (request.extends) {
    return message(`Your extension ${escaped(request.id, NAME_MAX)} could not be applied. Access still ends at its current time.`, [
      section(`⚠️ Your extension ${requestId(request)} of ${parentRef(request)} (${targetName(request)}) could not be applied: ${failure}`),
      context('Access still ends at its current time. If you still need more time, tell the approvers.'),
    ]);
  }
  return message(`${plainRef(request)} was approved but the grant failed. Nothing was opened.`, [
    section(`⚠️ Your request ${requestId(request)} for ${targetName(request)} was approved${by}, but the grant failed: ${failure}`),
    context('Nothing was opened. You can send the request again; if it keeps failing, tell the approvers.'),
  ]);
}

/**
 * approval.reminder, as a DM to one approver who has not decided yet: what waits, where, and
 * until when. The fallback text names no one and leaves the reason out.
 */
export function reminderDm(request: AccessRequest, target: Target | undefined, channelId: string): SlackMessage {
  const what = request.extends ? `extension ${requestId(request)} of ${parentRef(request)}` : `request ${requestId(request)}`;
  const required = approvalsRequired(request);
  const progress = required > 1 ? ` (${quorumProgress(request)})` : '';
  const kind = request.extends ? 'An extension' : 'A request';
  return message(`${kind} for ${escaped(request.targetName, NAME_MAX)} (${escaped(request.id, NAME_MAX)}) is waiting for your approval until ${whenText(request, request.approvalDeadline)}.`, [
    section(
      `⏰ ${mention(request.requesterId)}'s ${what} for ${targetName(request)} is waiting for your approval in ${channelLink(channelId)}${progress}. ` +
        `Approvers have until ${when(request, request.approvalDeadline)}.`,
    ),
    requestFields(request, target),
    reasonSection(request),
    context(`Decide on the request message in ${channelLink(channelId)}.`),
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
  const node = grant?.instanceIds[0] ?? grant?.sampleNodes?.[0] ?? target?.instanceIds[0] ?? UNKNOWN_NODE;
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

/** The grant an extension is for, as code. */
function parentRef(request: AccessRequest): string {
  return code(request.extends ?? '', NAME_MAX);
}

/** "Your request jit-… for prod-bastion" for fallback text. */
function plainRef(request: AccessRequest): string {
  return `Your request ${escaped(request.id, NAME_MAX)} for ${escaped(request.targetName, NAME_MAX)}`;
}
