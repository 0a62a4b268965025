/**
 * A lean `fetch` for the Slack WebClient (its `fetch` option): one POST over node:http(s) with a
 * keep-alive agent, the body buffered, and a minimal Response (status, headers, text/json). The
 * WebClient keeps everything else (serialising, retries, 429 handling, platform errors); only the
 * transport is cheaper than the global fetch (WHATWG streams, per-call spec machinery), which a
 * CPU profile of the bot showed as the largest single cost of a Web API call.
 * Anything this does not handle (a non-string body, e.g. a file upload) goes to the global fetch.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** A socket silent this long ends the call. */
const IDLE_TIMEOUT_MS = 30_000;

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

export interface LeanInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  redirect?: string;
  signal?: AbortSignal;
}

/** What the WebClient (and Bolt's respond) read of a Response. */
export interface LeanResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null; entries(): IterableIterator<[string, string]>; has(name: string): boolean };
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

class Headers {
  constructor(private readonly raw: IncomingMessage['headers']) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const [k, v] of Object.entries(this.raw)) if (v !== undefined) yield [k, Array.isArray(v) ? v.join(', ') : v];
  }
}

export function leanFetch(input: string | URL, init: LeanInit = {}): Promise<LeanResponse> {
  const body = init.body;
  if (body !== undefined && body !== null && typeof body !== 'string' && !Buffer.isBuffer(body)) {
    return globalThis.fetch(input, init as RequestInit) as unknown as Promise<LeanResponse>;
  }
  const url = typeof input === 'string' ? new URL(input) : input;
  const https = url.protocol === 'https:';
  const signal = init.signal;
  return new Promise<LeanResponse>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const headers: Record<string, string | number> = { ...(init.headers ?? {}) };
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = Buffer.byteLength(body);
    const req = (https ? httpsRequest : httpRequest)(url, { method: init.method ?? 'GET', headers, agent: https ? httpsAgent : httpAgent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        resolve({
          ok: status >= 200 && status < 300,
          status,
          statusText: res.statusMessage ?? '',
          url: url.href,
          headers: new Headers(res.headers),
          text: async () => buf.toString('utf8'),
          json: async () => JSON.parse(buf.toString('utf8')) as unknown,
          arrayBuffer: async () => buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer,
        });
      });
    });
    function fail(err: unknown) {
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    }
    function onAbort() {
      req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    // Without a signal (Bolt's respond): a call that hears nothing for this long fails, as the
    // global fetch's own timeouts would make it.
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no answer from ${url.host} within ${IDLE_TIMEOUT_MS} ms`)));
    req.end(body as string | Buffer | undefined);
  });
}
