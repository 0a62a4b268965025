/**
 * The approval message in the approver channel, re-rendered in place for every status.
 * PENDING carries Approve / Deny (value = the request id, nothing else); every other status
 * shows the same facts plus one status line and no buttons.
 */
import type { ActionsBlock, KnownBlock } from '@slack/types';
import type { AccessRequest, RequestStatus, Target } from '../src/domain/types';
import { duration, endNote, NAME_MAX, reasonSection, requestFields, statusPhrase, when, whenText } from './common';
import { ACTION_APPROVE, ACTION_DENY, BLOCK_DECISION } from './ids';
import { actions, button, context, header, message, type SlackMessage } from './kit';
import { escaped, mention } from './text';

/** The mrkdwn status line under the facts; PENDING has none (it has the buttons). */
type StatusLine = ((r: AccessRequest) => string) | undefined;

const FAILURE_MAX = 500;

const STATUS_LINE: Record<RequestStatus, StatusLine> = {
  PENDING: undefined,
  GRANTING: (r) => `⏳ ${approvedBy(r)} · granting access…${retrying(r)}`,
  ACTIVE: (r) => `✅ ${approvedBy(r)} · active${r.expiresAt ? ` until ${when(r, r.expiresAt)}` : ''}`,
  REVOKING: (r) => `⏳ Revoking…${retrying(r)}`,
  REVOKED: (r) => `🔒 Access ended${r.endedAt ? ` at ${when(r, r.endedAt)}` : ''} (${endNote(r)})`,
  DENIED: (r) => `❌ Denied${r.decidedBy ? ` by ${mention(r.decidedBy)}` : ''}`,
  EXPIRED: (r) => `⌛ Expired: nobody approved before ${when(r, r.approvalDeadline)}`,
  CANCELLED: () => '↩️ Withdrawn by the requester',
  FAILED: (r) => `⚠️ ${approvedBy(r)} · grant failed: ${escaped(r.failure ?? 'unknown error', FAILURE_MAX)}`,
};

export function approvalMessage(request: AccessRequest, target: Target | undefined): SlackMessage {
  const blocks: KnownBlock[] = [
    header(`🔐 Access request: ${request.targetName}`),
    requestFields(request, target),
    reasonSection(request),
  ];
  const line = STATUS_LINE[request.status]?.(request);
  blocks.push(line === undefined ? decisionActions(request) : context(line));
  return message(approvalSummary(request), blocks);
}

/** One line for notifications: escaped, without the reason or any mention. */
function approvalSummary(request: AccessRequest): string {
  const status = statusPhrase(request, (iso) => whenText(request, iso));
  return `Access request ${escaped(request.id, NAME_MAX)}: ${escaped(request.targetName, NAME_MAX)} for ${duration(request)} (${status})`;
}

function decisionActions(request: AccessRequest): ActionsBlock {
  return actions(BLOCK_DECISION, [
    button('Approve', ACTION_APPROVE, request.id, 'primary'),
    button('Deny', ACTION_DENY, request.id, 'danger'),
  ]);
}

function approvedBy(r: AccessRequest): string {
  return r.decidedBy ? `Approved by ${mention(r.decidedBy)}` : 'Approved';
}

function retrying(r: AccessRequest): string {
  return r.failure ? ` (retrying after: ${escaped(r.failure, FAILURE_MAX)})` : '';
}
