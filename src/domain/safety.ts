/**
 * Safe defaults (issue 10): who may act at all, and how often one person may ask. Pure
 * functions; the service reads the facts (Slack profile, the requester's recent requests) and
 * these decide. The refusals are codes; their words (blocks/errors.ts) say what to do and reveal nothing else.
 */
import { NotAllowedError } from './errors';
import type { AccessRequest } from './types';

/** What Slack says about an account, as far as the bot's safety rules care. */
export interface ActorProfile {
  /** A multi-channel or single-channel guest (`is_restricted`, `is_ultra_restricted`). */
  guest: boolean;
  /** A user of another workspace (Slack Connect: another team, or `is_stranger`). */
  external: boolean;
  /** A deactivated account. */
  deleted: boolean;
  /** A bot or app user. */
  bot: boolean;
}

/** One limit: at most `max` within any `perMs` window (counted back from now). */
export interface RateLimit {
  max: number;
  perMs: number;
}

export interface RateLimits {
  /** Every request and extension a user sends, break-glass included. */
  requests: RateLimit;
  /** Break-glass requests (granted at once and alerting @here) on top of the above. */
  breakGlass: RateLimit;
}

/**
 * 10 requests an hour is more than a busy on-call shift needs (a grant lasts minutes to hours
 * and can be extended) and stops a script or a compromised account from flooding approvers;
 * 2 break-glass grants a day covers a real incident plus one retry, while a third instant grant
 * in a day is exactly what a security team wants a human to look at first.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  requests: { max: 10, perMs: 3_600_000 },
  breakGlass: { max: 2, perMs: 24 * 3_600_000 },
};

/** Why an account may not act: the reason code, for the log and the audit (never shown). */
export type IneligibleReason = 'guest' | 'external' | 'deleted' | 'bot';

export function ineligibleReason(p: ActorProfile, allowGuests: boolean): IneligibleReason | undefined {
  if (p.deleted) return 'deleted';
  if (p.bot) return 'bot';
  if (p.external) return 'external';
  if (p.guest && !allowGuests) return 'guest';
  return undefined;
}

/** Thrown when an account may not act (guest, external, deleted, bot) or cannot be checked. */
export class NotEligibleError extends NotAllowedError {
  constructor(
    readonly reason: IneligibleReason | 'unknown',
  ) {
    super(reason === 'unknown' ? 'profile-unknown' : 'not-eligible', {});
  }
}

/** Thrown when a user has sent as many requests as the limit allows; nothing is stored. */
export class RateLimitedError extends NotAllowedError {
  constructor(
    readonly limit: 'requests' | 'breakGlass',
    readonly retryAt: Date,
    details: { max: number; perMs: number; waitMs: number },
  ) {
    super('rate-limited', { limit, retryAt: retryAt.toISOString(), ...details });
  }
}

/**
 * Throws RateLimitedError when one more request (or break-glass request) by this user would go
 * over a limit. `recent`: the user's requests, newest first (their own extensions included).
 */
export function checkRateLimits(limits: RateLimits, recent: readonly AccessRequest[], now: Date, breakGlass: boolean): void {
  check(limits.requests, recent, now, 'requests');
  if (breakGlass) check(limits.breakGlass, recent.filter(isBreakGlass), now, 'breakGlass');
}

function isBreakGlass(r: AccessRequest): boolean {
  return r.breakGlass === true || r.audit[0]?.details?.breakGlass === 'requested';
}

function check(limit: RateLimit, requests: readonly AccessRequest[], now: Date, which: 'requests' | 'breakGlass'): void {
  const since = now.getTime() - limit.perMs;
  const inWindow = requests
    .map((r) => Date.parse(r.createdAt))
    .filter((t) => t > since && t <= now.getTime())
    .sort((a, b) => b - a);
  if (inWindow.length < limit.max) return;
  // The oldest request that still counts leaves the window first; one slot frees up then.
  const retryAt = new Date(inWindow[limit.max - 1]! + limit.perMs);
  const waitMs = Math.max(60_000, Math.ceil((retryAt.getTime() - now.getTime()) / 60_000) * 60_000);
  throw new RateLimitedError(which, retryAt, { max: limit.max, perMs: limit.perMs, waitMs });
}
