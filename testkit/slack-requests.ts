/**
 * Sends requests to a Bolt HTTP receiver the way Slack does: form-encoded and signed with the
 * signing secret. `url` is the receiver's events endpoint, e.g. http://127.0.0.1:PORT/slack/events.
 */
import { createHmac, randomUUID } from 'node:crypto';

export interface SlackHttpResult {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

const APP_ID = 'A1';
const VERIFICATION_TOKEN = 'legacy-verification-token';

const nowSec = () => Math.floor(Date.now() / 1000);
const newTriggerId = () => `trig-${randomUUID()}`;

/** Headers Slack sends with a request body; a JSON body (Events API) gets a JSON content type. */
export function signRequest(signingSecret: string, body: string, timestampSec: number = nowSec()): Record<string, string> {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return {
    'x-slack-signature': `v0=${signature}`,
    'x-slack-request-timestamp': String(timestampSec),
    'content-type': body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded',
  };
}

/** POSTs `body` with exactly the given headers (for forged or stale signatures). */
export async function sendRaw(url: string, body: string, headers: Record<string, string>): Promise<SlackHttpResult> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, body: text, json };
}

/** Sends a signed body; `timestampSec` overrides the signing time (e.g. to go stale). */
export function sendSigned(url: string, signingSecret: string, body: string, timestampSec?: number): Promise<SlackHttpResult> {
  return sendRaw(url, body, signRequest(signingSecret, body, timestampSec));
}

const payloadBody = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
const userOf = (id: string, teamId: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: teamId });

export interface SlashCommandOptions {
  userId: string;
  text: string;
  responseUrl: string;
  command?: string;
  channelId?: string;
  triggerId?: string;
  teamId?: string;
  timestampSec?: number;
}

export function slashCommand(url: string, secret: string, o: SlashCommandOptions): Promise<SlackHttpResult> {
  return sendSigned(url, secret, slashCommandBody(o), o.timestampSec);
}

/** The form body Slack posts for a slash command (sign it with signRequest). */
export function slashCommandBody(o: SlashCommandOptions): string {
  const teamId = o.teamId ?? 'T1';
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    team_domain: teamId.toLowerCase(),
    channel_id: o.channelId ?? 'C_REQ',
    channel_name: 'jit-requests',
    user_id: o.userId,
    user_name: o.userId.toLowerCase(),
    command: o.command ?? '/jit',
    text: o.text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: o.responseUrl,
    trigger_id: o.triggerId ?? newTriggerId(),
  }).toString();
}

export interface BlockActionOptions {
  userId: string;
  actionId: string;
  value: string;
  channel: string;
  messageTs: string;
  responseUrl: string;
  blockId?: string;
  triggerId?: string;
  teamId?: string;
  /** The clicked message was ephemeral: Slack then omits `message` from the payload. */
  ephemeral?: boolean;
  /** Blocks of the clicked message, echoed in `message.blocks`. */
  messageBlocks?: unknown[];
  timestampSec?: number;
}

export function blockAction(url: string, secret: string, o: BlockActionOptions): Promise<SlackHttpResult> {
  const teamId = o.teamId ?? 'T1';
  const payload = {
    type: 'block_actions',
    user: userOf(o.userId, teamId),
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: o.ephemeral ?? false },
    trigger_id: o.triggerId ?? newTriggerId(),
    team: { id: teamId, domain: teamId.toLowerCase() },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: o.channel.toLowerCase() },
    ...(o.ephemeral ? {} : { message: { type: 'message', ts: o.messageTs, user: 'UBOT', bot_id: 'B1', blocks: o.messageBlocks ?? [] } }),
    state: { values: {} },
    response_url: o.responseUrl,
    actions: [pressedButton(o)],
  };
  return sendSigned(url, secret, payloadBody(payload), o.timestampSec);
}

/** The one button a block_actions payload reports as pressed. */
function pressedButton(o: { actionId: string; blockId?: string; value: string }) {
  return {
    action_id: o.actionId,
    block_id: o.blockId ?? 'actions',
    value: o.value,
    type: 'button',
    text: { type: 'plain_text', text: o.actionId, emoji: true },
    action_ts: (Date.now() / 1000).toFixed(6),
  };
}

