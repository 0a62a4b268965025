/** The scheduler's own rules: bounded concurrency, timers at dueAt, sweeps that survive errors. */
import pino from 'pino';
import type { AccessRequest } from '../src/domain/types';
import type { RequestStore } from '../src/ports';
import { Scheduler } from '../src/scheduler';
import type { AccessService } from '../src/service';
import { FakeClock } from './support/clock';
import { pendingRequest } from './support/requests';
import { waitFor } from '../testkit/wait';

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
    // Both were due at the same time; the cleared one's timer is gone, so only `soon` fires.
    await waitFor(() => fired.length > 0, { message: 'the timer of the due request fired' });
    expect(fired).toEqual([soon.id]);
  } finally {
    await scheduler.stop();
  }
});

describe('stop (a deploy or a scale-in)', () => {
  /** A store double with just the leases the scheduler uses. */
  function leaseStore() {
    const leases = new Map<string, { owner: string; until: number }>();
    return {
      leases,
      store: {
        tryLease: async (name: string, owner: string, now: number, until: number) => {
          const l = leases.get(name);
          if (l && l.until >= now && l.owner !== owner) return false;
          leases.set(name, { owner, until });
          return true;
        },
        releaseLease: async (name: string, owner: string) => {
          const l = leases.get(name);
          if (l?.owner === owner) l.until = 0;
        },
      } as unknown as RequestStore,
    };
  }

  it('lets running work finish, starts nothing new, and hands the drift lease back', async () => {
    const gates = new Map<string, () => void>();
    const started: string[] = [];
    const finished: string[] = [];
    const due = Array.from({ length: 5 }, () => pendingRequest());
    const { service } = serviceDouble(due, async (id) => {
      started.push(id);
      await new Promise<void>((resolve) => gates.set(id, resolve));
      finished.push(id);
    });
    (service as unknown as { driftSweep: () => Promise<unknown> }).driftSweep = async () => ({ removed: [], untagged: [], failed: [], cleaned: [] });
    const { store, leases } = leaseStore();
    const scheduler = new Scheduler({ service, clock: new FakeClock(), log: pino({ level: 'silent' }), sweepIntervalSeconds: 59, concurrency: 2, driftIntervalMs: 60_000, store, owner: 'old' });
    const sweep = scheduler.sweepOnce();
    await waitFor(() => started.length === 2, { message: 'two requests in progress' });
    await scheduler.driftOnce();
    expect(leases.get('drift')).toMatchObject({ owner: 'old' });

    const stopping = scheduler.stop();
    await waitFor(() => gates.size === 2, { message: 'both gates set' });
    for (const open of gates.values()) open();
    await stopping;
    await sweep;
    expect(finished.sort()).toEqual(started.sort()); // what had started finished
    expect(started).toHaveLength(2); // the three still queued were left due for the next process
    // The next process takes the drift lease at once, not a drift interval later.
    expect(await store.tryLease('drift', 'new', Date.now(), Date.now() + 60_000)).toBe(true);
  });

  it('does not wait past the grace for work that hangs', async () => {
    const due = [pendingRequest()];
    let started = false;
    const { service } = serviceDouble(due, async () => {
      started = true;
      await new Promise(() => undefined); // EC2 never answers
    });
    const lines: string[] = [];
    const scheduler = new Scheduler({ service, clock: new FakeClock(), log: pino({}, { write: (l: string) => void lines.push(l) }), sweepIntervalSeconds: 59, stopGraceMs: 50 });
    void scheduler.sweepOnce();
    await waitFor(() => started, { message: 'work started' });
    await scheduler.stop();
    expect(lines.join('')).toMatch(/work still running at shutdown/);
  });
});
