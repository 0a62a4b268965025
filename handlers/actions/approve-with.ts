import type { HandlerDeps } from '../deps';
import { decideWithAction } from './decide-with';

export const approveWithAction = (deps: HandlerDeps) => decideWithAction(deps, 'approve');
