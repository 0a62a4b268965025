/**
 * Domain errors. Each carries a message written for the person who caused it: what is wrong and
 * what to do. Adapters map these to Slack replies; nothing else needs to parse them.
 */
import type { AccessRequest } from './types';

export abstract class JitError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input from a user: shown to them as-is. Nothing was stored. */
export class ValidationError extends JitError {
  readonly code = 'validation';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

/** The actor may not do this (not an approver, self-approval, not the requester). */
export class NotAllowedError extends JitError {
  readonly code = 'not_allowed';
}

export class NotFoundError extends JitError {
  readonly code = 'not_found';
}

/**
 * The request has already moved on (resolved, expired, decided by someone else). Carries the
 * request as it stands, so the reply can say who decided (the message itself names no one).
 */
export class AlreadyResolvedError extends JitError {
  readonly code = 'already_resolved';
  constructor(
    message: string,
    readonly request?: AccessRequest,
  ) {
    super(message);
  }
}

/** A conditional write lost: someone else changed the request first. Store-level, retried by the core. */
export class ConflictError extends JitError {
  readonly code = 'conflict';
}

/** The lifecycle does not allow this event in this state (programming error or stale caller). */
export class InvalidTransitionError extends JitError {
  readonly code = 'invalid_transition';
}

/** An AWS call failed in a way retrying will not fix (access denied, bad group id, conflicting rule). */
export class GrantError extends JitError {
  readonly code = 'grant_failed';
  constructor(
    message: string,
    readonly retryable = false,
    /** What people see (with a reference) instead of the message; default aws-error. */
    readonly failureCode?: FailureCode,
  ) {
    super(message);
  }
}

/**
 * The actor may not decide on this request (not an approver of its target, the requester, or no
 * such request). Rendered as one neutral reply that says nothing about the request: not whether
 * it exists, who decided it, its status or until when.
 */
export class CannotDecideError extends NotAllowedError {
  constructor() {
    super("You can't approve this request.");
  }
}

/**
 * Failure codes: what people see of a failed AWS call (with a reference), never AWS's own
 * message. The raw message goes to the log and the audit record under the reference. Words for
 * each code live in blocks/.
 */
export const FAILURE_CODES = ['aws-denied', 'aws-throttled', 'aws-not-found', 'aws-error', 'revoke-unverified', 'extension-ended', 'extension-over-cap', 'extension-busy'] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export function isFailureCode(text: string | undefined): text is FailureCode {
  return (FAILURE_CODES as readonly string[]).includes(text ?? '');
}

/** The failure code of an AWS error name (e.g. "AccessDenied", "InvalidGroup.NotFound", "Throttling"). */
export function failureCodeOf(awsErrorName: string): FailureCode {
  if (/AccessDenied|Unauthorized|Forbidden|NotAuthorized|ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch/i.test(awsErrorName)) return 'aws-denied';
  if (/Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|RateExceeded/i.test(awsErrorName)) return 'aws-throttled';
  if (/NotFound|NoSuchEntity|DoesNotExist|InvalidInstanceID|InvalidGroupId/i.test(awsErrorName)) return 'aws-not-found';
  return 'aws-error';
}

/** The code of any error from a grant / revoke / credentials attempt. */
export function failureCodeOfError(err: unknown): FailureCode {
  return err instanceof GrantError && err.failureCode ? err.failureCode : 'aws-error';
}

/** A short random reference people can quote ("7KQ3M9XD"): the log and the audit carry it with the raw message. */
export function newFailureRef(random: () => number = Math.random): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let ref = '';
  for (let i = 0; i < 8; i++) ref += alphabet[Math.floor(random() * 32) % 32];
  return ref;
}

/**
 * An AWS call made for a person failed (e.g. issuing credentials): they see the code and the
 * reference; the raw message is in the log and the audit record under the reference.
 */
export class ReferencedFailureError extends JitError {
  readonly code = 'referenced_failure';
  constructor(
    readonly failureCode: FailureCode,
    readonly ref: string,
  ) {
    super(`${failureCode} (ref ${ref})`);
  }
}

/**
 * Why the policy, decided again at an approval, a grant attempt or an extension, now refuses a
 * stored request. Words live in blocks/.
 */
export const REFUSAL_CODES = ['deny-rule', 'not-requester', 'target-gone', 'target-changed', 'duration-out-of-bounds', 'address-invalid', 'break-glass-off', 'total-cap', 'quorum-unreachable'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];
