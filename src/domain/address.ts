/**
 * Strict single-host address validation for security-group rules. AWS quietly widens a CIDR
 * such as "1.2.3.4/0" to 0.0.0.0/0, so only a lone host (/32 or /128) of a routable kind is
 * accepted; everything else is refused with a problem code (blocks/errors.ts says what to send instead).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ValidationError } from './errors';
import type { HostCidr } from './types';

export function parseHostAddress(raw: string | undefined): HostCidr {
  const text = (raw ?? '').trim();
  if (text === '') throw new ValidationError('address-missing', {}, 'address');
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const prefix = slash === -1 ? undefined : text.slice(slash + 1);

  if (isIPv4(addr)) {
    if (prefix !== undefined && prefix !== '32') {
      throw new ValidationError('address-network', { text, prefix: 32 }, 'address');
    }
    const octets = addr.split('.').map(Number) as [number, number, number, number];
    const [a, b] = octets;
    if (a === 0) throw new ValidationError('address-unusable', { address: addr, why: 'unusable' }, 'address');
    if (a === 127) throw new ValidationError('address-unusable', { address: addr, why: 'loopback' }, 'address');
    if (a >= 224) throw new ValidationError('address-unusable', { address: addr, why: 'multicast-reserved-broadcast' }, 'address');
    if (a === 169 && b === 254) throw new ValidationError('address-unusable', { address: addr, why: 'link-local' }, 'address');
    const normal = octets.join('.');
    return { cidr: `${normal}/32`, address: normal, family: 4 };
  }

  if (isIPv6(addr)) {
    if (prefix !== undefined && prefix !== '128') {
      throw new ValidationError('address-network', { text, prefix: 128 }, 'address');
    }
    const groups = expandIPv6(addr);
    if (groups.every((g) => g === 0)) throw new ValidationError('address-unusable', { address: addr, why: 'unspecified' }, 'address');
    if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) {
      throw new ValidationError('address-unusable', { address: addr, why: 'loopback' }, 'address');
    }
    if ((groups[0]! & 0xff00) === 0xff00) throw new ValidationError('address-unusable', { address: addr, why: 'multicast' }, 'address');
    if ((groups[0]! & 0xffc0) === 0xfe80) throw new ValidationError('address-unusable', { address: addr, why: 'link-local' }, 'address');
    if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
      throw new ValidationError('address-v4-mapped', { address: addr }, 'address');
    }
    const normal = compressIPv6(groups);
    return { cidr: `${normal}/128`, address: normal, family: 6 };
  }

  throw new ValidationError('address-not-ip', { text }, 'address');
}

/** True when the text looks like an address attempt (digits/dots, hex/colons, optional prefix). */
export function looksLikeAddress(text: string): boolean {
  return /^[0-9.]+(\/\d+)?$/.test(text) || /^[0-9a-f:.]*:[0-9a-f:.]*(\/\d+)?$/i.test(text);
}

function expandIPv6(addr: string): number[] {
  let text = addr.toLowerCase();
  // A trailing embedded IPv4 (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    text = text.slice(0, v4.index) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** RFC 5952 text form: lower case, longest run of zero groups (length ≥ 2) compressed. */
function compressIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
