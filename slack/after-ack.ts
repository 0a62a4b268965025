/**
 * Listeners' post-ack work through a YieldLane: a listener acks as before, and what it does after
 * its ack waits for a lane slot (after pending I/O, so the next requests' acks go first). Events
 * (acked by Bolt before any listener runs) wait for a slot before their listener starts. The
 * listener's work is unchanged and in the same order; the slot is released when it ends.
 */
import type { App } from '@slack/bolt';
import type { YieldLane } from '../src/yield-lane';

type Listener = (args: Record<string, unknown> & { ack?: (response?: unknown) => Promise<void> }) => Promise<unknown>;

const REGISTRATIONS = new Set(['command', 'action', 'view', 'shortcut', 'event', 'options', 'message']);

/** Wraps one listener. */
export function afterAck(listener: Listener, lane: YieldLane): Listener {
  return async (args) => {
    let release: (() => void) | undefined;
    let admitted: Promise<void> | undefined;
    const admit = () => (admitted ??= lane.admit().then((r) => void (release = r)));
    try {
      const ack = args.ack;
      if (typeof ack !== 'function') {
        await admit();
        return await listener(args);
      }
      return await listener({
        ...args,
        ack: async (response?: unknown) => {
          await ack(response);
          await admit();
        },
      });
    } finally {
      if (admitted) await admitted;
      release?.();
    }
  };
}

/** The app as listeners register on it: the last function of every registration goes through the lane. */
export function withAfterAckLane(app: App, lane: YieldLane): App {
  return new Proxy(app, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !REGISTRATIONS.has(prop) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const last = args.length - 1;
        if (typeof args[last] === 'function') args[last] = afterAck(args[last] as Listener, lane);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
