/**
 * Approve / Deny clicks. The button value carries only the request id; everything else is
 * re-read from the store and re-checked by the core (approver of this target, not the requester,
 * still pending, not approved by them already, still within policy) before anything reaches AWS.
 * Refusals are ephemeral; an approval that leaves the quorum short says how many are still needed.
 */
import { approvalRecordedReply } from '../../blocks/command';
import type { AccessRequest } from '../../src/domain/types';
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

type Decide = (id: string, actorId: string) => Promise<AccessRequest>;

export function decisionAction(deps: HandlerDeps, name: 'approve' | 'deny', decide: (deps: HandlerDeps) => Decide) {
  return requestButton(deps, name, async ({ id, userId, reply }) => {
    // The approval message is updated through the outbox for everyone.
    const after = await decide(deps)(id, userId);
    if (after.status === 'PENDING') await reply(approvalRecordedReply(after));
  });
}
