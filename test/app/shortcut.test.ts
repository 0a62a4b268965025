/**
 * The global shortcut "Request access" through real parts: a signed `shortcut` payload to the
 * real Bolt receiver opens the request form (views.open, recorded by the Slack stand-in) with
 * the targets the user may request, the same form `/jit` opens; a guest gets the refusal instead.
 */
import { ACTION_ADDRESS, ACTION_DURATION, ACTION_REASON, ACTION_TARGET, BLOCK_ADDRESS, BLOCK_DURATION, BLOCK_REASON, BLOCK_TARGET, CALLBACK_REQUEST_ACCESS_SHORTCUT, CALLBACK_REQUEST_MODAL } from '../../blocks/ids';
import { NOT_ELIGIBLE_MESSAGE } from '../../blocks/errors';
import { globalShortcut } from '../../testkit/slack-requests';
import { waitFor } from '../../testkit/wait';
import { APPROVER_CHANNEL, Harness, REQUESTER, SIGNING_SECRET } from '../support/harness';

const GUEST = 'U0GUEST';
const OTHER = 'U0OTHER';
let h: Harness;

const yaml = `
approverChannel: ${APPROVER_CHANNEL}
approvers:
  users: [U0APPROVER1]
targets:
  - name: prod-bastion
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef0
    region: eu-west-1
  - name: payments-db
    kind: ec2-ssh
    securityGroupId: sg-0123456789abcdef1
    region: eu-west-1
    requesters: { users: [${OTHER}] }
`;

beforeEach(async () => {
  h = await Harness.start({ configYaml: yaml });
  h.slack.userStates.set(GUEST, 'guest');
});
afterEach(async () => {
  await h.stop();
});

async function pressShortcut(userId: string, triggerId: string) {
  const res = await globalShortcut(h.url, SIGNING_SECRET, { userId, callbackId: CALLBACK_REQUEST_ACCESS_SHORTCUT, triggerId });
  await h.bot.listenersIdle();
  const call = await waitFor(() => h.slack.callsTo('views.open').find((c) => c.args.trigger_id === triggerId), { message: 'no views.open' });
  return { status: res.status, view: call.args.view as { callback_id?: string; blocks: { block_id?: string; element?: { options?: { value: string }[] }; text?: { text: string } }[] } };
}

it('opens the same request form as /jit, listing only the targets the user may request', async () => {
  const { status, view } = await pressShortcut(REQUESTER, 'trig-shortcut-1');
  expect(status).toBe(200);
  expect(view.callback_id).toBe(CALLBACK_REQUEST_MODAL);
  expect(view.blocks.map((b) => b.block_id)).toEqual([BLOCK_TARGET, BLOCK_DURATION, BLOCK_ADDRESS, BLOCK_REASON]);
  expect(view.blocks[0]!.element!.options!.map((o) => o.value)).toEqual(['prod-bastion']);

  // The form /jit opens is the same one.
  await h.command(REQUESTER, '');
  const fromCommand = h.lastOpenedView() as { blocks: unknown[] };
  expect(fromCommand.blocks).toEqual(view.blocks);

  // Submitting it files a request, as from /jit.
  await h.submitModal(
    REQUESTER,
    {
      [BLOCK_TARGET]: { [ACTION_TARGET]: { type: 'static_select', selected_option: { value: 'prod-bastion' } } },
      [BLOCK_DURATION]: { [ACTION_DURATION]: { type: 'plain_text_input', value: '30m' } },
      [BLOCK_ADDRESS]: { [ACTION_ADDRESS]: { type: 'plain_text_input', value: '203.0.113.7' } },
      [BLOCK_REASON]: { [ACTION_REASON]: { type: 'plain_text_input', value: 'from the shortcut' } },
    },
    CALLBACK_REQUEST_MODAL,
  );
  expect((await h.bot.service.listOpen(REQUESTER)).map((r) => [r.targetName, r.reason])).toEqual([['prod-bastion', 'from the shortcut']]);
});

it('a guest gets the refusal in a window, not the form; no target is named', async () => {
  const { status, view } = await pressShortcut(GUEST, 'trig-shortcut-guest');
  expect(status).toBe(200);
  expect(view.callback_id).not.toBe(CALLBACK_REQUEST_MODAL);
  const shown = JSON.stringify(view);
  expect(shown).toContain(NOT_ELIGIBLE_MESSAGE);
  expect(shown).not.toContain('prod-bastion');
  expect(h.slack.callsTo('chat.postMessage')).toHaveLength(0);
});
