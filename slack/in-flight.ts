/**
 * Counts listener invocations that are still running after their ack. Shutdown waits for them
 * (a deploy must not cut a grant between the AWS call and its stored outcome), and tests use it
 * to know a click has been fully handled.
 */
import type { App } from '@slack/bolt';

export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  install(app: App): void {
    app.use(async ({ next }) => {
      const p = next();
      this.running.add(p);
      try {
        await p;
      } finally {
        this.running.delete(p);
      }
    });
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves once no listener is running (including ones started while waiting). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
