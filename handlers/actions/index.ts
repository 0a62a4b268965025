import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTION_APPROVE, ACTION_DENY, ACTION_SHOW_CREDENTIALS } from '../../blocks/ids';
import type { HandlerDeps } from '../deps';
import { approveAction } from './approve';
import { denyAction } from './deny';
import { showCredentialsAction } from './show-credentials';

export function registerActions(app: App, deps: HandlerDeps): void {
  app.action<BlockButtonAction>(ACTION_APPROVE, approveAction(deps));
  app.action<BlockButtonAction>(ACTION_DENY, denyAction(deps));
  app.action<BlockButtonAction>(ACTION_SHOW_CREDENTIALS, showCredentialsAction(deps));
}
