/**
 * Exactly once, as people see it. The outbox delivers at least once: a replica that dies between
 * Slack's answer and the record of it leaves the message to be sent again. So every message the
 * bot posts for a request carries a stable key in its Slack metadata, one per (request, message,
 * recipient), and a resend (NotificationSender.send with `resend`) first looks for that key where
 * the message would be: the channel's history, the thread's replies, or the user's DM. A message
 * found there is not posted again.
 *
 * Only resends look (an earlier pass claimed the message and never recorded it sent), so the
 * usual path costs nothing extra. A lookup reads back to `sinceMs` (when the message was queued)
 * less CLOCK_SKEW_MS, at most MAX_PAGES pages. Reading history needs channels:history,
 * groups:history, im:history and im:write (slack/doctor.ts SLACK_BOT_SCOPES); when Slack refuses
 * the lookup (a scope not granted yet, say) the message is posted as before, and that is logged.
 */
import { ErrorCode, type WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { USER_ID_PATTERN } from '../src/domain/ids';

/** The metadata event type of the bot's messages. */
export const MESSAGE_EVENT_TYPE = 'jit_access_message';
/** How far before the message was queued a lookup still reads (the bot's clock against Slack's). */
export const CLOCK_SKEW_MS = 10 * 60_000;
/** Messages per history page, and the most pages one lookup reads. */
const PAGE = 100;
const MAX_PAGES = 10;

/** Where a message goes: a channel (or a user, for a DM), and the thread it replies in. */
export interface Destination {
  channel: string;
  threadTs?: string;
}

/** The stable key of one message: which request, which message of it, and to whom. */
export function messageKey(requestId: string, message: string, recipient: string): string {
  return `${requestId}/${message}/${recipient}`;
}

/** The `metadata` argument of chat.postMessage that carries a key. */
export function keyMetadata(key: string): { event_type: string; event_payload: { key: string } } {
  return { event_type: MESSAGE_EVENT_TYPE, event_payload: { key } };
}

interface HistoryMessage {
  ts?: string;
  bot_id?: string;
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

interface HistoryPage {
  messages?: HistoryMessage[];
  has_more?: boolean;
  response_metadata?: { next_cursor?: string };
}

export class SentMessages {
  /** The bot's own bot id (auth.test), so nobody else's message can stand in for one of ours. */
  private botId?: Promise<string | undefined>;

  constructor(
    private readonly client: WebClient,
    private readonly log?: Logger,
  ) {}

  /**
   * The message with `key` the bot posted to `to` since `sinceMs`, if Slack has it. Rate limits
   * and transport errors are thrown (the outbox retries the whole message later); a lookup Slack
   * refuses outright is logged and answers "not found", so the message still goes out.
   */
  async find(to: Destination, key: string, sinceMs: number): Promise<{ channel: string; ts: string } | undefined> {
    try {
      const channel = USER_ID_PATTERN.test(to.channel) ? await this.dmChannel(to.channel) : to.channel;
      const botId = await this.ownBotId();
      const oldest = (Math.max(0, sinceMs - CLOCK_SKEW_MS) / 1000).toFixed(6);
      let cursor: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const args = { channel, oldest, limit: PAGE, include_all_metadata: true, ...(cursor ? { cursor } : {}) };
        const res = (to.threadTs ? await this.client.conversations.replies({ ...args, ts: to.threadTs }) : await this.client.conversations.history(args)) as HistoryPage;
        const hit = res.messages?.find((m) => m.metadata?.event_type === MESSAGE_EVENT_TYPE && m.metadata.event_payload?.key === key && (botId === undefined || m.bot_id === botId));
        if (hit?.ts) return { channel, ts: hit.ts };
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!res.has_more || !cursor) return undefined;
      }
      this.log?.warn({ event: 'notify.lookup_truncated', key, pages: MAX_PAGES }, 'looked through the most history a resend reads without finding the message; sending it');
      return undefined;
    } catch (err) {
      const e = err as { code?: unknown; data?: { error?: unknown } };
      if (e.code !== ErrorCode.PlatformError) throw err;
      this.log?.warn({ event: 'notify.lookup_refused', key, slackError: e.data?.error }, 'Slack refused the look-up of an earlier delivery; sending the message (it may show twice). Run the doctor: the history scopes may be missing');
      return undefined;
    }
  }

  /** The DM channel of a user (conversations.open answers the existing one). */
  private async dmChannel(user: string): Promise<string> {
    const res = await this.client.conversations.open({ users: user });
    const id = res.channel?.id;
    if (!id) throw new Error(`conversations.open gave no channel for ${user}`);
    return id;
  }

  private ownBotId(): Promise<string | undefined> {
    this.botId ??= this.client.auth.test().then(
      (r) => r.bot_id,
      (err: unknown) => {
        this.botId = undefined; // asked again next time
        throw err;
      },
    );
    return this.botId;
  }
}
