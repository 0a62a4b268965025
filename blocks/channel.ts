/**
 * Approver-channel messages that are not the approval message itself: the "revoked and
 * verified" note in its thread, and alerts that belong to no request (the drift sweep).
 */
import type { AccessRequest } from '../src/domain/types';
import { requestId, targetName } from './common';
import { context, message, section, type SlackMessage } from './kit';
import { code, escaped } from './text';

const ALERT_MAX = 2_500;

/** thread.revoked: what was removed, and that a re-read of AWS confirmed it. */
export function revokedThreadMessage(request: AccessRequest): SlackMessage {
  const g = request.grant;
  const rule = g ? `${code(g.securityGroupRuleId)} on ${code(g.securityGroupId)} (${escaped(g.region, 50)}), ${code(g.cidr)} port ${g.port}` : 'no rule was recorded';
  if (request.revokeOutcome === 'released') {
    return message(`Access for ${request.id} ended; the shared rule stays for other live grants.`, [
      section(`🔓 Access for ${requestId(request)} ended. Rule ${rule} is shared with other live grants for the same address and port, so it stays until the last of them ends.`),
    ]);
  }
  return message(`Revoked and verified: ${request.id}`, [
    section(`🔒 *Revoked and verified.* Rule ${rule} was removed, and AWS no longer lists it.`),
    context(`${requestId(request)} · ${targetName(request)}`),
  ]);
}

/** A system alert in the approver channel (not tied to one request). `text` is escaped here. */
export function systemAlert(title: string, text: string): SlackMessage {
  return message(`${escaped(title, 150)}: ${escaped(text, ALERT_MAX)}`, [section(`🚨 *${escaped(title, 150)}*\n${escaped(text, ALERT_MAX)}`)]);
}
