/**
 * Client-side pacing of EC2 calls: the bot keeps, per account and Region, the same token bucket
 * EC2 keeps for each action (EC2_DOCUMENTED_BUCKETS unless the policy file says otherwise), and
 * waits for a token instead of spending a call on RequestLimitExceeded. When tokens are short,
 * a priority queue in front of each bucket hands them out revocations first (the revoke and its
 * verification read), then grants, then background reads (drift). Within a priority: first come,
 * first served. No token means waiting, never an error. The clock is injected (tests use a fake).
 */
import type { Ec2Action, TokenBucketShape } from '../domain/revocation-limits';
import { TokenBucket } from '../domain/token-bucket';

/** Who gets a scarce token first: revocation, then grant, then background. */
export const PRIORITIES = ['revocation', 'grant', 'background'] as const;
export type CallPriority = (typeof PRIORITIES)[number];

export interface PacingClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

export const realPacingClock: PacingClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** One bucket (an action in an account and Region) with the calls waiting for its tokens. */
class PacedBucket {
  readonly queues: Array<Array<() => void>> = PRIORITIES.map(() => []);
  pumping = false;
  constructor(readonly bucket: TokenBucket) {}

  get waiting(): number {
    return this.queues.reduce((n, q) => n + q.length, 0);
  }
}

export class Ec2Pacer {
  private readonly buckets = new Map<string, PacedBucket>();
  /** Calls that had to wait for a token (for the bench and logs). */
  waited = 0;

  /**
   * `reserve`: tokens of EC2's bucket the bot leaves unused (default 1). Its own bucket then runs
   * that far behind EC2's, so a call that reaches EC2 a little sooner than the one before it (network
   * jitter) still finds a token; it costs nothing in steady throughput.
   */
  constructor(
    private readonly shapes: Readonly<Record<Ec2Action, TokenBucketShape>>,
    private readonly clock: PacingClock = realPacingClock,
    private readonly reserve = 1,
  ) {}

  /**
   * Resolves when the call may go out: at once if a token is there and nobody waits, otherwise
   * when its turn comes (by priority, then arrival). `scope` names the account and Region.
   */
  acquire(scope: string, action: Ec2Action, priority: CallPriority): Promise<void> {
    const paced = this.bucketFor(scope, action);
    if (paced.waiting === 0 && paced.bucket.tryTake(this.clock.now())) return Promise.resolve();
    this.waited++;
    return new Promise<void>((resolve) => {
      paced.queues[PRIORITIES.indexOf(priority)]!.push(resolve);
      if (!paced.pumping) void this.pump(paced);
    });
  }

  /** Calls waiting for a token in this scope and action. */
  waitingFor(scope: string, action: Ec2Action): number {
    return this.buckets.get(`${scope}|${action}`)?.waiting ?? 0;
  }

  private bucketFor(scope: string, action: Ec2Action): PacedBucket {
    const key = `${scope}|${action}`;
    let paced = this.buckets.get(key);
    if (!paced) this.buckets.set(key, (paced = new PacedBucket(new TokenBucket(this.ownShape(action), this.clock.now()))));
    return paced;
  }

  private ownShape(action: Ec2Action): TokenBucketShape {
    const shape = this.shapes[action];
    return { size: Math.max(1, shape.size - this.reserve), refillPerSecond: shape.refillPerSecond };
  }

  /** Hands out tokens as they come, highest priority first, until nobody waits. */
  private async pump(paced: PacedBucket): Promise<void> {
    paced.pumping = true;
    try {
      while (paced.waiting > 0) {
        const wait = paced.bucket.msUntilToken(this.clock.now());
        if (wait > 0) {
          await this.clock.sleep(wait);
          continue;
        }
        if (!paced.bucket.tryTake(this.clock.now())) continue;
        paced.queues.find((q) => q.length > 0)!.shift()!();
      }
    } finally {
      paced.pumping = false;
    }
  }
}
