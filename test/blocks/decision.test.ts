import type { InputBlock, KnownBlock, ModalView, PlainTextInput } from '@slack/types';
import { decisionModal, readDecisionModal } from '../../blocks/decision';
import {
  ACTION_COMMENT,
  ACTION_DECISION_DURATION,
  BLOCK_COMMENT,
  BLOCK_DECISION_DURATION,
  CALLBACK_APPROVE_MODAL,
  CALLBACK_DENY_MODAL,
} from '../../blocks/ids';
import type { ModalStateValues } from '../../blocks/modal';
import { LIMITS } from '../../blocks/text';
import { MAX_COMMENT_LENGTH } from '../../src/policy';
import { APPROVER, expectBlocksWithinLimits, expectNoRawPing, NASTY, NASTY_ESCAPED, PARENT, REQUESTER, request, roleRequest, roleTarget, target, textObjects } from './fixtures';

const inputs = (view: ModalView) => view.blocks.filter((b): b is InputBlock => b.type === 'input');
const inputById = (view: ModalView, blockId: string) => inputs(view).find((b) => b.block_id === blockId);
const allText = (view: ModalView) => textObjects(view.blocks).map((t) => t.text).join('\n');

describe('decisionModal: approve', () => {
  const r = request({ durationMs: 90 * 60_000 });
  const view = decisionModal(r, target(), 'approve');

  it('is the approve form, carrying only the request id', () => {
    expect(view).toMatchObject({
      type: 'modal',
      callback_id: CALLBACK_APPROVE_MODAL,
      private_metadata: r.id,
      title: { type: 'plain_text', text: 'Approve request' },
      submit: { type: 'plain_text', text: 'Approve' },
      close: { type: 'plain_text', text: 'Cancel' },
    });
    expect(view.title.text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
  });

  it('shows the request in brief: requester, target, duration, reason', () => {
    const text = allText(view);
    expect(text).toContain(`<@${REQUESTER}> asks for *prod-bastion* for *1h30m* (\`jit-abc123\`).`);
    expect(text).toContain('ec2-ssh · port 22 · sg-0123456789abcdef0');
    expect(text).toContain('*Reason*\ninvestigating checkout latency');
  });

  it('has an optional duration pre-filled with what was asked, then an optional bounded note', () => {
    expect(inputs(view).map((b) => [b.block_id, (b.element as PlainTextInput).action_id])).toEqual([
      [BLOCK_DECISION_DURATION, ACTION_DECISION_DURATION],
      [BLOCK_COMMENT, ACTION_COMMENT],
    ]);
    const duration = inputById(view, BLOCK_DECISION_DURATION)!;
    expect(duration.optional).toBe(true);
    expect(duration.element).toMatchObject({ type: 'plain_text_input', initial_value: '1h30m' });
    expect(duration.hint!.text).toBe('Approve for less time than asked, or leave as is.');
    const note = inputById(view, BLOCK_COMMENT)!;
    expect(note.optional).toBe(true);
    expect(note.element).toMatchObject({ type: 'plain_text_input', multiline: true, max_length: MAX_COMMENT_LENGTH });
    expect(note.hint!.text).toBe('Shown to the requester and kept in the audit log.');
  });

  it('with a quorum, shows the approvals so far', () => {
    const quorum = decisionModal(request({ approvalsRequired: 2, approvals: [{ by: APPROVER, at: '2026-11-22T10:05:00.000Z', comment: NASTY }] }), target(), 'approve');
    expect(allText(quorum)).toContain(`1 of 2 approvals so far: <@${APPROVER}> (“${NASTY_ESCAPED}”)`);
    expect(allText(decisionModal(request({ approvalsRequired: 3 }), target(), 'approve'))).toContain('Needs 3 approvals; none yet.');
    expect(allText(view)).not.toContain('approvals');
  });

  it('for an extension, says what it adds to which grant', () => {
    expect(allText(decisionModal(request({ extends: PARENT }), target(), 'approve'))).toContain(`asks to extend their access to *prod-bastion*: Adds *30m* to \`${PARENT}\``);
  });
});

describe('decisionModal: deny', () => {
  const r = request();
  const view = decisionModal(r, target(), 'deny');

  it('is the deny form with only an optional note', () => {
    expect(view).toMatchObject({ callback_id: CALLBACK_DENY_MODAL, private_metadata: r.id, submit: { text: 'Deny' }, title: { text: 'Deny request' } });
    expect(inputs(view).map((b) => b.block_id)).toEqual([BLOCK_COMMENT]);
    expect(inputById(view, BLOCK_COMMENT)).toMatchObject({ optional: true, element: { multiline: true, max_length: MAX_COMMENT_LENGTH } });
  });
});

describe('decisionModal: user text and limits', () => {
  it.each(['approve', 'deny'] as const)('%s: escapes the reason and target, and stays within limits', (decision) => {
    const view = decisionModal(
      roleRequest('PENDING', { reason: NASTY.repeat(1_000), targetName: NASTY.repeat(50), id: 'jit-xyz', approvalsRequired: 2, approvals: [{ by: APPROVER, at: '2026-11-22T10:05:00.000Z', comment: '<'.repeat(5_000) }] }),
      roleTarget({ roleArn: NASTY.repeat(100) }),
      decision,
    );
    expectNoRawPing(view);
    expectBlocksWithinLimits(view.blocks as KnownBlock[]);
    expect(view.blocks.length).toBeLessThanOrEqual(LIMITS.blocksPerModal);
    expect(view.private_metadata).toBe('jit-xyz');
  });

  it('works when the target is gone', () => {
    expect(allText(decisionModal(request(), undefined, 'approve'))).toContain('ec2-ssh · no longer configured');
  });
});

describe('readDecisionModal', () => {
  const values = (duration?: string | null, comment?: string | null): ModalStateValues => ({
    [BLOCK_DECISION_DURATION]: { [ACTION_DECISION_DURATION]: { type: 'plain_text_input', value: duration } },
    [BLOCK_COMMENT]: { [ACTION_COMMENT]: { type: 'plain_text_input', value: comment } },
  });

  it('reads both answers, trimmed', () => {
    expect(readDecisionModal(values(' 30m ', '  fine\nfor today  '))).toEqual({ duration: '30m', comment: 'fine\nfor today' });
  });

  it('returns undefined for blank, null or missing answers (the deny form has no duration)', () => {
    expect(readDecisionModal(values('  ', null))).toEqual({ duration: undefined, comment: undefined });
    expect(readDecisionModal({ [BLOCK_COMMENT]: { [ACTION_COMMENT]: { type: 'plain_text_input', value: 'no' } } })).toEqual({ duration: undefined, comment: 'no' });
    expect(readDecisionModal({})).toEqual({});
  });
});
