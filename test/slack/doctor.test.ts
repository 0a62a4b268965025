/**
 * The doctor's Slack checks through a real WebClient against the local Slack stand-in, and the
 * one list of bot scopes held equal to manifest.yml.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { parse as parseYaml } from 'yaml';
import { SLACK_BOT_SCOPES, SlackDoctor } from '../../slack/doctor';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';

const CHANNEL = 'C0APPROVERS';
let slack: SlackStandIn;
let doctor: SlackDoctor;

beforeAll(async () => {
  slack = await startSlackStandIn();
});
afterAll(() => slack.close());
beforeEach(() => {
  slack.reset();
  doctor = new SlackDoctor(new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 } }));
});

it('manifest.yml asks for exactly the scopes the doctor checks', () => {
  const manifest = parseYaml(readFileSync(join(__dirname, '..', '..', 'manifest.yml'), 'utf8')) as { oauth_config: { scopes: { bot: string[] } } };
  expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(Object.keys(SLACK_BOT_SCOPES).sort());
});

describe('token and scopes', () => {
  it('passes when auth.test accepts the token and every scope is granted (read from the x-oauth-scopes header)', async () => {
    expect(await doctor.tokenCheck()).toEqual({ ok: true, detail: 'accepted: bot user jit-access-bot in workspace T1' });
    expect(await doctor.scopesCheck()).toEqual({ ok: true, detail: `all ${Object.keys(SLACK_BOT_SCOPES).length} scopes granted` });
    expect(slack.callsTo('auth.test')).toHaveLength(1);
  });

  it('fails naming each missing scope and what it is for', async () => {
    slack.scopes = Object.keys(SLACK_BOT_SCOPES).filter((s) => s !== 'chat:write' && s !== 'usergroups:read');
    const outcome = await doctor.scopesCheck();
    expect(outcome).toMatchObject({ ok: false, detail: 'missing chat:write (approval messages and DMs), usergroups:read (approvers and requesters named by user group)' });
    expect(outcome.fix).toMatch(/^add chat:write, usergroups:read under OAuth & Permissions .* reinstall the app/);
  });

  it('fails when Slack refuses the token, and the other checks say they were not checked', async () => {
    slack.failNext('auth.test', { error: 'invalid_auth' });
    expect(await doctor.tokenCheck()).toMatchObject({ ok: false, detail: 'Slack refused the bot token (invalid_auth)', fix: expect.stringContaining('SLACK_BOT_TOKEN') });
    const notChecked = { ok: false, detail: 'not checked: Slack did not accept the token (see "Slack token")' };
    expect(await doctor.scopesCheck()).toEqual(notChecked);
    expect(await doctor.channelCheck(CHANNEL)).toEqual(notChecked);
    expect(await doctor.usersCheck(['U0APPROVER1'])).toEqual(notChecked);
    expect(slack.callsTo('conversations.info')).toEqual([]);
  });
});

describe('approver channel', () => {
  it('passes when the bot is a member', async () => {
    slack.channels.set(CHANNEL, { name: 'jit-approvals', isMember: true });
    expect(await doctor.channelCheck(CHANNEL)).toEqual({ ok: true, detail: `#jit-approvals (${CHANNEL}): the bot is a member` });
  });

  it('fails when the bot is not in the channel, saying how to invite it', async () => {
    slack.channels.set(CHANNEL, { name: 'jit-approvals', isMember: false });
    expect(await doctor.channelCheck(CHANNEL)).toEqual({
      ok: false,
      detail: `the bot is not a member of #jit-approvals (${CHANNEL}), so approval requests cannot be posted there`,
      fix: 'invite the bot: in the channel, /invite @jit-access-bot',
    });
  });

  it('fails when the channel is not found', async () => {
    const outcome = await doctor.channelCheck(CHANNEL);
    expect(outcome).toMatchObject({ ok: false, detail: `channel ${CHANNEL} not found (or it is private and the bot is not in it)` });
    expect(outcome.fix).toMatch(/^check approverChannel .* and invite the bot/);
  });

  it('fails when the channel is archived', async () => {
    slack.channels.set(CHANNEL, { name: 'old', isMember: true, isArchived: true });
    expect(await doctor.channelCheck(CHANNEL)).toMatchObject({ ok: false, detail: `#old (${CHANNEL}) is archived` });
  });

  it('says which scope is missing when Slack answers missing_scope', async () => {
    slack.failNext('conversations.info', { error: 'missing_scope' });
    expect(await doctor.channelCheck(CHANNEL)).toMatchObject({ ok: false, detail: expect.stringMatching(/^could not check: the token lacks/) });
  });
});

describe('audit channel', () => {
  it('names auditChannel and the audit lines when the channel is missing or the bot is not in it', async () => {
    const missing = await doctor.channelCheck('C0AUDIT', 'auditChannel', 'audit lines');
    expect(missing).toMatchObject({ ok: false, detail: 'channel C0AUDIT not found (or it is private and the bot is not in it)' });
    expect(missing.fix).toMatch(/^check auditChannel .* and invite the bot/);
    slack.channels.set('C0AUDIT', { name: 'jit-audit', isMember: false });
    expect(await doctor.channelCheck('C0AUDIT', 'auditChannel', 'audit lines')).toMatchObject({ ok: false, detail: 'the bot is not a member of #jit-audit (C0AUDIT), so audit lines cannot be posted there' });
    slack.channels.set('C0AUDIT', { name: 'jit-audit', isMember: true, isArchived: true });
    expect(await doctor.channelCheck('C0AUDIT', 'auditChannel', 'audit lines')).toMatchObject({ ok: false, fix: 'unarchive it or set auditChannel to another channel' });
  });
});

describe('users and groups named in the policy', () => {
  it('passes when every user exists', async () => {
    expect(await doctor.usersCheck(['U0APPROVER1', 'U0APPROVER2'])).toEqual({ ok: true, detail: '2 users found: U0APPROVER1, U0APPROVER2' });
  });

  it('fails naming a deactivated user and an unknown one', async () => {
    slack.userStates.set('U0GONE', 'deleted');
    slack.userStates.set('U0TYPO', 'missing');
    const outcome = await doctor.usersCheck(['U0APPROVER1', 'U0GONE', 'U0TYPO']);
    expect(outcome).toEqual({ ok: false, detail: 'U0GONE (u0gone) is deactivated; U0TYPO does not exist', fix: 'fix the user ids in the policy file (profile → ⋮ → Copy member ID)' });
  });

  it('passes when every group exists, with its size', async () => {
    slack.userGroups.set('S0ONCALL', ['U1', 'U2']);
    expect(await doctor.groupsCheck(['S0ONCALL'])).toEqual({ ok: true, detail: '1 group found: S0ONCALL (2 members)' });
  });

  it('fails naming an unknown group', async () => {
    slack.userGroups.set('S0ONCALL', ['U1']);
    expect(await doctor.groupsCheck(['S0ONCALL', 'S0NOPE'])).toMatchObject({ ok: false, detail: 'S0NOPE does not exist' });
  });
});
