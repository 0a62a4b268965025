/**
 * The request modal (target, duration, address, reason) and a pure reader for its submission.
 */
import type { InputBlock, ModalView, PlainTextInput, PlainTextOption } from '@slack/types';
import type { Target } from '../src/domain/types';
import { MAX_REASON_LENGTH } from '../src/policy';
import { durationRange } from './common';
import {
  ACTION_ADDRESS,
  ACTION_DURATION,
  ACTION_REASON,
  ACTION_TARGET,
  BLOCK_ADDRESS,
  BLOCK_DURATION,
  BLOCK_REASON,
  BLOCK_TARGET,
  CALLBACK_REQUEST_MODAL,
} from './ids';
import { plain, section } from './kit';
import { LIMITS } from './text';

/** The form enforces the same limit the policy checks. */
export const REASON_MAX_LENGTH = MAX_REASON_LENGTH;

/** view.state.values as Slack sends it on view_submission. */
export type ModalStateValues = Record<
  string,
  Record<string, { type: string; value?: string | null; selected_option?: { value: string } | null }>
>;

export interface RequestModalInput {
  targetName?: string;
  duration?: string;
  address?: string;
  reason?: string;
}

/**
 * The modal for a new request. Shows at most 100 targets (Slack's select limit); a target whose
 * name is longer than an option value allows cannot be selected and is left out.
 */
export function requestModal(targets: Target[], opts: { initialTarget?: string } = {}): ModalView {
  const options = targetOptions(targets);
  if (options.length === 0) return noTargetsModal();
  const initial = options.find((o) => o.value === opts.initialTarget);
  return {
    type: 'modal',
    callback_id: CALLBACK_REQUEST_MODAL,
    title: plain('Request access', LIMITS.modalTitle),
    submit: plain('Request', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [
      input(BLOCK_TARGET, 'Target', {
        type: 'static_select',
        action_id: ACTION_TARGET,
        placeholder: plain('Choose a target', LIMITS.placeholder),
        options,
        ...(initial ? { initial_option: initial } : {}),
      }),
      input(BLOCK_DURATION, 'Duration', textInput(ACTION_DURATION, '30m, 1h, 1h30m'), {
        hint: 'How long you need access. The clock starts when access is granted.',
      }),
      input(BLOCK_ADDRESS, 'Your address', textInput(ACTION_ADDRESS, 'e.g. 203.0.113.7'), {
        optional: true,
        hint: 'Your single public IP address: required for ec2-ssh targets; leave empty for role and SSM targets.',
      }),
      input(BLOCK_REASON, 'Reason', {
        ...textInput(ACTION_REASON, 'What are you doing and why? Approvers see this.'),
        multiline: true,
        max_length: REASON_MAX_LENGTH,
      }),
    ],
  };
}

/** Reads a submission by our block and action ids; blank answers come back undefined. */
export function readRequestModal(values: ModalStateValues): RequestModalInput {
  const read = (blockId: string, actionId: string): string | undefined => {
    const state = values[blockId]?.[actionId];
    const text = (state?.selected_option?.value ?? state?.value ?? '').trim();
    return text === '' ? undefined : text;
  };
  return {
    targetName: read(BLOCK_TARGET, ACTION_TARGET),
    duration: read(BLOCK_DURATION, ACTION_DURATION),
    address: read(BLOCK_ADDRESS, ACTION_ADDRESS),
    reason: read(BLOCK_REASON, ACTION_REASON),
  };
}

function targetOptions(targets: Target[]): PlainTextOption[] {
  return targets
    .filter((t) => t.name.length > 0 && t.name.length <= LIMITS.optionValue)
    .slice(0, LIMITS.selectOptions)
    .map((t) => ({
      text: plain(t.name, LIMITS.optionText),
      value: t.name,
      description: plain(`${t.kind} · ${granted(t)} · ${durationRange(t)}`, LIMITS.optionDescription),
    }));
}

/** What a target grants, as short plain text for an option description (cut to 75 with the rest). */
function granted(t: Target): string {
  switch (t.kind) {
    case 'ec2-ssh':
      return `port ${t.port}`;
    case 'aws-role':
      return 'temporary credentials';
    case 'ssm-session': {
      const tags = Object.entries(t.tags).map(([k, v]) => `${k}=${v}`);
      if (t.instanceIds.length === 0 && tags.length > 0) return tags.join(' ');
      return `${t.instanceIds.length} node${t.instanceIds.length === 1 ? '' : 's'}${tags.length > 0 ? ` + ${tags.join(' ')}` : ''}`;
    }
  }
}

function textInput(actionId: string, placeholder: string): PlainTextInput {
  return { type: 'plain_text_input', action_id: actionId, placeholder: plain(placeholder, LIMITS.placeholder) };
}

function input(blockId: string, label: string, element: InputBlock['element'], extra: { optional?: boolean; hint?: string } = {}): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, LIMITS.inputLabel),
    element,
    ...(extra.optional ? { optional: true } : {}),
    ...(extra.hint ? { hint: plain(extra.hint, LIMITS.inputHint) } : {}),
  };
}

function noTargetsModal(): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACK_REQUEST_MODAL,
    title: plain('Request access', LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [section('No targets are configured yet, so there is nothing to request. Ask the bot admins to add one.')],
  };
}
