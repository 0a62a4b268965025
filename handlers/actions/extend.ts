/**
 * "Extend" on the expiry-warning DM: checks the requester may extend this grant now and how much
 * time is left under its cap, then opens the extension form (private_metadata: the grant's id).
 */
import { extendModal } from '../../blocks/extend';
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

export const extendAction = (deps: HandlerDeps) =>
  requestButton(deps, 'extend', async ({ id, userId, triggerId, client }) => {
    const { request, target, maxMs, canExtend } = await deps.service.extensionLimit(id, userId);
    await client.views.open({ trigger_id: triggerId, view: extendModal(request, target, { maxMs, canExtend }) });
  });
