/**
 * Slack's rate limit in the core's terms: a Web API call refused with 429 (WebClient with
 * rejectRateLimitedCalls) becomes SendRateLimitedError with Slack's Retry-After in ms, so the
 * outbox backs off by it without knowing Slack.
 */
import { ErrorCode } from '@slack/web-api';
import { SendRateLimitedError } from '../src/domain/errors';

export function asSendError(err: unknown): unknown {
  const e = err as { code?: unknown; retryAfter?: unknown } | undefined;
  if (e?.code === ErrorCode.RateLimitedError && typeof e.retryAfter === 'number') return new SendRateLimitedError(e.retryAfter * 1000, err);
  return err;
}
