/**
 * Block Kit identifiers shared by the builders in blocks/ and the handlers that route Slack
 * interactions. Change one here and both sides follow.
 */

/** Approval message (approver channel). Button values carry the request id and nothing else. */
export const BLOCK_DECISION = 'jit_decision';
export const ACTION_APPROVE = 'jit_approve';
export const ACTION_DENY = 'jit_deny';

/** Request modal (opened by `/jit` or `/jit request` without arguments). */
export const CALLBACK_REQUEST_MODAL = 'jit_request_modal';
export const BLOCK_TARGET = 'jit_target';
export const ACTION_TARGET = 'jit_target_select';
export const BLOCK_DURATION = 'jit_duration';
export const ACTION_DURATION = 'jit_duration_input';
export const BLOCK_ADDRESS = 'jit_address';
export const ACTION_ADDRESS = 'jit_address_input';
export const BLOCK_REASON = 'jit_reason';
export const ACTION_REASON = 'jit_reason_input';
