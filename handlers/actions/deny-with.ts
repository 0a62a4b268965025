import type { HandlerDeps } from '../deps';
import { decideWithAction } from './decide-with';

export const denyWithAction = (deps: HandlerDeps) => decideWithAction(deps, 'deny');
