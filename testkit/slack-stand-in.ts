/**
 * A local stand-in for Slack's Web API and response URLs, for app tests and `npm run demo`.
 *
 * Point Bolt at it with `new App({ token, signingSecret, clientOptions: { slackApiUrl: standIn.url } })`.
 * Start the stand-in before constructing the App: the App calls auth.test in its constructor and
 * caches that promise, so a failed auth.test breaks every later request.
 *
 * Socket Mode: `apps.connections.open` (called with an xapp- token) answers with a ws:// URL on
 * this same server; a connecting client gets Slack's `hello`, and `socket.send()` pushes
 * envelopes to it and resolves with the client's ack. Use
 * `new SocketModeReceiver({ appToken, installerOptions: { clientOptions: { slackApiUrl: standIn.url } } })`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { SLACK_BOT_SCOPES } from '../slack/doctor';
import { waitFor } from './wait';

export interface RecordedCall {
  method: string;
  /** Decoded form fields; blocks, attachments, view and metadata are parsed from their JSON strings. */
  args: Record<string, unknown>;
  token?: string;
  at: number;
  /** True when the call was answered by an injected failure. */
  failed?: boolean;
}

export interface RecordedResponse {
  url: string;
  /** The name given to `responseUrl(name)`, if any. */
  name?: string;
  body: unknown;
  at: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  text?: unknown;
  blocks?: unknown;
  thread_ts?: unknown;
  /** The message's metadata (chat.postMessage `metadata`), answered by conversations.history/replies with include_all_metadata. */
  metadata?: unknown;
  /** The bot that posted it (the stand-in's own unless `botIdOf` names another for the token). */
  botId?: string;
  /** Set for chat.postEphemeral: the only user who can see the message. */
  ephemeralTo?: string;
  /** How many times chat.update replaced this message. */
  updates: number;
}

export interface FailureSpec {
  /** HTTP status to answer with (e.g. 429, 500). Without it the answer is HTTP 200 `{ ok: false, error }`. */
  status?: number;
  error?: string;
  /** Retry-After seconds; defaults to 1 for status 429. */
  retryAfter?: number;
  /** How many consecutive calls fail (default 1). */
  times?: number;
  /** How many calls to let through before the failures start (default 0). */
  after?: number;
}

/** Envelope types the stand-in can push over Socket Mode. */
export type SocketEnvelopeType = 'slash_commands' | 'interactive';

export interface SocketAck {
  envelopeId: string;
  /** The ack's `payload` (what Bolt's ack(...) was given; `{}` for a bare ack), or undefined if absent. */
  ack: unknown;
}

export interface SocketModeStandIn {
  /** True while at least one Socket Mode client is connected (and was sent `hello`). */
  connected(): boolean;
  /** Resolves once a client is connected; rejects after `timeoutMs` (default 5000). */
  waitForConnection(timeoutMs?: number): Promise<void>;
  /**
   * Pushes an envelope to the most recently connected client; resolves when the client acks it.
   * Rejects when no client is connected, the client disconnects first, or after `timeoutMs` (default 5000).
   */
  send(type: SocketEnvelopeType, payload: object, opts?: { timeoutMs?: number }): Promise<SocketAck>;
  /** Every ack received, in order (acks for unknown envelope ids included). */
  acks: SocketAck[];
  /** How many WebSocket connections were accepted since start. */
  connectionCount(): number;
  /** Drops every open connection (as a network failure would); clients may reconnect. */
  drop(): void;
}

