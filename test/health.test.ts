/**
 * Readiness, pure: observations in, a report out. And the Health runner's probe handling
 * (timeouts, reasons) with hand-made probes.
 */
import { cachedCheck, evaluateReadiness, Health, type HealthProbes, type Observations, shortReason } from '../src/health';
import { FakeClock } from './support/clock';

const NOW = Date.parse('2026-11-22T10:00:00.000Z');
const ok = { ok: true } as const;
const healthy: Observations = { store: ok, slack: ok, sweeper: { lastRunAtMs: NOW - 3_000, startedAtMs: NOW - 60_000, intervalMs: 5_000 }, outbox: { backlog: 3 } };
const limits = { outboxMax: 500 };

describe('evaluateReadiness', () => {
  it('is ok when every check passes, with the details and no failing list', () => {
    expect(evaluateReadiness(healthy, NOW, limits)).toEqual({
      status: 'ok',
      checks: {
        store: { ok: true },
        slack: { ok: true },
        sweeper: { ok: true, lastRunSecondsAgo: 3, maxSeconds: 10 },
        outbox: { ok: true, backlog: 3, max: 500 },
      },
    });
  });

  it('fails naming the store and Slack with their reasons', () => {
    const r = evaluateReadiness({ ...healthy, store: { ok: false, reason: 'connect ECONNREFUSED 127.0.0.1:8000' }, slack: { ok: false, reason: 'Socket Mode connection is not open' } }, NOW, limits);
    expect(r.status).toBe('fail');
    expect(r.failing).toEqual(['store: connect ECONNREFUSED 127.0.0.1:8000', 'slack: Socket Mode connection is not open']);
    expect(r.checks.store).toEqual({ ok: false, reason: 'connect ECONNREFUSED 127.0.0.1:8000' });
    expect(r.checks.outbox!.ok).toBe(true);
  });

  it('sweeper: ok up to 2 intervals since the last sweep, failing beyond', () => {
    const at = (agoMs: number) => evaluateReadiness({ ...healthy, sweeper: { lastRunAtMs: NOW - agoMs, startedAtMs: NOW - 3_600_000, intervalMs: 5_000 } }, NOW, limits);
    expect(at(10_000).status).toBe('ok');
    const late = at(10_001);
    expect(late.status).toBe('fail');
    expect(late.failing).toEqual(['sweeper: last sweep 10s ago (max 10s)']);
    expect(at(60_000).checks.sweeper).toMatchObject({ ok: false, lastRunSecondsAgo: 60, maxSeconds: 10 });
  });

  it('sweeper: before the first sweep, counts from start-up; absent when background work is off', () => {
    const fresh = { ...healthy, sweeper: { startedAtMs: NOW - 4_000, intervalMs: 5_000 } };
    expect(evaluateReadiness(fresh, NOW, limits).checks.sweeper).toEqual({ ok: true, lastRunSecondsAgo: null, maxSeconds: 10 });
    const stuck = evaluateReadiness({ ...fresh, sweeper: { startedAtMs: NOW - 30_000, intervalMs: 5_000 } }, NOW, limits);
    expect(stuck.failing).toEqual(['sweeper: no sweep since start 30s ago (max 10s)']);
    const { sweeper: _, ...noSweeper } = healthy;
    expect(evaluateReadiness(noSweeper, NOW, limits).checks).not.toHaveProperty('sweeper');
  });

  it('outbox: fails at the threshold, and when it cannot be counted', () => {
    expect(evaluateReadiness({ ...healthy, outbox: { backlog: 499 } }, NOW, limits).status).toBe('ok');
    const full = evaluateReadiness({ ...healthy, outbox: { backlog: 500 } }, NOW, limits);
    expect(full.failing).toEqual(['outbox: backlog 500 at or above 500']);
    expect(full.checks.outbox).toEqual({ ok: false, reason: 'backlog 500 at or above 500', backlog: 500, max: 500 });
    expect(evaluateReadiness({ ...healthy, outbox: { ok: false, reason: 'timeout' } }, NOW, limits).failing).toEqual(['outbox: timeout']);
  });
});

describe('Health (probes)', () => {
  const clock = new FakeClock();
  const probes = (over: Partial<HealthProbes> = {}): HealthProbes => ({
    store: async () => undefined,
    slack: async () => undefined,
    sweeper: () => undefined,
    outboxBacklog: async () => 0,
    ...over,
  });

  it('turns a probe that throws into its reason, and one that hangs into a timeout (aborting it)', async () => {
    let aborted = false;
    const health = new Health(
      probes({
        store: (signal) =>
          new Promise<void>(() => {
            signal.addEventListener('abort', () => void (aborted = true));
          }),
        slack: async () => {
          throw new Error('Socket Mode connection is not open');
        },
      }),
      { clock, outboxMax: 10, timeoutMs: 50 },
    );
    const r = await health.readiness();
    expect(r.failing).toEqual(['store: no answer within 50 ms', 'slack: Socket Mode connection is not open']);
    expect(aborted).toBe(true);
    expect(health.liveness()).toEqual({ status: 'ok' });
  });

  it('is ok with healthy probes; the outbox count feeds the threshold', async () => {
    expect((await new Health(probes({ outboxBacklog: async () => 9 }), { clock, outboxMax: 10 }).readiness()).status).toBe('ok');
    expect((await new Health(probes({ outboxBacklog: async () => 10 }), { clock, outboxMax: 10 }).readiness()).failing).toEqual(['outbox: backlog 10 at or above 10']);
  });
});

describe('cachedCheck', () => {
  it('answers the start-up outcome, re-runs at most once per period, and keeps the last failure until the next run', async () => {
    const clock = new FakeClock();
    let calls = 0;
    let fail = false;
    const check = cachedCheck(
      async () => {
        calls++;
        if (fail) throw Object.assign(new Error('An API error occurred: invalid_auth'), { data: { error: 'invalid_auth' } });
      },
      60_000,
      clock,
      { atMs: clock.now().getTime() },
    );
    await check();
    expect(calls).toBe(0);
    clock.advance(59_999);
    await check();
    expect(calls).toBe(0);
    fail = true;
    clock.advance(1);
    await expect(Promise.all([check(), check()])).rejects.toThrow('invalid_auth');
    expect(calls).toBe(1); // concurrent probes share one run
    await expect(check()).rejects.toThrow('invalid_auth'); // cached
    expect(calls).toBe(1);
    fail = false;
    clock.advance(60_000);
    await check();
    expect(calls).toBe(2);
  });
});

describe('shortReason', () => {
  it('prefers a Slack error code, keeps one line, caps the length', () => {
    expect(shortReason(Object.assign(new Error('An API error occurred: token_revoked'), { data: { error: 'token_revoked' } }))).toBe('token_revoked');
    expect(shortReason(new Error('first line\nsecond line'))).toBe('first line');
    expect(shortReason(new Error('x'.repeat(500))).length).toBe(160);
    expect(shortReason('plain')).toBe('plain');
    expect(shortReason(new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:8000'))).toBe('connect ECONNREFUSED 127.0.0.1:8000');
  });
});
