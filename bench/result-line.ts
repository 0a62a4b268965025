/**
 * The last line `npm run bench` prints: ONE JSON object with every figure of issue 13 (item 6),
 * under the issue's names, plus raw figures beside them. A figure not measured in a run (a phase
 * failed, or is not wired yet) is null, and its target is then neither met nor missed.
 */

/** Issue 13's figures and their targets (each "≤"). */
export const ISSUE_TARGETS = {
  ack_p99_ratio: 2,
  ack_p99_ratio_help: 1.5,
  cpu_ms_per_lifecycle: 20,
  revoke_p99_ms: 1_000,
  revoke_max_ms: 2_000,
  throttled_revoke_overhead: 1.1,
  sweep_items_read_idle: 100,
  drift_cpu_ms_10k: 1_000,
  rss_mb_10k: 200,
  rss_mb_after_20k: 250,
  ready_ms_10k: 1_500,
} as const;

export type IssueField = keyof typeof ISSUE_TARGETS;
export const ISSUE_FIELDS = Object.keys(ISSUE_TARGETS) as IssueField[];
export type IssueFigures = Record<IssueField, number | null>;

/** Every issue field null: what a run starts from and fills in. */
export function emptyFigures(): IssueFigures {
  return Object.fromEntries(ISSUE_FIELDS.map((f) => [f, null])) as IssueFigures;
}

/** Rounded for reading: ratios to 3 decimals, the rest to 1. */
function round(field: string, v: unknown): unknown {
  if (typeof v !== 'number') return v;
  if (!Number.isFinite(v)) return null;
  const places = /ratio|overhead/.test(field) ? 3 : 1;
  return Number(v.toFixed(places));
}

/** The JSON line: the issue's fields first (in the issue's order), then `raw`'s. One line, no trailing newline. */
export function resultLine(figures: IssueFigures, raw: Record<string, unknown> = {}): string {
  const out: Record<string, unknown> = {};
  for (const f of ISSUE_FIELDS) out[f] = round(f, figures[f]);
  for (const [k, v] of Object.entries(raw)) if (!(k in out)) out[k] = round(k, v);
  return JSON.stringify(out);
}

export interface IssueVerdict {
  field: IssueField;
  value: number | null;
  target: number;
  /** undefined: not measured in this run. */
  pass?: boolean;
}

export function issueVerdicts(figures: IssueFigures): IssueVerdict[] {
  return ISSUE_FIELDS.map((field) => {
    const value = figures[field];
    const target = ISSUE_TARGETS[field];
    return value === null || !Number.isFinite(value) ? { field, value: null, target } : { field, value, target, pass: value <= target };
  });
}
