/**
 * Approver-channel messages that are not the approval message itself: the "revoked and
 * verified" note and the reminders in its thread, the loud break-glass alert, and alerts that
 * belong to no request (the drift sweep).
 */
import type { AccessRequest, Ec2Grant, RoleGrant, SsmGrant, SsoGrant, Target } from '../src/domain/types';
import { approvalsRequired, ARN_MAX, duration, NAME_MAX, permissionSetOnAccounts, quorumProgress, reasonSection, requestId, ssoSessionBound, targetDetails, targetName, when, whenText } from './common';
import { context, message, section, type SlackMessage } from './kit';
import { code, escaped, groupMention, mention } from './text';

const ALERT_MAX = 2_500;
/** Terminated session ids named in the thread before "and N more". */
const SESSIONS_SHOWN = 10;

/**
 * thread.revoked: what was removed or denied, and that a re-read of AWS confirmed it.
 *   ec2-ssh      the rule (or: the shared rule stays for other live grants)
 *   aws-role     the IAM deny policy on the role that now denies every session of the grant
 *   ssm-session  the same, and how many live sessions were terminated
 */
export function revokedThreadMessage(request: AccessRequest): SlackMessage {
  const g = request.grant;
  switch (g?.kind ?? request.kind) {
    case 'aws-role':
    case 'ssm-session':
      return g && (g.kind === 'aws-role' || g.kind === 'ssm-session') ? stsRevoked(request, g) : noSessionRevoked(request);
    case 'ec2-ssh':
      return ec2Revoked(request, g?.kind === 'ec2-ssh' ? g : undefined);
    case 'sso-permission-set':
      return ssoRevoked(request, g?.kind === 'sso-permission-set' ? g : undefined);
  }
}

function ssoRevoked(request: AccessRequest, g: SsoGrant | undefined): SlackMessage {
  const one = g?.accountIds.length === 1;
  const what = g ? `The ${one ? 'assignment' : 'assignments'} of ${permissionSetOnAccounts(g.permissionSetArn, g.accountIds)} ${one ? 'was' : 'were'} deleted, and Identity Center no longer lists ${one ? 'it' : 'them'}.` : 'No assignment was recorded.';
  return message(`Revoked and verified: ${request.id}`, [
    section(`🔒 *Revoked and verified.* ${what}`),
    context(`${requestId(request)} · ${targetName(request)}${g ? ` · ${ssoSessionBound(g)}` : ''}`),
  ]);
}

function ec2Revoked(request: AccessRequest, g: Ec2Grant | undefined): SlackMessage {
  const rule = g ? `${code(g.securityGroupRuleId)} on ${code(g.securityGroupId)} (${escaped(g.region, 50)}), ${code(g.cidr)} port ${g.port}` : 'no rule was recorded';
  if (request.revokeOutcome === 'released') {
    return message(`Access for ${request.id} ended; the shared rule stays for other live grants.`, [
      section(`🔓 Access for ${requestId(request)} ended. Rule ${rule} is shared with other live grants for the same address and port, so it stays until the last of them ends.`),
    ]);
  }
  return message(`Revoked and verified: ${request.id}`, [
    section(`🔒 *Revoked and verified.* Rule ${rule} was removed, and AWS no longer lists it.`),
    context(`${requestId(request)} · ${targetName(request)}`),
  ]);
}

function stsRevoked(request: AccessRequest, g: RoleGrant | SsmGrant): SlackMessage {
  const lead =
    `🔒 *Revoked and verified:* the role's IAM deny policy (${code('jit-deny', NAME_MAX)}) on ${code(g.roleArn, ARN_MAX)} now denies every session ` +
    `of this grant (${code(g.roleSessionName, NAME_MAX)}).`;
  const sessions = g.kind === 'ssm-session' ? endedSessions(request) : undefined;
  const terminated = sessions && sessions.length > 0 ? ` ${sessions.length} live session${sessions.length === 1 ? '' : 's'} terminated.` : '';
  const sessionIds = sessions && sessions.length > 0 ? ` · sessions ${listed(sessions.map((id) => code(id, NAME_MAX)), SESSIONS_SHOWN)}` : '';
  return message(`Revoked and verified: ${request.id}`, [
    section(`${lead}${terminated}`),
    context(`${requestId(request)} · ${targetName(request)} · ${escaped(g.region, 50)}${sessionIds}`),
  ]);
}

