/**
 * The signature window (both ways), the signature itself and the replay cache: pure functions and
 * the cache with a fake clock. The wiring through Bolt's receiver is in test/app/hostile/edge.test.ts.
 */
import { createHmac } from 'node:crypto';
import { checkSignature, checkTimestamp, ReplayCache, SIGNATURE_WINDOW_MS } from '../../slack/request-guard';
import { FakeClock } from '../support/clock';

const SECRET = 'unit-secret';
const NOW = Date.parse('2026-11-22T10:00:00.000Z');
const nowSec = NOW / 1000;
const sign = (body: string, ts: number, secret = SECRET) => ({ timestamp: String(ts), signature: `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}` });

describe('checkTimestamp', () => {
  it.each([
    ['now', nowSec, undefined],
    ['exactly 5 min old', nowSec - 300, undefined],
    ['exactly 5 min ahead', nowSec + 300, undefined],
    ['5 min 1 s old', nowSec - 301, 'stale'],
    ['5 min 1 s ahead', nowSec + 301, 'future'],
    ['24 h ahead', nowSec + 86_400, 'future'],
    ['a year old', nowSec - 365 * 86_400, 'stale'],
  ])('%s', (_name, ts, expected) => {
    expect(checkTimestamp({ timestamp: String(ts), signature: 'v0=x' }, NOW)).toBe(expected);
  });

  it.each([
    ['no timestamp', { signature: 'v0=x' }, 'missing_headers'],
    ['no signature', { timestamp: String(nowSec) }, 'missing_headers'],
    ['empty timestamp', { timestamp: '', signature: 'v0=x' }, 'missing_headers'],
    ['not a number', { timestamp: 'soon', signature: 'v0=x' }, 'bad_timestamp'],
    ['negative', { timestamp: '-1', signature: 'v0=x' }, 'bad_timestamp'],
    ['fractional', { timestamp: `${nowSec}.5`, signature: 'v0=x' }, 'bad_timestamp'],
    ['exponent', { timestamp: '1.7e9', signature: 'v0=x' }, 'bad_timestamp'],
    ['huge', { timestamp: '9'.repeat(40), signature: 'v0=x' }, 'bad_timestamp'],
  ])('%s → %s', (_name, headers, expected) => {
    expect(checkTimestamp(headers, NOW)).toBe(expected);
  });
});

describe('checkSignature', () => {
  const body = 'command=%2Fjit&text=list';
  it('accepts a correct signature within the window', () => {
    expect(checkSignature(SECRET, sign(body, nowSec), Buffer.from(body), NOW)).toBeUndefined();
  });
  it.each([
    ['another secret', () => sign(body, nowSec, 'other-secret'), body],
    ['another body', () => sign(body, nowSec), `${body}x`],
    ['a signature for another timestamp', () => ({ ...sign(body, nowSec - 10), timestamp: String(nowSec) }), body],
    ['no v0= prefix', () => ({ ...sign(body, nowSec), signature: sign(body, nowSec).signature.slice(3) }), body],
    ['upper-case hex', () => ({ ...sign(body, nowSec), signature: sign(body, nowSec).signature.toUpperCase() }), body],
    ['truncated', () => ({ ...sign(body, nowSec), signature: sign(body, nowSec).signature.slice(0, 40) }), body],
  ])('refuses %s', (_name, headers, sent) => {
    expect(checkSignature(SECRET, headers(), Buffer.from(sent), NOW)).toBe('bad_signature');
  });
  it('checks the window before the signature: a correctly signed future request is "future"', () => {
    expect(checkSignature(SECRET, sign(body, nowSec + 86_400), Buffer.from(body), NOW)).toBe('future');
  });
});

describe('ReplayCache', () => {
  it('refuses the same (timestamp, signature) pair twice within the window', () => {
    const cache = new ReplayCache(new FakeClock('2026-11-22T10:00:00.000Z'));
    expect(cache.firstSeen(nowSec, 'v0=aa')).toBe(true);
    expect(cache.firstSeen(nowSec, 'v0=aa')).toBe(false);
    expect(cache.firstSeen(nowSec, 'v0=bb')).toBe(true);
    expect(cache.firstSeen(nowSec + 1, 'v0=aa')).toBe(true);
  });

  it('remembers a pair until its timestamp leaves the window, then forgets it', () => {
    const clock = new FakeClock('2026-11-22T10:00:00.000Z');
    const cache = new ReplayCache(clock);
    expect(cache.firstSeen(nowSec + 300, 'v0=ahead')).toBe(true);
    clock.advance(2 * SIGNATURE_WINDOW_MS); // the timestamp is now exactly 5 min old: still in the window
    expect(cache.firstSeen(nowSec + 300, 'v0=ahead')).toBe(false);
    clock.advance(1_000);
    cache.firstSeen(nowSec + 1_000, 'v0=other'); // prunes
    expect(cache.size).toBe(1);
  });

  it('is bounded: past max it forgets expired pairs first, then the oldest, and says so', () => {
    const clock = new FakeClock('2026-11-22T10:00:00.000Z');
    const evicted: number[] = [];
    const cache = new ReplayCache(clock, { max: 3, onEvict: (n) => evicted.push(n) });
    cache.firstSeen(nowSec - 299, 'v0=old');
    clock.advance(2_000);
    for (const s of ['v0=a', 'v0=b']) cache.firstSeen(nowSec, s);
    expect(cache.firstSeen(nowSec, 'v0=c')).toBe(true); // "old" expired: dropped, nothing evicted
    expect(evicted).toEqual([]);
    expect(cache.size).toBe(3);
    expect(cache.firstSeen(nowSec, 'v0=d')).toBe(true); // full of live pairs: the oldest goes
    expect(evicted).toEqual([1]);
    expect(cache.size).toBe(3);
    expect(cache.firstSeen(nowSec, 'v0=d')).toBe(false);
  });
});
