/**
 * The limits of revocation at scale, defined once: how many revocations run at once (their own
 * lane in the scheduler) and the shape of EC2's request token buckets, which the bot's client-side
 * pacing (src/aws/pacing.ts) and the EC2 stand-in (testkit/fake-ec2.ts) both use.
 */

/**
 * Revocations in flight at once by default (their own lane: grants and sweeps never take its slots).
 * Concurrent ec2-ssh revokes of one group share one EC2 call (src/aws/micro-batch.ts), so the lane
 * sets the batch size as much as the parallelism. Measured with 1,000 of 10,000 grants expiring
 * within a second (npm run bench, ix): 32 gave lateness p99 1.9-3.2 s, 64 gave 0.73-0.81 s, 256
 * 1.1-1.7 s (more work in flight contends for the one event loop), and 256 also drew
 * RequestLimitExceeded from EC2's buckets when rules are spread over many groups (before the
 * client-side pacing). Measured again on a faster host with the timers armed ahead (five runs
 * each, node dist/bench/mass-expiry.js 10000 1000): 64 gave p99 137-165 ms in three runs and
 * 1.05-1.40 s in two (the lane full, the last expiries of the second queue behind it), 96 gave
 * 151-597 ms, 128 gave 140-159 ms in all five.
 */
export const DEFAULT_REVOCATION_CONCURRENCY = 128;
/** The bounds of `revocation.concurrency` in the policy file. */
export const REVOCATION_CONCURRENCY_RANGE = { min: 1, max: 1_024 } as const;

/** One token bucket: holds at most `size` tokens, `refillPerSecond` come back every second. */
export interface TokenBucketShape {
  size: number;
  refillPerSecond: number;
}

/** The EC2 actions the bot makes (ec2-ssh targets and the drift sweep). */
export const EC2_ACTIONS = ['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'DescribeSecurityGroupRules', 'DescribeSecurityGroups'] as const;
export type Ec2Action = (typeof EC2_ACTIONS)[number];

/**
 * EC2's documented request-rate buckets for those actions, per account and Region, one bucket per
 * API (AWS, "Request throttling for the Amazon EC2 API", docs.aws.amazon.com/ec2/latest/devguide/
 * ec2-api-throttling.html, section "Request token limits"): non-mutating actions (Describe*) hold
 * 100 tokens and refill 20 per second (the page's own DescribeHosts example); mutating actions,
 * among them AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress, hold 200 tokens and
 * refill 5 per second. An account may have had them raised: the policy file can say so
 * (aws.ec2RateLimits).
 */
export const EC2_DOCUMENTED_BUCKETS: Readonly<Record<Ec2Action, TokenBucketShape>> = {
  AuthorizeSecurityGroupIngress: { size: 200, refillPerSecond: 5 },
  RevokeSecurityGroupIngress: { size: 200, refillPerSecond: 5 },
  DescribeSecurityGroupRules: { size: 100, refillPerSecond: 20 },
  DescribeSecurityGroups: { size: 100, refillPerSecond: 20 },
};

/** The bounds of a bucket in the policy file (aws.ec2RateLimits.<Action>.size / refillPerSecond). */
export const BUCKET_SIZE_RANGE = { min: 1, max: 10_000 } as const;
export const BUCKET_REFILL_RANGE = { min: 0.1, max: 10_000 } as const;
