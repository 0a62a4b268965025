/**
 * Background work that gives way to new requests. One event loop answers Slack's acks and runs
 * what each request sets off; without care, a request's continuation (store write, replies,
 * deliveries) runs ahead of the next request's ack. A lane admits work only after one macrotask
 * hop (setImmediate: the poll phase, where new requests are read and acked, runs first) and at
 * most `concurrency` pieces at a time, first come first served. Nothing is dropped or reordered
 * within one piece of work: it starts later, that is all.
 */
export type Defer = (run: () => void) => void;

/**
 * Slots of the bot's after-ack lane (JIT_AFTER_ACK_LANE; the listeners' post-ack work and the
 * outbox's passes each get a lane this wide). Measured with `node dist/bench/scale.js 2000`
 * (2,000 `/jit request` at 50 concurrent, p99 ÷ bare Bolt's): no lane 11–24×, 8 slots 4.8–10.8×,
 * 4 → 3.9×, 2 → 1.09 / 1.55 / 1.63×, 1 → 1.9–3.0×; the backlog drains in the same time (7.2–8.5 s
 * for 2,000 at any width: the bot is CPU-bound, not waiting on I/O). Two keep one piece of work
 * running while the other waits on Slack, and no more continuations than that crowd the acks.
 */
export const AFTER_ACK_SLOTS = 2;

export class YieldLane {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    private readonly defer: Defer = (run) => void setImmediate(run),
  ) {
    if (!(concurrency >= 1)) throw new Error('a lane needs at least one slot');
  }

  /** Pieces running now / waiting for a slot (metrics and tests). */
  get running(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves, after pending I/O has had its turn, with the release of a slot (call it once). */
  admit(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(() => resolve(this.releaser()));
      this.pump();
    });
  }

  /** Runs `work` in a slot. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.admit();
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.pump();
    };
  }

  /** Takes a slot for the oldest waiter and hands it over on the next macrotask. */
  private pump(): void {
    while (this.active < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      this.active++;
      this.defer(next);
    }
  }
}
