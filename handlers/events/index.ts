import type { App } from '@slack/bolt';
import type { HandlerDeps } from '../deps';
import { homeOpened } from './home-opened';

export function registerEvents(app: App, deps: HandlerDeps): void {
  app.event('app_home_opened', homeOpened(deps));
}
