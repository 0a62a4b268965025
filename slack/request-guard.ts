/**
 * The guard in front of Bolt's HTTP receiver on `/slack/events`. Bolt (5.1) verifies the
 * signature but only refuses timestamps that are too OLD; this guard adds, before Bolt sees the
 * request:
 *   - the window both ways: |now − X-Slack-Request-Timestamp| ≤ 5 min, else 401 (like a stale one);
 *   - the signature (HMAC-SHA256 of `v0:<timestamp>:<body>`, compared in constant time), so only
 *     requests that really come from Slack are remembered;
 *   - a replay cache: a (timestamp, signature) pair already seen within the window is refused (401).
 * Bolt's own verification stays on and runs again on the same buffered body. Health and metrics
 * routes (and anything but POST /slack/events) go straight to Bolt. Socket Mode does not pass
 * here: its envelopes are not signed, the socket itself is authenticated with the app token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../src/ports';

/** Slack's rule: a request more than 5 minutes from now (either way) is refused. */
export const SIGNATURE_WINDOW_MS = 5 * 60_000;
/** At most this many remembered (timestamp, signature) pairs (≈ 170 verified requests a second for 5 min). */
export const REPLAY_CACHE_MAX = 50_000;
/** The largest request body read (Slack's payloads are a few KB; Bolt is given the same limit). */
export const REQUEST_BODY_LIMIT = 1024 * 1024;
export const EVENTS_PATH = '/slack/events';

export type Refusal = 'missing_headers' | 'bad_timestamp' | 'stale' | 'future' | 'bad_signature' | 'replayed';

export interface SignedHeaders {
  timestamp?: string;
  signature?: string;
}

/** The timestamp alone: present, a whole number of seconds, and within the window of `nowMs` both ways. */
export function checkTimestamp(h: SignedHeaders, nowMs: number, windowMs = SIGNATURE_WINDOW_MS): Refusal | undefined {
  if (!h.timestamp || !h.signature) return 'missing_headers';
  if (!/^\d{1,12}$/.test(h.timestamp)) return 'bad_timestamp';
  const skew = nowMs - Number(h.timestamp) * 1000;
  if (skew > windowMs) return 'stale';
  if (-skew > windowMs) return 'future';
  return undefined;
}

/** Timestamp window, then the v0 signature over the exact body bytes. */
export function checkSignature(secret: string, h: SignedHeaders, body: Buffer, nowMs: number, windowMs = SIGNATURE_WINDOW_MS): Refusal | undefined {
  const timing = checkTimestamp(h, nowMs, windowMs);
  if (timing) return timing;
  const match = /^v0=([0-9a-f]{64})$/.exec(h.signature!);
  if (!match) return 'bad_signature';
  const expected = createHmac('sha256', secret).update(`v0:${h.timestamp}:`).update(body).digest();
  const given = Buffer.from(match[1]!, 'hex');
  return timingSafeEqual(expected, given) ? undefined : 'bad_signature';
}

/**
 * (timestamp, signature) pairs seen within the window. A pair is kept until its timestamp leaves
 * the window (so a request dated up to 5 min ahead is remembered for up to 10 min). Bounded: past
 * `max` entries the expired ones are dropped, then the oldest remembered (and `onEvict` is told).
 */
export class ReplayCache {
  private readonly until = new Map<string, number>();
  private lastPruneMs = 0;
  constructor(
    private readonly clock: Clock,
    private readonly o: { windowMs?: number; max?: number; onEvict?: (count: number) => void } = {},
  ) {}

  get size(): number {
    return this.until.size;
  }

  /** Records the pair; false when it was already seen and is still within the window. */
  firstSeen(timestampSec: number, signature: string): boolean {
    const now = this.clock.now().getTime();
    const windowMs = this.o.windowMs ?? SIGNATURE_WINDOW_MS;
    const max = this.o.max ?? REPLAY_CACHE_MAX;
    const key = `${timestampSec}:${signature}`;
    const known = this.until.get(key);
    if (known !== undefined && known >= now) return false;
    // A full scan at most every 10 s, or every 1 s while full (then the oldest go without a scan).
    if (now - this.lastPruneMs >= (this.until.size >= max ? 1_000 : 10_000)) this.prune(now);
    let evicted = 0;
    while (this.until.size >= max) {
      const oldest = this.until.keys().next().value as string;
      this.until.delete(oldest);
      evicted++;
    }
    if (evicted > 0) this.o.onEvict?.(evicted);
    this.until.delete(key);
    this.until.set(key, timestampSec * 1000 + windowMs);
    return true;
  }

  private prune(now: number): void {
    this.lastPruneMs = now;
    for (const [key, until] of this.until) if (until < now) this.until.delete(key);
  }
}

export interface GuardOptions {
  signingSecret: string;
  /** Wall-clock time, as Slack and Bolt see it (not the business clock tests move). */
  clock: Clock;
  log: Logger;
  cache?: ReplayCache;
  path?: string;
  bodyLimit?: number;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

function pathOf(req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

function isSslCheck(req: IncomingMessage, body: Buffer): boolean {
  // The substring test first: only a body that names ssl_check is parsed.
  return req.headers['content-type'] === 'application/x-www-form-urlencoded' && body.includes('ssl_check=') && new URLSearchParams(body.toString()).get('ssl_check') === '1';
}

function refuse(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}

/** Reads the body up to `limit` bytes; undefined when it is larger (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Wraps Bolt's request listener: POST `path` is checked first (401 with an empty body, as Bolt
 * answers; Slack's unsigned `ssl_check=1` gets an empty 200 here and goes no further), everything
 * else goes straight through. The verified body is handed to Bolt already
 * buffered (`rawBody`), which Bolt reads instead of the consumed stream and verifies again.
 */
export function guardRequests(next: RequestListener, o: GuardOptions): RequestListener {
  const path = o.path ?? EVENTS_PATH;
  const limit = o.bodyLimit ?? REQUEST_BODY_LIMIT;
  const cache = o.cache ?? new ReplayCache(o.clock, { onEvict: (count) => o.log.warn({ event: 'request.replay_cache_full', count, max: REPLAY_CACHE_MAX }, 'replay cache full: forgot the oldest signatures') });
  const warn = (reason: Refusal | 'too_large', req: IncomingMessage) => o.log.warn({ event: 'request.refused', reason, retryNum: header(req, 'x-slack-retry-num') }, 'refused a Slack request at the edge');
  return (req, res) => {
    // The path exactly as Bolt routes it (WHATWG URL: dot segments, absolute-form, query dropped),
    // so nothing Bolt would handle as an event can get past the guard under another spelling.
    if ((req.method ?? '').toUpperCase() !== 'POST' || pathOf(req) !== path) return next(req, res);
    const h = { timestamp: header(req, 'x-slack-request-timestamp'), signature: header(req, 'x-slack-signature') };
    readBody(req, limit).then(
      (body) => {
        if (!body) {
          warn('too_large', req);
          return refuse(res, 413);
        }
        // Slack's SSL check is unsigned (Bolt lets it through unverified): answered here, and
        // nothing else in its body (a smuggled payload) goes any further.
        if (isSslCheck(req, body)) return refuse(res, 200);
        const verdict = checkSignature(o.signingSecret, h, body, o.clock.now().getTime()) ?? (cache.firstSeen(Number(h.timestamp), h.signature!) ? undefined : 'replayed');
        if (verdict) {
          warn(verdict, req);
          return refuse(res, 401);
        }
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
        next(req, res);
      },
      () => refuse(res, 400),
    );
  };
}
