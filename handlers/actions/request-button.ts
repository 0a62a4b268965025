/**
 * The shape every request button shares: ack first; the value must be a request id (nothing
 * else is trusted from it); the core's refusal or any error becomes an ephemeral reply to the
 * clicker, never a crash.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { badIdReply } from '../../blocks/command';
import type { SlackMessage } from '../../blocks/kit';
import type { HandlerDeps } from '../deps';
import { isRequestId } from '../../src/domain/ids';
import { errorMessage, warnBadId } from '../errors';

export interface ButtonContext {
  /** The request id the button carried (checked). */
  id: string;
  userId: string;
  triggerId: string;
  client: AllMiddlewareArgs['client'];
  reply(message: SlackMessage): Promise<unknown>;
}

export function requestButton({ log }: HandlerDeps, name: string, run: (ctx: ButtonContext) => Promise<void>) {
  return async ({ ack, body, action, client, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const id = action.value ?? '';
    // A click in the App Home has no message to answer (no response_url): the reply goes to the app's DM.
    const reply = (message: SlackMessage) => (body.response_url ? respond({ response_type: 'ephemeral', replace_original: false, ...message }) : client.chat.postMessage({ channel: userId, ...message }));
    if (!isRequestId(id)) {
      warnBadId(log, 'button', action.value, { action: name, userId });
      await reply(badIdReply('button'));
      return;
    }
    try {
      await run({ id, userId, triggerId: body.trigger_id, client, reply });
    } catch (err) {
      await reply(errorMessage(err, log.child({ requestId: id }), { action: name, userId }));
    }
  };
}
