/**
 * Request facts shared by the approval message, the DMs and the slash-command replies, so every
 * surface shows a request the same way.
 */
import type { SectionBlock } from '@slack/types';
import { formatDuration, parseIsoDuration } from '../src/domain/duration';
import { takesAddress, type AccessRequest, type Approval, type Grant, type SsoGrant, type Target, type Ticket } from '../src/domain/types';
import { field, fieldsSection, section } from './kit';
import { code, escaped, LIMITS, mention, oneLine, slackDate, utcTime } from './text';

/** Cap for short user-controlled values (names, addresses) so one cannot crowd out the rest. */
export const NAME_MAX = 100;
/** Cap for an ARN shown as code (an IAM role ARN is at most ~600 characters: path ≤ 512, name ≤ 64). */
export const ARN_MAX = 700;
/** Cap for one instance id or tag pair shown as code. */
const NODE_MAX = 100;
/** Nodes named in the request facts before "and N more". */
const NODES_IN_FACTS = 5;

/** The target name as escaped mrkdwn (bold by default). */
export function targetName(request: Pick<AccessRequest, 'targetName'>, bold = true): string {
  const name = escaped(request.targetName, NAME_MAX);
  return bold ? `*${name}*` : name;
}

/** The request id as inline code. */
export function requestId(request: Pick<AccessRequest, 'id'>): string {
  return code(request.id, NAME_MAX);
}

export function duration(request: Pick<AccessRequest, 'durationMs'>): string {
  return formatDuration(request.durationMs);
}

/** "15m–4h": the durations a target allows. */
export function durationRange(target: Pick<Target, 'minDurationMs' | 'maxDurationMs'>): string {
  return `${formatDuration(target.minDurationMs)}–${formatDuration(target.maxDurationMs)}`;
}

/** The address the rule is for, without the /32 or /128 suffix (for command hints). */
export function hostAddress(request: Pick<AccessRequest, 'cidr'>): string | undefined {
  return request.cidr?.replace(/\/(32|128)$/, '');
}

/** A time as a Slack date token (reader's zone) whose fallback is UTC, dated if not the request's day. */
export function when(request: Pick<AccessRequest, 'createdAt'>, iso: string): string {
  return slackDate(iso, utcTime(iso, request.createdAt));
}

/** The same time as plain UTC text, for fallback `text`. */
export function whenText(request: Pick<AccessRequest, 'createdAt'>, iso: string): string {
  return utcTime(iso, request.createdAt);
}

/**
 * What the request is for, from the target, or from the grant when the target is gone (or is now
 * configured as another kind). Undefined when neither matches the request's kind.
 */
function kindSource(request: Pick<AccessRequest, 'kind' | 'grant'>, target: Target | undefined): Target | Grant | undefined {
  if (target?.kind === request.kind) return target;
  if (request.grant?.kind === request.kind) return request.grant;
  return undefined;
}

/**
 * The facts of the target, per kind:
 *   ec2-ssh      "ec2-ssh · port 22 · sg-0abc"
 *   aws-role     "aws-role · `arn:aws:iam::…:role/x` · temporary credentials"
 *   ssm-session  "ssm-session · `i-0abc`, `i-0def` · document `AWS-StartSSHSession`"
 */
export function targetDetails(request: AccessRequest, target: Target | undefined): string {
  const source = kindSource(request, target);
  if (!source) return `${request.kind} · no longer configured`;
  switch (source.kind) {
    case 'ec2-ssh':
      return [source.kind, `port ${source.port}`, escaped(source.securityGroupId, NAME_MAX)].join(' · ');
    case 'aws-role':
      return [source.kind, code(source.roleArn, ARN_MAX), 'temporary credentials'].join(' · ');
    case 'ssm-session':
      return [source.kind, nodeList(source.instanceIds, 'nodeTags' in source ? (source.nodeTags ?? {}) : {}, NODES_IN_FACTS), `document ${code(source.documentName, NAME_MAX)}`].join(' · ');
    case 'sso-permission-set':
      // What was assigned once granted; before, the accounts the request picked.
      return [source.kind, permissionSetOnAccounts(source.permissionSetArn, source === request.grant ? source.accountIds : (request.accounts ?? source.accountIds))].join(' · ');
  }
}

/**
 * Deleting an assignment does not end a portal session already opened: its role credentials last
 * until the permission set's session duration runs out, unless the target denies them at the end
 * (endSessions). Words for that bound, for the grant DM and the revoke messages.
 */
