/**
 * Words for the codes the core returns about an outcome: grant/revoke/credentials failures
 * (a code and a reference, never AWS's own message) and the policy's refusal of a request it
 * decided again. Plain text: callers escape / format.
 */
import { type FailureCode, isFailureCode, type RefusalCode } from '../src/domain/errors';
import type { AccessRequest } from '../src/domain/types';

const FAILURE_WORDS: Record<FailureCode, string> = {
  'aws-denied': 'AWS refused the bot permission',
  'aws-throttled': 'AWS is throttling the bot',
  'aws-not-found': 'AWS could not find the resource',
  'aws-error': 'AWS returned an error',
  'revoke-unverified': 'AWS does not yet confirm that the access was removed',
  'extension-ended': 'the access ended before the extension could be applied; send a new request',
  'extension-over-cap': 'the extension would take the access past the longest time its target allows',
  'extension-busy': 'the access kept changing while the extension was applied',
  'sso-user-not-found': 'IAM Identity Center has no user with your Slack email (ask an admin to check your Identity Center user and that the bot can read emails)',
  'sso-standing-access': 'you already hold this permission set on that account outside the bot, so there is nothing to grant (and the bot will not remove it)',
};

/** "AWS refused the bot permission (aws-denied, ref 7KQ3M9XD)". Stored text that is not a code (older items) is never shown. */
export function failureWords(code: string | undefined, ref: string | undefined): string {
  const known = isFailureCode(code) ? code : 'aws-error';
  return `${FAILURE_WORDS[known]} (${known}${ref ? `, ref ${ref}` : ''})`;
}

export function requestFailureWords(request: Pick<AccessRequest, 'failure' | 'failureRef'>): string {
  return failureWords(request.failure, request.failureRef);
}

const REFUSAL_WORDS: Record<RefusalCode, (rule?: string) => string> = {
  'deny-rule': (rule) => `Refused by the deny rule ${rule ?? 'of the policy'}`,
  'not-requester': () => 'Refused: the requester is no longer among the requesters of the target',
  'target-gone': () => 'Refused: the target is no longer configured',
  'target-changed': () => 'Refused: the target has changed kind',
  'duration-out-of-bounds': () => 'Refused: the duration is outside what the target now allows',
  'address-invalid': () => 'Refused: the stored address is not a single host',
  'break-glass-off': () => 'Refused: the target no longer allows break-glass access',
  'total-cap': () => 'Refused: the extension would take the access past the longest time its target allows',
  'quorum-unreachable': () => 'Refused: too few approvers are left to reach the quorum',
};

/** The policy's refusal as words (the rule name is plain text: escape it at the call site's format). */
export function refusalWords(refusal: NonNullable<AccessRequest['refusal']>, ruleText: (rule: string) => string = (r) => r): string {
  return REFUSAL_WORDS[refusal.code]?.(refusal.rule !== undefined ? ruleText(refusal.rule) : undefined) ?? 'Refused by the policy';
}

/** What someone who may not decide on a request is told, whatever the request (or none). */
export const CANNOT_DECIDE = "You can't approve this request.";

/** What people see of an unexpected failure in an AWS call they made (credentials): the code and the reference. */
export function failureReply(code: FailureCode, ref: string): string {
  return `That did not work: ${failureWords(code, ref)}. Nothing was changed; tell your platform team the reference if it happens again.`;
}
