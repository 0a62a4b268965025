/**
 * Who has opened the bot's App Home (app_home_opened) since this process started. A home refresh
 * (home.refresh, queued by every transition that changes what a home shows) re-publishes only
 * these users' homes: a user who never opened it has nothing on screen to keep current, and their
 * home is built fresh when they first open it. That spares two store reads and a views.publish per
 * transition for most users. Bounded: the least recently seen are forgotten first.
 *
 * Per process: with several replicas, a user whose app_home_opened reached another replica is not
 * refreshed here until they open the tab again (which publishes it fresh).
 */
export class HomeViewers {
  private readonly seen = new Map<string, true>();

  constructor(private readonly max = 10_000) {}

  opened(userId: string): void {
    this.seen.delete(userId); // re-insert: most recent last
    this.seen.set(userId, true);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
  }

  has(userId: string): boolean {
    return this.seen.has(userId);
  }
}