export function ssoSessionBound(g: Pick<SsoGrant, 'sessionDuration' | 'endSessions'>): string {
  const ms = parseIsoDuration(g.sessionDuration);
  if (g.endSessions) {
    return `a console or CLI session opened from the portal before the end is then denied too (IAM applies the deny within a few minutes; ${ms === undefined ? "the permission set's session duration" : formatDuration(ms)} at the very most)`;
  }
  return ms === undefined
    ? "a console or CLI session opened from the portal before the end lasts until the permission set's session duration runs out"
    : `a console or CLI session opened from the portal before the end can last up to ${formatDuration(ms)} longer (the permission set's session duration)`;
}

/** Accounts named in one line before "and N more". */
const ACCOUNTS_SHOWN = 5;

/**
 * "permission set `ps-0123456789abcdef` on account `123456789012`", or "on 3 accounts: `1…`,
 * `2…` and `3…`" (the set's id is the end of its ARN; at most ACCOUNTS_SHOWN accounts named).
 */
export function permissionSetOnAccounts(permissionSetArn: string, accountIds: readonly string[]): string {
  const set = `permission set ${code(permissionSetArn.split('/').at(-1) ?? permissionSetArn, NAME_MAX)}`;
  return accountIds.length === 1 ? `${set} on account ${accountList(accountIds)}` : `${set} on ${accountIds.length} accounts: ${accountList(accountIds)}`;
}

/** "`123456789012`, `210987654321` and 3 more". */
export function accountList(accountIds: readonly string[]): string {
  return capped(accountIds.map((id) => code(id, NAME_MAX)), ACCOUNTS_SHOWN, ', ');
}

/**
 * Managed nodes as mrkdwn: instance ids as code ("`i-1`, `i-2` and 3 more") and/or the tag
 * selector ("nodes tagged `ENV=dev` and `TEAM=pay`"). At most `max` of each are named.
 */
export function nodeList(instanceIds: readonly string[], tags: Readonly<Record<string, string>>, max: number): string {
  const parts: string[] = [];
  if (instanceIds.length > 0) parts.push(capped(instanceIds.map((id) => code(id, NODE_MAX)), max, ', '));
  const pairs = Object.entries(tags);
  if (pairs.length > 0) parts.push(`nodes tagged ${capped(pairs.map(([k, v]) => code(`${k}=${v}`, NODE_MAX)), max, ' and ')}`);
  return parts.length > 0 ? parts.join('; ') : 'no nodes';
}

function capped(items: string[], max: number, separator: string): string {
  const shown = items.slice(0, max).join(separator);
  const hidden = items.length - max;
  return hidden > 0 ? `${shown} and ${hidden} more` : shown;
}

/**
 * The facts of a request as a two-column fields section (no address for role-backed kinds, no
 * approval deadline for requests no human had to approve).
 */
export function requestFields(request: AccessRequest, target: Target | undefined): SectionBlock {
  const byPolicy = request.approvedVia === 'auto' || request.approvedVia === 'break-glass';
  return fieldsSection([
    field('Requester', mention(request.requesterId)),
    field('Target', `${targetName(request, false)}\n${targetDetails(request, target)}`),
    field('Duration', duration(request)),
    ...(!takesAddress(request.kind) ? [] : [field('Address', request.cidr ? code(request.cidr, NAME_MAX) : 'not given')]),
    field('Request', requestId(request)),
    ...(byPolicy ? [] : [field('Approval deadline', when(request, request.approvalDeadline))]),
  ]);
}

/** An extension request: "Adds 30m to `jit-parent`" (mrkdwn). */
export function extensionLine(request: AccessRequest): string {
  return `Adds *${duration(request)}* to ${code(request.extends ?? '', NAME_MAX)}`;
}

/** What an approver narrowed: "approved for 30m (asked 1h)"; empty when nothing was narrowed. */
export function narrowedNote(request: Pick<AccessRequest, 'durationMs' | 'requestedDurationMs'>): string {
  if (request.requestedDurationMs === undefined || request.requestedDurationMs === request.durationMs) return '';
  return `approved for ${formatDuration(request.durationMs)} (asked ${formatDuration(request.requestedDurationMs)})`;
}

