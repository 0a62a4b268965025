/**
 * Domain errors. Each carries a problem: a code and its parameters (what is wrong, in data), never
 * words. blocks/errors.ts turns every code into what the person who caused it reads (what is
 * wrong and what to do, with the `/jit` hints); err.message is for logs only: the code and the
 * parameters as JSON (or, for 'plain', the plain text an adapter or the lifecycle wrote).
 */
import type { AccessRequest, RequestStatus } from './types';

/** The kinds of address that are not one usable host (parseHostAddress). */
export type UnusableAddress = 'unusable' | 'loopback' | 'multicast-reserved-broadcast' | 'link-local' | 'unspecified' | 'multicast';

/** What an actor tried to do with a request they may not see (blocks/ words it). */
export type RequestAction = 'extend' | 'revoke' | 'credentials';

/**
 * Every problem the core reports to a person, with its parameters. Durations are in ms; names are
 * raw (blocks/ formats and quotes them). Add a code here and its words in blocks/errors.ts.
 */
export interface ProblemParams {
  /** Plain text written by an adapter (AWS, store) or the lifecycle: no Slack markup, shown as is. */
  plain: { text: string };
  'target-missing': { visible: string[] };
  'target-unknown': { target: string; visible: string[] };
  'duration-missing': { minMs: number; maxMs: number };
  'duration-invalid': { text: string; minMs: number; maxMs: number };
  'duration-sts-too-short': { target: string; durationMs: number; maxMs: number };
  'duration-out-of-bounds': { target: string; durationMs: number; minMs: number; maxMs: number };
  'address-not-taken': { target: string; kind: string; address: string };
  'accounts-not-taken': { target: string; kind: string };
  'accounts-unknown': { target: string; unknown: string[]; choices: string[] };
  'accounts-too-many': { target: string; count: number; max: number };
  'accounts-missing': { target: string; max: number; choices: string[] };
  'reason-missing': Record<string, never>;
  'reason-too-long': { length: number; max: number };
  'comment-too-long': { length: number; max: number };
  'target-gone': { target: string };
  'target-changed': { target: string; kind: string; was: string };
  'extension-out-of-bounds': { target: string; durationMs: number };
  'stored-address-invalid': { cidr: string };
  'narrowed-invalid': { text: string };
  'narrowed-too-long': { durationMs: number; askedMs: number };
  'narrowed-too-short': { target: string; durationMs: number; minMs: number };
  'extension-missing': { maxMs: number };
  'extension-invalid': { text: string };
  'extension-out-of-range': { target: string; durationMs: number; minMs: number; maxMs: number };
  'extension-over-total': { target: string; maxTotalMs: number; maxMs: number };
  'not-requester': { target: string };
  'deny-rule': { rule: string; message?: string };
  'total-cap': { target: string; maxTotalMs: number; canExtend: boolean; maxMs: number };
  'break-glass-off': { target: string };
  'quorum-unreachable': { target: string; required: number; available: number };
  'cannot-decide': Record<string, never>;
  'cannot-revoke': { id: string };
  'extend-target-gone': { target: string; id: string };
  'extension-waiting': { id: string; waiting: string; durationMs: number };
  'already-approved': { id: string; left: number };
  'not-break-glass': { id: string };
  'already-reviewed': { id: string };
  'revoke-pending': { id: string };
  'being-granted': { id: string };
  'being-revoked': { id: string };
  'no-credentials': { id: string; kind: string };
  'not-a-request-id': Record<string, never>;
  'no-such-request': { id: string; action?: RequestAction };
  'already-resolved': { id: string; status: RequestStatus };
  'not-eligible': Record<string, never>;
  'profile-unknown': Record<string, never>;
  'rate-limited': { limit: 'requests' | 'breakGlass'; max: number; perMs: number; waitMs: number; retryAt: string };
  'address-missing': Record<string, never>;
  'address-network': { text: string; prefix: 32 | 128 };
  'address-unusable': { address: string; why: UnusableAddress };
  'address-v4-mapped': { address: string };
  'address-not-ip': { text: string };
  /** An alert for the approver channel: revoking keeps failing (the failure code and its reference, never AWS's message). */
  'revoke-failing': { id: string; target: string; failure: FailureCode; ref: string };
  /** The reason does not follow the target's reason rule: `message` is the operator's (config) words, shown escaped. */
  'reason-format': { target: string; message: string };
  /** The audit is for approvers; the same words whatever was asked, so they reveal nothing. */
  'audit-approvers-only': Record<string, never>;
  'audit-since-invalid': { text: string; maxMs: number };
}
export type ProblemCode = keyof ProblemParams;

