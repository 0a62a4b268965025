/**
 * "Approve…" / "Deny…": checks the clicker may decide (so nobody fills in a form only to be
 * refused), then opens the decision form. The form's private_metadata is the request id only.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/command';
import { decisionModal } from '../../blocks/decision';
import { findTarget } from '../../src/policy';
import type { HandlerDeps } from '../deps';
import { errorMessage, REQUEST_ID } from '../errors';

export function decideWithAction({ service, log }: HandlerDeps, decision: 'approve' | 'deny') {
  return async ({ ack, body, action, client, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const actorId = body.user.id;
    const id = action.value ?? '';
    const reply = (message: { text: string }) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
    if (!REQUEST_ID.test(id)) {
      await reply(errorReply('This button does not carry a valid request id.'));
      return;
    }
    try {
      const request = await service.checkDecision(id, actorId);
      await client.views.open({ trigger_id: body.trigger_id, view: decisionModal(request, findTarget(service.config, request.targetName), decision) });
    } catch (err) {
      await reply(errorMessage(err, log.child({ requestId: id }), { action: `${decision}-with`, actorId }));
    }
  };
}
