/**
 * The `/jit` text grammar:
 *   /jit                                   open the request form
 *   /jit request <target> <duration> [<address>] [--break-glass] <reason…>
 *   /jit list | /jit revoke <id> | /jit targets | /jit policy check | /jit doctor | /jit help
 */
import { looksLikeAddress } from './address';

export type JitCommand =
  | { sub: 'modal' }
  | { sub: 'request'; targetName?: string; duration?: string; address?: string; reason?: string; breakGlass?: boolean }
  | { sub: 'list' }
  | { sub: 'revoke'; id?: string }
  | { sub: 'targets' }
  | { sub: 'policy'; action?: string }
  | { sub: 'doctor' }
  | { sub: 'help' }
  | { sub: 'unknown'; word: string };

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

function parseRequest(all: string[]): JitCommand {
  const tokens = all.filter((t) => !BREAK_GLASS.test(t));
  const flags = tokens.length < all.length ? { breakGlass: true } : {};
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
