import type { HandlerDeps } from '../deps';
import { decisionAction } from './decision';

export const approveAction = (deps: HandlerDeps) => decisionAction(deps, 'approve', (d) => (id, actor) => d.service.approve(id, actor));
