/**
 * "More" under a `/jit audit @user|<target>` listing: the value is a page token (nothing else is
 * trusted from it), decoded and validated here; the core checks the clicker is an approver again,
 * and the next page is a new ephemeral reply (the earlier page stays where it is).
 */
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { auditBadPageReply, auditHistoryReply } from '../../blocks/audit';
import type { SlackMessage } from '../../blocks/kit';
import { decodeAuditPage } from '../../src/domain/audit';
import type { HandlerDeps } from '../deps';
import { errorMessage } from '../errors';

export function auditMoreAction({ service, log }: HandlerDeps) {
  return async ({ ack, body, action, respond }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const reply = (message: SlackMessage) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
    const page = decodeAuditPage(action.value);
    if (!page) {
      log.warn({ event: 'input.bad_page', length: typeof action.value === 'string' ? action.value.length : undefined, userId }, 'refused a page token that is not one');
      await reply(auditBadPageReply());
      return;
    }
    try {
      await reply(auditHistoryReply(await service.auditHistory(userId, page)));
    } catch (err) {
      await reply(errorMessage(err, log, { action: 'audit-more', userId }));
    }
  };
}
