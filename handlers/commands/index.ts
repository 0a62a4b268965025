import type { App } from '@slack/bolt';
import type { HandlerDeps } from '../deps';
import { jitCommand } from './jit';

export const JIT_COMMAND = '/jit';

export function registerCommands(app: App, deps: HandlerDeps): void {
  app.command(JIT_COMMAND, jitCommand(deps));
}
