/**
 * The audit channel's line: one message per transition, written for a reader who scrolls a
 * channel as a second, independent copy of the record. Everything that came from outside (the
 * details: reasons, comments, AWS's error text) is escaped and shortened; ids are inline code.
 *
 *   `2026-12-01T16:40:03.120Z` `abc123` *prod-bastion* · <@U1> approve · PENDING → GRANTING · approvals `1 of 1`
 */
import type { AccessRequest, AuditEntry } from '../src/domain/types';
import { NAME_MAX, requestId, targetName } from './common';
import { message, section, type SlackMessage } from './kit';
import { code, mention, oneLine } from './text';

/** One detail's value, at most this long (a reason or an AWS error is cut, the id list too). */
const DETAIL_MAX = 300;
/** The line as a whole (a section's text limit is 3,000). */
const DETAILS_SHOWN = 20;

export function auditLine(request: Pick<AccessRequest, 'id' | 'targetName' | 'requesterId'>, entry: AuditEntry): SlackMessage {
  const from = entry.from ?? 'new';
  const details = Object.entries(entry.details ?? {}).slice(0, DETAILS_SHOWN);
  const facts = details.map(([k, v]) => `${oneLine(k).replace(/[^A-Za-z0-9_.-]/g, '')} ${code(oneLine(v), DETAIL_MAX)}`);
  const who = mention(entry.actor);
  const forWhom = entry.actor === request.requesterId ? '' : ` (for ${mention(request.requesterId)})`;
  const line = [`${code(entry.at, 40)} ${requestId(request)} ${targetName(request)}`, `${who} ${code(entry.action, NAME_MAX)}${forWhom}`, `${from} → ${entry.to}`, ...facts].join(' · ');
  const text = `${entry.at} ${request.id} ${entry.action}: ${from} → ${entry.to}`;
  return message(text, [section(line)]);
}
