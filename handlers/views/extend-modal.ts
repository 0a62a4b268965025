/**
 * The extension form. The grant's id comes from private_metadata (checked like a button value).
 * Field errors go back in the ack; after it the extension goes through the same policy as any
 * request. The requester hears back by DM (sent for approval, extended, or why not).
 */
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { readExtendModal } from '../../blocks/extend';
import { BLOCK_EXTEND_DURATION, BLOCK_EXTEND_REASON } from '../../blocks/ids';
import { ValidationError } from '../../src/domain/errors';
import type { HandlerDeps } from '../deps';
import { badIdText } from '../../blocks/command';
import { isRequestId } from '../../src/domain/ids';
import { userMessage, warnBadId } from '../errors';
import { errorText } from '../../blocks/errors';

export function extendModalSubmission({ service, log }: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const userId = body.user.id;
    const id = view.private_metadata ?? '';
    const input = readExtendModal(view.state.values);
    if (!isRequestId(id)) {
      warnBadId(log, 'form', view.private_metadata, { form: 'extend', userId });
      await ack({ response_action: 'errors', errors: { [BLOCK_EXTEND_DURATION]: badIdText('form') } });
      return;
    }
    try {
      // Field errors only: the length (within the grant's headroom), the reason, a target gone.
      await service.precheckExtension(id, userId, input);
    } catch (err) {
      if (err instanceof ValidationError) {
        const block = err.field === 'reason' ? BLOCK_EXTEND_REASON : BLOCK_EXTEND_DURATION;
        await ack({ response_action: 'errors', errors: { [block]: errorText(err).slice(0, 150) } });
        return;
      }
      // Not the requester, grant ended: said after the ack, by DM.
    }
    await ack();
    try {
      await service.extend(id, userId, input);
    } catch (err) {
      await client.chat.postMessage({ channel: userId, text: userMessage(err, log.child({ requestId: id }), { userId, via: 'extend-form' }) });
    }
  };
}
