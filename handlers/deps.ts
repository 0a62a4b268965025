import type { Logger } from 'pino';
import type { AccessService } from '../src/service';

/** What every listener gets injected. */
export interface HandlerDeps {
  service: AccessService;
  log: Logger;
}