export interface ViewSubmissionOptions {
  userId: string;
  callbackId: string;
  /** state.values: block_id → action_id → element state, e.g. { type: 'plain_text_input', value: 'x' }. */
  values: Record<string, Record<string, unknown>>;
  viewId?: string;
  privateMetadata?: string;
  triggerId?: string;
  teamId?: string;
  timestampSec?: number;
}

export function viewSubmission(url: string, secret: string, o: ViewSubmissionOptions): Promise<SlackHttpResult> {
  const teamId = o.teamId ?? 'T1';
  const viewId = o.viewId ?? `V${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: teamId.toLowerCase() },
    user: userOf(o.userId, teamId),
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    trigger_id: o.triggerId ?? newTriggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: [],
      private_metadata: o.privateMetadata ?? '',
      callback_id: o.callbackId,
      state: { values: o.values },
      hash: `${nowSec()}.${viewId}`,
      title: { type: 'plain_text', text: 'Request', emoji: true },
      root_view_id: viewId,
      previous_view_id: null,
      app_id: APP_ID,
      external_id: '',
      bot_id: 'B1',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return sendSigned(url, secret, payloadBody(payload), o.timestampSec);
}

export interface GlobalShortcutOptions {
  userId: string;
  callbackId: string;
  triggerId?: string;
  teamId?: string;
  timestampSec?: number;
}

export interface HomeActionOptions {
  userId: string;
  actionId: string;
  value: string;
  blockId?: string;
  viewId?: string;
  triggerId?: string;
  teamId?: string;
  timestampSec?: number;
}

/** A global shortcut (the lightning menu or search): no channel, no response_url, a trigger id for views.open. */
export function globalShortcut(url: string, secret: string, o: GlobalShortcutOptions): Promise<SlackHttpResult> {
  const teamId = o.teamId ?? 'T1';
  const payload = {
    type: 'shortcut',
    token: VERIFICATION_TOKEN,
    action_ts: (Date.now() / 1000).toFixed(6),
    team: { id: teamId, domain: teamId.toLowerCase() },
    user: { id: o.userId, username: o.userId.toLowerCase(), team_id: teamId },
    is_enterprise_install: false,
    enterprise: null,
    callback_id: o.callbackId,
    trigger_id: o.triggerId ?? newTriggerId(),
  };
  return sendSigned(url, secret, payloadBody(payload), o.timestampSec);
}
/** A button click in the App Home tab: the container is the home view, and there is no response_url. */
export function homeAction(url: string, secret: string, o: HomeActionOptions): Promise<SlackHttpResult> {
  const teamId = o.teamId ?? 'T1';
  const viewId = o.viewId ?? 'VHOME1';
  const payload = {
    type: 'block_actions',
    user: userOf(o.userId, teamId),
    api_app_id: APP_ID,
    token: VERIFICATION_TOKEN,
    container: { type: 'view', view_id: viewId },
    trigger_id: o.triggerId ?? newTriggerId(),
    team: { id: teamId, domain: teamId.toLowerCase() },
    enterprise: null,
    is_enterprise_install: false,
    view: { id: viewId, team_id: teamId, type: 'home', blocks: [], private_metadata: '', callback_id: '', state: { values: {} }, hash: `${nowSec()}.${viewId}`, app_id: APP_ID, bot_id: 'B1' },
    state: { values: {} },
    actions: [pressedButton(o)],
  };
  return sendSigned(url, secret, payloadBody(payload), o.timestampSec);
}

export interface EventOptions {
  /** The inner event, e.g. { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' }. */
  event: Record<string, unknown>;
  teamId?: string;
  timestampSec?: number;
}

/** An Events API callback (JSON body), signed like every other request. */
export function eventCallback(url: string, secret: string, o: EventOptions): Promise<SlackHttpResult> {
  const teamId = o.teamId ?? 'T1';
  const body = JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: teamId,
    api_app_id: APP_ID,
    event: { event_ts: (Date.now() / 1000).toFixed(6), ...o.event },
    type: 'event_callback',
    event_id: `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`,
    event_time: nowSec(),
    authorizations: [{ enterprise_id: null, team_id: teamId, user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  });
  return sendSigned(url, secret, body, o.timestampSec);
}

/** app_home_opened on the Home tab, for `userId`. */
export function homeOpened(url: string, secret: string, userId: string, o: { teamId?: string; timestampSec?: number } = {}): Promise<SlackHttpResult> {
  return eventCallback(url, secret, { event: { type: 'app_home_opened', user: userId, channel: `D${userId}`, tab: 'home' }, ...o });
}
