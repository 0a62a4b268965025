/**
 * The decision forms opened by "Approve…" and "Deny…" on the approval message, and a pure reader
 * for their submission. private_metadata carries the request id and nothing else; the handler
 * re-reads and re-checks everything on submit.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import { formatDuration } from '../src/domain/duration';
import type { AccessRequest, Target } from '../src/domain/types';
import { approvalsPhrase, MAX_COMMENT_LENGTH } from '../src/domain/policy-terms';
import { approvalList, approvalsRequired, duration, extensionLine, quorumProgress, reasonSection, requestId, targetDetails, targetName } from './common';
import {
  ACTION_COMMENT,
  ACTION_DECISION_DURATION,
  BLOCK_COMMENT,
  BLOCK_DECISION_DURATION,
  CALLBACK_APPROVE_MODAL,
  CALLBACK_DENY_MODAL,
} from './ids';
import { context, input, plain, section, textInput } from './kit';
import { readInput, type ModalStateValues } from './modal';
import { LIMITS, mention } from './text';

export type Decision = 'approve' | 'deny';

export interface DecisionModalInput {
  duration?: string;
  comment?: string;
}

/**
 * "Approve…": the request in brief, a duration (pre-filled with what was asked; shorten it to
 * approve for less) and an optional note. "Deny…": the request in brief and an optional note.
 */
export function decisionModal(request: AccessRequest, target: Target | undefined, decision: Decision): ModalView {
  const approve = decision === 'approve';
  const blocks: KnownBlock[] = [...facts(request, target)];
  if (approve) {
    blocks.push(
      input(BLOCK_DECISION_DURATION, 'Approve for', textInput(ACTION_DECISION_DURATION, 'e.g. 30m', { initialValue: formatDuration(request.durationMs), maxLength: 20 }), {
        optional: true,
        hint: 'Approve for less time than asked, or leave as is.',
      }),
    );
  }
  blocks.push(
    input(BLOCK_COMMENT, 'Note', textInput(ACTION_COMMENT, approve ? 'Anything the requester should know' : 'Why not? What would make it acceptable?', { multiline: true, maxLength: MAX_COMMENT_LENGTH }), {
      optional: true,
      hint: 'Shown to the requester and kept in the audit log.',
    }),
  );
  return {
    type: 'modal',
    callback_id: approve ? CALLBACK_APPROVE_MODAL : CALLBACK_DENY_MODAL,
    private_metadata: request.id,
    title: plain(approve ? 'Approve request' : 'Deny request', LIMITS.modalTitle),
    submit: plain(approve ? 'Approve' : 'Deny', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks,
  };
}

/** Reads a decision form by our block and action ids; blank answers come back undefined. */
export function readDecisionModal(values: ModalStateValues): DecisionModalInput {
  return {
    duration: readInput(values, BLOCK_DECISION_DURATION, ACTION_DECISION_DURATION),
    comment: readInput(values, BLOCK_COMMENT, ACTION_COMMENT),
  };
}

/** Who asks for what, for how long, and why; the approvals so far when a quorum is needed. */
function facts(request: AccessRequest, target: Target | undefined): KnownBlock[] {
  const what = request.extends
    ? `${mention(request.requesterId)} asks to extend their access to ${targetName(request)}: ${extensionLine(request)} (extension ${requestId(request)}).`
    : `${mention(request.requesterId)} asks for ${targetName(request)} for *${duration(request)}* (${requestId(request)}).`;
  const blocks: KnownBlock[] = [section(what), context(targetDetails(request, target)), reasonSection(request)];
  const approvals = request.approvals ?? [];
  if (approvalsRequired(request) > 1) {
    blocks.push(context(approvals.length > 0 ? `${quorumProgress(request)} so far: ${approvalList(approvals)}` : `Needs ${approvalsPhrase(approvalsRequired(request))}; none yet.`));
  }
  return blocks;
}
