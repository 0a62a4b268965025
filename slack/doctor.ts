/**
 * The doctor's Slack checks, through the Web API client: the token is accepted (auth.test) and
 * carries every scope the bot uses (the x-oauth-scopes header, which the client exposes as
 * response_metadata.scopes), the approver channel exists with the bot in it, and the users and
 * user groups the policy names exist.
 */
import type { WebClient } from '@slack/web-api';
import { fail, pass, type CheckOutcome } from '../src/doctor';

/** Every bot scope the app uses, and why. manifest.yml lists exactly these (a test holds them equal). */
export const SLACK_BOT_SCOPES: Readonly<Record<string, string>> = {
  commands: '/jit',
  'chat:write': 'approval messages and DMs',
  'users:read': 'users named in the policy, the requester as SourceIdentity, who may act (guests, other workspaces, bots)',
  'users:read.email': "the requester's email as SourceIdentity",
  'usergroups:read': 'approvers and requesters named by user group',
  'channels:read': 'the doctor: the approver channel exists and the bot is in it (public channel)',
  'groups:read': 'the doctor: the approver channel exists and the bot is in it (private channel)',
  'channels:history': 'after a crash, a message is looked for before it is sent again (public channel)',
  'groups:history': 'after a crash, a message is looked for before it is sent again (private channel)',
  'im:history': 'after a crash, a DM is looked for before it is sent again',
  'im:write': 'after a crash: finding the DM to look in (conversations.open)',
};

/** The check the others point to when the token is refused. */
export const SLACK_TOKEN_CHECK = 'Slack token';
const USERS_SHOWN = 10;

type AuthLookup = { ok: true; user: string; team: string; scopes?: string[] } | { ok: false; outcome: CheckOutcome };

export class SlackDoctor {
  private authLookup?: Promise<AuthLookup>;

  constructor(private readonly client: WebClient) {}

  /** auth.test accepts the token. */
  async tokenCheck(): Promise<CheckOutcome> {
    const auth = await this.auth();
    return auth.ok ? pass(`accepted: bot user ${auth.user} in workspace ${auth.team}`) : auth.outcome;
  }

  /** Every scope of SLACK_BOT_SCOPES is granted. */
  async scopesCheck(): Promise<CheckOutcome> {
    const auth = await this.auth();
    if (!auth.ok) return notChecked();
    if (!auth.scopes) return fail('Slack did not say which scopes the token has (no x-oauth-scopes header)', 'check SLACK_API_URL: it should be Slack itself');
    const granted = new Set(auth.scopes);
    const missing = Object.keys(SLACK_BOT_SCOPES).filter((s) => !granted.has(s));
    if (missing.length === 0) return pass(`all ${Object.keys(SLACK_BOT_SCOPES).length} scopes granted`);
    return fail(
      `missing ${missing.map((s) => `${s} (${SLACK_BOT_SCOPES[s]})`).join(', ')}`,
      `add ${missing.join(', ')} under OAuth & Permissions → Bot Token Scopes (or update the app from manifest.yml), then reinstall the app to the workspace`,
    );
  }

  /** The approver channel (or the audit channel: `key`, `posts`) exists, is not archived, and the bot is a member. */
  async channelCheck(channelId: string, key = 'approverChannel', posts = 'approval requests'): Promise<CheckOutcome> {
    if (!(await this.auth()).ok) return notChecked();
    const invite = `invite the bot: in the channel, /invite @${(await this.botName()) ?? 'the bot'}`;
    try {
      const res = await this.client.conversations.info({ channel: channelId });
      const channel = res.channel;
      const label = channel?.name ? `#${channel.name} (${channelId})` : channelId;
      if (channel?.is_archived) return fail(`${label} is archived`, `unarchive it or set ${key} to another channel`);
      if (!channel?.is_member) return fail(`the bot is not a member of ${label}, so ${posts} cannot be posted there`, invite);
      return pass(`${label}: the bot is a member`);
    } catch (err) {
      const code = slackError(err);
      if (code === 'channel_not_found') {
        return fail(`channel ${channelId} not found (or it is private and the bot is not in it)`, `check ${key} (channel details → the id at the bottom) and ${invite}`);
      }
      return slackProblem(err, `reading channel ${channelId}`);
    }
  }

