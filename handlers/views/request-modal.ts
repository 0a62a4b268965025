/**
 * The request form's submission. Field errors are returned in the ack (Slack shows them under
 * the inputs), so validation and the policy check run before the ack; they read no more than the
 * (cached) Slack user groups. Then the request is
 * stored and the requester gets a DM with its id.
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { BLOCK_ACCOUNTS, BLOCK_ADDRESS, BLOCK_DURATION, BLOCK_REASON, BLOCK_TARGET } from '../../blocks/ids';
import { readRequestModal } from '../../blocks/modal';
import { ValidationError } from '../../src/domain/errors';
import type { HandlerDeps } from '../deps';
import { userMessage } from '../errors';
import { errorText } from '../../blocks/errors';

const FIELD_BLOCK: Record<string, string> = { target: BLOCK_TARGET, duration: BLOCK_DURATION, address: BLOCK_ADDRESS, accounts: BLOCK_ACCOUNTS, reason: BLOCK_REASON };

export function requestModalSubmission({ service, log }: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const requesterId = body.user.id;
    const input = { requesterId, ...readRequestModal(view.state.values) };
    try {
      // Input rules and the approval policy (deny rules, requesters, quorum), nothing stored.
      await service.precheck(input);
    } catch (err) {
      if (err instanceof ValidationError) {
        await ack({ response_action: 'errors', errors: { [FIELD_BLOCK[err.field ?? 'reason'] ?? BLOCK_REASON]: errorText(err).slice(0, 150) } });
        return;
      }
      // Anything else (Slack user groups unreadable): close the form and say so by DM.
      await ack();
      await client.chat.postMessage({ channel: requesterId, text: userMessage(err, log, { requesterId, via: 'modal' }) });
      return;
    }
    await ack();
    try {
      await service.submit(input, { notifyRequester: true });
    } catch (err) {
      await client.chat.postMessage({ channel: requesterId, text: userMessage(err, log, { requesterId, via: 'modal' }) });
    }
  };
}
