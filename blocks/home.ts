/**
 * The App Home tab (views.publish): what one user has and what waits on them, as the core
 * decided it (HomeContents). Pure: the time left is counted from the core's clock reading.
 *
 *   My access       ACTIVE grants, soonest ending first: time left, Revoke now (confirmed), Extend
 *   My requests     own PENDING requests: Withdraw (what `/jit revoke <id>` does on a pending one)
 *   Waiting on me   PENDING requests the user may decide: a link to the approval message, Approve / Deny
 *   Request access  opens the request form
 *
 * Every button value is a request id and nothing else; the click is re-checked by the core.
 */
import type { Button, HomeView, KnownBlock } from '@slack/types';

/** A home view (views.publish) whose blocks are the kinds we build. */
export type HomeTab = HomeView & { blocks: KnownBlock[] };
import { formatDuration } from '../src/domain/duration';
import type { AccessRequest, HomeContents, SlackMessageRef } from '../src/domain/types';
import { duration, quorumProgress, requestId, targetName, when } from './common';
import { ACTION_APPROVE, ACTION_DENY, ACTION_EXTEND, ACTION_HOME_REQUEST, ACTION_WITHDRAW, BLOCK_HOME_GRANT, BLOCK_HOME_PENDING, BLOCK_HOME_REQUEST, BLOCK_HOME_WAITING } from './ids';
import { revokeNowButton } from './revoke';
import { actions, button, context, divider, header, plain, section } from './kit';
import { escaped, LIMITS, mention } from './text';

/** Shown per section (each item takes two blocks; a view holds at most 100). */
export const HOME_ITEMS_SHOWN = { active: 10, pending: 10, waiting: 15 } as const;
const REASON_SHOWN = 150;

export function homeView(home: HomeContents): HomeTab {
  const blocks: KnownBlock[] = [
    header('Just-in-time access'),
    actions(BLOCK_HOME_REQUEST, [button('Request access', ACTION_HOME_REQUEST, 'new', 'primary')]),
    divider(),
    section('*My access*'),
    ...items(home.active, HOME_ITEMS_SHOWN.active, 'No active access. Use *Request access* when you need some.', (r) => grantItem(r, home)),
    divider(),
    section('*My requests*'),
    ...items(home.pending, HOME_ITEMS_SHOWN.pending, 'Nothing waiting for approval.', pendingItem),
  ];
  if (home.waiting.length > 0) {
    blocks.push(divider(), section('*Waiting on me*'), ...items(home.waiting, HOME_ITEMS_SHOWN.waiting, '', waitingItem, home.waitingMore));
  }
  return { type: 'home', blocks };
}

function items(list: AccessRequest[], max: number, empty: string, render: (r: AccessRequest) => KnownBlock[], more = false): KnownBlock[] {
  if (list.length === 0) return [context(empty)];
  const shown = list.slice(0, max).flatMap(render);
  const left = list.length - Math.min(list.length, max);
  if (left > 0 || more) shown.push(context(left > 0 ? `…and ${left}${more ? '+' : ''} more` : '…and more'));
  return shown;
}

function grantItem(r: AccessRequest, home: HomeContents): KnownBlock[] {
  const ends = r.expiresAt ? `ends ${when(r, r.expiresAt)} (${timeLeft(r.expiresAt, home.at)} left)` : 'active';
  const buttons: Button[] = [revokeNowButton(r, 'requester')];
  if (home.extendable.includes(r.id)) buttons.push(button('Extend', ACTION_EXTEND, r.id));
  return [section(`${targetName(r)} ${requestId(r)} · ${ends}`), actions(`${BLOCK_HOME_GRANT}${r.id}`, buttons)];
}

function pendingItem(r: AccessRequest): KnownBlock[] {
  return [
    section(`${targetName(r)} ${requestId(r)} · ${duration(r)} · ${quorumProgress(r)} · approval by ${when(r, r.approvalDeadline)}${link(r.approvalMessage, ' · ')}`),
    actions(`${BLOCK_HOME_PENDING}${r.id}`, [button('Withdraw', ACTION_WITHDRAW, r.id)]),
  ];
}

function waitingItem(r: AccessRequest): KnownBlock[] {
  return [
    section(`${targetName(r)} ${requestId(r)} for ${mention(r.requesterId)} · ${duration(r)} · ${quorumProgress(r)}\n> ${escaped(r.reason, REASON_SHOWN)}${link(r.approvalMessage, '\n')}`),
    actions(`${BLOCK_HOME_WAITING}${r.id}`, [button('Approve', ACTION_APPROVE, r.id, 'primary'), button('Deny', ACTION_DENY, r.id, 'danger')]),
  ];
}

/** A link to the approval message, built from its stored ref (no API call). */
export function permalink(ref: SlackMessageRef): string {
  return `https://slack.com/archives/${ref.channel}/p${ref.ts.replace('.', '')}`;
}

function link(ref: SlackMessageRef | undefined, sep: string): string {
  return ref && /^[CG][A-Z0-9]+$/.test(ref.channel) && /^\d+\.\d+$/.test(ref.ts) ? `${sep}<${permalink(ref)}|approval message>` : '';
}

function timeLeft(expiresAt: string, now: string): string {
  const ms = Date.parse(expiresAt) - Date.parse(now);
  return ms > 60_000 ? formatDuration(Math.floor(ms / 60_000) * 60_000) : 'under a minute';
}
