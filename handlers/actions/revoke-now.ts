/**
 * "Revoke now" on the approval message of an ACTIVE grant (approvers), on the grant DM (the
 * requester) and in the App Home: exactly `/jit revoke <id>` after Slack's confirmation dialog.
 * The core decides who may (the requester or an approver of the target; anyone else gets the
 * same answer as for no such request) and the clicker gets the `/jit revoke` reply, ephemeral.
 * The approval message loses the button through the outbox, like every other update.
 */
import { revokedReply } from '../../blocks/command';
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

export const revokeNowAction = (deps: HandlerDeps) =>
  requestButton(deps, 'revoke-now', async ({ id, userId, reply }) => {
    await reply(revokedReply(await deps.service.revoke(id, userId)));
  });
