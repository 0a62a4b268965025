/**
 * Small typed constructors for the Block Kit pieces we use. Each one enforces Slack's limit for
 * the text it carries, as a last line of defence behind the per-value truncation the builders do.
 * Callers pass mrkdwn that is already escaped (see text.ts).
 */
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  InputBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  PlainTextInput,
  SectionBlock,
} from '@slack/types';
import { LIMITS, truncate, truncateMrkdwn } from './text';

/** What every message builder returns: fallback text (notifications, screen readers) and blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Slack rejects empty text objects. */
const EMPTY = '—';

export function plain(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(text || EMPTY, max), emoji: true };
}

/** mrkdwn with verbatim: Slack keeps `<@U…>`/`<!date…>` tokens but does not auto-parse typed text. */
export function mrkdwn(text: string, max: number): MrkdwnElement {
  return { type: 'mrkdwn', text: truncateMrkdwn(text || EMPTY, max), verbatim: true };
}

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text, LIMITS.sectionText) };
}

/** A two-column fields section: each entry is a "*Label*\nvalue" mrkdwn string. */
export function fieldsSection(fields: string[]): SectionBlock {
  return { type: 'section', fields: fields.slice(0, LIMITS.sectionFields).map((f) => mrkdwn(f, LIMITS.sectionFieldText)) };
}

/** "*Label*\nvalue" for fieldsSection(); `value` is mrkdwn already escaped. */
export function field(label: string, value: string): string {
  return `*${label}*\n${value || EMPTY}`;
}

export function context(text: string): ContextBlock {
  return { type: 'context', elements: [mrkdwn(text, LIMITS.contextText)] };
}

export function divider(): DividerBlock {
  return { type: 'divider' };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', text: plain(text, LIMITS.buttonText), action_id: actionId, value, ...(style ? { style } : {}) };
}

export function actions(blockId: string, elements: Button[]): ActionsBlock {
  return { type: 'actions', block_id: blockId, elements };
}

/**
 * Packs one mrkdwn line per item into as few sections as fit Slack's section limit, showing at
 * most `maxItems` and ending with "…and N more" when there are more. With `maxBlocks`, items
 * that would need more blocks than that (the "…and N more" line included) are left out and
 * counted in it too, so the caller's other blocks still fit the message.
 */
export function listBlocks(lines: string[], maxItems: number, maxBlocks = Infinity): KnownBlock[] {
  const shown = lines.slice(0, maxItems).map((l) => truncateMrkdwn(l, LIMITS.sectionText));
  const chunks: string[] = [];
  let count = 0;
  for (const line of shown) {
    const last = chunks[chunks.length - 1];
    if (last !== undefined && last.length + 1 + line.length <= LIMITS.sectionText) {
      chunks[chunks.length - 1] = `${last}\n${line}`;
    } else {
      // A new section, leaving room for "…and N more" unless it can hold every line left.
      const rest = lines.length === shown.length ? shown.slice(count).join('\n').length : Infinity;
      const moreLine = rest <= LIMITS.sectionText ? 0 : 1;
      if (chunks.length + 1 + moreLine > maxBlocks) break;
      chunks.push(line);
    }
    count += 1;
  }
  const blocks: KnownBlock[] = chunks.map(section);
  const hidden = lines.length - count;
  if (hidden > 0) blocks.push(context(`…and ${hidden} more.`));
  return blocks;
}

/** A plain-text input element. */
export function textInput(actionId: string, placeholder: string, extra: { multiline?: boolean; maxLength?: number; initialValue?: string } = {}): PlainTextInput {
  const initial = extra.initialValue === undefined ? '' : truncate(extra.initialValue, extra.maxLength ?? LIMITS.inputValue);
  return {
    type: 'plain_text_input',
    action_id: actionId,
    placeholder: plain(placeholder, LIMITS.placeholder),
    ...(extra.multiline ? { multiline: true } : {}),
    ...(extra.maxLength !== undefined ? { max_length: extra.maxLength } : {}),
    ...(initial !== '' ? { initial_value: initial } : {}),
  };
}

/** An input block of a modal. */
export function input(blockId: string, label: string, element: InputBlock['element'], extra: { optional?: boolean; hint?: string } = {}): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, LIMITS.inputLabel),
    element,
    ...(extra.optional ? { optional: true } : {}),
    ...(extra.hint ? { hint: plain(extra.hint, LIMITS.inputHint) } : {}),
  };
}

export function message(text: string, blocks: KnownBlock[]): SlackMessage {
  return { text: truncateMrkdwn(text || EMPTY, LIMITS.fallbackText), blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}
