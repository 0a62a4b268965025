import { type Check, doctorSummary, fail, pass, renderDoctorText, runDoctor } from '../src/doctor';

const check = (name: string, run: Check['run']): Check => ({ name, run });

describe('runDoctor', () => {
  it('reports every check in the order given, whatever order they finish in', async () => {
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => (releaseFirst = r));
    const report = runDoctor([
      check('slow', async () => {
        await first;
        return pass('done last');
      }),
      check('fast', async () => {
        releaseFirst();
        return fail('broken', 'mend it');
      }),
    ]);
    const r = await report;
    expect(r.results).toEqual([
      { name: 'slow', ok: true, detail: 'done last' },
      { name: 'fast', ok: false, detail: 'broken', fix: 'mend it' },
    ]);
    expect(r).toMatchObject({ passed: 1, failed: 1, ok: false });
  });

  it('counts a check that throws as failed, with the error', async () => {
    const r = await runDoctor([check('boom', () => Promise.reject(new Error('socket hang up')))]);
    expect(r.results[0]).toEqual({ name: 'boom', ok: false, detail: 'unexpected error: socket hang up' });
    expect(r.ok).toBe(false);
  });

  it('counts a check that never answers as failed once its timeout passes', async () => {
    const r = await runDoctor([check('hangs', () => new Promise(() => undefined)), check('fine', async () => pass('ok'))], { timeoutMs: 20 });
    expect(r.results[0]).toMatchObject({ name: 'hangs', ok: false, detail: 'no answer within 20 ms' });
    expect(r.results[0]!.fix).toMatch(/reachable/);
    expect(r.results[1]).toMatchObject({ ok: true });
  });

  it('runs at most `concurrency` checks at once', async () => {
    let running = 0;
    let most = 0;
    const checks = Array.from({ length: 10 }, (_, i) =>
      check(`c${i}`, async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setImmediate(r));
        running -= 1;
        return pass('ok');
      }),
    );
    const r = await runDoctor(checks, { concurrency: 3 });
    expect(r.passed).toBe(10);
    expect(most).toBe(3);
  });

  it('passes with no checks at all', async () => {
    expect(await runDoctor([])).toEqual({ results: [], passed: 0, failed: 0, ok: true });
  });
});

describe('renderDoctorText', () => {
  it('prints ✓ / ✗ per check, the fix under each failure, and a summary that is not a test-runner line', () => {
    const lines = renderDoctorText({
      results: [
        { name: 'Slack token', ok: true, detail: 'accepted' },
        { name: 'approver channel', ok: false, detail: 'the bot is not a member of #approvals', fix: 'invite the bot' },
        { name: 'store', ok: false, detail: 'unreachable' },
      ],
      passed: 1,
      failed: 2,
      ok: false,
    });
    expect(lines).toEqual([
      '✓ Slack token: accepted',
      '✗ approver channel: the bot is not a member of #approvals',
      '    fix: invite the bot',
      '✗ store: unreachable',
      '',
      'doctor: 3 checks, 2 failed',
    ]);
  });

  it('indents the further lines of a multi-line detail', () => {
    const lines = renderDoctorText({ results: [{ name: 'config valid', ok: false, detail: 'x.yaml is invalid:\n  - a: bad\n  - b: worse', fix: 'fix it' }], passed: 0, failed: 1, ok: false });
    expect(lines.slice(0, 4)).toEqual(['✗ config valid: x.yaml is invalid:', '    - a: bad', '    - b: worse', '    fix: fix it']);
  });

  it('says when everything passed', () => {
    expect(doctorSummary({ results: [{ name: 'a', ok: true, detail: 'x' }], passed: 1, failed: 0, ok: true })).toBe('doctor: 1 check, all passed');
  });
});
