/**
 * Background work that gives way to new requests. One event loop answers Slack's acks and runs
 * what each request sets off; without care, a request's continuation (store write, replies,
 * deliveries) runs ahead of the next request's ack. A lane admits work only after one macrotask
 * hop (setImmediate: the poll phase, where new requests are read and acked, runs first) and at
 * most `concurrency` pieces at a time, first come first served. Nothing is dropped or reordered
 * within one piece of work: it starts later, that is all.
 *
 * A slot is a piece's until it ends or for `holdMs`, whichever comes first. What crowds the acks
 * is the burst of continuations right after a piece starts; a piece still running after holdMs is
 * waiting on AWS or Slack (an approval's grant, a doctor run), and must not hold back the pieces
 * behind it: a form to open (views.open) has 3 s before its trigger_id expires.
 */
export type Defer = (run: () => void) => void;
/** Runs `run` after `ms` unless cancelled (the returned function); injectable for tests. */
export type After = (ms: number, run: () => void) => () => void;

const afterTimer: After = (ms, run) => {
  const t = setTimeout(run, ms);
  t.unref();
  return () => clearTimeout(t);
};

/** How long a piece keeps its slot at most (see YieldLane). */
export const LANE_HOLD_MS = 1_000;

/**
 * Slots of the bot's after-ack lane (JIT_AFTER_ACK_LANE; the listeners' post-ack work and the
 * outbox's passes each get a lane this wide). Measured with `node dist/bench/scale.js 2000`
 * (2,000 `/jit request` at 50 concurrent, p99 ÷ bare Bolt's): no lane 11–24×, 8 slots 4.8–10.8×,
 * 4 → 3.9×, 1 → 1.9–3.0×, 2 → median 1.6 over 17 runs (14 of them 1.0–1.9; 2.5, 2.75 and once
 * 6.5: a p99 of 2,000 moves with one stall of the loop); the backlog drains in the same time
 * (7–10 s for 2,000 at any width: the bot is CPU-bound, not waiting on I/O). Two keep one piece of
 * work running while the other waits on Slack, and no more continuations than that crowd the acks.
 */
export const AFTER_ACK_SLOTS = 2;

export class YieldLane {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    private readonly defer: Defer = (run) => void setImmediate(run),
    private readonly holdMs: number = LANE_HOLD_MS,
    private readonly after: After = afterTimer,
  ) {
    if (!(concurrency >= 1)) throw new Error('a lane needs at least one slot');
  }

  /** Slots taken now (a piece whose hold lapsed no longer counts) / pieces waiting for one. */
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

  /** Frees the slot once: when the piece ends or when its hold lapses, whichever is first. */
  private releaser(): () => void {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      cancel();
      this.active--;
      this.pump();
    };
    const cancel = this.after(this.holdMs, release);
    return release;
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
