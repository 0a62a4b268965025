/** "Request access" on the App Home: opens the request form (as `/jit` does). */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { requestModal } from '../../blocks/modal';
import type { HandlerDeps } from '../deps';
import { userMessage } from '../errors';

export function homeRequestAction({ service, log }: HandlerDeps) {
  return async ({ ack, body, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: requestModal(await service.targetsFor(userId)) });
    } catch (err) {
      // No message to answer in the home tab: say it in the app's DM.
      await client.chat.postMessage({ channel: userId, text: userMessage(err, log, { userId, action: 'home-request' }) });
    }
  };
}
