/**
 * The request modal (target, duration, address, accounts when a target on offer lists them, reason) and a pure reader for its submission.
 */
import type { ModalView, PlainTextOption } from '@slack/types';
import { accountChoices, type Target } from '../src/domain/types';
import { MAX_REASON_LENGTH } from '../src/domain/policy-terms';
import { durationRange } from './common';
import {
  ACTION_ADDRESS,
  ACTION_DURATION,
  ACTION_REASON,
  ACTION_TARGET,
  BLOCK_ADDRESS,
  BLOCK_ACCOUNTS,
  ACTION_ACCOUNTS,
  BLOCK_DURATION,
  BLOCK_REASON,
  BLOCK_TARGET,
  CALLBACK_REQUEST_MODAL,
} from './ids';
import { input, plain, section, textInput } from './kit';
import { escaped, LIMITS } from './text';

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
  accounts?: string;
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
      // Only when a target on offer lists accounts (Identity Center) to pick among.
      ...(targets.some((t) => accountChoices(t)) ? [input(BLOCK_ACCOUNTS, 'Accounts', textInput(ACTION_ACCOUNTS, 'e.g. 111111111111, 222222222222'), {
        optional: true,
        hint: 'Identity Center targets: the account ids you need, separated by commas; leave empty for all of the target\'s accounts (when it allows that many at once).',
      })] : []),
      input(BLOCK_REASON, 'Reason', textInput(ACTION_REASON, 'What are you doing and why? Approvers see this.', { multiline: true, maxLength: REASON_MAX_LENGTH })),
    ],
  };
}

/** Reads a submission by our block and action ids; blank answers come back undefined. */
export function readRequestModal(values: ModalStateValues): RequestModalInput {
  return {
    targetName: readInput(values, BLOCK_TARGET, ACTION_TARGET),
    duration: readInput(values, BLOCK_DURATION, ACTION_DURATION),
    address: readInput(values, BLOCK_ADDRESS, ACTION_ADDRESS),
    accounts: readInput(values, BLOCK_ACCOUNTS, ACTION_ACCOUNTS),
    reason: readInput(values, BLOCK_REASON, ACTION_REASON),
  };
}

/** One answer of a submitted form (a text input or a select), trimmed; undefined when blank or missing. */
export function readInput(values: ModalStateValues, blockId: string, actionId: string): string | undefined {
  const state = values[blockId]?.[actionId];
  const text = (state?.selected_option?.value ?? state?.value ?? '').trim();
  return text === '' ? undefined : text;
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
      const tags = Object.entries(t.nodeTags).map(([k, v]) => `${k}=${v}`);
      if (t.instanceIds.length === 0 && tags.length > 0) return tags.join(' ');
      return `${t.instanceIds.length} node${t.instanceIds.length === 1 ? '' : 's'}${tags.length > 0 ? ` + ${tags.join(' ')}` : ''}`;
    }
    case 'sso-permission-set':
      return t.accountIds.length === 1 ? `account ${t.accountIds[0]}` : `${t.accountIds.length} accounts`;
  }
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

/**
 * A read-only window with one message: what a shortcut shows when it cannot open the form (e.g.
 * the account may not request access). `text` is the words of blocks/errors.ts (escaped here).
 */
export function noticeModal(title: string, text: string): ModalView {
  return {
    type: 'modal',
    title: plain(title, LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [section(`⚠️ ${escaped(text, LIMITS.sectionText - 4)}`)],
  };
}
