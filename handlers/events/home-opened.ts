/**
 * app_home_opened: publishes the user's App Home as it is now (their access, their pending
 * requests, what waits on them). Events are acked by Bolt; a failure is logged, and the home is
 * published again at the next open or change.
 */
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView } from '../../blocks/home';
import type { HandlerDeps } from '../deps';

export function homeOpened({ service, log, homeViewers }: HandlerDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    if (event.tab !== 'home') return; // the Messages tab: nothing to publish
    homeViewers?.opened(event.user);
    try {
      await client.views.publish({ user_id: event.user, view: homeView(await service.home(event.user)) });
    } catch (err) {
      log.warn({ event: 'home.publish_failed', userId: event.user, err: err instanceof Error ? err.message : String(err) }, 'could not publish the App Home');
    }
  };
}
