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

/**
 * "Show credentials" in the grant DM of role-backed kinds (aws-role, ssm-session). The value is
 * the request id and nothing else; the handler issues fresh credentials and opens the modal.
 */
export const BLOCK_SHOW_CREDENTIALS = 'jit_credentials';
export const ACTION_SHOW_CREDENTIALS = 'jit_show_credentials';
/** The credentials modal (read-only: no inputs, no submit). */
export const CALLBACK_CREDENTIALS_MODAL = 'jit_credentials_modal';
