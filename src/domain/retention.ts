/**
 * How long a resolved request (and with it its reason, address, user ids and audit trail) is kept
 * before DynamoDB's TTL may delete it. One home for the default, the bounds and the arithmetic.
 *
 * Only resolved (terminal) requests get `purgeAt`. TTL is never a revocation mechanism: access ends
 * because the sweeper revokes it, and TTL deletes lag by up to days.
 */
const DAY_MS = 86_400_000;

/** 400 days ≈ 13 months: a full yearly audit period (e.g. a SOC 2 Type II window) plus a month's slack. */
export const DEFAULT_RETENTION_MS = 400 * DAY_MS;
/** Shorter than this and a monthly access review could find nothing to review. */
export const MIN_RETENTION_MS = 30 * DAY_MS;
/** Ten years: beyond that a record is kept forever in all but name. */
export const MAX_RETENTION_MS = 3_650 * DAY_MS;

/** The TTL attribute value: epoch SECONDS (what DynamoDB TTL reads), `retentionMs` after `resolvedAt`. */
export function purgeAtFor(resolvedAt: Date, retentionMs: number): number {
  return Math.floor((resolvedAt.getTime() + retentionMs) / 1000);
}
