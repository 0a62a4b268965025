/**
 * "Reviewed" on a break-glass request: an approver (not the requester) marks it reviewed. The
 * core re-checks everything; the approval message loses the button through the outbox.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/command';
import type { HandlerDeps } from '../deps';
import { errorMessage, REQUEST_ID } from '../errors';

export function reviewAction({ service, log }: HandlerDeps) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const actorId = body.user.id;
    const id = action.value ?? '';
    const reply = (message: { text: string }) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
    if (!REQUEST_ID.test(id)) {
      await reply(errorReply('This button does not carry a valid request id.'));
      return;
    }
    try {
      await service.review(id, actorId);
    } catch (err) {
      await reply(errorMessage(err, log.child({ requestId: id }), { action: 'review', actorId }));
    }
  };
}
