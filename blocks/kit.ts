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
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
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
 * most `maxItems` and ending with "…and N more" when there are more.
 */
export function listBlocks(lines: string[], maxItems: number): KnownBlock[] {
  const shown = lines.slice(0, maxItems).map((l) => truncateMrkdwn(l, LIMITS.sectionText));
  const chunks: string[] = [];
  for (const line of shown) {
    const last = chunks[chunks.length - 1];
    if (last !== undefined && last.length + 1 + line.length <= LIMITS.sectionText) chunks[chunks.length - 1] = `${last}\n${line}`;
    else chunks.push(line);
  }
  const blocks: KnownBlock[] = chunks.map(section);
  const hidden = lines.length - shown.length;
  if (hidden > 0) blocks.push(context(`…and ${hidden} more.`));
  return blocks;
}

export function message(text: string, blocks: KnownBlock[]): SlackMessage {
  return { text: truncateMrkdwn(text || EMPTY, LIMITS.fallbackText), blocks: blocks.slice(0, LIMITS.blocksPerMessage) };
}