export interface SlackStandIn {
  /** Web API base for `slackApiUrl`, e.g. http://127.0.0.1:PORT/api/ */
  url: string;
  port: number;
  calls: RecordedCall[];
  responses: RecordedResponse[];
  /** A fresh response URL; JSON posted to it is recorded in `responses`. */
  responseUrl(name?: string): string;
  /** Make the next call(s) to `method` fail. Use method 'response_url' to fail response-URL posts. */
  failNext(method: string, how: FailureSpec): void;
  callsTo(method: string): RecordedCall[];
  /** Resolves with the first recorded call (past or future) to `method` matching `predicate`. */
  waitForCall(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Messages currently in a channel (DMs are 'D' + user id), in post order, as last updated. */
  messagesIn(channel: string): StoredMessage[];
  /** Socket Mode (WebSocket) side; the connection survives reset(). */
  socket: SocketModeStandIn;
  /** Slack user groups (subteam id → member ids) answered by usergroups.users.list; edit freely. */
  userGroups: Map<string, string[]>;
  /**
   * Channels conversations.info knows (id → name and whether the bot is a member); any other id
   * is channel_not_found, as Slack answers for a private channel the bot is not in.
   */
  channels: Map<string, { name: string; isMember: boolean; isArchived?: boolean }>;
  /**
   * How users.info reports a user: deactivated ('deleted'), unknown ('missing'), a guest
   * ('guest': is_restricted; 'single-channel-guest': is_ultra_restricted), of another workspace
   * ('external': another team_id; 'stranger': is_stranger), a bot ('bot'), or failing ('error':
   * a 500). Everyone else is a full member of the bot's workspace.
   */
  userStates: Map<string, UserState>;
  /** The token's scopes, sent as the x-oauth-scopes header of every Web API answer (default: every scope the app uses). */
  scopes: string[];
  /** Another app posting with this token: its bot id, shown on its messages (default: the stand-in's own bot). */
  botIdOf?: (token: string) => string | undefined;
  reset(): void;
  close(): Promise<void>;
}

export type UserState = 'deleted' | 'missing' | 'guest' | 'single-channel-guest' | 'external' | 'stranger' | 'bot' | 'error';

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);
const BOT = { user_id: 'UBOT', bot_id: 'B1', team_id: 'T1' };
const APP_ID = 'A1';
const SOCKET_PATH = '/socket';

type Reply = Record<string, unknown>;

