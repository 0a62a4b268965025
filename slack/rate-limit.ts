/**
 * Slack's rate limit in the core's terms: a Web API call refused with 429 (WebClient with
 * rejectRateLimitedCalls) becomes SendRateLimitedError with Slack's Retry-After in ms, so the
 * outbox backs off by it without knowing Slack.
 */
import { ErrorCode } from '@slack/web-api';
import { SendRateLimitedError } from '../src/domain/errors';

/**
 * Slack's answers that no retry will change for a channel: it is gone, archived, or the bot is not
 * in it (or may not post there).
 */
const CHANNEL_UNUSABLE = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action', 'no_permission']);

/** The Slack error code when a Web API call failed because the channel cannot take the message. */
export function unusableChannel(err: unknown): string | undefined {
  const e = err as { code?: unknown; data?: { error?: unknown } } | undefined;
  const code = e?.code === ErrorCode.PlatformError && typeof e.data?.error === 'string' ? e.data.error : undefined;
  return code !== undefined && CHANNEL_UNUSABLE.has(code) ? code : undefined;
}

/** `partlySent`: earlier calls of the same notification went through (SendRateLimitedError). */
export function asSendError(err: unknown, partlySent = false): unknown {
  const e = err as { code?: unknown; retryAfter?: unknown } | undefined;
  if (e?.code === ErrorCode.RateLimitedError && typeof e.retryAfter === 'number') return new SendRateLimitedError(e.retryAfter * 1000, err, partlySent);
  return err;
}