/** Distinct approvals the request needs (1 unless the policy asked for a quorum). */
export function approvalsRequired(request: Pick<AccessRequest, 'approvalsRequired'>): number {
  return Math.max(1, request.approvalsRequired ?? 1);
}

/** "1 of 2 approvals". */
export function quorumProgress(request: Pick<AccessRequest, 'approvals' | 'approvalsRequired'>): string {
  const required = approvalsRequired(request);
  return `${request.approvals?.length ?? 0} of ${required} approval${required === 1 ? '' : 's'}`;
}

/** Approvals named in one line before "and N more". */
export const APPROVALS_SHOWN = 10;
/** Characters all notes of one line share (so the line keeps its end), and the cap for one note. */
const NOTES_BUDGET = 1_000;
const NOTE_MAX = 300;

/** An approver's (or denier's) note, on one line, escaped, in quotes. */
export function quotedNote(raw: string, max = NOTE_MAX): string {
  return `“${escaped(oneLine(raw), max)}”`;
}

/**
 * Approvers with their notes and narrowed durations:
 * "<@A> (“looks fine”), <@B> (approved for 30m)", at most APPROVALS_SHOWN, then "and N more".
 * The notes share NOTES_BUDGET characters so the line stays well inside a context block.
 */
export function approvalList(approvals: readonly Approval[]): string {
  const shown = approvals.slice(0, APPROVALS_SHOWN);
  const notes = shown.filter((a) => a.comment && oneLine(a.comment) !== '').length;
  const noteMax = Math.min(NOTE_MAX, Math.floor(NOTES_BUDGET / Math.max(1, notes)));
  const items = shown.map((a) => {
    const extras = [
      ...(a.comment && oneLine(a.comment) !== '' ? [quotedNote(a.comment, noteMax)] : []),
      ...(a.durationMs !== undefined ? [`approved for ${formatDuration(a.durationMs)}`] : []),
    ];
    return `${mention(a.by)}${extras.length > 0 ? ` (${extras.join('; ')})` : ''}`;
  });
  const hidden = approvals.length - shown.length;
  return hidden > 0 ? `${items.join(', ')} and ${hidden} more` : items.join(', ');
}

/** The requester's reason, escaped and cut to what a section holds. */
export function reasonSection(request: Pick<AccessRequest, 'reason'>): SectionBlock {
  const label = '*Reason*\n';
  return section(label + escaped(request.reason, LIMITS.sectionText - label.length));
}

/** How an ACTIVE grant ended: "expired" or "revoked early by <@U…>". */
export function endNote(request: Pick<AccessRequest, 'endReason' | 'endedBy'>): string {
  if (request.endReason !== 'revoked') return 'expired';
  return request.endedBy ? `revoked early by ${mention(request.endedBy)}` : 'revoked early';
}

/**
 * A short status phrase without mentions or user text. `time` renders a timestamp: `when`-style
 * tokens in blocks, UTC text in fallback `text`.
 */
export function statusPhrase(request: AccessRequest, time: (iso: string) => string): string {
  switch (request.status) {
    case 'PENDING':
      return approvalsRequired(request) > 1
        ? `waiting for approval (${quorumProgress(request)}) until ${time(request.approvalDeadline)}`
        : `waiting for approval until ${time(request.approvalDeadline)}`;
    case 'GRANTING':
      return 'approved, granting access';
    case 'ACTIVE':
      return request.expiresAt ? `active until ${time(request.expiresAt)}` : 'active';
    case 'REVOKING':
      return 'revoking access';
    case 'REVOKED':
      return 'access ended';
    case 'DENIED':
      return 'denied';
    case 'EXPIRED':
      return 'expired without a decision';
    case 'CANCELLED':
      return 'withdrawn';
    case 'FAILED':
      return 'grant failed';
    case 'EXTENDED':
      return 'extended';
  }
}

/**
 * The ticket a reason names, as mrkdwn: `<url|KEY>` (the key escaped; the URL as the core built
 * it from the config's https template with the key URL-encoded), or the key as code when there is
 * no usable link (no ticketUrl, or a stored URL that is not a plain https link).
 */
export function ticketLink(ticket: Ticket): string {
  const url = ticket.url;
  if (url && /^https:\/\/[^\s<>|]+$/.test(url) && url.length <= TICKET_URL_MAX) return `<${url}|${escaped(ticket.key, NAME_MAX)}>`;
  return code(ticket.key, NAME_MAX);
}
const TICKET_URL_MAX = 1_000;
