/**
 * "Approve…" / "Deny…": checks the clicker may decide (so nobody fills in a form only to be
 * refused), then opens the decision form. The form's private_metadata is the request id only.
 */
import { decisionModal } from '../../blocks/decision';
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

export function decideWithAction(deps: HandlerDeps, decision: 'approve' | 'deny') {
  return requestButton(deps, `${decision}-with`, async ({ id, userId, triggerId, client }) => {
    const { request, target } = await deps.service.decisionForm(id, userId);
    await client.views.open({ trigger_id: triggerId, view: decisionModal(request, target, decision) });
  });
}
