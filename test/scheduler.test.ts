/** The scheduler's own rules: bounded concurrency, timers at dueAt, sweeps that survive errors. */
import pino from 'pino';
import type { AccessRequest } from '../src/domain/types';
import type { RequestStore } from '../src/ports';
import { ARM_AHEAD_MS, DUE_BATCH, laneOf, Scheduler } from '../src/scheduler';
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

describe('timers only for what is due soon (memory follows the look-ahead, not what is live)', () => {
  it('a change due beyond the look-ahead arms no timer; one within it does; resolving clears it', async () => {
    const clock = new FakeClock();
    const { service, listeners } = serviceDouble([], async () => undefined);
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 5, armAheadMs: 60_000 });
    await scheduler.start();
    try {
      const now = clock.now().getTime();
      const far = Array.from({ length: 50 }, () => pendingRequest({ status: 'ACTIVE', dueAt: now + 3 * 3_600_000 }));
      const near = pendingRequest({ status: 'ACTIVE', dueAt: now + 30_000 });
      for (const l of listeners) for (const r of [...far, near]) l(r);
      expect(scheduler.armedTimers).toBe(1);
      // A far request that moves within the window is armed; the near one resolving clears its timer.
      for (const l of listeners) {
        l({ ...far[0]!, dueAt: now + 50_000 });
        l({ ...near, dueAt: undefined, status: 'REVOKED' });
      }
      expect(scheduler.armedTimers).toBe(1);
    } finally {
      await scheduler.stop();
    }
    expect(scheduler.armedTimers).toBe(0);
  });

  it('a sweep reads the look-ahead window, handles what is due and arms the rest, which fires when due', async () => {
    const clock = new FakeClock();
    const now = clock.now().getTime();
    const dueNow = pendingRequest({ dueAt: now - 1_000 });
    const soon = pendingRequest({ dueAt: now + 40 });
    const fired: string[] = [];
    const asked: number[] = [];
    const { service } = serviceDouble([dueNow, soon], async (id) => void fired.push(id));
    (service as unknown as { listDue: (limit: number, aheadMs: number) => Promise<AccessRequest[]> }).listDue = async (_limit, aheadMs) => {
      asked.push(aheadMs);
      // As a store would: a request handled is no longer due. (The cron sweep fires on the wall
      // clock's :00 and :30, so a second sweep can come at any moment of this test.)
      return [dueNow, soon].filter((r) => !fired.includes(r.id));
    };
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 30, armAheadMs: 1_000 });
    await scheduler.start(); // its first sweep
    try {
      // At least two sweep intervals ahead, so a sweep always arms a request before it falls due.
      expect(asked[0]).toBe(60_000);
      expect(fired).toEqual([dueNow.id]);
      expect(scheduler.armedTimers).toBe(1);
      await waitFor(() => fired.length === 2, { message: 'the armed timer of the request due soon fired' });
      expect(fired).toEqual([dueNow.id, soon.id]);
      expect(scheduler.armedTimers).toBe(0);
    } finally {
      await scheduler.stop();
    }
  });
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

