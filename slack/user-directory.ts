/**
 * Who a Slack user is, for STS SourceIdentity: their email when the app has users:read.email,
 * else their Slack user id. Answers are cached for ten minutes; a Slack failure falls back to the
 * user id (a grant never waits on Slack for long, and the user id is still a stable identity).
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { ActorProfile } from '../src/domain/safety';
import type { UserDirectory } from '../src/ports';

const TTL_MS = 10 * 60_000;
/** Profiles (guest, external, deleted, bot) are kept briefly: a deactivation or a guest downgrade counts within a minute. */
const PROFILE_TTL_MS = 60_000;
/** What STS accepts as SourceIdentity. */
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
/** Users remembered per cache: memory stays bounded however many people use the bot. */
export const USER_CACHE_MAX = 5_000;

/**
 * Caches an answer. Entries are kept in the order they were stored, and every entry of a map has
 * the same TTL, so the first is the one that expires first: expired entries are dropped from the
 * front, then the oldest past `max`.
 */
function remember<V>(map: Map<string, { value: V; until: number }>, key: string, value: V, ttlMs: number, max: number): void {
  const now = Date.now();
  map.delete(key);
  map.set(key, { value, until: now + ttlMs });
  for (const [k, e] of map) {
    if (e.until > now && map.size <= max) break;
    map.delete(k);
  }
}

export class SlackUserDirectory implements UserDirectory {
  private readonly cache = new Map<string, { value: string; until: number }>();
  private readonly profiles = new Map<string, { value: ActorProfile; until: number }>();
  /** The bot's own workspace (auth.test), asked once; a failure is not kept. */
  private home?: Promise<string>;

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
    private readonly max = USER_CACHE_MAX,
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
    remember(this.cache, userId, value, TTL_MS, this.max);
    return value;
  }

  /** Throws when Slack cannot answer (the core then refuses); failures are never cached. */
  async profile(userId: string): Promise<ActorProfile> {
    const cached = this.profiles.get(userId);
    if (cached && cached.until > Date.now()) return cached.value;
    const [team, res] = await Promise.all([this.homeTeam(), this.client.users.info({ user: userId })]);
    const u = res.user;
    if (!u) throw new Error('users.info returned no user');
    const value: ActorProfile = {
      guest: u.is_restricted === true || u.is_ultra_restricted === true,
      // Slack Connect: a user of another workspace (or one Slack marks a stranger).
      external: (u as { is_stranger?: boolean }).is_stranger === true || (u.team_id !== undefined && u.team_id !== team),
      deleted: u.deleted === true,
      bot: u.is_bot === true || u.is_app_user === true || userId === 'USLACKBOT',
    };
    remember(this.profiles, userId, value, PROFILE_TTL_MS, this.max);
    return value;
  }

  private homeTeam(): Promise<string> {
    this.home ??= this.client.auth.test().then((r) => {
      if (!r.team_id) throw new Error('auth.test returned no team_id');
      return r.team_id;
    });
    this.home.catch(() => (this.home = undefined));
    return this.home;
  }
}
