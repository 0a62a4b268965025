/** "Withdraw" on a pending request in the App Home: the requester withdraws it (never ends access). */
import { revokedReply } from '../../blocks/command';
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

export const withdrawAction = (deps: HandlerDeps) =>
  requestButton(deps, 'withdraw', async ({ id, userId, reply }) => {
    await reply(revokedReply(await deps.service.withdraw(id, userId)));
  });
