/**
 * Bench scenario: N grants' rules revoked at once against the EC2 stand-in with EC2's documented
 * token buckets on (testkit/fake-ec2.ts, rateLimits: true), through the real Ec2SshProvider and a
 * real @aws-sdk/client-ec2 (default retries), paced by the bot's client-side buckets
 * (src/aws/pacing.ts) and run REVOCATION_LANE at a time, as the scheduler's revocation lane does.
 *
 * Each rule is in its own security group, so each revocation is a RevokeSecurityGroupIngress; the
 * verification reads (DescribeSecurityGroupRules) of revocations that run together share calls
 * (src/aws/micro-batch.ts). For the calls the bot made of each action (the stand-in's call log,
 * retries included), the bucket allows them no sooner than max(0, calls − bucket size) / refill
 * rate after the first: the bucket's own minimum, the largest over the actions.
 * throttled_revoke_overhead = measured time ÷ that minimum (1.0 is the best possible). N must
 * exceed the Revoke bucket (200) for it to run dry: --quick revokes 220 (a 4 s minimum), the full
 * run 1,000 (160 s).
 */
import { Ec2SshProvider } from '../src/aws/ec2-ssh';
import { Ec2Pacer } from '../src/aws/pacing';
import { DEFAULT_REVOCATION_CONCURRENCY, EC2_DOCUMENTED_BUCKETS } from '../src/domain/revocation-limits';
import type { RuleRegistry } from '../src/ports';
import { startFakeEc2 } from '../testkit/fake-ec2';
import { ec2Client } from '../src/aws/ec2-rule-listing';

export interface ThrottledRevokeResult {
  n: number;
  elapsedMs: number;
  minimumMs: number;
  overhead: number;
  /** Calls the stand-in received, per action (the minimum's inputs). */
  calls: Record<string, number>;
  requestLimitExceeded: number;
  removedAndVerified: number;
  /** Calls the bot's pacer held back for a token. */
  pacedCalls: number;
}

/**
 * One security group per rule: revokes of one group that run together share their calls
 * (src/aws/micro-batch.ts), which would leave the buckets nearly untouched. Rules spread over
 * many groups are the case the pacing is for (the buckets are per account and Region).
 */
const groupOf = (i: number): string => `sg-${(0xb2_0000_0000 + i).toString(16).padStart(17, '0')}`;

/** removeRule touches no registry; the provider still wants one. */
const noRegistry = {} as RuleRegistry;

export async function throttledRevoke(n: number): Promise<ThrottledRevokeResult> {
  const fake = await startFakeEc2({ rateLimits: true });
  const client = ec2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' }, maxAttempts: 3 });
  try {
    const rules = Array.from({ length: n }, (_, i) =>
      fake.seedRule({ groupId: groupOf(i), ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: `198.19.${(i >> 8) & 255}.${i & 255}/32`, tags: { 'jit:managed-by': 'jit-access-bot' } }),
    );
    const pacer = new Ec2Pacer(EC2_DOCUMENTED_BUCKETS);
    const provider = new Ec2SshProvider(() => client, { defaultRegion: 'eu-west-1', registry: noRegistry, pacer });
    let next = 0;
    let ok = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < rules.length) {
        const i = next++;
        const rule = rules[i]!;
        const r = await provider.removeRule({ region: 'eu-west-1', securityGroupId: groupOf(i), securityGroupRuleId: rule.securityGroupRuleId }).catch(() => ({ removed: false, verified: false }));
        if (r.removed && r.verified) ok++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(DEFAULT_REVOCATION_CONCURRENCY, n) }, worker));
    const elapsedMs = performance.now() - started;
    const calls: Record<string, number> = {};
    for (const c of fake.calls) calls[c.action] = (calls[c.action] ?? 0) + 1;
    const minimumMs = Math.max(
      0,
      ...(Object.keys(EC2_DOCUMENTED_BUCKETS) as Array<keyof typeof EC2_DOCUMENTED_BUCKETS>).map((a) => {
        const b = EC2_DOCUMENTED_BUCKETS[a];
        return (Math.max(0, (calls[a] ?? 0) - b.size) / b.refillPerSecond) * 1000;
      }),
    );
    const throttled = Object.values(fake.throttledByBucket()).reduce((s, v) => s + v, 0);
    return { n, elapsedMs, minimumMs, overhead: minimumMs > 0 ? elapsedMs / minimumMs : NaN, calls, requestLimitExceeded: throttled, removedAndVerified: ok, pacedCalls: pacer.waited };
  } finally {
    client.destroy();
    await fake.close();
  }
}