/** A role-backed request that ended before any session was recorded: there was nothing to deny. */
function noSessionRevoked(request: AccessRequest): SlackMessage {
  return message(`Revoked: ${request.id}`, [
    section('🔒 *Revoked.* No session was recorded for this grant, so there was nothing to deny.'),
    context(`${requestId(request)} · ${targetName(request)}`),
  ]);
}

/** Session ids the revoke terminated, from its audit record ("s-1,s-2"). */
function endedSessions(request: AccessRequest): string[] {
  const raw = request.audit.at(-1)?.details?.sessionsEnded ?? '';
  return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function listed(items: string[], max: number): string {
  const hidden = items.length - max;
  const shown = items.slice(0, max).join(', ');
  return hidden > 0 ? `${shown} and ${hidden} more` : shown;
}

/** A system alert in the approver channel (not tied to one request). `text` is escaped here. */
export function systemAlert(title: string, text: string): SlackMessage {
  return message(`${escaped(title, 150)}: ${escaped(text, ALERT_MAX)}`, [section(`🚨 *${escaped(title, 150)}*\n${escaped(text, ALERT_MAX)}`)]);
}

/** The audit channel cannot take lines (gone, archived, the bot not in it): what to do about it. */
export function auditChannelAlert(channel: string, slackError: string): SlackMessage {
  return systemAlert(
    'The audit channel cannot take lines',
    `Slack answers \`${slackError}\` for ${channel}, so audit lines are dropped there. The audit itself is kept in the table (\`/jit audit\`, \`npm run audit:export\`). Invite the bot to the channel or fix \`auditChannel\`; \`/jit doctor\` checks it.`,
  );
}

/** Approvers (users and groups) a reminder mentions before "and N more". */
export const MAX_REMINDER_MENTIONS = 20;

/**
 * approval.reminder, as a reply in the approval message's thread: who has not approved yet
 * (users, and groups as <!subteam^S…>), and how many approvals are still needed before the
 * deadline. The fallback text names no one.
 */
export function reminderThreadMessage(request: AccessRequest, pending: { users: string[]; groups: string[] }): SlackMessage {
  const required = approvalsRequired(request);
  const left = Math.max(1, required - (request.approvals?.length ?? 0));
  const progress = required > 1 ? ` (${quorumProgress(request)})` : '';
  const mentions = [...pending.users.map(mention), ...pending.groups.map(groupMention)];
  const shown = mentions.slice(0, MAX_REMINDER_MENTIONS).join(', ');
  const hidden = mentions.length - MAX_REMINDER_MENTIONS;
  const who = mentions.length === 0 ? '' : `${hidden > 0 ? `${shown} and ${hidden} more` : shown}, `;
  const needs = required > 1 ? `needs ${left} more approval${left === 1 ? '' : 's'}${progress}` : 'needs 1 approval';
  const what = request.extends ? `extension of ${code(request.extends, NAME_MAX)} by ${duration(request)}` : `${duration(request)}`;
  return message(`Still waiting: ${escaped(request.id, NAME_MAX)} ${needs} before ${whenText(request, request.approvalDeadline)}.`, [
    section(`⏰ Still waiting: ${who}${requestId(request)} (${targetName(request)}, ${what}) ${needs} before ${when(request, request.approvalDeadline)}.`),
  ]);
}

/**
 * channel.break-glass: posted top level in the approver channel, and loud. It starts with
 * <!here> (the one mention we add on purpose); everything the requester typed is escaped.
 */
export function breakGlassAlert(request: AccessRequest, target: Target | undefined): SlackMessage {
  const text = `<!here> 🚨 Break-glass access to ${escaped(request.targetName, NAME_MAX)} taken for ${duration(request)} (${escaped(request.id, NAME_MAX)}).`;
  return message(text, [
    section(`<!here> 🚨 Break-glass access to ${targetName(request)} taken by ${mention(request.requesterId)} for ${duration(request)}, without approval.`),
    reasonSection(request),
    context(`${requestId(request)} · ${targetDetails(request, target)}`),
    context('Review it with the *Reviewed* button on the request; access ends by itself, or revoke it early with ' + code(`/jit revoke ${request.id}`, NAME_MAX + 20) + '.'),
  ]);
}
