/**
 * Slack user groups for the policy (approvers and requesters named by group), through
 * usergroups.users.list (scope usergroups:read). Members are cached for a short TTL so a burst of
 * clicks costs one call per group; a lookup that does not find the user refreshes an entry older
 * than a few seconds first, so someone just added to a group is not refused for a whole TTL.
 * A fresh read (`{ fresh: true }`) skips the cache: the policy decided again before a grant uses it.
 * A failed lookup is an error (fail closed): nobody gains approval rights because Slack was down.
 */
import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Clock, GroupDirectory, GroupReadOptions } from '../src/ports';

export interface GroupDirectoryOptions {
  /** How long members are trusted (default 60 s). */
  ttlMs?: number;
  /** A miss refreshes entries older than this (default 5 s), at most once per group per interval. */
  refreshOnMissAfterMs?: number;
}

interface Entry {
  members: readonly string[];
  fetchedAt: number;
}

export class SlackGroupDirectory implements GroupDirectory {
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Entry>>();
  private readonly ttlMs: number;
  private readonly refreshAfterMs: number;

  constructor(
    private readonly client: WebClient,
    private readonly clock: Clock,
    private readonly log: Logger,
    o: GroupDirectoryOptions = {},
  ) {
    this.ttlMs = o.ttlMs ?? 60_000;
    this.refreshAfterMs = o.refreshOnMissAfterMs ?? 5_000;
  }

  async members(groupId: string, opts: GroupReadOptions = {}): Promise<readonly string[]> {
    return (await this.entry(groupId, opts.fresh === true)).members;
  }

  /** `fresh`: bypass the cache (the policy decided again before a grant); the answer refreshes it. */
  async groupsOf(userId: string, groupIds: readonly string[], opts: GroupReadOptions = {}): Promise<Set<string>> {
    const found = new Set<string>();
    await Promise.all(
      groupIds.map(async (g) => {
        let entry = await this.entry(g, opts.fresh === true);
        if (!entry.members.includes(userId) && this.clock.now().getTime() - entry.fetchedAt >= this.refreshAfterMs) entry = await this.entry(g, true);
        if (entry.members.includes(userId)) found.add(g);
      }),
    );
    return found;
  }

  private async entry(groupId: string, refresh: boolean): Promise<Entry> {
    const cached = this.cache.get(groupId);
    const now = this.clock.now().getTime();
    if (cached && !refresh && now - cached.fetchedAt < this.ttlMs) return cached;
    const pending = this.inFlight.get(groupId);
    if (pending) return pending;
    const fetch = this.fetch(groupId).finally(() => this.inFlight.delete(groupId));
    this.inFlight.set(groupId, fetch);
    return fetch;
  }

  private async fetch(groupId: string): Promise<Entry> {
    try {
      const res = await this.client.usergroups.users.list({ usergroup: groupId });
      const entry = { members: [...(res.users ?? [])], fetchedAt: this.clock.now().getTime() };
      this.cache.set(groupId, entry);
      return entry;
    } catch (err) {
      this.log.error({ event: 'usergroups.lookup_failed', groupId, err: (err as Error).message }, 'could not read a Slack user group');
      throw new Error(`could not read Slack user group ${groupId} (${(err as Error).message}); check the usergroups:read scope`);
    }
  }
}