  /** Every user id exists and is not deactivated. */
  async usersCheck(userIds: readonly string[]): Promise<CheckOutcome> {
    if (!(await this.auth()).ok) return notChecked();
    const problems: string[] = [];
    for (const user of userIds) {
      try {
        const res = await this.client.users.info({ user });
        if (res.user?.deleted) problems.push(`${user} (${res.user.name ?? 'unknown'}) is deactivated`);
      } catch (err) {
        if (slackError(err) === 'user_not_found') problems.push(`${user} does not exist`);
        else return slackProblem(err, `looking up user ${user}`);
      }
    }
    if (problems.length === 0) return pass(`${userIds.length} user${userIds.length === 1 ? '' : 's'} found: ${shortList(userIds)}`);
    return fail(problems.join('; '), 'fix the user ids in the policy file (profile → ⋮ → Copy member ID)');
  }

  /** Every user group id exists. */
  async groupsCheck(groupIds: readonly string[]): Promise<CheckOutcome> {
    if (!(await this.auth()).ok) return notChecked();
    const problems: string[] = [];
    const sizes: string[] = [];
    for (const usergroup of groupIds) {
      try {
        const res = await this.client.usergroups.users.list({ usergroup });
        sizes.push(`${usergroup} (${res.users?.length ?? 0} member${res.users?.length === 1 ? '' : 's'})`);
      } catch (err) {
        const code = slackError(err);
        if (code === 'no_such_subteam' || code === 'subteam_not_found') problems.push(`${usergroup} does not exist`);
        else if (code === 'subteam_disabled') problems.push(`${usergroup} is disabled`);
        else return slackProblem(err, `reading user group ${usergroup}`);
      }
    }
    if (problems.length === 0) return pass(`${groupIds.length} group${groupIds.length === 1 ? '' : 's'} found: ${shortList(sizes)}`);
    return fail(problems.join('; '), 'fix the group ids in the policy file (People → User groups → the group → ⋮ → Copy group ID)');
  }

  private auth(): Promise<AuthLookup> {
    this.authLookup ??= this.client.auth.test().then(
      (res): AuthLookup => ({ ok: true, user: res.user ?? res.user_id ?? 'unknown', team: res.team ?? res.team_id ?? 'unknown', scopes: res.response_metadata?.scopes }),
      (err: unknown): AuthLookup => {
        const code = slackError(err);
        if (code && ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type'].includes(code)) {
          return { ok: false, outcome: fail(`Slack refused the bot token (${code})`, 'set SLACK_BOT_TOKEN to the Bot User OAuth Token (OAuth & Permissions), and reinstall the app if it was uninstalled') };
        }
        return { ok: false, outcome: slackProblem(err, 'calling auth.test') };
      },
    );
    return this.authLookup;
  }

  private async botName(): Promise<string | undefined> {
    const auth = await this.auth();
    return auth.ok ? auth.user : undefined;
  }
}

/** The Slack error code of a platform error (`{ ok: false, error }`), if it is one. */
function slackError(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: string } };
  return e?.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
}

function slackProblem(err: unknown, doing: string): CheckOutcome {
  const e = err as { data?: { error?: string; needed?: string }; message?: string };
  const code = slackError(err);
  if (code === 'missing_scope') {
    const needed = e.data?.needed ?? 'a scope';
    return fail(`could not check: the token lacks ${needed} (${doing})`, `add ${needed} under OAuth & Permissions → Bot Token Scopes, then reinstall the app`);
  }
  if (code) return fail(`Slack answered ${code} (${doing})`);
  return fail(`could not reach Slack (${doing}: ${e.message ?? String(err)})`, 'check the network and SLACK_API_URL');
}

function notChecked(): CheckOutcome {
  return fail(`not checked: Slack did not accept the token (see "${SLACK_TOKEN_CHECK}")`);
}

function shortList(items: readonly string[]): string {
  return items.length <= USERS_SHOWN ? items.join(', ') : `${items.slice(0, USERS_SHOWN).join(', ')}, and ${items.length - USERS_SHOWN} more`;
}
