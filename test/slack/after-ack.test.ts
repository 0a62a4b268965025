/**
 * A listener behind the after-ack lane: its ack goes out at once; what follows the ack waits for a
 * lane slot; the work still all happens, in order; a slot is released however the listener ends.
 */
import { afterAck, answerInAck, withAfterAckLane } from '../../slack/after-ack';
import { YieldLane } from '../../src/yield-lane';

function manualLane(concurrency = 1) {
  const queue: Array<() => void> = [];
  const lane = new YieldLane(concurrency, (run) => void queue.push(run));
  const step = async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
    for (const run of queue.splice(0)) run();
    for (let i = 0; i < 10; i++) await Promise.resolve();
  };
  return { lane, step };
}
const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

it('acks at once and runs the rest only once admitted, in order', async () => {
  const { lane, step } = manualLane();
  const steps: string[] = [];
  const ack = jest.fn(async () => void steps.push('ack'));
  const listener = afterAck(async ({ ack }) => {
    await ack!();
    steps.push('store');
    steps.push('reply');
  }, lane);
  const done = listener({ ack, body: {} });
  await settle();
  expect(steps).toEqual(['ack']);
  expect(lane.running).toBe(1);
  await step();
  await done;
  expect(steps).toEqual(['ack', 'store', 'reply']);
  expect(ack).toHaveBeenCalledTimes(1);
  expect(lane.running).toBe(0);
});

it('an answer in the ack takes no slot: it ends while another piece holds the only one', async () => {
  const { lane, step } = manualLane(1);
  let finishFirst!: () => void;
  const held = afterAck(async ({ ack }) => {
    await ack!();
    await new Promise<void>((r) => (finishFirst = r));
  }, lane)({ ack: async () => undefined });
  await step();
  expect(lane.running).toBe(1);
  const sent: unknown[] = [];
  const answered = afterAck(async ({ ack }) => answerInAck(ack!, { text: 'help' }), lane)({ ack: async (r?: unknown) => void sent.push(r) });
  await settle();
  // Ended without a step of the lane: nothing queued behind the held slot.
  await expect(Promise.race([answered.then(() => 'ended'), settle().then(() => 'waiting')])).resolves.toBe('ended');
  expect(sent).toEqual([{ text: 'help' }]);
  expect(lane.queued).toBe(0);
  finishFirst();
  await held;
  expect(lane.running).toBe(0);
});

it('answerInAck on an ack outside the lane is that ack', async () => {
  const ack = jest.fn(async (_r?: unknown) => undefined);
  await answerInAck(ack, { text: 'help' });
  expect(ack).toHaveBeenCalledWith({ text: 'help' });
});

it('a listener without ack (an event) waits for its slot before it starts', async () => {
  const { lane, step } = manualLane();
  const ran = jest.fn(async () => undefined);
  const done = afterAck(ran, lane)({ event: {} });
  await settle();
  expect(ran).not.toHaveBeenCalled();
  await step();
  await done;
  expect(ran).toHaveBeenCalledTimes(1);
  expect(lane.running).toBe(0);
});

it('releases the slot when the listener throws after its ack, and when it throws before', async () => {
  const { lane, step } = manualLane();
  const after = afterAck(async ({ ack }) => {
    await ack!();
    throw new Error('after');
  }, lane)({ ack: async () => undefined });
  await step();
  await expect(after).rejects.toThrow('after');
  expect(lane.running).toBe(0);
  await expect(
    afterAck(async () => {
      throw new Error('before');
    }, lane)({ ack: async () => undefined }),
  ).rejects.toThrow('before');
  expect(lane.running).toBe(0);
  expect(lane.queued).toBe(0);
});

it('a second request acks while the first one holds the only slot', async () => {
  const { lane, step } = manualLane(1);
  let finishFirst!: () => void;
  const acks: string[] = [];
  const listener = afterAck(async ({ ack, body }) => {
    await ack!();
    if ((body as { n: number }).n === 1) await new Promise<void>((r) => (finishFirst = r));
  }, lane);
  const first = listener({ ack: async () => void acks.push('1'), body: { n: 1 } });
  await step();
  const second = listener({ ack: async () => void acks.push('2'), body: { n: 2 } });
  await settle();
  expect(acks).toEqual(['1', '2']);
  expect(lane.queued).toBe(1);
  finishFirst();
  await first;
  await step();
  await second;
  expect(lane.running).toBe(0);
});

it('the app wrapper wraps the last function of a registration only', async () => {
  const { lane, step } = manualLane();
  const registered: unknown[][] = [];
  const app = { command: (...args: unknown[]) => void registered.push(args), client: 'kept' } as never;
  const wrapped = withAfterAckLane(app, lane);
  const middleware = jest.fn();
  const listener = jest.fn(async () => undefined);
  (wrapped as unknown as { command: (...a: unknown[]) => void }).command('/jit', middleware, listener);
  expect((wrapped as unknown as { client: string }).client).toBe('kept');
  const [name, mw, fn] = registered[0]!;
  expect(name).toBe('/jit');
  expect(mw).toBe(middleware);
  expect(fn).not.toBe(listener);
  const done = (fn as (a: object) => Promise<unknown>)({ event: {} });
  await step();
  await done;
  expect(listener).toHaveBeenCalledTimes(1);
});
