/**
 * The last line of `npm run bench`: one JSON object with every field of issue 13 (item 6), a
 * figure not measured is null (never missing), raw figures follow and never shadow the issue's.
 */
import { emptyFigures, ISSUE_FIELDS, ISSUE_TARGETS, issueVerdicts, resultLine } from '../../bench/result-line';

const ITEM_6 = ['ack_p99_ratio', 'ack_p99_ratio_help', 'cpu_ms_per_lifecycle', 'revoke_p99_ms', 'revoke_max_ms', 'throttled_revoke_overhead', 'sweep_items_read_idle', 'drift_cpu_ms_10k', 'rss_mb_10k', 'rss_mb_after_20k', 'ready_ms_10k'];

it('names every field of issue 13 item 6, with its target', () => {
  expect([...ISSUE_FIELDS].sort()).toEqual([...ITEM_6].sort());
  expect(ISSUE_TARGETS).toMatchObject({ ack_p99_ratio: 2, ack_p99_ratio_help: 1.5, cpu_ms_per_lifecycle: 20, rss_mb_after_20k: 250, ready_ms_10k: 1500 });
});

it('is one line of JSON with every field; unmeasured ones are null', () => {
  const figures = { ...emptyFigures(), ack_p99_ratio: 1.23456, cpu_ms_per_lifecycle: 17.04, sweep_items_read_idle: 0 };
  const line = resultLine(figures, { quick: true, lifecycles: 1000, ack_p99_ratio: 99 });
  expect(line).not.toMatch(/\n/);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  for (const f of ITEM_6) expect(parsed).toHaveProperty(f);
  expect(parsed).toMatchObject({ ack_p99_ratio: 1.235, cpu_ms_per_lifecycle: 17, sweep_items_read_idle: 0, revoke_p99_ms: null, rss_mb_10k: null, quick: true, lifecycles: 1000 });
  expect(Object.keys(parsed).slice(0, ITEM_6.length)).toEqual(ISSUE_FIELDS);
});

it('a non-finite figure becomes null, not a string JSON cannot read back', () => {
  const parsed = JSON.parse(resultLine({ ...emptyFigures(), ack_p99_ratio: NaN, ready_ms_10k: Infinity })) as Record<string, unknown>;
  expect(parsed.ack_p99_ratio).toBeNull();
  expect(parsed.ready_ms_10k).toBeNull();
});

it('judges each measured figure against its target (≤), and leaves the unmeasured ones undecided', () => {
  const v = issueVerdicts({ ...emptyFigures(), ack_p99_ratio: 2, ack_p99_ratio_help: 1.6, rss_mb_10k: NaN });
  const of = (f: string) => v.find((x) => x.field === f)!;
  expect(of('ack_p99_ratio').pass).toBe(true);
  expect(of('ack_p99_ratio_help').pass).toBe(false);
  expect(of('rss_mb_10k')).toEqual({ field: 'rss_mb_10k', value: null, target: 200 });
  expect(of('revoke_p99_ms').pass).toBeUndefined();
});
