/**
 * The global shortcut "Request access" (lightning menu / search): opens the same request form as
 * `/jit` or `/jit request` without arguments, listing the targets the user may request (the same
 * service call). A shortcut has no reply channel, so a refusal (guests and other accounts the
 * core refuses, or Slack unable to confirm the account) is shown in a small window instead.
 */
import type { AllMiddlewareArgs, GlobalShortcut, SlackShortcutMiddlewareArgs } from '@slack/bolt';
import { noticeModal, requestModal } from '../../blocks/modal';
import type { HandlerDeps } from '../deps';
import { userMessage } from '../errors';

export function requestAccessShortcut({ service, log }: HandlerDeps) {
  return async ({ ack, shortcut, client }: SlackShortcutMiddlewareArgs<GlobalShortcut> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = shortcut.user.id;
    let view;
    try {
      view = requestModal(await service.targetsFor(userId));
    } catch (err) {
      view = noticeModal('Request access', userMessage(err, log, { userId, via: 'shortcut' }));
    }
    await client.views.open({ trigger_id: shortcut.trigger_id, view });
  };
}
