/**
 * The after-ack lane (on by default, AFTER_ACK_SLOTS = 2) through real parts: signed requests to
 * the real Bolt receiver, a real EC2Client against the simulated EC2. Two approvals whose grants
 * hang at EC2 (AuthorizeSecurityGroupIngress held at a gate) take both slots; `/jit` must still
 * open its form (views.open) while they hang, because a slot is a piece's for LANE_HOLD_MS at
 * most: Slack's trigger_id is good for 3 s, and an AWS call can take longer than that.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { ACTION_APPROVE } from '../../blocks/ids';
import { AFTER_ACK_SLOTS, LANE_HOLD_MS } from '../../src/yield-lane';
import { startFakeEc2, type FakeEc2 } from '../../testkit/fake-ec2';
import { blockAction, slashCommand } from '../../testkit/slack-requests';
import { waitFor } from '../../testkit/wait';
import { APPROVER, APPROVER_CHANNEL, Harness, REQUESTER, SIGNING_SECRET } from '../support/harness';

let fake: FakeEc2;
let client: EC2Client;
let h: Harness;
/** Authorize calls held at the gate, and how to let them through. */
const held: Array<() => void> = [];

beforeAll(async () => {
  fake = await startFakeEc2();
  client = new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'AuthorizeSecurityGroupIngressCommand') await new Promise<void>((resolve) => held.push(resolve));
      return next(args);
    },
    { step: 'initialize', name: 'holdAuthorize' },
  );
  h = await Harness.start({ ec2ClientFor: () => client });
});
afterAll(async () => {
  for (const release of held.splice(0)) release();
  await h.stop();
  client.destroy();
  await fake.close();
});

it('opens a form while every lane slot is held by a grant waiting on EC2, then finishes the grants', async () => {
  expect(AFTER_ACK_SLOTS).toBe(2);
  const ids = [
    await h.request('request prod-bastion 30m 203.0.113.7 first hung grant'),
    await h.request('request prod-bastion 30m 203.0.113.8 second hung grant'),
  ];
  // Two Approve clicks, not awaited to their end: each grant stops at EC2's Authorize.
  for (const id of ids) {
    const ts = h.approvalMessage(id)?.ts ?? '0';
    const res = await blockAction(h.url, SIGNING_SECRET, { userId: APPROVER, actionId: ACTION_APPROVE, value: id, channel: APPROVER_CHANNEL, messageTs: ts, responseUrl: h.slack.responseUrl() });
    expect(res.status).toBe(200);
  }
  await waitFor(() => held.length === 2, { message: 'both grants waiting at EC2', timeoutMs: 10_000 });

  // /jit with no text: the form opens while both grants still hang (within the hold, well inside 3 s
  // of Slack's; the wait allows far more so a busy machine does not fail it).
  const res = await slashCommand(h.url, SIGNING_SECRET, { userId: REQUESTER, text: '', responseUrl: h.slack.responseUrl(), triggerId: 'trig-lane-1' });
  expect(res.status).toBe(200);
  await waitFor(() => h.slack.callsTo('views.open').find((c) => c.args.trigger_id === 'trig-lane-1'), { message: 'views.open while the lane was full', timeoutMs: 20 * LANE_HOLD_MS });
  expect(held).toHaveLength(2);

  // The grants go on once EC2 answers: both ACTIVE, both rules at the stand-in.
  for (const release of held.splice(0)) release();
  await waitFor(async () => (await Promise.all(ids.map((id) => h.bot.service.get(id)))).every((r) => r?.status === 'ACTIVE'), { message: 'both grants ACTIVE', timeoutMs: 10_000 });
  expect(fake.rules().map((r) => r.cidrIpv4).sort()).toEqual(['203.0.113.7/32', '203.0.113.8/32']);
});
