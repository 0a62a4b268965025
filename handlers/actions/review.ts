/**
 * "Reviewed" on a break-glass request: an approver (not the requester) marks it reviewed. The
 * core re-checks everything; the approval message loses the button through the outbox.
 */
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

export const reviewAction = (deps: HandlerDeps) =>
  requestButton(deps, 'review', async ({ id, userId }) => {
    await deps.service.review(id, userId);
  });
