/**
 * Block Kit identifiers shared by the builders in blocks/ and the handlers that route Slack
 * interactions. Change one here and both sides follow. Every button value and every modal's
 * private_metadata carries a request id and nothing else.
 */

/** Approval message (approver channel). */
export const BLOCK_DECISION = 'jit_decision';
export const ACTION_APPROVE = 'jit_approve';
export const ACTION_DENY = 'jit_deny';
/** "Approve…": a form to approve for less time and/or with a note. */
export const ACTION_APPROVE_WITH = 'jit_approve_with';
/** "Deny…": a form to deny with a note. */
export const ACTION_DENY_WITH = 'jit_deny_with';
/** "Reviewed" on a break-glass request's approval message. */
export const BLOCK_REVIEW = 'jit_review';
export const ACTION_REVIEW = 'jit_review';

/** The decision forms opened by "Approve…" / "Deny…". */
export const CALLBACK_APPROVE_MODAL = 'jit_approve_modal';
export const CALLBACK_DENY_MODAL = 'jit_deny_modal';
export const BLOCK_DECISION_DURATION = 'jit_decision_duration';
export const ACTION_DECISION_DURATION = 'jit_decision_duration_input';
export const BLOCK_COMMENT = 'jit_comment';
export const ACTION_COMMENT = 'jit_comment_input';

/** Request modal (opened by `/jit` or `/jit request` without arguments). */
export const CALLBACK_REQUEST_MODAL = 'jit_request_modal';
export const BLOCK_TARGET = 'jit_target';
export const ACTION_TARGET = 'jit_target_select';
export const BLOCK_DURATION = 'jit_duration';
export const ACTION_DURATION = 'jit_duration_input';
export const BLOCK_ADDRESS = 'jit_address';
export const ACTION_ADDRESS = 'jit_address_input';
export const BLOCK_ACCOUNTS = 'jit_accounts';
export const ACTION_ACCOUNTS = 'jit_accounts_input';
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

/** "Extend" on the expiry-warning DM, and the form it opens. */
export const BLOCK_EXTEND = 'jit_extend';
export const ACTION_EXTEND = 'jit_extend';
export const CALLBACK_EXTEND_MODAL = 'jit_extend_modal';
export const BLOCK_EXTEND_DURATION = 'jit_extend_duration';
export const ACTION_EXTEND_DURATION = 'jit_extend_duration_input';
export const BLOCK_EXTEND_REASON = 'jit_extend_reason';
export const ACTION_EXTEND_REASON = 'jit_extend_reason_input';

/**
 * "Revoke now" (with a confirmation dialog) on the approval message of an ACTIVE grant, on the
 * grant DM and in the App Home: does what `/jit revoke <id>` does. The value is the request id.
 */
export const ACTION_REVOKE_NOW = 'revoke_now';
/** The actions block holding "Revoke now" on the approval message and the grant DM. */
export const BLOCK_REVOKE_NOW = 'jit_revoke_now';

/** The global shortcut "Request access" (manifest.yml `shortcuts`): opens the request form. */
export const CALLBACK_REQUEST_ACCESS_SHORTCUT = 'request_access';

/**
 * "More" under a `/jit audit @user|<target>` listing. Its value is a page token
 * (src/domain/audit.ts encodeAuditPage: subject, window start, last request shown) and nothing
 * else; the handler decodes and validates it before anything reaches the core.
 */
export const BLOCK_AUDIT_MORE = 'jit_audit_more';
export const ACTION_AUDIT_MORE = 'jit_audit_more';
/** App Home tab: "Request access" (opens the request form), "Withdraw" on a pending request, and the per-request blocks. */
export const ACTION_HOME_REQUEST = 'jit_home_request';
export const ACTION_WITHDRAW = 'jit_withdraw';
export const BLOCK_HOME_REQUEST = 'jit_home_request';
/** Prefixes: the request id follows (block ids must be unique within the view). */
export const BLOCK_HOME_GRANT = 'jit_home_grant_';
export const BLOCK_HOME_PENDING = 'jit_home_pending_';
export const BLOCK_HOME_WAITING = 'jit_home_waiting_';
