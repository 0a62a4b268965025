/**
 * "Show credentials" on a role-backed grant's DM: credentials are issued on the spot for the
 * requester only and shown in a modal (views.open), which Slack does not keep in message history.
 * They are never posted as a message, stored or logged. The trigger id lasts 3 s: STS answers well
 * within it.
 */
import { credentialsModal } from '../../blocks/credentials';
import type { HandlerDeps } from '../deps';
import { requestButton } from './request-button';

export const showCredentialsAction = (deps: HandlerDeps) =>
  requestButton(deps, 'show-credentials', async ({ id, userId, triggerId, client }) => {
    const { request, credentials } = await deps.service.issueCredentials(id, userId);
    await client.views.open({ trigger_id: triggerId, view: credentialsModal(request, credentials) });
  });
