/**
 * Classification of AWS SDK errors, shared by the AWS adapters: is it worth trying again?
 * Pure functions, no SDK import: they look only at the shape of the thrown value.
 */
import { failureCodeOf, GrantError } from '../domain/errors';

/** Error codes AWS uses for throttling and transient server-side trouble. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Built-in error types that signal a bug in our code, never a flaky network. */
const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function shape(err: unknown): AwsErrorShape {
  return typeof err === 'object' && err !== null ? (err as AwsErrorShape) : {};
}

/**
 * The AWS error code of a thrown value ("InvalidGroup.NotFound"), or the Node network code
 * ("ECONNREFUSED") when no HTTP response was received. "Unknown" when there is neither.
 */
export function awsErrorCode(err: unknown): string {
  const e = shape(err);
  for (const candidate of [e.Code, e.code, e.name]) {
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'Error') return candidate;
  }
  return 'Unknown';
}

/**
 * True when retrying the same call later may succeed: throttling, AWS-side 5xx, and failures where
 * no HTTP response came back at all (connection refused/reset, DNS, timeouts). Note that the SDK
 * attaches `$metadata` ({ attempts, totalRetryDelay }) even to network errors, so "no response"
 * means "no httpStatusCode", not "no $metadata".
 */
export function isRetryableAwsError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = shape(err);
  if (TRANSIENT_CODES.has(awsErrorCode(err)) || e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return !PROGRAMMING_ERRORS.some((type) => err instanceof type);
}

/**
 * Maps an SDK error to a GrantError naming what we were doing: throttling, 5xx and network
 * errors are retryable; anything else is final, with a hint for the operator when there is one.
 */
export function awsFailure(err: unknown, doing: string, hint?: string): GrantError {
  const detail = `${awsErrorCode(err).replace(/Exception$/, '')}: ${err instanceof Error ? err.message : String(err)}`;
  const code = failureCodeOf(awsErrorCode(err));
  if (isRetryableAwsError(err)) return new GrantError(`${doing} failed for now (${detail}); retrying may succeed`, true, code);
  return new GrantError(`${doing} failed (${detail})${hint ? `; ${hint}` : ''}`, false, code);
}
