/**
 * Inline session policies (STS AssumeRole `Policy`): valid JSON of the IAM policy shape, at most
 * 2,048 characters once minified (STS's plaintext limit; STS also checks a packed size it does not
 * publish, and answers PackedPolicyTooLarge when that is exceeded).
 */
import { ValidationError } from './errors';

export const SESSION_POLICY_MAX_CHARS = 2_048;
/**
 * IAM's limit on all the inline policies of one role together, in characters other than
 * whitespace (the bot's deny policy on a target role; an Identity Center permission set's inline
 * policy, which becomes one on its role in each account).
 */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;

/** Characters IAM counts against ROLE_INLINE_POLICY_LIMIT: all but whitespace. */
export function inlinePolicySize(document: string): number {
  return document.replace(/\s/g, '').length;
}

/** Returns the minified policy, or throws ValidationError saying what is wrong. */
export function normaliseSessionPolicy(json: string, field = 'sessionPolicy'): string {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new ValidationError('plain', { text: `the session policy is not valid JSON (${(err as Error).message})` }, field);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ValidationError('plain', { text: 'the session policy must be a JSON object with Version and Statement' }, field);
  const policy = doc as Record<string, unknown>;
  if (typeof policy.Version !== 'string') throw new ValidationError('plain', { text: 'the session policy needs "Version": "2012-10-17"' }, field);
  if (!Array.isArray(policy.Statement) && (typeof policy.Statement !== 'object' || policy.Statement === null)) throw new ValidationError('plain', { text: 'the session policy needs a "Statement" (an object or a list)' }, field);
  const minified = JSON.stringify(doc);
  if (minified.length > SESSION_POLICY_MAX_CHARS) {
    throw new ValidationError('plain', { text: `the session policy is ${minified.length} characters once minified; STS accepts at most ${SESSION_POLICY_MAX_CHARS}` }, field);
  }
  return minified;
}
