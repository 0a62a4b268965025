/**
 * The doctor: checks everything the bot depends on (configuration, Slack, the store, AWS) and
 * says, for each failure, what to do about it. `npm run doctor` prints the report and exits 0 only
 * when every check passed; `/jit doctor` shows approvers the same report in Slack.
 *
 * This file is the pure part: what a check is, how the checks run (concurrently, each under a
 * timeout, a thrown error counted as a failure), and the plain-text report. The checks
 * themselves live with the adapters they probe (slack/doctor.ts, src/aws/doctor.ts,
 * src/store/doctor.ts); src/main.ts composes them (doctorChecks).
 */

/** What one check found. `fix` says what to do when it failed. */
export interface CheckOutcome {
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface Check {
  name: string;
  run(): Promise<CheckOutcome>;
}

export interface CheckResult extends CheckOutcome {
  name: string;
}

export interface DoctorReport {
  results: CheckResult[];
  passed: number;
  failed: number;
  /** True when every check passed. */
  ok: boolean;
}

export interface RunOptions {
  /** How long one check may take before it counts as failed (default 20 s). */
  timeoutMs?: number;
  /** Checks running at once (default 8): many targets must not trip AWS or Slack rate limits. */
  concurrency?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 20_000;
const DEFAULT_CONCURRENCY = 8;

export const pass = (detail: string): CheckOutcome => ({ ok: true, detail });
export const fail = (detail: string, fix?: string): CheckOutcome => ({ ok: false, detail, ...(fix ? { fix } : {}) });

/** Runs every check (in the order given in the report, whatever order they finish in). */
export async function runDoctor(checks: readonly Check[], opts: RunOptions = {}): Promise<DoctorReport> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const results: CheckResult[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      const check = checks[i]!;
      results[i] = { name: check.name, ...(await runOne(check, timeoutMs)) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? DEFAULT_CONCURRENCY, checks.length) }, worker));
  const failed = results.filter((r) => !r.ok).length;
  return { results, passed: results.length - failed, failed, ok: failed === 0 };
}

async function runOne(check: Check, timeoutMs: number): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(
      () => resolve(fail(`no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`, 'check that the service is reachable from here (network, proxy, endpoint settings)')),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check.run().catch((err: unknown) => fail(`unexpected error: ${err instanceof Error ? err.message : String(err)}`)),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const PASS_MARK = '✓';
export const FAIL_MARK = '✗';

/** The report as text lines: one per check, the fix indented under each failure, then a summary. */
export function renderDoctorText(report: DoctorReport): string[] {
  const lines: string[] = [];
  for (const r of report.results) {
    // A multi-line detail (a configuration error lists every key) keeps its lines, indented.
    const [first, ...more] = r.detail.split('\n');
    lines.push(`${r.ok ? PASS_MARK : FAIL_MARK} ${r.name}: ${first}`, ...more.map((l) => `    ${l.trimStart()}`));
    if (!r.ok && r.fix) lines.push(`    fix: ${r.fix}`);
  }
  lines.push('');
  lines.push(doctorSummary(report));
  return lines;
}

/** "doctor: 12 checks, 2 failed" / "doctor: 12 checks, all passed". */
export function doctorSummary(report: DoctorReport): string {
  const n = report.results.length;
  return `doctor: ${n} check${n === 1 ? '' : 's'}, ${report.failed === 0 ? 'all passed' : `${report.failed} failed`}`;
}