describe('lanes: revocation has its own concurrency', () => {
  const expiring = (clock: FakeClock) => {
    const at = clock.now().getTime() - 1_000;
    return pendingRequest({ status: 'ACTIVE', expiresAt: new Date(at).toISOString(), dueAt: at });
  };

  it('laneOf: expiring ACTIVE and REVOKING are revocations; warnings, grants, timeouts and reminders are general', () => {
    const expiresAt = '2026-01-01T10:00:00.000Z';
    const at = Date.parse(expiresAt);
    expect(laneOf({ status: 'ACTIVE', expiresAt, dueAt: at })).toBe('revocation');
    expect(laneOf({ status: 'REVOKING', expiresAt, dueAt: at + 5_000 })).toBe('revocation');
    expect(laneOf({ status: 'ACTIVE', expiresAt, dueAt: at - 60_000 })).toBe('general'); // the expiry warning
    expect(laneOf({ status: 'GRANTING', dueAt: at })).toBe('general');
    expect(laneOf({ status: 'PENDING', dueAt: at })).toBe('general');
  });

  it('revocations all proceed while the general lane is saturated, each lane within its own limit', async () => {
    const clock = new FakeClock();
    const general = Array.from({ length: 20 }, () => pendingRequest());
    const revocations = [...Array.from({ length: 30 }, () => expiring(clock)), ...Array.from({ length: 10 }, () => pendingRequest({ status: 'REVOKING', dueAt: clock.now().getTime() }))];
    const isGeneral = new Set(general.map((r) => r.id));
    let releaseGeneral!: () => void;
    const generalGate = new Promise<void>((r) => (releaseGeneral = r));
    const running = { general: 0, revocation: 0 };
    const peak = { general: 0, revocation: 0 };
    const done = { general: [] as string[], revocation: [] as string[] };
    // General work first in the due list: it is what would have held the one shared limit before.
    const { service } = serviceDouble([...general, ...revocations], async (id) => {
      const lane = isGeneral.has(id) ? 'general' : 'revocation';
      peak[lane] = Math.max(peak[lane], ++running[lane]);
      if (lane === 'general') await generalGate;
      else await new Promise((r) => setImmediate(r));
      running[lane]--;
      done[lane].push(id);
    });
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 5, concurrency: 2, revocationConcurrency: 4 });
    const sweep = scheduler.sweepOnce();
    await waitFor(() => done.revocation.length === 40);
    expect(done.general).toHaveLength(0); // the general lane is still stuck on its first two
    expect(running.general).toBe(2);
    expect(peak.revocation).toBe(4);
    releaseGeneral();
    expect(await sweep).toBe(60);
    expect(done.general.sort()).toEqual(general.map((r) => r.id).sort());
    expect(peak.general).toBe(2);
  });

  it('a saturated revocation lane does not starve the general lane', async () => {
    const clock = new FakeClock();
    const revocations = Array.from({ length: 10 }, () => expiring(clock));
    const general = Array.from({ length: 6 }, () => pendingRequest());
    const isRevocation = new Set(revocations.map((r) => r.id));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done: string[] = [];
    let revoking = 0;
    const { service } = serviceDouble([...revocations, ...general], async (id) => {
      if (isRevocation.has(id)) {
        revoking++;
        await gate;
      }
      done.push(id);
    });
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 5, concurrency: 2, revocationConcurrency: 3 });
    const sweep = scheduler.sweepOnce();
    await waitFor(() => done.length === 6);
    expect(done.sort()).toEqual(general.map((r) => r.id).sort());
    expect(revoking).toBe(3);
    release();
    expect(await sweep).toBe(16);
    expect(revoking).toBe(10);
  });
});

describe('look-ahead: work this replica did not arm itself', () => {
  it('a sweep reads one look-ahead further, arms timers for what falls due before the next sweep, and hands its copy to processDue', async () => {
    const clock = new FakeClock();
    const now = clock.now().getTime();
    const dueNow = pendingRequest({ dueAt: now - 1 });
    const soon = pendingRequest({ dueAt: now + 20 });
    const asked: number[] = [];
    const calls: Array<[string, AccessRequest | undefined]> = [];
    const service = {
      onChange: () => undefined,
      listDue: async (_limit: number, aheadMs = 0) => {
        asked.push(aheadMs);
        return [dueNow, soon];
      },
      processDue: async (id: string, known?: AccessRequest) => {
        calls.push([id, known]);
        return undefined;
      },
    } as unknown as AccessService;
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 5, armAheadMs: 59_000 });
    await scheduler.start(); // the start-up sweep
    try {
      expect(asked).toEqual([59_000]);
      expect(calls).toEqual([[dueNow.id, dueNow]]); // not yet due: not processed by the sweep
      // The look-ahead timer (20 ms) fires with the sweep's copy. The scheduler's real cron may
      // sweep again meanwhile on a busy machine (dueNow once more): only soon's call is asserted.
      await waitFor(() => calls.some(([id]) => id === soon.id), { message: 'the look-ahead timer fired' });
      expect(calls.filter(([id]) => id === soon.id)).toEqual([[soon.id, soon]]);
    } finally {
      await scheduler.stop();
    }
  });

  it('a sweep reads DUE_BATCH over the look-ahead; what the store lists beyond it is handled at once (processDue checks the time)', async () => {
    const clock = new FakeClock();
    const later = pendingRequest({ dueAt: clock.now().getTime() + 120_000 });
    const asked: unknown[][] = [];
    const done: string[] = [];
    const service = {
      onChange: () => undefined,
      listDue: async (...args: unknown[]) => {
        asked.push(args);
        return [later];
      },
      processDue: async (id: string) => void done.push(id),
    } as unknown as AccessService;
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 5 });
    expect(await scheduler.sweepOnce()).toBe(1);
    expect(asked).toEqual([[DUE_BATCH, ARM_AHEAD_MS]]); // a mass expiry is read by one sweep
    expect(done).toEqual([later.id]);
  });
});

