import type { App } from '@slack/bolt';
import { CALLBACK_REQUEST_MODAL } from '../../blocks/ids';
import type { HandlerDeps } from '../deps';
import { requestModalSubmission } from './request-modal';

export function registerViews(app: App, deps: HandlerDeps): void {
  app.view(CALLBACK_REQUEST_MODAL, requestModalSubmission(deps));
}