export async function startSlackStandIn(opts: { port?: number } = {}): Promise<SlackStandIn> {
  const calls: RecordedCall[] = [];
  const responses: RecordedResponse[] = [];
  const failures = new Map<string, FailureSpec[]>();
  const responseNames = new Map<string, string>();
  let messages: StoredMessage[] = [];
  let seq = 0;
  const userGroups = new Map<string, string[]>();
  const channels = new Map<string, { name: string; isMember: boolean; isArchived?: boolean }>();
  const userStates = new Map<string, UserState>();
  const defaultScopes = () => Object.keys(SLACK_BOT_SCOPES);

  // Like Slack's: the wall clock's seconds, unique and increasing (the sequence in the fraction),
  // so `oldest` / `latest` in history reads mean what they mean in Slack.
  const nextTs = () => {
    const n = 100 + 100 * seq++;
    return `${Math.floor(Date.now() / 1000) + Math.floor(n / 1e6)}.${String(n % 1e6).padStart(6, '0')}`;
  };
  const nextId = (prefix: string) => `${prefix}${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const dmFor = (channel: string) => (/^[UW]/.test(channel) ? `D${channel}` : channel);
  const str = (v: unknown) => (typeof v === 'string' ? v : '');

  const takeFailure = (method: string): FailureSpec | undefined => {
    const queue = failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    if ((head.after ?? 0) > 0) {
      head.after! -= 1;
      return undefined;
    }
    head.times = (head.times ?? 1) - 1;
    if (head.times <= 0) queue.shift();
    return head;
  };

  const messageReply = (m: StoredMessage, withMetadata = false) => ({
    type: 'message', user: BOT.user_id, bot_id: m.botId ?? BOT.bot_id, team: BOT.team_id,
    ts: m.ts, text: m.text, blocks: m.blocks, thread_ts: m.thread_ts,
    ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
  });
  /**
   * One page of `list` (already in Slack's order), from the cursor (an offset here), as
   * conversations.history and conversations.replies answer it.
   */
  const page = (list: StoredMessage[], a: Record<string, unknown>) => {
    const from = Number(str(a.cursor) || 0);
    const limit = Math.min(Number(a.limit ?? 100) || 100, 999);
    const slice = list.slice(from, from + limit);
    const more = from + limit < list.length;
    return {
      messages: slice.map((m) => messageReply(m, String(a.include_all_metadata) === 'true')),
      has_more: more,
      response_metadata: { next_cursor: more ? String(from + limit) : '' },
    };
  };
  /** Messages of a channel within `oldest` / `latest` (exclusive unless `inclusive`), as Slack reads them. */
  const within = (channel: string, a: Record<string, unknown>) => {
    const inclusive = String(a.inclusive) === 'true';
    const oldest = Number(a.oldest ?? 0) || 0;
    const latest = a.latest === undefined ? Infinity : Number(a.latest);
    return messages.filter((m) => {
      if (m.channel !== channel || m.ephemeralTo !== undefined) return false;
      const ts = Number(m.ts);
      return (inclusive ? ts >= oldest : ts > oldest) && (inclusive ? ts <= latest : ts < latest);
    });
  };

  const handlers: Record<string, (args: Record<string, unknown>, token: string) => Reply> = {
    'auth.test': () => ({
      url: 'https://t1.slack.com/', team: 'T1', user: 'jit-access-bot', is_enterprise_install: false, ...BOT,
    }),
    'chat.postMessage': (a, token) => {
      const botId = standIn.botIdOf?.(token);
      const m: StoredMessage = { channel: dmFor(str(a.channel)), ts: nextTs(), text: a.text, blocks: a.blocks, thread_ts: a.thread_ts, ...(a.metadata !== undefined ? { metadata: a.metadata } : {}), ...(botId ? { botId } : {}), updates: 0 };
      messages.push(m);
      return { channel: m.channel, ts: m.ts, message: messageReply(m) };
    },
    'chat.update': (a) => {
      const channel = str(a.channel);
      const ts = str(a.ts);
      let m = messages.find((x) => x.channel === channel && x.ts === ts);
      if (m) m.updates += 1;
      else messages.push((m = { channel, ts, updates: 1 })); // lenient: a message the stand-in never saw posted
      Object.assign(m, { text: a.text, blocks: a.blocks });
      return { channel, ts, text: a.text, message: messageReply(m) };
    },
    'chat.postEphemeral': (a) => {
      const m: StoredMessage = { channel: dmFor(str(a.channel)), ts: nextTs(), text: a.text, blocks: a.blocks, ephemeralTo: str(a.user), updates: 0 };
      messages.push(m);
      return { message_ts: m.ts };
    },
    'apps.connections.open': () => ({ url: `ws://127.0.0.1:${port}${SOCKET_PATH}?ticket=${randomUUID()}` }),
    'conversations.open': (a) => ({ channel: { id: `D${str(a.users).replace(/,/g, '')}` } }),
    // Top-level messages (and thread broadcasts), newest first; thread replies only in conversations.replies.
    'conversations.history': (a) => page(within(str(a.channel), a).filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts).reverse(), a),
    // The thread's parent and its replies, oldest first.
    'conversations.replies': (a) => page(within(str(a.channel), a).filter((m) => m.ts === str(a.ts) || m.thread_ts === str(a.ts)), a),
    'views.open': (a) => ({ view: viewReply(a, nextId('V')) }),
    'views.push': (a) => ({ view: viewReply(a, nextId('V')) }),
    'views.update': (a) => ({ view: viewReply(a, str(a.view_id) || nextId('V')) }),
    // The App Home: one view per user (the recorded calls keep every publish).
    'views.publish': (a) => ({ view: viewReply(a, nextId('V')) }),
    'chat.getPermalink': (a) => ({ channel: str(a.channel), permalink: `https://t1.slack.com/archives/${str(a.channel)}/p${str(a.message_ts).replace('.', '')}` }),
    'usergroups.users.list': (a) => ({ users: [...(userGroups.get(str(a.usergroup)) ?? [])] }),
    'conversations.info': (a) => {
      const id = str(a.channel);
      const c = channels.get(id)!;
      return { channel: { id, name: c.name, is_channel: true, is_private: id.startsWith('G'), is_archived: c.isArchived ?? false, is_member: c.isMember } };
    },
    'users.info': (a) => {
      const id = str(a.user);
      const name = id.toLowerCase();
      const state = userStates.get(id);
      return {
        user: {
          id, team_id: state === 'external' ? 'T0OTHER' : BOT.team_id, name, real_name: `User ${id}`, deleted: state === 'deleted', is_bot: state === 'bot', tz: 'UTC',
          is_restricted: state === 'guest' || state === 'single-channel-guest', is_ultra_restricted: state === 'single-channel-guest',
          ...(state === 'stranger' ? { is_stranger: true } : {}),
          profile: { email: `${name}@example.com`, real_name: `User ${id}`, display_name: name },
        },
      };
    },
  };

  const handleApi = (method: string, args: Record<string, unknown>, token: string | undefined, res: ServerResponse) => {
    const call: RecordedCall = { method, args, token, at: Date.now() };
    calls.push(call);
    const failure = takeFailure(method);
    if (failure) {
      call.failed = true;
      return sendFailure(res, failure);
    }
    if (!token) return sendJson(res, 200, { ok: false, error: 'not_authed' });
    // Like Slack: app-level (xapp-) tokens only open socket connections, and only they can.
    if ((method === 'apps.connections.open') !== token.startsWith('xapp-')) return sendJson(res, 200, { ok: false, error: 'not_allowed_token_type' });
    // Like Slack: an unknown user group is an error, not an empty list.
    if (method === 'usergroups.users.list' && !userGroups.has(str(args.usergroup))) return sendJson(res, 200, { ok: false, error: 'no_such_subteam' });
    if (method === 'conversations.info' && !channels.has(str(args.channel))) return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
    if (method === 'users.info' && userStates.get(str(args.user)) === 'missing') return sendJson(res, 200, { ok: false, error: 'user_not_found' });
    if (method === 'users.info' && userStates.get(str(args.user)) === 'error') return sendJson(res, 200, { ok: false, error: 'fatal_error' });
    // Like Slack: every Web API answer names the token's scopes.
    sendJson(res, 200, { ok: true, ...(handlers[method]?.(args, token) ?? {}) }, { 'x-oauth-scopes': standIn.scopes.join(',') });
  };

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        if (url.pathname.startsWith('/api/')) {
          const { token, ...args } = parseArgs(raw, req.headers['content-type'], url.searchParams);
          const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
          return handleApi(url.pathname.slice('/api/'.length), args, bearer ?? (token as string | undefined), res);
        }
        if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
          const id = url.pathname.slice('/response/'.length);
          responses.push({ url: `${base}${url.pathname}`, name: responseNames.get(id), body: tryJson(raw), at: Date.now() });
          const failure = takeFailure('response_url');
          return failure ? sendFailure(res, failure) : sendJson(res, 200, { ok: true });
        }
        sendJson(res, 404, { ok: false, error: 'unknown_path' });
      })
      .catch((err: unknown) => sendJson(res, 500, { ok: false, error: String(err) }));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;

  // ---- Socket Mode
  const wss = new WebSocketServer({ noServer: true });
  const sockets: WebSocket[] = [];
  const acks: SocketAck[] = [];
  const pendingAcks = new Map<string, { ws: WebSocket; resolve: (a: SocketAck) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  let connections = 0;
  const settleAck = (envelopeId: string, outcome: SocketAck | Error) => {
    const pending = pendingAcks.get(envelopeId);
    if (!pending) return;
    pendingAcks.delete(envelopeId);
    clearTimeout(pending.timer);
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  };

  server.on('upgrade', (req, sock, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== SOCKET_PATH) {
      sock.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, sock, head, (ws) => {
      connections += 1;
      sockets.push(ws);
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const msg = tryJson(String(data)) as { envelope_id?: unknown; payload?: unknown } | string;
        if (typeof msg !== 'object' || msg === null || typeof msg.envelope_id !== 'string') return;
        const ack: SocketAck = { envelopeId: msg.envelope_id, ack: msg.payload };
        acks.push(ack);
        settleAck(ack.envelopeId, ack);
      });
      ws.on('close', () => {
        const i = sockets.indexOf(ws);
        if (i >= 0) sockets.splice(i, 1);
        for (const [id, p] of pendingAcks) if (p.ws === ws) settleAck(id, new Error(`socket closed before envelope ${id} was acked`));
      });
      ws.on('error', () => undefined); // a client vanishing mid-frame must not crash the test process
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: sockets.length,
          debug_info: { host: 'applink-stand-in', build_number: 1, approximate_connection_time: 18060 },
          connection_info: { app_id: APP_ID },
        }),
      );
    });
  });

  const socket: SocketModeStandIn = {
    connected: () => sockets.some((ws) => ws.readyState === WebSocket.OPEN),
    drop: () => {
      for (const ws of [...sockets]) ws.terminate();
    },
    async waitForConnection(timeoutMs = 5000) {
      await waitFor(() => socket.connected(), {
        timeoutMs,
        message: () => `no Socket Mode client connected; apps.connections.open calls: ${calls.filter((c) => c.method === 'apps.connections.open').length}`,
      });
    },
    send(type, payload, opts = {}) {
      const ws = [...sockets].reverse().find((w) => w.readyState === WebSocket.OPEN);
      if (!ws) return Promise.reject(new Error(`no Socket Mode client connected to send a ${type} envelope to`));
      const envelopeId = randomUUID();
      const { timeoutMs = 5000 } = opts;
      const kind = (payload as { type?: unknown }).type;
      return new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => settleAck(envelopeId, new Error(`${type} envelope ${envelopeId} not acked within ${timeoutMs}ms`)), timeoutMs);
        pendingAcks.set(envelopeId, { ws, resolve, reject, timer });
        ws.send(
          JSON.stringify({
            envelope_id: envelopeId,
            type,
            payload,
            // Slack lets the ack carry a response for commands, view submissions and options requests.
            accepts_response_payload: type === 'slash_commands' || kind === 'view_submission' || kind === 'block_suggestion',
          }),
          (err) => {
            if (err) settleAck(envelopeId, err);
          },
        );
      });
    },
    acks,
    connectionCount: () => connections,
  };

  const standIn: SlackStandIn = {
    url: `${base}/api/`,
    port,
    calls,
    responses,
    responseUrl(name) {
      const id = randomUUID();
      if (name !== undefined) responseNames.set(id, name);
      return `${base}/response/${id}`;
    },
    failNext(method, how) {
      failures.set(method, [...(failures.get(method) ?? []), { ...how }]);
    },
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitForCall(method, predicate, timeoutMs = 5000) {
      return waitFor(() => calls.find((c) => c.method === method && (!predicate || predicate(c))), {
        timeoutMs,
        message: () => `no ${method} call${predicate ? ' matching the predicate' : ''}; methods seen: [${calls.map((c) => c.method).join(', ')}]`,
      });
    },
    messagesIn: (channel) => messages.filter((m) => m.channel === channel),
    socket,
    userGroups,
    channels,
    userStates,
    scopes: defaultScopes(),
    reset() {
      calls.length = 0;
      responses.length = 0;
      failures.clear();
      responseNames.clear();
      messages = [];
      userGroups.clear();
      channels.clear();
      userStates.clear();
      standIn.scopes = defaultScopes();
      standIn.botIdOf = undefined;
      seq = 0; // ts values restart, so transcripts are deterministic per test
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const ws of [...sockets]) ws.terminate();
        for (const id of [...pendingAcks.keys()]) settleAck(id, new Error('stand-in closed'));
        wss.close();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
  return standIn;
}

