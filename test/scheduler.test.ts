/** The scheduler's own rules: bounded concurrency, timers at dueAt, sweeps that survive errors. */
import pino from 'pino';
import type { AccessRequest } from '../src/domain/types';
import { Scheduler } from '../src/scheduler';
import type { AccessService } from '../src/service';
import { FakeClock } from './support/clock';
import { pendingRequest } from './support/requests';

/** The slice of AccessService the scheduler uses, recording what it is asked to do. */
function serviceDouble(due: AccessRequest[], work: (id: string) => Promise<void>) {
  const listeners: Array<(r: AccessRequest) => void> = [];
  return {
    listeners,
    service: {
      onChange: (l: (r: AccessRequest) => void) => void listeners.push(l),
      listDue: async () => due,
      processDue: async (id: string) => {
        await work(id);
        return undefined;
      },
    } as unknown as AccessService,
  };
}

it('processes a sweep with at most `concurrency` requests at once', async () => {
  let running = 0;
  let peak = 0;
  const done: string[] = [];
  const due = Array.from({ length: 12 }, () => pendingRequest());
  const { service } = serviceDouble(due, async (id) => {
    peak = Math.max(peak, ++running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    done.push(id);
  });
  const scheduler = new Scheduler({ service, clock: new FakeClock(), log: pino({ level: 'silent' }), sweepIntervalSeconds: 5, concurrency: 3 });
  expect(await scheduler.sweepOnce()).toBe(12);
  expect(peak).toBe(3);
  expect(done.sort()).toEqual(due.map((r) => r.id).sort());
});

it('a failing request is logged and left for the next sweep; the others go on', async () => {
  const due = [pendingRequest(), pendingRequest()];
  const done: string[] = [];
  const { service } = serviceDouble(due, async (id) => {
    if (id === due[0]!.id) throw new Error('throttled');
    done.push(id);
  });
  const lines: string[] = [];
  const scheduler = new Scheduler({ service, clock: new FakeClock(), log: pino({}, { write: (l: string) => void lines.push(l) }), sweepIntervalSeconds: 5 });
  await scheduler.sweepOnce();
  expect(done).toEqual([due[1]!.id]);
  expect(lines.join('')).toMatch(/processing a due request failed; will retry/);
});

it('arms a timer for the next due time of a changed request, and clears it when resolved', async () => {
  const clock = new FakeClock();
  const fired: string[] = [];
  const { service, listeners } = serviceDouble([], async (id) => void fired.push(id));
  const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 59 });
  await scheduler.start();
  try {
    const soon = pendingRequest({ dueAt: clock.now().getTime() + 30 });
    const cleared = pendingRequest({ dueAt: clock.now().getTime() + 30 });
    for (const l of listeners) {
      l(soon);
      l(cleared);
      l({ ...cleared, dueAt: undefined, status: 'DENIED' });
    }
    await new Promise((r) => setTimeout(r, 120));
    expect(fired).toEqual([soon.id]);
  } finally {
    await scheduler.stop();
  }
});
