import { BLOCK_DOCTOR_CHECK_PREFIX, BLOCK_DOCTOR_SUMMARY, doctorReply } from '../../blocks/doctor';
import type { CheckResult, DoctorReport } from '../../src/doctor';
import { expectMessageWithinLimits, NASTY, NASTY_ESCAPED, textObjects } from './fixtures';

const report = (results: CheckResult[]): DoctorReport => {
  const failed = results.filter((r) => !r.ok).length;
  return { results, passed: results.length - failed, failed, ok: failed === 0 };
};

it('shows the summary, then ✓ / ✗ per check with the fix under each failure, escaped', () => {
  const msg = doctorReply(
    report([
      { name: 'Slack token', ok: true, detail: 'accepted' },
      { name: 'approver channel', ok: false, detail: `the bot is not a member of ${NASTY}`, fix: 'invite the bot: /invite @jit' },
    ]),
  );
  expect(msg.text).toBe('doctor: 2 checks, 1 failed: approver channel');
  expect(msg.blocks.map((b) => b.block_id)).toEqual([BLOCK_DOCTOR_SUMMARY, `${BLOCK_DOCTOR_CHECK_PREFIX}0`, `${BLOCK_DOCTOR_CHECK_PREFIX}1`]);
  expect(textObjects(msg.blocks).map((t) => t.text)).toEqual([
    '✗ *doctor: 2 checks, 1 failed*',
    '✓ *Slack token*: accepted',
    `✗ *approver channel*: the bot is not a member of ${NASTY_ESCAPED}\n>fix: invite the bot: /invite @jit`,
  ]);
  expectMessageWithinLimits(msg);
});

it('says all passed', () => {
  const msg = doctorReply(report([{ name: 'store', ok: true, detail: 'ok' }]));
  expect(msg.text).toBe('doctor: 1 check, all passed');
  expect(textObjects(msg.blocks)[0]!.text).toBe('✓ *doctor: 1 check, all passed*');
});

it('keeps every failure and counts the passes that do not fit in 50 blocks', () => {
  const results: CheckResult[] = Array.from({ length: 70 }, (_, i) => (i % 10 === 9 ? { name: `t${i}`, ok: false, detail: 'x'.repeat(5_000), fix: 'y'.repeat(5_000) } : { name: `t${i}`, ok: true, detail: 'fine' }));
  const msg = doctorReply(report(results));
  expectMessageWithinLimits(msg);
  expect(msg.blocks).toHaveLength(50);
  const texts = textObjects(msg.blocks).map((t) => t.text);
  expect(texts.filter((t) => t.startsWith('✗ *t'))).toHaveLength(7);
  expect(texts.at(-1)).toBe('…and 22 more checks passed (npm run doctor lists every one).');
});
