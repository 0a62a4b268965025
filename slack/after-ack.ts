/**
 * Listeners' post-ack work through a YieldLane: a listener acks as before, and what it does after
 * its ack waits for a lane slot (after pending I/O, so the next requests' acks go first). Events
 * (acked by Bolt before any listener runs) wait for a slot before their listener starts. The
 * listener's work is unchanged and in the same order; the slot is released when it ends.
 *
 * A listener whose ack IS its whole answer (`/jit help`: the reply travels in the ack's body) says
 * so with answerInAck: nothing follows, so it takes no slot. Under a burst of such acks, admitting
 * each one anyway queued thousands of finished listeners behind the lane's two slots; their
 * requests stayed reachable until admitted, survived young-generation collections and were
 * promoted (measured: 20,000 `/jit help` at 50 concurrent, GC 1.25 s of the bot's CPU profile).
 */
import type { App } from '@slack/bolt';
import type { YieldLane } from '../src/yield-lane';

type Ack = (response?: unknown) => Promise<void>;
type Listener = (args: Record<string, unknown> & { ack?: Ack }) => Promise<unknown>;

/** On a wrapped ack: the same ack without the wait for a slot. */
const ANSWER = Symbol('ack without a slot');

/**
 * Acks with `response` as the listener's complete answer: its LAST step, nothing may follow it.
 * Behind the lane it takes no slot; on a plain ack it is that ack.
 */
export async function answerInAck<R>(ack: (response?: R) => Promise<void>, response: R): Promise<void> {
  await ((ack as typeof ack & { [ANSWER]?: typeof ack })[ANSWER] ?? ack)(response);
}

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
      const lanedAck = async (response?: unknown) => {
        await ack(response);
        await admit();
      };
      return await listener({ ...args, ack: Object.assign(lanedAck, { [ANSWER]: ack }) });
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
