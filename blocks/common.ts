/**
 * Request facts shared by the approval message, the DMs and the slash-command replies, so every
 * surface shows a request the same way.
 */
import type { SectionBlock } from '@slack/types';
import { formatDuration } from '../src/domain/duration';
import type { AccessRequest, RequestStatus, Target } from '../src/domain/types';
import { field, fieldsSection, section } from './kit';
import { code, escaped, LIMITS, mention, slackDate, utcTime } from './text';

/** Cap for short user-controlled values (names, addresses) so one cannot crowd out the rest. */
export const NAME_MAX = 100;

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

/** "ec2-ssh · port 22 · sg-0abc" from the target, or from the grant when the target is gone. */
export function targetDetails(request: AccessRequest, target: Target | undefined): string {
  const source = target ?? request.grant;
  if (!source) return `${request.kind} · no longer configured`;
  return [source.kind, `port ${source.port}`, escaped(source.securityGroupId, NAME_MAX)].join(' · ');
}

/** The facts of a request as a two-column fields section. */
export function requestFields(request: AccessRequest, target: Target | undefined): SectionBlock {
  return fieldsSection([
    field('Requester', mention(request.requesterId)),
    field('Target', `${targetName(request, false)}\n${targetDetails(request, target)}`),
    field('Duration', duration(request)),
    field('Address', request.cidr ? code(request.cidr, NAME_MAX) : 'not given'),
    field('Request', requestId(request)),
    field('Approval deadline', when(request, request.approvalDeadline)),
  ]);
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

/** Statuses shown by `/jit list`: the request still needs or holds access. */
export const OPEN_STATUSES: readonly RequestStatus[] = ['PENDING', 'GRANTING', 'ACTIVE', 'REVOKING'];

/**
 * A short status phrase without mentions or user text. `time` renders a timestamp: `when`-style
 * tokens in blocks, UTC text in fallback `text`.
 */
export function statusPhrase(request: AccessRequest, time: (iso: string) => string): string {
  switch (request.status) {
    case 'PENDING':
      return `waiting for approval until ${time(request.approvalDeadline)}`;
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
  }
}
