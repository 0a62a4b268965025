/**
 * The reply to `/jit doctor`: the doctor's report, one section per check (✓ / ✗, the fix under
 * each failure), the summary first. Stays inside Slack's 50-block limit: when there are more
 * checks than fit, failures are kept and the passes that do not fit are counted.
 */
import type { KnownBlock } from '@slack/types';
import { type CheckResult, type DoctorReport, doctorSummary, FAIL_MARK, PASS_MARK } from '../src/doctor';
import { context, message, section, type SlackMessage } from './kit';
import { escaped, LIMITS } from './text';

/** Block ids of the doctor reply (nothing in it is interactive; the ids name its parts). */
export const BLOCK_DOCTOR_SUMMARY = 'jit_doctor_summary';
export const BLOCK_DOCTOR_CHECK_PREFIX = 'jit_doctor_check_';

const DETAIL_MAX = 1_200;
const FIX_MAX = 1_200;

export function doctorReply(report: DoctorReport): SlackMessage {
  const summary = doctorSummary(report);
  const head: KnownBlock = { ...section(`${report.ok ? PASS_MARK : FAIL_MARK} *${escaped(summary, 200)}*`), block_id: BLOCK_DOCTOR_SUMMARY };
  // One block for the summary, one for "…and N more passed".
  const room = LIMITS.blocksPerMessage - 2;
  const shown = report.results.length <= room + 1 ? report.results : [...report.results.filter((r) => !r.ok), ...report.results.filter((r) => r.ok)].slice(0, room);
  const hidden = report.results.length - shown.length;
  const blocks: KnownBlock[] = [head, ...shown.map((r, i) => ({ ...section(checkText(r)), block_id: `${BLOCK_DOCTOR_CHECK_PREFIX}${i}` }))];
  if (hidden > 0) blocks.push(context(`…and ${hidden} more checks passed (npm run doctor lists every one).`));
  const failures = report.results.filter((r) => !r.ok).map((r) => r.name);
  const fallback = failures.length === 0 ? summary : `${summary}: ${failures.join(', ')}`;
  return message(escaped(fallback, LIMITS.fallbackText), blocks);
}

function checkText(r: CheckResult): string {
  const line = `${r.ok ? PASS_MARK : FAIL_MARK} *${escaped(r.name, 200)}*: ${escaped(r.detail, DETAIL_MAX)}`;
  return !r.ok && r.fix ? `${line}\n>fix: ${escaped(r.fix, FIX_MAX)}` : line;
}