function viewReply(args: Record<string, unknown>, id: string): Reply {
  const view = (args.view ?? {}) as Record<string, unknown>;
  return {
    team_id: BOT.team_id, app_id: 'A1', bot_id: BOT.bot_id, type: 'modal', private_metadata: '', callback_id: '',
    external_id: '', state: { values: {} }, root_view_id: id, previous_view_id: null, ...view, id, hash: `${Date.now()}.${id}`,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function tryJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function parseArgs(raw: string, contentType: string | undefined, query: URLSearchParams): Record<string, unknown> {
  if (contentType?.includes('application/json')) return { ...Object.fromEntries(query), ...(tryJson(raw) as object) };
  const args: Record<string, unknown> = {};
  for (const [key, value] of [...query, ...new URLSearchParams(raw)]) {
    args[key] = JSON_FIELDS.has(key) ? tryJson(value) : value;
  }
  return args;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendFailure(res: ServerResponse, { status = 200, error, retryAfter }: FailureSpec): void {
  const wait = retryAfter ?? (status === 429 ? 1 : undefined);
  const defaultError = status === 429 ? 'ratelimited' : 'internal_error';
  sendJson(res, status, { ok: false, error: error ?? defaultError }, wait === undefined ? {} : { 'retry-after': String(wait) });
}
