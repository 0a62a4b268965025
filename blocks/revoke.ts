/**
 * "Revoke now": ends a grant early, exactly as `/jit revoke <id>` does, after Slack's own
 * confirmation dialog. Shown on the approval message of an ACTIVE grant (approvers), on the grant
 * DM (the requester) and in the App Home. The value is the request id and nothing else; who may
 * press it is decided by the core when it is pressed.
 */
import type { ActionsBlock, Button } from '@slack/types';
import type { AccessRequest } from '../src/domain/types';
import { NAME_MAX } from './common';
import { ACTION_REVOKE_NOW } from './ids';
import { actions, button, mrkdwn, plain } from './kit';
import { escaped, mention } from './text';

/** Slack's limits for a confirmation dialog. */
const CONFIRM = { title: 100, text: 300, button: 30 } as const;

/** Whose access the dialog names: the requester's own ("your access") or someone's ("<@U…>'s access"). */
export type RevokeAudience = 'requester' | 'approvers';

/**
 * The "Revoke now" button (style danger) with a confirmation dialog naming the target and the
 * requester. `audience` 'requester' words it for the requester themselves (grant DM, App Home).
 */
export function revokeNowButton(request: Pick<AccessRequest, 'id' | 'targetName' | 'requesterId'>, audience: RevokeAudience = 'approvers'): Button {
  const whose = audience === 'requester' ? 'your' : `${mention(request.requesterId)}'s`;
  const target = `*${escaped(request.targetName, NAME_MAX)}*`;
  return {
    ...button('Revoke now', ACTION_REVOKE_NOW, request.id, 'danger'),
    confirm: {
      title: plain('Revoke access now?', CONFIRM.title),
      text: mrkdwn(`This ends ${whose} access to ${target} (${escaped(request.id, NAME_MAX)}) now, before it expires. It cannot be undone: more time needs a new request.`, CONFIRM.text),
      confirm: plain('Revoke', CONFIRM.button),
      deny: plain('Cancel', CONFIRM.button),
      style: 'danger',
    },
  };
}

/** The button alone in an actions block. */
export function revokeNowActions(blockId: string, request: Pick<AccessRequest, 'id' | 'targetName' | 'requesterId'>, audience: RevokeAudience = 'approvers'): ActionsBlock {
  return actions(blockId, [revokeNowButton(request, audience)]);
}
