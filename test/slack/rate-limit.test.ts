/**
 * Slack's 429 reaches the core as the port's SendRateLimitedError (with Retry-After in ms), built
 * by the notifier from the Web API error; the outbox never sees a Slack error shape.
 */
import * as webApi from '@slack/web-api';
import { parseConfig } from '../../src/config';
import { SendRateLimitedError } from '../../src/domain/errors';
import { asSendError } from '../../slack/rate-limit';
import { SlackNotifier } from '../../slack/notifier';
import { type SlackStandIn, startSlackStandIn } from '../../testkit/slack-stand-in';
import { FakeClock } from '../support/clock';
import { pendingRequest } from '../support/requests';

const config = parseConfig(`
approverChannel: C0APPROVERS
approvers: { users: [U0APPROVER] }
targets: [{ name: prod-bastion, kind: ec2-ssh, securityGroupId: sg-0123456789abcdef0 }]
`);
/** What the notifier asks the core (nobody to remind, no Extend offered): not what these tests are about. */
const facts = { reminderAudience: async () => ({ mention: { users: [], groups: [] }, dm: [] }), extensionOffered: () => false, home: () => Promise.reject(new Error('not used')) };

let standIn: SlackStandIn;
beforeAll(async () => {
  standIn = await startSlackStandIn();
});
afterAll(async () => {
  await standIn.close();
});

it('a Slack 429 becomes SendRateLimitedError carrying Retry-After in ms', async () => {
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
  const notifier = new SlackNotifier(client, config, new FakeClock(), facts);
  standIn.failNext('chat.postMessage', { status: 429, retryAfter: 7 });
  const r = pendingRequest();
  const err = await notifier.send({ id: 'n1', kind: 'dm.submitted', createdAt: new Date().toISOString() }, r, config.targets[0]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SendRateLimitedError);
  expect((err as SendRateLimitedError).retryAfterMs).toBe(7_000);
});

it('other Slack errors pass through unchanged', async () => {
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: standIn.url, retryConfig: { retries: 0 } });
  const notifier = new SlackNotifier(client, config, new FakeClock(), facts);
  standIn.failNext('chat.postMessage', { error: 'channel_not_found' });
  const err = await notifier.send({ id: 'n2', kind: 'dm.submitted', createdAt: new Date().toISOString() }, pendingRequest(), config.targets[0]).catch((e: unknown) => e);
  expect(err).not.toBeInstanceOf(SendRateLimitedError);
  expect(err).toMatchObject({ code: webApi.ErrorCode.PlatformError });
  const plain = new Error('boom');
  expect(asSendError(plain)).toBe(plain);
});
