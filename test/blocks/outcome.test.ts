/**
 * Words for failure and refusal codes: every code has words, AWS's text is never rendered, and a
 * refusal names its rule.
 */
import { CANNOT_DECIDE, failureReply, failureWords, refusalWords } from '../../blocks/outcome';
import { FAILURE_CODES, failureCodeOf, REFUSAL_CODES } from '../../src/domain/errors';

it.each(FAILURE_CODES)('failure %s: words, the code and the reference', (code) => {
  expect(failureWords(code, 'REF12345')).toMatch(new RegExp(`^[A-Za-z].+ \\(${code}, ref REF12345\\)$`));
});

it('a stored failure that is not a code (an item written before codes) is never shown as such', () => {
  const words = failureWords(`UnauthorizedOperation: arn:aws:iam::123456789012:role/x is not authorized`, undefined);
  expect(words).toBe('AWS returned an error (aws-error)');
  expect(failureReply('aws-denied', 'ABCDEFGH')).toContain('aws-denied, ref ABCDEFGH');
});

it.each(REFUSAL_CODES)('refusal %s has its own words', (code) => {
  expect(refusalWords({ code })).toMatch(/^Refused/);
});

it('a deny-rule refusal names the rule, formatted by the caller', () => {
  expect(refusalWords({ code: 'deny-rule', rule: 'no-nights' }, (r) => `\`${r}\``)).toBe('Refused by the deny rule `no-nights`');
  expect(CANNOT_DECIDE).toBe("You can't approve this request.");
});

it.each([
  ['AccessDenied', 'aws-denied'],
  ['UnauthorizedOperation', 'aws-denied'],
  ['RequestLimitExceeded', 'aws-throttled'],
  ['Throttling', 'aws-throttled'],
  ['InvalidGroup.NotFound', 'aws-not-found'],
  ['NoSuchEntity', 'aws-not-found'],
  ['InternalError', 'aws-error'],
])('AWS error %s → %s', (name, code) => {
  expect(failureCodeOf(name)).toBe(code);
});
