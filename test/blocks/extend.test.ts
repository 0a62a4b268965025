import type { InputBlock, KnownBlock, ModalView } from '@slack/types';
import { extendModal, readExtendModal } from '../../blocks/extend';
import { ACTION_EXTEND_DURATION, ACTION_EXTEND_REASON, BLOCK_EXTEND_DURATION, BLOCK_EXTEND_REASON, CALLBACK_EXTEND_MODAL } from '../../blocks/ids';
import type { ModalStateValues } from '../../blocks/modal';
import { LIMITS } from '../../blocks/text';
import { extensionHeadroom, MAX_REASON_LENGTH } from '../../src/policy';
import { expectBlocksWithinLimits, expectNoRawPing, inStatus, NASTY, policy, target, textObjects } from './fixtures';

const inputs = (view: ModalView) => view.blocks.filter((b): b is InputBlock => b.type === 'input');
const inputById = (view: ModalView, blockId: string) => inputs(view).find((b) => b.block_id === blockId);
const allText = (view: ModalView) => textObjects(view.blocks).map((t) => t.text).join('\n');

describe('extendModal', () => {
  const grant = inStatus('ACTIVE');
  const view = extendModal(grant, target(), { maxMs: 4 * 3_600_000, canExtend: true });

  it('is the extension form, carrying only the grant id', () => {
    expect(view).toMatchObject({ type: 'modal', callback_id: CALLBACK_EXTEND_MODAL, private_metadata: grant.id, title: { text: 'Extend access' }, close: { text: 'Cancel' } });
    expect(view.submit!.text.length).toBeLessThanOrEqual(LIMITS.modalButton);
    expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
  });

  it('says until when access runs now', () => {
    expect(allText(view)).toMatch(/Your access to \*prod-bastion\* \(`jit-abc123`\) runs until <!date\^\d+\^[^|]+\|10:36 UTC>\./);
  });

  it('asks how much longer (pre-filled with the original length, hint with the maximum) and why (pre-filled)', () => {
    expect(inputs(view).map((b) => [b.block_id, (b.element as { action_id?: string }).action_id])).toEqual([
      [BLOCK_EXTEND_DURATION, ACTION_EXTEND_DURATION],
      [BLOCK_EXTEND_REASON, ACTION_EXTEND_REASON],
    ]);
    const duration = inputById(view, BLOCK_EXTEND_DURATION)!;
    expect(duration.element).toMatchObject({ initial_value: '30m' });
    expect(duration.hint!.text).toBe('Up to 4h more.');
    expect(duration.optional).toBeUndefined();
    expect(inputById(view, BLOCK_EXTEND_REASON)!.element).toMatchObject({ multiline: true, max_length: MAX_REASON_LENGTH, initial_value: 'investigating checkout latency' });
  });

  it('pre-fills what was asked (not the narrowed duration), within the maximum', () => {
    const narrowed = inStatus('ACTIVE', { durationMs: 30 * 60_000, requestedDurationMs: 2 * 3_600_000 });
    expect(inputById(extendModal(narrowed, target(), { maxMs: 8 * 3_600_000, canExtend: true }), BLOCK_EXTEND_DURATION)!.element).toMatchObject({ initial_value: '2h' });
    expect(inputById(extendModal(narrowed, target(), { maxMs: 45 * 60_000, canExtend: true }), BLOCK_EXTEND_DURATION)!.element).toMatchObject({ initial_value: '45m' });
  });

  it('when the policy would accept no extension, says it cannot be extended and has nothing to submit', () => {
    const capped = target({ policy: policy({ maxTotalDurationMs: 30 * 60_000 }) });
    const room = extensionHeadroom(capped, 30 * 60_000 - 59_000);
    expect(room).toEqual({ maxMs: 59_000, canExtend: false });
    const full = extendModal(grant, capped, room);
    expect(full.submit).toBeUndefined();
    expect(inputs(full)).toHaveLength(0);
    expect(full.close).toMatchObject({ text: 'Close' });
    expect(allText(full)).toContain('cannot be extended further');
    expect(allText(full)).toContain('last at most 30m in all');
    expect(allText(extendModal(grant, undefined, { maxMs: 0, canExtend: false }))).toContain('cannot be extended further');
  });

  it('escapes the target name; a reason is pre-filled as plain text, never longer than allowed', () => {
    const nasty = extendModal(inStatus('ACTIVE', { targetName: NASTY, reason: 'r'.repeat(2_000) }), target(), { maxMs: 3_600_000, canExtend: true });
    expectNoRawPing(nasty.blocks);
    expectBlocksWithinLimits(nasty.blocks as KnownBlock[]);
    const reason = inputById(nasty, BLOCK_EXTEND_REASON)!.element as { initial_value?: string };
    expect(reason.initial_value!.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
  });
});

describe('readExtendModal', () => {
  const values = (duration?: string | null, reason?: string | null): ModalStateValues => ({
    [BLOCK_EXTEND_DURATION]: { [ACTION_EXTEND_DURATION]: { type: 'plain_text_input', value: duration } },
    [BLOCK_EXTEND_REASON]: { [ACTION_EXTEND_REASON]: { type: 'plain_text_input', value: reason } },
  });

  it('reads both answers, trimmed; blank ones come back undefined', () => {
    expect(readExtendModal(values(' 1h ', ' still debugging '))).toEqual({ duration: '1h', reason: 'still debugging' });
    expect(readExtendModal(values('', null))).toEqual({ duration: undefined, reason: undefined });
    expect(readExtendModal({})).toEqual({});
  });
});
