/**
 * Text helpers for Block Kit: Slack's limits, mrkdwn escaping, truncation that never leaves a
 * broken entity or `<…>` token behind, mentions, and time tokens. Pure functions only.
 *
 * Rule for the builders: every string that did not come from this code (reasons, target names,
 * addresses, failure messages, ids) goes through `truncate()`, and through `escapeText()` when it
 * lands in mrkdwn. `escaped()` does both. Text objects are sent with `verbatim: true` (see kit.ts)
 * so Slack does not auto-parse a literal "@channel" typed by a user either.
 */

/** Slack's documented limits, with our own conservative choices noted. */
export const LIMITS = {
  /** chat.postMessage `text`: Slack allows 40,000; our fallback text stays far below. */
  messageText: 40_000,
  fallbackText: 3_000,
  sectionText: 3_000,
  sectionFields: 10,
  sectionFieldText: 2_000,
  headerText: 150,
  /** Context text elements allow 3,000; we stay at 2,000. */
  contextText: 2_000,
  contextElements: 10,
  buttonText: 75,
  buttonValue: 2_000,
  optionText: 75,
  optionDescription: 75,
  optionValue: 150,
  selectOptions: 100,
  placeholder: 150,
  inputLabel: 2_000,
  /** plain_text_input max_length and initial_value. */
  inputValue: 3_000,
  inputHint: 2_000,
  modalTitle: 24,
  modalButton: 24,
  blocksPerMessage: 50,
  blocksPerModal: 100,
} as const;

export const ELLIPSIS = '…';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Escapes Slack's three control characters so "<!channel>" or "<@U1>" render literally. */
export function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => ENTITIES[c] ?? c);
}

/**
 * The text a person typed after a slash command, from what Slack sends: with `should_escape` on
 * (manifest.yml: needed so `/jit audit @someone` arrives as a user id), Slack sends the three
 * control characters as entities. A reason is stored as typed, and escaped again wherever it is
 * shown. Mention and link tokens (`<@U…|name>`) stay as Slack sent them.
 */
export function typedText(s: string): string {
  return s.replace(/&(amp|lt|gt);/g, (_, e: string) => (e === 'amp' ? '&' : e === 'lt' ? '<' : '>'));
}

/** Cuts `s` to at most `max` UTF-16 units, ending in '…' when cut; never splits a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  if (max <= 0) return '';
  let cut = max - ELLIPSIS.length;
  if (cut > 0 && isHighSurrogate(s.charCodeAt(cut - 1))) cut -= 1;
  return s.slice(0, cut) + ELLIPSIS;
}

/**
 * truncate() for mrkdwn that is already escaped: also drops a trailing partial entity ("&am")
 * or an unclosed token ("<!date^…", "<@U12") left by the cut.
 */
export function truncateMrkdwn(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = truncate(s, max);
  return dropPartialToken(cut.slice(0, -ELLIPSIS.length)) + ELLIPSIS;
}

/** User-controlled text for mrkdwn: escaped, then truncated without breaking an entity. */
export function escaped(raw: string, max: number): string {
  return truncateMrkdwn(escapeText(raw), max);
}

/** User-controlled text as inline code (backticks inside would end the span early). */
export function code(raw: string, max = 200): string {
  return '`' + escaped(raw.replace(/`/g, "'"), max) + '`';
}

/** A user mention for a Slack user id; anything else (e.g. "system") is shown as escaped text. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]{2,30}$/.test(userId) ? `<@${userId}>` : escaped(userId, 80);
}

/** A user-group mention for a Slack subteam id (S…); anything else is shown as escaped text. */
export function groupMention(groupId: string): string {
  return /^S[A-Z0-9]{2,30}$/.test(groupId) ? `<!subteam^${groupId}>` : escaped(groupId, 80);
}

/** Text on one line: runs of whitespace (newlines included) become one space. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** A channel link for a Slack channel id; anything else is shown as escaped text. */
export function channelLink(channelId: string): string {
  return /^[CGD][A-Z0-9]{2,30}$/.test(channelId) ? `<#${channelId}>` : escaped(channelId, 80);
}

export const UNKNOWN_TIME = 'an unknown time';

/** "14:32 UTC"; "2026-11-23 14:32 UTC" when `reference` is given and falls on another UTC day. */
export function utcTime(iso: string, reference?: string | Date): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return UNKNOWN_TIME;
  const hhmm = `${t.toISOString().slice(11, 16)} UTC`;
  if (reference === undefined) return hhmm;
  const ref = new Date(reference);
  const sameDay = !Number.isNaN(ref.getTime()) && ref.toISOString().slice(0, 10) === t.toISOString().slice(0, 10);
  return sameDay ? hhmm : `${t.toISOString().slice(0, 10)} ${hhmm}`;
}

/** "2026-11-23 14:32 UTC". */
export function utcDateTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return UNKNOWN_TIME;
  return `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, 16)} UTC`;
}

/**
 * A Slack date token, rendered in each reader's own time zone, e.g.
 * `<!date^1795444320^{date_short_pretty} {time}|14:32 UTC>`. The fallback is shown by clients
 * that cannot render the token.
 */
export function slackDate(iso: string, fallbackUtc: string = utcDateTime(iso)): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return UNKNOWN_TIME;
  const fallback = escapeText(fallbackUtc).replace(/\|/g, '/');
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function dropPartialToken(s: string): string {
  let out = s;
  const lt = out.lastIndexOf('<');
  if (lt > out.lastIndexOf('>')) out = out.slice(0, lt);
  const amp = out.lastIndexOf('&');
  if (amp > out.lastIndexOf(';')) out = out.slice(0, amp);
  return out;
}
