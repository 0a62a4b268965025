/**
 * Coalesces concurrent calls of one kind into batched calls, per key (e.g. Region and security
 * group): what is submitted while the key's calls are all in flight (or within the same turn of
 * the event loop) goes out together in the next call, at most `maxItems` per call and
 * `maxInFlight` calls per key at once. Nothing waits on a timer: an idle key sends on the next turn.
 * Each submitter gets its own result (the batch function answers one per item, in order).
 */
export class MicroBatcher<I, O> {
  private readonly queues = new Map<string, KeyQueue<I, O>>();
  /** Batched calls made, and items sent in them (for tests and the bench). */
  calls = 0;
  items = 0;

  constructor(
    private readonly run: (key: string, items: I[]) => Promise<O[]>,
    private readonly maxItems: number,
    private readonly maxInFlight: number,
  ) {}

  submit(key: string, item: I): Promise<O> {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { waiting: [], inFlight: 0, scheduled: false }));
    const queue = q;
    return new Promise<O>((resolve, reject) => {
      queue.waiting.push({ item, resolve, reject });
      this.schedule(key, queue);
    });
  }

  private schedule(key: string, q: KeyQueue<I, O>): void {
    if (q.scheduled || q.inFlight >= this.maxInFlight || q.waiting.length === 0) return;
    q.scheduled = true;
    setImmediate(() => {
      q.scheduled = false;
      this.flush(key, q);
    });
  }

  private flush(key: string, q: KeyQueue<I, O>): void {
    while (q.inFlight < this.maxInFlight && q.waiting.length > 0) {
      const batch = q.waiting.splice(0, this.maxItems);
      q.inFlight++;
      this.calls++;
      this.items += batch.length;
      this.run(
        key,
        batch.map((b) => b.item),
      )
        .then(
          (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          q.inFlight--;
          if (q.inFlight === 0 && q.waiting.length === 0 && !q.scheduled) this.queues.delete(key);
          else this.schedule(key, q);
        });
    }
  }
}

interface KeyQueue<I, O> {
  waiting: Array<{ item: I; resolve: (out: O) => void; reject: (err: unknown) => void }>;
  inFlight: number;
  scheduled: boolean;
}
