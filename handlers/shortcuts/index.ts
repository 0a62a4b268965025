import type { App, GlobalShortcut } from '@slack/bolt';
import { CALLBACK_REQUEST_ACCESS_SHORTCUT } from '../../blocks/ids';
import type { HandlerDeps } from '../deps';
import { requestAccessShortcut } from './request-access';

export function registerShortcuts(app: App, deps: HandlerDeps): void {
  app.shortcut<GlobalShortcut>({ callback_id: CALLBACK_REQUEST_ACCESS_SHORTCUT, type: 'shortcut' }, requestAccessShortcut(deps));
}
