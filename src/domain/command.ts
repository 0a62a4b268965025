/**
 * The `/jit` text grammar:
 *   /jit                                   open the request form
 *   /jit request <target> <duration> [<address>] [--accounts=<id>,<id>] [--break-glass] <reason…>
 *   /jit list | /jit revoke <id> | /jit targets | /jit policy check | /jit doctor | /jit help
 *   /jit audit <id> | /jit audit <@user> [since <duration>] | /jit audit <target> [since <duration>]
 */
import { looksLikeAddress } from './address';
import type { AuditSubject } from './audit';
import { TARGET_NAME_PATTERN, USER_ID_PATTERN } from './ids';

export type JitCommand =
  | { sub: 'modal' }
  | { sub: 'request'; targetName?: string; duration?: string; address?: string; accounts?: string; reason?: string; breakGlass?: boolean }
  | { sub: 'list' }
  | { sub: 'revoke'; id?: string }
  | { sub: 'targets' }
  | { sub: 'policy'; action?: string }
  | { sub: 'doctor' }
  | { sub: 'help' }
  | { sub: 'audit'; audit: AuditCommand }
  | { sub: 'unknown'; word: string };

/**
 * What `/jit audit` asked for. `id` is the word as typed (validated at the edge); `bad` is a
 * grammar problem for the reply: no subject, a word that is neither a mention, an id nor a target
 * name, `since` without a value, or words left over.
 */
export type AuditCommand =
  | { by: 'request'; id: string }
  | { by: 'history'; subject: AuditSubject; since?: string }
  | { by: 'bad'; problem: 'missing' | 'subject' | 'plain-mention' | 'since-missing' | 'extra' };

export function parseJitCommand(text: string): JitCommand {
  const tokens = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = tokens;
  switch (first?.toLowerCase()) {
    case undefined:
      return { sub: 'modal' };
    case 'request':
      return parseRequest(rest);
    case 'list':
    case 'ls':
      return { sub: 'list' };
    case 'revoke':
      return { sub: 'revoke', id: rest[0] };
    case 'targets':
      return { sub: 'targets' };
    case 'policy':
      return { sub: 'policy', action: rest[0]?.toLowerCase() };
    case 'doctor':
      return { sub: 'doctor' };
    case 'audit':
      return { sub: 'audit', audit: parseAudit(rest) };
    case 'help':
    case '-h':
    case '--help':
      return { sub: 'help' };
    default:
      return { sub: 'unknown', word: first ?? '' };
  }
}

/** `--break-glass` may stand anywhere after `request`; it is taken out before the rest is read. */
const BREAK_GLASS = /^(--|—)break-?glass$/i;
/** `--accounts=<id>,<id>` (Identity Center targets) likewise; repeated, the lists add up. */
const ACCOUNTS = /^(?:--|—)accounts?=(.*)$/i;

function parseRequest(words: string[]): JitCommand {
  const accounts = words.flatMap((t) => ACCOUNTS.exec(t)?.[1] ?? []);
  const all = words.filter((t) => !ACCOUNTS.test(t));
  const tokens = all.filter((t) => !BREAK_GLASS.test(t));
  const flags = { ...(tokens.length < all.length ? { breakGlass: true } : {}), ...(accounts.length > 0 ? { accounts: accounts.join(',') } : {}) };
  const [targetName, duration, third, ...more] = tokens;
  if (third !== undefined && looksLikeAddress(third)) {
    return { sub: 'request', targetName, duration, address: third, reason: joinReason(more), ...flags };
  }
  return { sub: 'request', targetName, duration, reason: joinReason(third === undefined ? [] : [third, ...more]), ...flags };
}

function joinReason(words: string[]): string | undefined {
  const reason = words.join(' ').trim();
  return reason === '' ? undefined : reason;
}

/** Slack sends a mention as "<@U123|name>" (or "<@U123>"). */
const MENTION = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/;

function parseAudit(tokens: string[]): AuditCommand {
  const [first, ...rest] = tokens;
  if (first === undefined) return { by: 'bad', problem: 'missing' };
  if (/^jit-/i.test(first)) return rest.length > 0 ? { by: 'bad', problem: 'extra' } : { by: 'request', id: first };
  const mention = MENTION.exec(first);
  let subject: AuditSubject;
  if (mention && USER_ID_PATTERN.test(mention[1]!)) subject = { by: 'user', userId: mention[1]! };
  else if (USER_ID_PATTERN.test(first) && first.length <= 32) subject = { by: 'user', userId: first }; // a member ID
  else if (TARGET_NAME_PATTERN.test(first)) subject = { by: 'target', name: first };
  else if (first.startsWith('@')) return { by: 'bad', problem: 'plain-mention' }; // the app was installed without escaping
  else return { by: 'bad', problem: 'subject' };
  if (rest.length === 0) return { by: 'history', subject };
  if (rest[0]!.toLowerCase() !== 'since') return { by: 'bad', problem: 'extra' };
  if (rest.length === 1) return { by: 'bad', problem: 'since-missing' };
  if (rest.length > 2) return { by: 'bad', problem: 'extra' };
  return { by: 'history', subject, since: rest[1]! };
}
