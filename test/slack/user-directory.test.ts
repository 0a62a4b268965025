/**
 * The user directory's profile (issue 10): users.info and auth.test through a real WebClient
 * against the local Slack stand-in. Guests, other workspaces, deactivated accounts and bots are
 * told apart; answers are cached briefly; a failure is thrown (the core refuses) and not cached.
 */
import { WebClient } from '@slack/web-api';
import pino from 'pino';
import { SlackUserDirectory } from '../../slack/user-directory';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';

let slack: SlackStandIn;
let users: SlackUserDirectory;

beforeAll(async () => {
  slack = await startSlackStandIn();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  slack.reset();
  users = new SlackUserDirectory(new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 } }), pino({ level: 'silent' }));
});

const MEMBER = { guest: false, external: false, deleted: false, bot: false };

it.each<[string, Parameters<SlackStandIn['userStates']['set']>[1] | undefined, typeof MEMBER]>([
  ['a full member', undefined, MEMBER],
  ['a multi-channel guest', 'guest', { ...MEMBER, guest: true }],
  ['a single-channel guest', 'single-channel-guest', { ...MEMBER, guest: true }],
  ['a user of another workspace', 'external', { ...MEMBER, external: true }],
  ['a stranger', 'stranger', { ...MEMBER, external: true }],
  ['a deactivated account', 'deleted', { ...MEMBER, deleted: true }],
  ['a bot', 'bot', { ...MEMBER, bot: true }],
])('%s', async (_name, state, expected) => {
  if (state) slack.userStates.set('U0SOMEONE', state);
  await expect(users.profile('U0SOMEONE')).resolves.toEqual(expected);
});

it('caches an answer (one users.info, one auth.test), never a failure', async () => {
  slack.userStates.set('U0FLAKY', 'error');
  await expect(users.profile('U0FLAKY')).rejects.toThrow();
  slack.userStates.delete('U0FLAKY');
  await expect(users.profile('U0FLAKY')).resolves.toEqual(MEMBER);
  await expect(users.profile('U0FLAKY')).resolves.toEqual(MEMBER);
  expect(slack.callsTo('users.info')).toHaveLength(2);
  expect(slack.callsTo('auth.test')).toHaveLength(1);
});

it('fails when auth.test fails (the bot cannot tell its own workspace), and asks again next time', async () => {
  slack.failNext('auth.test', { error: 'fatal_error' });
  await expect(users.profile('U0ALICE')).rejects.toThrow();
  await expect(users.profile('U0ALICE')).resolves.toEqual(MEMBER);
});

it('remembers a bounded number of users: past the bound the oldest is asked again, the recent stay cached', async () => {
  const small = new SlackUserDirectory(new WebClient('xoxb-test', { slackApiUrl: slack.url, retryConfig: { retries: 0 } }), pino({ level: 'silent' }), 2);
  for (const u of ['U0ONE', 'U0TWO', 'U0THREE']) await small.profile(u);
  for (const u of ['U0ONE', 'U0TWO', 'U0THREE']) await small.sourceIdentity(u);
  expect(slack.callsTo('users.info')).toHaveLength(6);
  await small.profile('U0THREE'); // still cached
  await small.sourceIdentity('U0THREE');
  expect(slack.callsTo('users.info')).toHaveLength(6);
  await small.profile('U0ONE'); // forgotten: the bound held
  await small.sourceIdentity('U0ONE');
  expect(slack.callsTo('users.info')).toHaveLength(8);
});
