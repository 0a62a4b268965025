/** Client-side pacing of EC2 calls: token buckets per account+Region and action, revocation first. Fake clock throughout. */
import { Ec2Pacer, type PacingClock } from '../../src/aws/pacing';
import { EC2_DOCUMENTED_BUCKETS } from '../../src/domain/revocation-limits';

/** A clock that moves only when the test says; sleepers wake when their time is reached. */
class FakePacingClock implements PacingClock {
  private t = 0;
  private sleepers: Array<{ at: number; wake: () => void }> = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((wake) => this.sleepers.push({ at: this.t + ms, wake }));
  }
  /** Moves the clock on and lets everything that can run, run. */
  async advance(ms: number): Promise<void> {
    this.t += ms;
    const due = this.sleepers.filter((s) => s.at <= this.t);
    this.sleepers = this.sleepers.filter((s) => s.at > this.t);
    for (const s of due) s.wake();
    await settle();
  }
}

const settle = () => new Promise((r) => setImmediate(r));
const shapes = (size: number, refillPerSecond: number) =>
  ({ ...EC2_DOCUMENTED_BUCKETS, DescribeSecurityGroupRules: { size, refillPerSecond }, RevokeSecurityGroupIngress: { size, refillPerSecond } });

it('takes calls at once while the bucket holds tokens', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(3, 1), clock, 0);
  const done: number[] = [];
  for (let i = 0; i < 3; i++) void pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant').then(() => done.push(i));
  await settle();
  expect(done).toEqual([0, 1, 2]);
  expect(pacer.waited).toBe(0);
});

it('no token: the call waits (never an error) until one refills', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(1, 2), clock);
  await pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant');
  let outcome = 'waiting';
  pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant').then(
    () => (outcome = 'went'),
    () => (outcome = 'failed'),
  );
  await settle();
  expect(outcome).toBe('waiting');
  expect(pacer.waitingFor('eu-west-1', 'DescribeSecurityGroupRules')).toBe(1);
  await clock.advance(499); // 2 per second: half a second for one token
  expect(outcome).toBe('waiting');
  await clock.advance(1);
  expect(outcome).toBe('went');
  expect(pacer.waited).toBe(1);
});

it('refills at the configured rate, never beyond the bucket size', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(4, 1), clock, 0);
  for (let i = 0; i < 4; i++) await pacer.acquire('eu-west-1', 'RevokeSecurityGroupIngress', 'revocation');
  await clock.advance(60_000); // a minute idle: back to 4, not 60
  const done: number[] = [];
  for (let i = 0; i < 6; i++) void pacer.acquire('eu-west-1', 'RevokeSecurityGroupIngress', 'revocation').then(() => done.push(i));
  await settle();
  expect(done).toEqual([0, 1, 2, 3]);
  await clock.advance(1_000);
  expect(done).toEqual([0, 1, 2, 3, 4]);
  await clock.advance(1_000);
  expect(done).toEqual([0, 1, 2, 3, 4, 5]);
});

it('when tokens are short, revocations go first, then grants, then background reads; first come first served within each', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(1, 1), clock);
  await pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'background'); // empties the bucket
  const order: string[] = [];
  const ask = (name: string, p: 'revocation' | 'grant' | 'background') => void pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', p).then(() => order.push(name));
  ask('drift-1', 'background');
  ask('grant-1', 'grant');
  ask('drift-2', 'background');
  ask('verify-revoke-1', 'revocation');
  ask('grant-2', 'grant');
  ask('verify-revoke-2', 'revocation');
  await settle();
  expect(order).toEqual([]);
  for (let i = 0; i < 6; i++) await clock.advance(1_000);
  expect(order).toEqual(['verify-revoke-1', 'verify-revoke-2', 'grant-1', 'grant-2', 'drift-1', 'drift-2']);
});

it('a revocation arriving while others wait overtakes them', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(1, 1), clock);
  await pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant');
  const order: string[] = [];
  for (let i = 1; i <= 3; i++) void pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant').then(() => order.push(`grant-${i}`));
  await clock.advance(1_000);
  void pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'revocation').then(() => order.push('revoke'));
  await clock.advance(1_000);
  await clock.advance(1_000);
  await clock.advance(1_000);
  expect(order).toEqual(['grant-1', 'revoke', 'grant-2', 'grant-3']);
});

it('one bucket per account+Region and per action', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(1, 1), clock);
  await pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant');
  const done: string[] = [];
  void pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant').then(() => done.push('same'));
  void pacer.acquire('us-east-1', 'DescribeSecurityGroupRules', 'grant').then(() => done.push('other region'));
  void pacer.acquire('eu-west-1', 'RevokeSecurityGroupIngress', 'revocation').then(() => done.push('other action'));
  await settle();
  expect(done.sort()).toEqual(['other action', 'other region']);
});

it('leaves a reserve of EC2 bucket unused (default one token)', async () => {
  const clock = new FakePacingClock();
  const pacer = new Ec2Pacer(shapes(3, 1), clock);
  const done: number[] = [];
  for (let i = 0; i < 3; i++) void pacer.acquire('eu-west-1', 'DescribeSecurityGroupRules', 'grant').then(() => done.push(i));
  await settle();
  expect(done).toEqual([0, 1]);
  await clock.advance(1_000);
  expect(done).toEqual([0, 1, 2]);
});
