/**
 * A token bucket (the algorithm EC2 throttles with): holds at most `size` tokens, refills at
 * `refillPerSecond`, one token per call. Pure arithmetic on the time it is given (epoch or
 * monotonic ms, as long as the caller is consistent), so the bot's pacing and the EC2 stand-in
 * share it and tests drive it with a fake clock. EC2 adds its refill once a second; this refills
 * continuously, which never lets more through than EC2 would over any whole second.
 */
import type { TokenBucketShape } from './revocation-limits';

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly shape: TokenBucketShape,
    now: number,
  ) {
    this.tokens = shape.size;
    this.last = now;
  }

  /** Tokens available at `now` (fractional while refilling). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Takes one token if there is a whole one; false (nothing taken) otherwise. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds from `now` until a whole token is there (0 when there is one). */
  msUntilToken(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.shape.refillPerSecond);
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.shape.size, this.tokens + ((now - this.last) / 1000) * this.shape.refillPerSecond);
      this.last = now;
    }
  }
}
