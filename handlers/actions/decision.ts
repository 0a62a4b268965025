/**
 * Approve / Deny clicks. The button value carries only the request id; everything else is
 * re-read from the store and re-checked by the core (approver, not the requester, still
 * pending, still within policy) before anything reaches AWS. Refusals are ephemeral.
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { errorReply } from '../../blocks/command';
import type { AccessRequest } from '../../src/domain/types';
import type { HandlerDeps } from '../deps';
import { REQUEST_ID, userMessage } from '../errors';

type Decide = (id: string, actorId: string) => Promise<AccessRequest>;

export function decisionAction(deps: HandlerDeps, name: 'approve' | 'deny', decide: (deps: HandlerDeps) => Decide) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const actorId = body.user.id;
    const id = action.value ?? '';
    const refuse = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, ...errorReply(text) });
    if (!REQUEST_ID.test(id)) {
      deps.log.warn({ event: 'action.bad_value', action: name, actorId }, 'button value is not a request id');
      await refuse('This button does not carry a valid request id.');
      return;
    }
    try {
      // The approval message is updated through the outbox; the clicker needs no extra reply.
      await decide(deps)(id, actorId);
    } catch (err) {
      await refuse(userMessage(err, deps.log.child({ requestId: id }), { action: name, actorId }));
    }
  };
}
