/**
 * "Extend" on the expiry-warning DM: checks the requester may extend this grant now and how much
 * time is left under its cap, then opens the extension form (private_metadata: the grant's id).
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/command';
import { extendModal } from '../../blocks/extend';
import type { HandlerDeps } from '../deps';
import { errorMessage, REQUEST_ID } from '../errors';

export function extendAction({ service, log }: HandlerDeps) {
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
      const { request, target, maxMs } = await service.extensionLimit(id, userId);
      await client.views.open({ trigger_id: body.trigger_id, view: extendModal(request, target, { maxMs }) });
    } catch (err) {
      await reply(errorMessage(err, log.child({ requestId: id }), { action: 'extend', userId }));
    }
  };
}
