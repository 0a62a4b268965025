/**
 * The "Approve…" / "Deny…" forms. The request id comes from private_metadata and is treated like
 * a button value: checked, then everything is re-read and re-checked by the core. Field errors
 * (a note too long, a duration longer than asked) go back in the ack, under the input; a refusal
 * after the ack (someone else decided meanwhile) is sent to the approver as a DM.
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { readDecisionModal } from '../../blocks/decision';
import { BLOCK_COMMENT, BLOCK_DECISION_DURATION } from '../../blocks/ids';
import { ValidationError } from '../../src/domain/errors';
import type { HandlerDeps } from '../deps';
import { badIdText } from '../../blocks/command';
import { isRequestId } from '../../src/domain/ids';
import { userMessage, warnBadId } from '../errors';
import { errorText } from '../../blocks/errors';

export function decisionModalSubmission({ service, log }: HandlerDeps, decision: 'approve' | 'deny') {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const actorId = body.user.id;
    const id = view.private_metadata ?? '';
    const input = readDecisionModal(view.state.values);
    if (!isRequestId(id)) {
      warnBadId(log, 'form', view.private_metadata, { form: `${decision}-with`, actorId });
      await ack({ response_action: 'errors', errors: { [BLOCK_COMMENT]: badIdText('form') } });
      return;
    }
    try {
      // Field errors only; only someone who may decide hears about the request (its asked-for
      // duration included): anyone else gets the neutral refusal from the core after the ack.
      await service.precheckDecision(id, actorId, decision, input);
    } catch (err) {
      if (err instanceof ValidationError) {
        const block = err.field === 'duration' ? BLOCK_DECISION_DURATION : BLOCK_COMMENT;
        await ack({ response_action: 'errors', errors: { [block]: errorText(err).slice(0, 150) } });
        return;
      }
      throw err;
    }
    await ack();
    try {
      if (decision === 'approve') await service.approve(id, actorId, input);
      else await service.deny(id, actorId, { comment: input.comment });
    } catch (err) {
      await client.chat.postMessage({ channel: actorId, text: userMessage(err, log.child({ requestId: id }), { decision, actorId, via: 'form' }) });
    }
  };
}
