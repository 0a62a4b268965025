import type { App, BlockButtonAction } from '@slack/bolt';
import { ACTION_APPROVE, ACTION_APPROVE_WITH, ACTION_AUDIT_MORE, ACTION_DENY, ACTION_DENY_WITH, ACTION_EXTEND, ACTION_REVIEW, ACTION_REVOKE_NOW, ACTION_SHOW_CREDENTIALS } from '../../blocks/ids';
import type { HandlerDeps } from '../deps';
import { auditMoreAction } from './audit-more';
import { approveAction } from './approve';
import { approveWithAction } from './approve-with';
import { denyAction } from './deny';
import { denyWithAction } from './deny-with';
import { extendAction } from './extend';
import { reviewAction } from './review';
import { revokeNowAction } from './revoke-now';
import { showCredentialsAction } from './show-credentials';
import { ACTION_HOME_REQUEST, ACTION_WITHDRAW } from '../../blocks/ids';
import { homeRequestAction } from './home-request';
import { withdrawAction } from './withdraw';

export function registerActions(app: App, deps: HandlerDeps): void {
  app.action<BlockButtonAction>(ACTION_APPROVE, approveAction(deps));
  app.action<BlockButtonAction>(ACTION_APPROVE_WITH, approveWithAction(deps));
  app.action<BlockButtonAction>(ACTION_DENY, denyAction(deps));
  app.action<BlockButtonAction>(ACTION_DENY_WITH, denyWithAction(deps));
  app.action<BlockButtonAction>(ACTION_REVIEW, reviewAction(deps));
  app.action<BlockButtonAction>(ACTION_EXTEND, extendAction(deps));
  app.action<BlockButtonAction>(ACTION_SHOW_CREDENTIALS, showCredentialsAction(deps));
  app.action<BlockButtonAction>(ACTION_REVOKE_NOW, revokeNowAction(deps));
  app.action<BlockButtonAction>(ACTION_AUDIT_MORE, auditMoreAction(deps));
  app.action<BlockButtonAction>(ACTION_HOME_REQUEST, homeRequestAction(deps));
  app.action<BlockButtonAction>(ACTION_WITHDRAW, withdrawAction(deps));
}
