/**
 * Approve / Deny clicks. The button value carries only the request id; everything else is
 * re-read from the store and re-checked by the core (approver of this target, not the requester,
 * still pending, not approved by them already, still within policy) before anything reaches AWS.
 * Refusals are ephemeral; an approval that leaves the quorum short says how many are still needed.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { approvalRecordedReply, errorReply } from '../../blocks/command';
import type { SlackMessage } from '../../blocks/kit';
import type { AccessRequest } from '../../src/domain/types';
import type { HandlerDeps } from '../deps';
import { errorMessage, REQUEST_ID } from '../errors';

type Decide = (id: string, actorId: string) => Promise<AccessRequest>;

export function decisionAction(deps: HandlerDeps, name: 'approve' | 'deny', decide: (deps: HandlerDeps) => Decide) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const actorId = body.user.id;
    const id = action.value ?? '';
    const reply = (message: SlackMessage) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
    if (!REQUEST_ID.test(id)) {
      deps.log.warn({ event: 'action.bad_value', action: name, actorId }, 'button value is not a request id');
      await reply(errorReply('This button does not carry a valid request id.'));
      return;
    }
    try {
      // The approval message is updated through the outbox for everyone.
      const after = await decide(deps)(id, actorId);
      if (after.status === 'PENDING') await reply(approvalRecordedReply(after));
    } catch (err) {
      await reply(errorMessage(err, deps.log.child({ requestId: id }), { action: name, actorId }));
    }
  };
}
