import type { App } from '@slack/bolt';
import { CALLBACK_APPROVE_MODAL, CALLBACK_DENY_MODAL, CALLBACK_EXTEND_MODAL, CALLBACK_REQUEST_MODAL } from '../../blocks/ids';
import type { HandlerDeps } from '../deps';
import { decisionModalSubmission } from './decision-modal';
import { extendModalSubmission } from './extend-modal';
import { requestModalSubmission } from './request-modal';

export function registerViews(app: App, deps: HandlerDeps): void {
  app.view(CALLBACK_REQUEST_MODAL, requestModalSubmission(deps));
  app.view(CALLBACK_APPROVE_MODAL, decisionModalSubmission(deps, 'approve'));
  app.view(CALLBACK_DENY_MODAL, decisionModalSubmission(deps, 'deny'));
  app.view(CALLBACK_EXTEND_MODAL, extendModalSubmission(deps));
}
