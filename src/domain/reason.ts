/**
 * Reason requirements per target (config `reason: { pattern, message }`, `ticketUrl`): the one
 * home of how a pattern is judged safe to run, how a reason is matched, and which ticket it names.
 * Pure; src/config.ts compiles the rule once, src/policy.ts enforces it, blocks/ renders the ticket.
 */
import type { ReasonRule, Ticket } from './types';

/** Longest pattern the config accepts (a ticket-key pattern is a few dozen characters). */
export const MAX_REASON_PATTERN_LENGTH = 200;
/** Longest operator message shown when a reason does not match. */
export const MAX_REASON_MESSAGE_LENGTH = 300;
/** The placeholder in ticketUrl replaced by the URL-encoded key. */
export const TICKET_KEY_PLACEHOLDER = '{key}';

/**
 * Why a pattern is refused, or undefined when it compiles and looks safe. Reasons are at most
 * MAX_REASON_LENGTH characters, but a pattern with a repeat inside a repeated group (`(a+)+`,
 * `(\w*)*`, `(a|ab)+`) can still backtrack for minutes on a crafted reason and would stall the bot:
 * such nesting is refused (a heuristic, not a proof; plain ticket-key patterns never need it).
 */
export function reasonPatternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_REASON_PATTERN_LENGTH) return `is longer than ${MAX_REASON_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern);
  } catch (err) {
    return `is not a valid regular expression (${(err as Error).message})`;
  }
  if (hasNestedRepeat(pattern)) return 'repeats a group that itself repeats or has alternatives, e.g. (a+)+ or (a|ab)*: it can take exponential time on some reasons; write it without the nesting';
  return undefined;
}

/** Compiles a rule (the pattern must have passed reasonPatternProblem). */
export function compileReasonRule(r: { pattern: string; message: string; ticketUrl?: string }): ReasonRule {
  return { pattern: r.pattern, regex: new RegExp(r.pattern), message: r.message, ...(r.ticketUrl ? { ticketUrl: r.ticketUrl } : {}) };
}

/** Why a ticketUrl template is refused, or undefined: https, with {key}, nothing that would break a Slack link. */
export function ticketUrlProblem(template: string): string | undefined {
  if (!template.includes(TICKET_KEY_PLACEHOLDER)) return `must contain ${TICKET_KEY_PLACEHOLDER} where the ticket key goes, e.g. https://jira.example.com/browse/{key}`;
  if (/[\s<>|]/.test(template)) return 'must not contain spaces, <, > or |';
  let url: URL;
  try {
    url = new URL(template.split(TICKET_KEY_PLACEHOLDER).join('KEY'));
  } catch {
    return 'must be an https URL such as https://jira.example.com/browse/{key}';
  }
  if (url.protocol !== 'https:') return 'must be an https URL such as https://jira.example.com/browse/{key}';
  return undefined;
}

/** Does the reason follow the rule (a match anywhere, unless the pattern anchors it)? */
export function reasonMatches(rule: ReasonRule, reason: string): boolean {
  return rule.regex.test(reason);
}

/**
 * The ticket a reason names: the group named `key` of the first match, else the whole first
 * match; with the link when the rule has a ticketUrl. Undefined when the rule names no ticket
 * (no ticketUrl and no `key` group) or the reason does not match.
 */
export function ticketOf(rule: ReasonRule | undefined, reason: string): Ticket | undefined {
  if (!rule) return undefined;
  const m = rule.regex.exec(reason);
  const named = m?.groups?.key;
  if (!m || (!rule.ticketUrl && named === undefined)) return undefined;
  const key = (named ?? m[0]).trim();
  if (key === '') return undefined;
  return rule.ticketUrl ? { key, url: rule.ticketUrl.split(TICKET_KEY_PLACEHOLDER).join(encodeURIComponent(key)) } : { key };
}

/**
 * A repeated group ((…)*, (…)+, (…){n,}) whose body repeats or has alternatives. Escapes and
 * character classes are skipped; groups are tracked with a stack.
 */
function hasNestedRepeat(pattern: string): boolean {
  const stack: { risky: boolean }[] = [];
  let i = 0;
  const repeatAt = (j: number) => pattern[j] === '*' || pattern[j] === '+' || (pattern[j] === '{' && /^\{\d+,\d*\}/.test(pattern.slice(j)) && !/^\{(\d+),\1\}/.test(pattern.slice(j)));
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      i += 2;
      if (repeatAt(i) && stack.length > 0) stack[stack.length - 1]!.risky = true;
      continue;
    }
    if (c === '[') {
      // A character class: up to the closing ] (a ] first in the class is literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j + 1;
      if (repeatAt(i) && stack.length > 0) stack[stack.length - 1]!.risky = true;
      continue;
    }
    if (c === '(') {
      stack.push({ risky: false });
      i++;
      continue;
    }
    if (c === ')') {
      const group = stack.pop();
      i++;
      const repeated = repeatAt(i);
      if (repeated && group?.risky) return true;
      // A group inside a group: its repeat (or its own risk) makes the outer one risky too.
      if (stack.length > 0 && (repeated || group?.risky)) stack[stack.length - 1]!.risky = true;
      continue;
    }
    if (c === '|' && stack.length > 0) stack[stack.length - 1]!.risky = true;
    else if (repeatAt(i) && stack.length > 0) stack[stack.length - 1]!.risky = true;
    i++;
  }
  return false;
}
