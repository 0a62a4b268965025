/**
 * The lane admits work only through its deferral (a macrotask hop in production), at most
 * `concurrency` at a time, oldest first, and every piece runs: nothing starves, nothing is lost.
 */
import { YieldLane } from '../src/yield-lane';

/** A deferral the test steps by hand. */
function manualDefer() {
  const queue: Array<() => void> = [];
  return {
    defer: (run: () => void) => void queue.push(run),
    get pending() {
      return queue.length;
    },
    /** Runs what is deferred now, then lets the promises it resolved settle. */
    async step() {
      for (let i = 0; i < 5; i++) await Promise.resolve();
      for (const run of queue.splice(0)) run();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    },
  };
}

it('admits nothing before its deferral runs', async () => {
  const d = manualDefer();
  const lane = new YieldLane(2, d.defer);
  let admitted = false;
  void lane.admit().then(() => (admitted = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  expect(admitted).toBe(false);
  expect(d.pending).toBe(1);
  await d.step();
  expect(admitted).toBe(true);
});

it('runs at most `concurrency` at once, oldest first, and all of them', async () => {
  const d = manualDefer();
  const lane = new YieldLane(2, d.defer);
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  const done = Array.from({ length: 5 }, (_, i) =>
    lane.run(
      () =>
        new Promise<number>((resolve) => {
          started.push(i);
          finish.set(i, () => resolve(i));
        }),
    ),
  );
  await d.step();
  expect(started).toEqual([0, 1]);
  expect(lane.running).toBe(2);
  expect(lane.queued).toBe(3);
  finish.get(1)!();
  await d.step(); // the freed slot goes to the oldest waiter, after a hop
  expect(started).toEqual([0, 1, 2]);
  expect(lane.running).toBe(2);
  finish.get(0)!();
  await d.step();
  expect(started).toEqual([0, 1, 2, 3]);
  finish.get(2)!();
  finish.get(3)!();
  await d.step();
  expect(started).toEqual([0, 1, 2, 3, 4]);
  finish.get(4)!();
  await expect(Promise.all(done)).resolves.toEqual([0, 1, 2, 3, 4]);
  expect(started).toEqual([0, 1, 2, 3, 4]);
  expect(lane.running).toBe(0);
});

it('frees the slot when the work fails, and a release called twice frees one slot', async () => {
  const d = manualDefer();
  const lane = new YieldLane(1, d.defer);
  const failed = lane.run(async () => {
    throw new Error('boom');
  });
  await d.step();
  await expect(failed).rejects.toThrow('boom');
  expect(lane.running).toBe(0);
  const first = lane.admit();
  await d.step();
  const release = await first;
  release();
  release();
  expect(lane.running).toBe(0);
  const a = lane.admit();
  const b = lane.admit();
  await d.step();
  await a;
  expect(lane.running).toBe(1);
  expect(lane.queued).toBe(1);
  void b;
});

it('in production it yields to I/O callbacks already due (setImmediate)', async () => {
  const lane = new YieldLane(1);
  const order: string[] = [];
  setImmediate(() => order.push('earlier immediate'));
  await lane.run(async () => void order.push('work'));
  expect(order).toEqual(['earlier immediate', 'work']);
});

it('refuses a lane without slots', () => {
  expect(() => new YieldLane(0)).toThrow('at least one slot');
});

describe('a slot is held for holdMs at most', () => {
  /** Timers the test fires by hand. */
  function manualAfter() {
    const timers: Array<{ ms: number; run: () => void; live: boolean }> = [];
    return {
      after: (ms: number, run: () => void) => {
        const t = { ms, run, live: true };
        timers.push(t);
        return () => void (t.live = false);
      },
      get live() {
        return timers.filter((t) => t.live);
      },
      fire(i: number) {
        const t = timers[i]!;
        if (t.live) {
          t.live = false;
          t.run();
        }
      },
    };
  }

  it('gives the slot of a piece still waiting (on AWS, on Slack) to the next one when its hold lapses', async () => {
    const d = manualDefer();
    const a = manualAfter();
    const lane = new YieldLane(1, d.defer, 1_000, a.after);
    const started: string[] = [];
    let endSlow!: () => void;
    const slow = lane.run(() => new Promise<void>((resolve) => (started.push('slow'), (endSlow = resolve))));
    const quick = lane.run(async () => void started.push('quick'));
    await d.step();
    expect(started).toEqual(['slow']);
    expect(a.live.map((t) => t.ms)).toEqual([1_000]);
    a.fire(0); // the slow piece has had its slot for holdMs
    await d.step();
    expect(started).toEqual(['slow', 'quick']);
    await quick;
    endSlow();
    await slow;
    // The slow piece's own release, after its hold lapsed, frees nothing twice.
    expect(lane.running).toBe(0);
    const next = lane.run(async () => 'next');
    await d.step();
    await expect(next).resolves.toBe('next');
    expect(lane.running).toBe(0);
  });

  it('cancels the hold when the piece ends first', async () => {
    const d = manualDefer();
    const a = manualAfter();
    const lane = new YieldLane(1, d.defer, 1_000, a.after);
    const done = lane.run(async () => 'done');
    await d.step();
    await expect(done).resolves.toBe('done');
    expect(a.live).toEqual([]);
    expect(lane.running).toBe(0);
  });
});
