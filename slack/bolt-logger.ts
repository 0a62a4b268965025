/**
 * Routes Bolt's and the Web API client's logging into pino. Bolt's debug output is dropped on
 * purpose: at debug level the Web API client logs whole request bodies and results (user text,
 * message contents, anything a modal carries), which must never reach the logs.
 */
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';

export function boltLogger(log: Logger): BoltLogger {
  const child = log.child({ component: 'bolt' });
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(' ');
  return {
    debug: () => {},
    info: (...args: unknown[]) => child.info(text(args)),
    warn: (...args: unknown[]) => child.warn(text(args)),
    error: (...args: unknown[]) => child.error(text(args)),
    setLevel: () => {},
    getLevel: () => LogLevel.INFO,
    setName: () => {},
  };
}
