/** The EC2 stand-in's token buckets (EC2's request throttling), driven by a fake clock over real HTTP. */
import { DescribeSecurityGroupRulesCommand, EC2Client, RevokeSecurityGroupIngressCommand } from '@aws-sdk/client-ec2';
import { EC2_DOCUMENTED_BUCKETS } from '../../src/domain/revocation-limits';
import { type FakeEc2, type FakeEc2Options, startFakeEc2 } from '../../testkit/fake-ec2';

let fake: FakeEc2 | undefined;
let client: EC2Client | undefined;
let nowMs = 0;

async function start(opts: FakeEc2Options): Promise<EC2Client> {
  nowMs = 0;
  fake = await startFakeEc2({ now: () => nowMs, ...opts });
  // No SDK retries: every answer of the stand-in is seen as it is.
  client = new EC2Client({ region: 'eu-west-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  return client;
}

afterEach(async () => {
  client?.destroy();
  await fake?.close();
  fake = undefined;
});

const describe1 = (c: EC2Client) => c.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: ['sg-0fake00000000001'] }] }));
const revoke1 = (c: EC2Client) => c.send(new RevokeSecurityGroupIngressCommand({ GroupId: 'sg-0fake00000000001', SecurityGroupRuleIds: ['sgr-0000000000000000a'] }));

/** The AWS error code of a call, or 'ok'. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}`;
  }
}

it('off by default: a burst beyond any EC2 bucket is answered', async () => {
  const c = await start({});
  const results = [];
  for (let i = 0; i < 120; i++) results.push(await outcome(describe1(c)));
  expect(results.every((r) => r === 'ok')).toBe(true);
  expect(fake!.throttledByBucket()).toEqual({});
});

it('empties the bucket, then answers RequestLimitExceeded with HTTP 503 until tokens refill', async () => {
  const c = await start({ rateLimits: { DescribeSecurityGroupRules: { size: 3, refillPerSecond: 2 } } });
  const first = [];
  for (let i = 0; i < 4; i++) first.push(await outcome(describe1(c)));
  expect(first).toEqual(['ok', 'ok', 'ok', 'RequestLimitExceeded 503']);
  nowMs += 499; // not yet a whole token at 2 per second
  expect(await outcome(describe1(c))).toBe('RequestLimitExceeded 503');
  nowMs += 1; // one token
  expect(await outcome(describe1(c))).toBe('ok');
  expect(await outcome(describe1(c))).toBe('RequestLimitExceeded 503');
  nowMs += 60_000; // refills to the bucket size, never beyond
  const later = [];
  for (let i = 0; i < 4; i++) later.push(await outcome(describe1(c)));
  expect(later).toEqual(['ok', 'ok', 'ok', 'RequestLimitExceeded 503']);
  expect(fake!.throttledByBucket()).toEqual({ DescribeSecurityGroupRules: 4 });
  expect(fake!.calls).toHaveLength(11); // throttled calls are recorded too
});

it('one bucket per action: a throttled action leaves the others alone', async () => {
  const c = await start({ rateLimits: { RevokeSecurityGroupIngress: { size: 1, refillPerSecond: 1 } } });
  expect(await outcome(revoke1(c))).toBe('InvalidSecurityGroupRuleId.NotFound 400'); // took the token
  expect(await outcome(revoke1(c))).toBe('RequestLimitExceeded 503');
  expect(await outcome(describe1(c))).toBe('ok'); // no bucket named: unlimited
});

it('rateLimits: true applies EC2 documented buckets (Describe*: 100 tokens)', async () => {
  const c = await start({ rateLimits: true });
  const size = EC2_DOCUMENTED_BUCKETS.DescribeSecurityGroupRules.size;
  expect(size).toBe(100);
  const results = [];
  for (let i = 0; i < size + 1; i++) results.push(await outcome(describe1(c)));
  expect(results.filter((r) => r === 'ok')).toHaveLength(size);
  expect(results[size]).toBe('RequestLimitExceeded 503');
});
