/**
 * `npm run cost`: DynamoDB reads and writes per lifecycle, in calls and in the request units
 * DynamoDB on-demand bills, the on-demand cost of 1,000 of each, storage per request, and what
 * the bot reads when idle. Measured (bench/cost-paths.ts): counts, not timings, so one run is
 * the answer and it is the same on any machine. `-- --json` prints the report as JSON.
 *
 * Prices: us-east-1, on-demand, Standard table class (see README, Operate → Cost, for where
 * they come from and where to check them). Change them here when AWS does.
 */
import { type CostReport, measureCost } from './cost-paths';
import type { Tally } from '../testkit/dynamo-meter';

export const PRICES = {
  /** USD per million write request units. */
  wruPerMillion: 0.625,
  /** USD per million read request units. */
  rruPerMillion: 0.125,
  /** USD per GB-month of table storage (the first 25 GB per month are free). */
  storagePerGbMonth: 0.25,
};
/** DynamoDB adds 100 bytes per item, in the table and in each index holding it. */
const ITEM_OVERHEAD = 100;
const RETENTION_DAYS = 400;

/** USD for 1,000 runs of a path. */
export const costOf1000 = (t: Tally): number => ((t.wru * PRICES.wruPerMillion + t.rru * PRICES.rruPerMillion) / 1e6) * 1000;

/** Bytes a path keeps stored (table and indexes) once resolved. */
export const storedBytes = (stored: CostReport['paths'][number]['stored']): number => stored.reduce((s, i) => s + (i.bytes + ITEM_OVERHEAD) * (1 + i.indexes), 0);

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function render(r: CostReport): string {
  const lines: string[] = [];
  const row = (name: string, t: Tally, extra = '') =>
    lines.push(`| ${pad(name, 24)} | ${pad(`${t.reads} / ${num(t.rru)}`, 12)} | ${pad(`${t.writes} / ${num(t.wru)}`, 13)} | ${pad(`$${costOf1000(t).toFixed(4)}`, 10)} | ${extra} |`);
  lines.push('| path                     | reads / RRU  | writes / WRU  | 1,000 ×    | stored per request |');
  lines.push('|---|---|---|---|---|');
  for (const s of r.steps) row(`↳ ${s.path}`, s.tally, '');
  for (const p of r.paths) {
    const bytes = storedBytes(p.stored);
    row(p.path, p.tally, bytes ? `${(bytes / 1024).toFixed(1)} KB (${p.stored.map((i) => `${i.bytes} B in table + ${i.indexes} indexes`).join(', ')})` : '—');
  }
  lines.push('');
  lines.push('Idle (nothing due, nothing to deliver, no live rule): per call, and per day at the default intervals');
  let dayRru = 0;
  for (const i of r.idle) {
    const perDay = (86_400 / i.everyS) * i.tally.rru;
    dayRru += perDay;
    lines.push(`  ${pad(i.path, 15)} every ${pad(`${i.everyS}s`, 5)} ${i.tally.reads} reads, ${num(i.tally.rru)} RRU, ${i.tally.calls.reduce((s, c) => s + c.items, 0)} items read → ${Math.round(perDay)} RRU/day  (${i.what})`);
  }
  lines.push(`  total ${Math.round(dayRru)} RRU/day = $${((dayRru * 30 * PRICES.rruPerMillion) / 1e6).toFixed(3)} per 30 days`);
  const life = r.paths[0]!;
  const bytes = storedBytes(life.stored);
  const months = RETENTION_DAYS / (365.25 / 12);
  lines.push('');
  lines.push(`Storage: a finished lifecycle keeps ${(bytes / 1024).toFixed(1)} KB (item + 100 B overhead, in the table and each index holding it) for the retention (${RETENTION_DAYS}d default).`);
  lines.push(`  1,000 requests a month, kept ${RETENTION_DAYS}d: ${((1000 * months * bytes) / 1e9).toFixed(3)} GB at steady state = $${(((1000 * months * bytes) / 1e9) * PRICES.storagePerGbMonth).toFixed(4)}/month beyond the free 25 GB`);
  lines.push(`Prices: $${PRICES.wruPerMillion}/M WRU, $${PRICES.rruPerMillion}/M RRU, $${PRICES.storagePerGbMonth}/GB-month (us-east-1, on-demand, Standard).`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const report = await measureCost();
  if (process.argv.includes('--json')) {
    const brief = (t: Tally) => ({ reads: t.reads, writes: t.writes, rru: t.rru, wru: t.wru, usdPer1000: Number(costOf1000(t).toFixed(5)) });
    process.stdout.write(`${JSON.stringify({ steps: report.steps.map((s) => ({ path: s.path, ...brief(s.tally) })), paths: report.paths.map((p) => ({ path: p.path, ...brief(p.tally), storedBytes: storedBytes(p.stored) })), idle: report.idle.map((i) => ({ path: i.path, everyS: i.everyS, ...brief(i.tally) })) })}\n`);
  } else {
    process.stdout.write(`${render(report)}\n`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`npm run cost: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
