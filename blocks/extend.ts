/**
 * The extension form opened by "Extend" on the expiry-warning DM, and a pure reader for its
 * submission. `request` is the ACTIVE grant; private_metadata carries its id and nothing else.
 */
import type { ModalView } from '@slack/types';
import { formatDuration } from '../src/domain/duration';
import type { AccessRequest, Target } from '../src/domain/types';
import { type ExtensionHeadroom, MAX_REASON_LENGTH } from '../src/domain/policy-terms';
import { requestId, targetName, when } from './common';
import { ACTION_EXTEND_DURATION, ACTION_EXTEND_REASON, BLOCK_EXTEND_DURATION, BLOCK_EXTEND_REASON, CALLBACK_EXTEND_MODAL } from './ids';
import { context, input, plain, section, textInput } from './kit';
import { readInput, type ModalStateValues } from './modal';
import { LIMITS } from './text';

export interface ExtendModalInput {
  duration?: string;
  reason?: string;
}

/**
 * The form: until when access runs now, how much longer (pre-filled with the original length,
 * within `room.maxMs`), and the reason (pre-filled with the original one). When the policy
 * would accept no extension (`room` comes from extensionHeadroom in src/policy.ts) there is
 * nothing to submit, only why.
 */
export function extendModal(request: AccessRequest, target: Target | undefined, room: ExtensionHeadroom): ModalView {
  const now = `Your access to ${targetName(request)} (${requestId(request)}) runs until ${request.expiresAt ? when(request, request.expiresAt) : 'its current end'}.`;
  if (!room.canExtend) return cannotExtendModal(request, target, now);
  const initial = Math.min(request.requestedDurationMs ?? request.durationMs, room.maxMs);
  return {
    type: 'modal',
    callback_id: CALLBACK_EXTEND_MODAL,
    private_metadata: request.id,
    title: plain('Extend access', LIMITS.modalTitle),
    submit: plain('Ask for more time', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [
      section(`⏱ ${now}`),
      context('An extension is decided like a new request (approvers or a policy rule). Until then, access ends as planned.'),
      input(BLOCK_EXTEND_DURATION, 'How much longer', textInput(ACTION_EXTEND_DURATION, 'e.g. 30m', { initialValue: formatDuration(initial), maxLength: 20 }), {
        hint: `Up to ${formatDuration(room.maxMs)} more.`,
      }),
      input(BLOCK_EXTEND_REASON, 'Reason', textInput(ACTION_EXTEND_REASON, 'Why do you need more time? Approvers see this.', { multiline: true, maxLength: MAX_REASON_LENGTH, initialValue: request.reason }), {
        hint: 'Shown to the approvers and kept in the audit log.',
      }),
    ],
  };
}

/** Reads an extension form by our block and action ids; blank answers come back undefined. */
export function readExtendModal(values: ModalStateValues): ExtendModalInput {
  return {
    duration: readInput(values, BLOCK_EXTEND_DURATION, ACTION_EXTEND_DURATION),
    reason: readInput(values, BLOCK_EXTEND_REASON, ACTION_EXTEND_REASON),
  };
}

function cannotExtendModal(request: AccessRequest, target: Target | undefined, now: string): ModalView {
  const cap = target ? ` Grants of ${targetName(request)} last at most ${formatDuration(target.policy.maxTotalDurationMs)} in all, extensions included.` : '';
  return {
    type: 'modal',
    callback_id: CALLBACK_EXTEND_MODAL,
    private_metadata: request.id,
    title: plain('Extend access', LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [section(`⛔ ${now} It cannot be extended further.${cap}`), context('Send a new request when it ends if you still need access.')],
  };
}
