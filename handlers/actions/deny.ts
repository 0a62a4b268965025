import type { HandlerDeps } from '../deps';
import { decisionAction } from './decision';

export const denyAction = (deps: HandlerDeps) => decisionAction(deps, 'deny', (d) => (id, actor) => d.service.deny(id, actor));
