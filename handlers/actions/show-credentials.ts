/**
 * "Show credentials" on a role-backed grant's DM: credentials are issued on the spot for the
 * requester only and shown in a modal (views.open), which Slack does not keep in message history.
 * They are never posted as a message, stored or logged. The trigger id lasts 3 s: STS answers well
 * within it.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/command';
import { credentialsModal } from '../../blocks/credentials';
import type { HandlerDeps } from '../deps';
import { errorMessage, REQUEST_ID } from '../errors';

export function showCredentialsAction({ service, log }: HandlerDeps) {
  return async ({ ack, body, action, client, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const id = action.value ?? '';
    const reply = (message: { text: string }) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
    if (!REQUEST_ID.test(id)) {
      await reply(errorReply('This button does not carry a valid request id.'));
      return;
    }
    try {
      const { request, credentials } = await service.issueCredentials(id, userId);
      await client.views.open({ trigger_id: body.trigger_id, view: credentialsModal(request, credentials) });
    } catch (err) {
      await reply(errorMessage(err, log.child({ requestId: id }), { action: 'show-credentials', userId }));
    }
  };
}