describe('revocationsIdle: what must not compete with revocation waits for it', () => {
  it('resolves at once with no revocation under way, and only once every running and waiting revocation is done', async () => {
    const clock = new FakeClock();
    const expiring = (i: number) => pendingRequest({ status: 'ACTIVE', expiresAt: new Date(clock.now().getTime() - i).toISOString(), dueAt: clock.now().getTime() - i });
    const due = [expiring(1), expiring(2), expiring(3)];
    const release: Array<() => void> = [];
    const { service } = serviceDouble(due, () => new Promise<void>((r) => release.push(r)));
    const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 5, revocationConcurrency: 2 });
    let idle = false;
    await scheduler.revocationsIdle(); // nothing under way
    const sweep = scheduler.sweepOnce();
    await waitFor(() => release.length === 2, { message: 'two revocations running, one waiting for a slot' });
    void scheduler.revocationsIdle().then(() => void (idle = true));
    release.shift()!(); // one done, the waiting one takes its slot
    await waitFor(() => release.length === 2, { message: 'the third revocation started' });
    expect(idle).toBe(false);
    release.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false); // one still running
    release.shift()!();
    await sweep;
    await waitFor(() => idle, { message: 'idle once the lane is empty' });
  });
});

it('one piece of work per request at a time: a sweep that lists a request whose timer already fired runs it once more after, from a fresh read, never beside it', async () => {
  const clock = new FakeClock();
  const due: AccessRequest[] = [];
  const listeners: Array<(r: AccessRequest) => void> = [];
  const calls: Array<{ id: string; known: boolean }> = [];
  let running = 0;
  let peak = 0;
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const service = {
    onChange: (l: (r: AccessRequest) => void) => void listeners.push(l),
    listDue: async () => due,
    processDue: async (id: string, known?: AccessRequest) => {
      calls.push({ id, known: known !== undefined });
      peak = Math.max(peak, ++running);
      if (calls.length === 1) await blocked;
      running--;
      return undefined;
    },
  } as unknown as AccessService;
  const scheduler = new Scheduler({ service, clock, log: pino({ level: 'silent' }), sweepIntervalSeconds: 59 });
  await scheduler.start();
  try {
    const expiring = pendingRequest({ status: 'ACTIVE', dueAt: clock.now().getTime() + 20 });
    for (const l of listeners) l(expiring);
    await waitFor(() => calls.length === 1, { message: 'the timer fired' });
    // The revocation is still running when a sweep finds the request due.
    clock.advance(1_000);
    due.push(expiring);
    const sweep = scheduler.sweepOnce();
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(1);
    release();
    await sweep;
    expect(calls).toEqual([
      { id: expiring.id, known: true },
      { id: expiring.id, known: false },
    ]);
    expect(peak).toBe(1);
  } finally {
    await scheduler.stop();
  }
});
