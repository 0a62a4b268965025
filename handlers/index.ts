import type { App } from '@slack/bolt';
import { registerActions } from './actions';
import { registerCommands } from './commands';
import type { HandlerDeps } from './deps';
import { registerViews } from './views';
import { registerShortcuts } from './shortcuts';
import { registerEvents } from './events';

/** Registers every listener with its injected dependencies. */
export function registerListeners(app: App, deps: HandlerDeps): void {
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerShortcuts(app, deps);
  registerEvents(app, deps);
}
