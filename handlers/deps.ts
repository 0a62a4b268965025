import type { Logger } from 'pino';
import type { HomeViewers } from '../slack/home-viewers';
import type { DoctorReport } from '../src/doctor';
import type { AccessService } from '../src/service';

/** What every listener gets injected. */
export interface HandlerDeps {
  service: AccessService;
  log: Logger;
  /** Runs the doctor's checks (`/jit doctor`). */
  doctor: () => Promise<DoctorReport>;
  /** Remembers who opened the App Home, so refreshes go only to them (absent: every home is refreshed). */
  homeViewers?: HomeViewers;
}
