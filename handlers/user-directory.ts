/**
 * Who a Slack user is, for STS SourceIdentity: their email when the app has users:read.email,
 * else their Slack user id. Answers are cached for ten minutes; a Slack failure falls back to the
 * user id (a grant never waits on Slack for long, and the user id is still a stable identity).
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { UserDirectory } from '../src/ports';

const TTL_MS = 10 * 60_000;
/** What STS accepts as SourceIdentity. */
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;

export class SlackUserDirectory implements UserDirectory {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async sourceIdentity(userId: string): Promise<string> {
    const cached = this.cache.get(userId);
    if (cached && cached.until > Date.now()) return cached.value;
    let value = userId;
    try {
      const res = await this.client.users.info({ user: userId });
      const email = res.user?.profile?.email;
      if (email && SOURCE_IDENTITY.test(email)) value = email;
    } catch (err) {
      this.log.warn({ event: 'users.info_failed', userId, err: (err as Error).message }, 'no email for SourceIdentity; using the Slack user id');
    }
    this.cache.set(userId, { value, until: Date.now() + TTL_MS });
    return value;
  }
}
