/**
 * The approval message in the approver channel, re-rendered in place for every status.
 * PENDING carries Approve / Approve… / Deny / Deny… (value = the request id, nothing else) and,
 * when the policy asks for a quorum, the approvals so far; every other status shows the same
 * facts plus one status line and no decision buttons; ACTIVE also carries "Revoke now" (with a
 * confirmation dialog; it leaves with the next update). A break-glass request carries "Reviewed"
 * (same value rule) in any status until an approver has pressed it.
 */
import type { ActionsBlock, KnownBlock } from '@slack/types';
import type { AccessRequest, RequestStatus, Target } from '../src/domain/types';
import {
  approvalList,
  approvalsRequired,
  duration,
  endNote,
  extensionLine,
  NAME_MAX,
  narrowedNote,
  quorumProgress,
  quotedNote,
  reasonSection,
  requestFields,
  statusPhrase,
  ticketLink,
  when,
  whenText,
} from './common';
import { ACTION_APPROVE, ACTION_APPROVE_WITH, ACTION_DENY, ACTION_DENY_WITH, ACTION_REVIEW, BLOCK_DECISION, BLOCK_REVIEW, BLOCK_REVOKE_NOW } from './ids';
import { actions, button, context, header, message, type SlackMessage } from './kit';
import { refusalWords, requestFailureWords } from './outcome';
import { revokeNowActions } from './revoke';
import { code, escaped, mention } from './text';

/** The mrkdwn status line under the facts; PENDING has none (it has the buttons). */
type StatusLine = ((r: AccessRequest) => string) | undefined;

const FAILURE_MAX = 500;
/** The denier's note in the status line (escaped length). */
const DENY_NOTE_MAX = 1_000;

const STATUS_LINE: Record<RequestStatus, StatusLine> = {
  PENDING: undefined,
  GRANTING: (r) => `⏳ ${approvedBy(r)} · granting access…${retrying(r)}`,
  ACTIVE: (r) => `✅ ${approvedBy(r)} · active${r.expiresAt ? ` until ${when(r, r.expiresAt)}` : ''}`,
  REVOKING: (r) => `⏳ Revoking…${retrying(r)}`,
  REVOKED: (r) => `🔒 Access ended${r.endedAt ? ` at ${when(r, r.endedAt)}` : ''} (${endNote(r)})`,
  DENIED: (r) =>
    r.refusal
      ? `❌ ${refusalWords(r.refusal, (rule) => code(rule, NAME_MAX))} when decided again; nothing was granted`
      : `❌ Denied${r.decidedBy ? ` by ${mention(r.decidedBy)}` : ''}${r.decisionComment ? `: ${quotedNote(r.decisionComment, DENY_NOTE_MAX)}` : ''}`,
  EXPIRED: (r) =>
    (r.approvals?.length ?? 0) > 0
      ? `⌛ Expired with ${quorumProgress(r)} (${approvalList(r.approvals ?? [])}) before ${when(r, r.approvalDeadline)}`
      : `⌛ Expired: nobody approved before ${when(r, r.approvalDeadline)}`,
  CANCELLED: () => '↩️ Withdrawn by the requester',
  FAILED: (r) => `⚠️ ${approvedBy(r)} · grant failed: ${escaped(requestFailureWords(r), FAILURE_MAX)}`,
  EXTENDED: (r) => `✅ ${approvedBy(r)} · access extended${r.expiresAt ? ` until ${when(r, r.expiresAt)}` : ''}`,
};

export function approvalMessage(request: AccessRequest, target: Target | undefined): SlackMessage {
  const blocks: KnownBlock[] = [header(`${title(request)}: ${request.targetName}`), requestFields(request, target), reasonSection(request)];
  if (request.ticket) blocks.push(context(`🎫 Ticket ${ticketLink(request.ticket)}`));
  if (request.extends) blocks.push(context(extensionLine(request)));
  const line = STATUS_LINE[request.status]?.(request);
  if (line === undefined) {
    const progress = quorumLine(request);
    if (progress) blocks.push(context(progress));
    blocks.push(decisionActions(request));
  } else {
    blocks.push(context(line));
    // Approvers (and the requester) may end a live grant early, as with `/jit revoke`.
    if (request.status === 'ACTIVE' && !request.extends) blocks.push(revokeNowActions(BLOCK_REVOKE_NOW, request));
  }
  if (request.breakGlass) blocks.push(reviewBlock(request));
  return message(approvalSummary(request), blocks);
}

function title(request: AccessRequest): string {
  if (request.breakGlass) return '🚨 Break-glass access';
  if (request.extends) return '⏱ Extension request';
  return '🔐 Access request';
}

/** One line for notifications: escaped, without the reason or any mention. */
function approvalSummary(request: AccessRequest): string {
  const status = statusPhrase(request, (iso) => whenText(request, iso));
  const id = escaped(request.id, NAME_MAX);
  const target = escaped(request.targetName, NAME_MAX);
  if (request.extends) return `Extension request ${id}: ${target}, ${duration(request)} more for ${escaped(request.extends, NAME_MAX)} (${status})`;
  return `${request.breakGlass ? 'Break-glass access' : 'Access request'} ${id}: ${target} for ${duration(request)} (${status})`;
}

/** "1 of 2 approvals: <@U1> (“note”)": only when the policy asks for more than one (or some were given). */
function quorumLine(request: AccessRequest): string | undefined {
  const approvals = request.approvals ?? [];
  if (approvalsRequired(request) <= 1 && approvals.length === 0) return undefined;
  return approvals.length > 0 ? `${quorumProgress(request)}: ${approvalList(approvals)}` : `${quorumProgress(request)} so far`;
}

function decisionActions(request: AccessRequest): ActionsBlock {
  return actions(BLOCK_DECISION, [
    button('Approve', ACTION_APPROVE, request.id, 'primary'),
    button('Approve…', ACTION_APPROVE_WITH, request.id),
    button('Deny', ACTION_DENY, request.id, 'danger'),
    button('Deny…', ACTION_DENY_WITH, request.id),
  ]);
}

/** Break-glass: "Reviewed" until an approver pressed it, then who did and when. */
function reviewBlock(request: AccessRequest): KnownBlock {
  if (!request.reviewedBy) return actions(BLOCK_REVIEW, [button('Reviewed', ACTION_REVIEW, request.id)]);
  return context(`👀 Reviewed by ${mention(request.reviewedBy)}${request.reviewedAt ? ` at ${when(request, request.reviewedAt)}` : ''}`);
}

/**
 * How the request got its yes: the rule, break-glass, or the approvers (all of them, with their
 * notes), plus "approved for 30m (asked 1h)" when an approver narrowed it.
 */
function approvedBy(r: AccessRequest): string {
  const narrowed = narrowedNote(r);
  const suffix = narrowed ? ` · ${narrowed}` : '';
  switch (r.approvedVia) {
    case 'auto':
      return `🤖 Auto-approved by rule ${code(r.policyRule ?? 'unknown', NAME_MAX)}${suffix}`;
    case 'break-glass':
      return `🚨 Break-glass: taken by ${mention(r.requesterId)} without approval${suffix}`;
    default: {
      const approvals = r.approvals ?? [];
      if (approvals.length > 0) return `Approved by ${approvalList(approvals)}${suffix}`;
      return `${r.decidedBy ? `Approved by ${mention(r.decidedBy)}` : 'Approved'}${suffix}`;
    }
  }
}

function retrying(r: AccessRequest): string {
  return r.failure ? ` (retrying after: ${escaped(requestFailureWords(r), FAILURE_MAX)})` : '';
}
