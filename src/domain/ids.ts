/**
 * The request id format, defined once. Ids are made here, and every id that arrives from outside
 * (a command argument, a button value, a form's private_metadata) is checked against the same
 * pattern at the edge before anything reaches the core or the store.
 */
import { randomBytes } from 'node:crypto';

/** The Crockford base32 alphabet (no i, l, o, u), lower case. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_CHARS = 10;

/** "jit-" and 10 characters of Crockford base32 (50 bits). Anchored: nothing before or after. */
export const REQUEST_ID_PATTERN = /^jit-[0-9abcdefghjkmnpqrstvwxyz]{10}$/;

/** The longest a request id can be: longer input is refused without a regular-expression run. */
export const REQUEST_ID_LENGTH = 4 + ID_CHARS;

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && value.length === REQUEST_ID_LENGTH && REQUEST_ID_PATTERN.test(value);
}

/** A new request id (256 / 32 = 8: every character is equally likely). */
export function newRequestId(): string {
  let id = '';
  for (const b of randomBytes(ID_CHARS)) id += ALPHABET[b % 32];
  return `jit-${id}`;
}

/** A target's name (the config checks it; `/jit audit <target>` and its page token check it again). */
export const TARGET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** A Slack user id (U… or W…), as `<@U123|name>` carries it. */
export const USER_ID_PATTERN = /^[UW][A-Z0-9]{2,}$/;
