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
  constructor(message: string, readonly retryable = false) {
    super(message);
  }
}
