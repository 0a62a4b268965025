/**
 * Renders Slack messages (fallback text + Block Kit) as plain terminal lines for the demo
 * transcript: header, section text and fields, context, buttons as [ Approve ] [ Deny ].
 * mrkdwn tokens become what a Slack client shows: <@U…> → @name, <#C…> → #channel,
 * <!date^…> → the time (with seconds, and how far into the demo it is).
 */

export interface RenderOptions {
  /** Slack user id → display name without the @. */
  users: Record<string, string>;
  /** Channel id → name without the #. */
  channels: Record<string, string>;
  /** Epoch ms of the demo start: times are shown as "10:42:17 UTC (t+11.9s)". */
  startMs: number;
  /** ANSI styling (bold, dim, colours). */
  color: boolean;
}

type Text = { type?: string; text?: string };
interface Block {
  type: string;
  text?: Text;
  fields?: Text[];
  elements?: { type?: string; text?: string | Text; action_id?: string; style?: string }[];
}

const ESC = '\x1b[';
const style = (on: boolean, code: string, s: string) => (on ? `${ESC}${code}m${s}${ESC}0m` : s);

export function bold(o: Pick<RenderOptions, 'color'>, s: string): string {
  return style(o.color, '1', s);
}
export function dim(o: Pick<RenderOptions, 'color'>, s: string): string {
  return style(o.color, '2', s);
}
export function green(o: Pick<RenderOptions, 'color'>, s: string): string {
  return style(o.color, '32', s);
}
export function red(o: Pick<RenderOptions, 'color'>, s: string): string {
  return style(o.color, '31', s);
}
export function cyan(o: Pick<RenderOptions, 'color'>, s: string): string {
  return style(o.color, '36', s);
}

/** Visible length: ANSI codes do not count. */
export function visibleLength(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * "10:42:17 UTC (t+11s)" for Slack date tokens, which carry whole seconds; with `precise`,
 * "10:42:17.385 UTC (t+11.38s)" for times the demo read from the store.
 */
export function clockTime(ms: number, o: Pick<RenderOptions, 'startMs'>, precise = false): string {
  const iso = new Date(ms).toISOString();
  const t = (ms - o.startMs) / 1000;
  return precise ? `${iso.slice(11, 23)} UTC (t+${t.toFixed(2)}s)` : `${iso.slice(11, 19)} UTC (t+${Math.floor(t)}s)`;
}

/** mrkdwn → terminal text. */
export function mrkdwn(text: string, o: RenderOptions): string {
  let s = text
    .replace(/<!date\^(\d+)\^[^|>]*(?:\|[^>]*)?>/g, (_m, sec: string) => clockTime(Number(sec) * 1000, o))
    .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (_m, id: string) => `@${o.users[id] ?? id}`)
    .replace(/<#([CGD][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, name?: string) => `#${o.channels[id] ?? name ?? id}`)
    .replace(/<!(here|channel|everyone)>/g, '@$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/<(https?:[^>]+)>/g, '$1');
  // ```code``` blocks: shown on their own lines, indented.
  s = s.replace(/```([\s\S]*?)```/g, (_m, code: string) => `\n${code.split('\n').map((l) => `    ${l}`).join('\n')}\n`);
  s = s.replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, (_m, pre: string, t: string) => `${pre}${bold(o, t)}`);
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&').replace(/\n{2,}/g, '\n').replace(/^\n|\n$/g, '');
}

/** A whole message as lines (no prefix, not wrapped). */
export function renderMessage(message: { text?: unknown; blocks?: unknown }, o: RenderOptions): string[] {
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Block[]) : [];
  if (blocks.length === 0) return mrkdwn(String(message.text ?? ''), o).split('\n');
  return blocks.flatMap((b) => renderBlock(b, o));
}

export function renderBlock(b: Block, o: RenderOptions): string[] {
  switch (b.type) {
    case 'header':
      return [bold(o, b.text?.text ?? '')];
    case 'section': {
      const lines: string[] = [];
      if (b.text?.text) lines.push(...mrkdwn(b.text.text, o).split('\n'));
      if (b.fields?.length) lines.push(...renderFields(b.fields, o));
      return lines;
    }
    case 'context':
      return (b.elements ?? []).flatMap((e) => mrkdwn(typeof e.text === 'string' ? e.text : (e.text?.text ?? ''), o).split('\n')).map((l) => dim(o, `› ${l}`));
    case 'actions':
      return [
        (b.elements ?? [])
          .map((e) => {
            const label = `[ ${typeof e.text === 'string' ? e.text : (e.text?.text ?? e.action_id ?? '?')} ]`;
            return e.style === 'primary' ? green(o, label) : e.style === 'danger' ? red(o, label) : label;
          })
          .join('  '),
      ];
    case 'divider':
      return ['────────'];
    default:
      return [dim(o, `(${b.type} block)`)];
  }
}

/** "*Label*\nvalue" fields as "Label: value", two to a line. */
function renderFields(fields: Text[], o: RenderOptions): string[] {
  const cells = fields.map((f) => {
    const raw = f.text ?? '';
    const m = /^\*([^*\n]+)\*\n([\s\S]*)$/.exec(raw);
    if (!m) return mrkdwn(raw, o).replace(/\n/g, ' · ');
    return `${dim(o, `${m[1]}:`)} ${mrkdwn(m[2]!, o).replace(/\n/g, ' · ')}`;
  });
  const width = Math.min(44, Math.max(...cells.map(visibleLength)) + 3);
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += 2) {
    const left = cells[i]!;
    const right = cells[i + 1];
    lines.push(right === undefined || visibleLength(left) >= width ? left : left + ' '.repeat(width - visibleLength(left)) + right);
    if (right !== undefined && visibleLength(left) >= width) lines.push(right);
  }
  return lines;
}

/** Word-wraps one line to `width` visible characters; continuation lines get `indent`. */
export function wrap(line: string, width: number, indent = ''): string[] {
  if (visibleLength(line) <= width) return [line];
  const lead = /^\s*/.exec(line)?.[0] ?? '';
  const words = line.slice(lead.length).split(' ');
  const out: string[] = [];
  let current = lead;
  for (const word of words) {
    const candidate = current.trim() === '' ? current + word : `${current} ${word}`;
    if (visibleLength(candidate) > width && current.trim() !== '') {
      out.push(current);
      current = lead + indent + word;
    } else {
      current = candidate;
    }
  }
  out.push(current);
  return out;
}