const PROBLEM_CODE_SET: Record<ProblemCode, true> = {
  plain: true, 'target-missing': true, 'target-unknown': true, 'duration-missing': true, 'duration-invalid': true, 'duration-sts-too-short': true,
  'duration-out-of-bounds': true, 'address-not-taken': true, 'reason-missing': true, 'reason-too-long': true, 'comment-too-long': true, 'target-gone': true,
  'target-changed': true, 'extension-out-of-bounds': true, 'stored-address-invalid': true, 'narrowed-invalid': true, 'narrowed-too-long': true,
  'narrowed-too-short': true, 'extension-missing': true, 'extension-invalid': true, 'extension-out-of-range': true, 'extension-over-total': true,
  'not-requester': true, 'deny-rule': true, 'total-cap': true, 'break-glass-off': true, 'quorum-unreachable': true, 'cannot-decide': true,
  'cannot-revoke': true, 'extend-target-gone': true, 'extension-waiting': true, 'already-approved': true, 'not-break-glass': true,
  'already-reviewed': true, 'revoke-pending': true, 'being-granted': true, 'being-revoked': true, 'no-credentials': true, 'not-a-request-id': true,
  'no-such-request': true, 'already-resolved': true, 'not-eligible': true, 'profile-unknown': true, 'rate-limited': true, 'address-missing': true,
  'address-network': true, 'address-unusable': true, 'address-v4-mapped': true, 'address-not-ip': true, 'revoke-failing': true,
  'reason-format': true, 'accounts-not-taken': true, 'accounts-unknown': true, 'accounts-too-many': true, 'accounts-missing': true,
  'audit-approvers-only': true, 'audit-since-invalid': true,
};
/** Every problem code, once (blocks/ must have words for each: test/blocks/errors.test.ts). */
export const PROBLEM_CODES = Object.keys(PROBLEM_CODE_SET) as ProblemCode[];

/** A code with its parameters. */
export type Problem = { [C in ProblemCode]: { code: C; params: ProblemParams[C] } }[ProblemCode];

export function problem<C extends ProblemCode>(code: C, params: ProblemParams[C]): Problem {
  return { code, params } as Problem;
}

/** What err.message says of a problem (logs only): the plain text, or the code and its parameters as JSON. */
export function problemLogText(p: Problem): string {
  if (p.code === 'plain') return p.params.text;
  return Object.keys(p.params).length > 0 ? `${p.code} ${JSON.stringify(p.params)}` : p.code;
}

export abstract class JitError extends Error {
  abstract readonly code: string;
  /** What went wrong, as a code and parameters: blocks/errors.ts has the words. */
  readonly problem: Problem;
  constructor(problemOrText: Problem | string) {
    const p = typeof problemOrText === 'string' ? problem('plain', { text: problemOrText }) : problemOrText;
    super(problemLogText(p));
    this.problem = p;
    this.name = new.target.name;
  }
}

/** Bad input from a user: shown to them. Nothing was stored. */
export class ValidationError<C extends ProblemCode = ProblemCode> extends JitError {
  readonly code = 'validation';
  constructor(what: C, params: ProblemParams[C], readonly field?: string) {
    super(problem(what, params));
  }
}

/** The actor may not do this (not an approver, self-approval, not the requester). */
export class NotAllowedError<C extends ProblemCode = ProblemCode> extends JitError {
  readonly code = 'not_allowed';
  constructor(what: C, params: ProblemParams[C]) {
    super(problem(what, params));
  }
}

export class NotFoundError<C extends ProblemCode = ProblemCode> extends JitError {
  readonly code = 'not_found';
  constructor(what: C, params: ProblemParams[C]) {
    super(problem(what, params));
  }
}

/**
 * The request has already moved on (resolved, expired, decided by someone else). Carries the
 * request as it stands, so the reply can say who decided (the problem itself names no one).
 */
export class AlreadyResolvedError<C extends ProblemCode = ProblemCode> extends JitError {
  readonly code = 'already_resolved';
  constructor(
    what: C,
    params: ProblemParams[C],
    readonly request?: AccessRequest,
  ) {
    super(problem(what, params));
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
    super('cannot-decide', {});
  }
}

/**
 * Failure codes: what people see of a failed AWS call (with a reference), never AWS's own
 * message. The raw message goes to the log and the audit record under the reference. Words for
 * each code live in blocks/.
 */
export const FAILURE_CODES = ['aws-denied', 'aws-throttled', 'aws-not-found', 'aws-error', 'revoke-unverified', 'extension-ended', 'extension-over-cap', 'extension-busy', 'sso-user-not-found', 'sso-standing-access'] as const;
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

/**
 * A notification sender (NotificationSender port) was told to slow down: try again after
 * `retryAfterMs`. Adapters build it from their platform's rate-limit answer (Slack's 429 with
 * Retry-After); the outbox backs off by it without knowing the platform. The refused call
 * delivered nothing; `partlySent`: earlier calls of the same notification did (a reminder's
 * thread reply before its DMs), so the next attempt is a resend.
 */
export class SendRateLimitedError extends Error {
  constructor(
    readonly retryAfterMs: number,
    cause?: unknown,
    readonly partlySent = false,
  ) {
    super(`rate limited: retry after ${retryAfterMs} ms${cause instanceof Error ? ` (${cause.message})` : ''}`, cause === undefined ? undefined : { cause });
    this.name = 'SendRateLimitedError';
  }
}
