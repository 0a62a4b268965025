/**
 * `/jit audit`: a request's whole timeline from its audit records, and one page of a user's or a
 * target's requests with their outcome. Pure builders; every piece of user text is escaped.
 */
import type { KnownBlock } from '@slack/types';
import { encodeAuditPage, type AuditSubject } from '../src/domain/audit';
import { type AuditCommand } from '../src/domain/command';
import { grantAuditIds, type AccessRequest, type AuditEntry } from '../src/domain/types';
import { approvalList, duration, endNote, NAME_MAX, quotedNote, reasonSection, requestId, statusPhrase, targetName } from './common';
import { errorReply } from './command';
import { problemText } from './errors';
import { problem } from '../src/domain/errors';
import { ACTION_AUDIT_MORE, BLOCK_AUDIT_MORE } from './ids';
import { actions, button, context, fieldsSection, field, listBlocks, message, section, type SlackMessage } from './kit';
import { code, escaped, LIMITS, mention, slackDate, truncateMrkdwn, utcDateTime } from './text';

/** Timeline entries shown before "…and N more" (a request has a handful; a stuck revoke may have many). */
export const MAX_TIMELINE_ENTRIES = 60;
/** Characters of one entry's details. */
const DETAILS_MAX = 600;

/** Who did it: a mention, or "the bot" for the scheduler. */
function actor(id: string): string {
  return id === 'system' ? 'the bot' : id === 'policy' ? 'the policy' : mention(id);
}

/** "`key`=`value`" pairs of an entry's details (AWS ids, error codes, notes), escaped. */
function detailText(details: Record<string, string> | undefined): string {
  const pairs = Object.entries(details ?? {}).map(([k, v]) => `${escaped(k, 40)} ${code(String(v), 300)}`);
  return pairs.join(' · ');
}

function entryLine(entry: AuditEntry): string {
  const move = entry.from === null ? `→ ${entry.to}` : entry.from === entry.to ? `(${entry.to})` : `${entry.from} → ${entry.to}`;
  const details = detailText(entry.details);
  return `• ${slackDate(entry.at)} · ${actor(entry.actor)} · *${escaped(entry.action, 60)}* ${move}${details ? ` · ${truncateMrkdwn(details, DETAILS_MAX)}` : ''}`;
}

/** The facts of a request an auditor asks first: who, what, when, how it was decided and how it ended. */
function facts(r: AccessRequest): string[] {
  const out = [
    field('Request', `${requestId(r)} · ${targetName(r)} (${r.kind})`),
    field('Requester', mention(r.requesterId)),
    field('Status', `${r.status} · ${escaped(statusPhrase(r, utcDateTime), 200)}`),
    field('Asked', `${slackDate(r.createdAt)} for ${duration(r)}${r.extends ? ` (extends ${code(r.extends, NAME_MAX)})` : ''}`),
  ];
  const decided =
    r.approvedVia === 'auto'
      ? `auto-approved by rule ${code(r.policyRule ?? 'unknown', NAME_MAX)}`
      : r.approvedVia === 'break-glass'
        ? `break-glass${r.reviewedBy ? `, reviewed by ${mention(r.reviewedBy)}` : ', not reviewed yet'}`
        : r.approvals?.length
          ? `approved by ${approvalList(r.approvals)}`
          : r.status === 'DENIED'
            ? `denied by ${r.decidedBy ? actor(r.decidedBy) : 'the policy'}${r.decisionComment ? ` ${quotedNote(r.decisionComment)}` : ''}${r.refusal ? ` (${escaped(r.refusal.code, 60)}${r.refusal.rule ? ` ${code(r.refusal.rule, NAME_MAX)}` : ''})` : ''}`
            : 'not decided';
  out.push(field('Decision', decided + (r.decidedAt ? ` · ${slackDate(r.decidedAt)}` : '')));
  if (r.grantedAt) out.push(field('Access', `${slackDate(r.grantedAt)} → ${r.endedAt ? slackDate(r.endedAt) : r.expiresAt ? `until ${slackDate(r.expiresAt)}` : 'open'}`));
  if (r.endReason) out.push(field('Ended', `${endNote(r)}${r.revokeOutcome ? ` · ${r.revokeOutcome === 'verified' ? 'verified gone in AWS' : 'released (a shared rule stays for other grants)'}` : ''}`));
  if (r.failure) out.push(field('Failure', `${code(r.failure, 60)}${r.failureRef ? ` ref ${code(r.failureRef, 20)}` : ''}`));
  if (r.grant) out.push(field('AWS', detailText(grantAuditIds(r.grant))));
  return out;
}

/** `/jit audit <id>`: the request's facts, reason, and every audit record, oldest first. */
export function auditTimelineReply(r: AccessRequest): SlackMessage {
  const lines = r.audit.map(entryLine);
  const blocks: KnownBlock[] = [section(`*Audit of ${requestId(r)}*`), fieldsSection(facts(r)), reasonSection(r), section('*Timeline* (oldest first)')];
  blocks.push(...listBlocks(lines, MAX_TIMELINE_ENTRIES, LIMITS.blocksPerMessage - blocks.length - 1));
  blocks.push(context(`${r.audit.length} audit record${r.audit.length === 1 ? '' : 's'}. Times are in your time zone. The export (npm run audit:export) has every field.`));
  return message(`Audit of ${escaped(r.id, NAME_MAX)}: ${r.status}, ${r.audit.length} record${r.audit.length === 1 ? '' : 's'}.`, blocks);
}

function subjectText(subject: AuditSubject): string {
  return subject.by === 'user' ? `requests by ${mention(subject.userId)}` : `requests for ${code(subject.name, NAME_MAX)}`;
}

/** How a listed request came out: status, who decided, and how it ended. */
function outcomeLine(r: AccessRequest): string {
  const parts = [`• ${requestId(r)}`, slackDate(r.createdAt), `${targetName(r)} (${duration(r)})`, `by ${mention(r.requesterId)}`, `*${r.status}*`];
  if (r.approvedVia === 'auto') parts.push(`auto-approved (${code(r.policyRule ?? 'rule', NAME_MAX)})`);
  else if (r.approvedVia === 'break-glass') parts.push(`break-glass${r.reviewedBy ? ` reviewed by ${mention(r.reviewedBy)}` : ', not reviewed'}`);
  else if (r.approvals?.length) parts.push(`approved by ${r.approvals.map((a) => mention(a.by)).join(', ')}`);
  else if (r.status === 'DENIED') parts.push(r.decidedBy && r.decidedBy !== 'policy' ? `denied by ${mention(r.decidedBy)}` : 'refused by the policy');
  if (r.endReason) parts.push(endNote(r));
  if (r.revokeOutcome === 'verified') parts.push('verified gone');
  if (r.failure) parts.push(`failed (${code(r.failure, 60)})`);
  return parts.join(' · ');
}

/** One page of `/jit audit @user|<target>`: newest first, with "More" when there is another page. */
export function auditHistoryReply(h: { subject: AuditSubject; sinceIso: string; first: boolean; requests: AccessRequest[]; next?: Parameters<typeof encodeAuditPage>[0] }): SlackMessage {
  const title = `${h.first ? '' : 'More '}${subjectText(h.subject)} since ${slackDate(h.sinceIso)}`;
  if (h.requests.length === 0) {
    const none = h.first ? `No ${subjectText(h.subject)} since ${slackDate(h.sinceIso)}.` : 'No more requests.';
    return message(h.first ? 'No requests in that window.' : 'No more requests.', [section(none), context(`Look further back with ${code('since 90d')}.`)]);
  }
  const blocks: KnownBlock[] = [section(`*${title[0]!.toUpperCase()}${title.slice(1)}* (newest first)`)];
  blocks.push(...listBlocks(h.requests.map(outcomeLine), h.requests.length, LIMITS.blocksPerMessage - 3));
  if (h.next) blocks.push(actions(BLOCK_AUDIT_MORE, [button('More', ACTION_AUDIT_MORE, encodeAuditPage(h.next))]));
  blocks.push(context(`The whole timeline of one request: ${code('/jit audit <id>')}.`));
  return message(`${h.requests.length} request${h.requests.length === 1 ? '' : 's'}${h.next ? ' (more on the next page)' : ''}.`, blocks);
}

/** What to say when `/jit audit` was typed wrong. */
export function auditUsageReply(problem: Extract<AuditCommand, { by: 'bad' }>['problem']): SlackMessage {
  const usage = '`/jit audit <id>`, `/jit audit @someone [since 7d]` or `/jit audit <target> [since 7d]` (approvers only)';
  switch (problem) {
    case 'missing':
      return errorReply(`Say what to audit: ${usage}.`);
    case 'subject':
      return errorReply(`That is not a request id, a person or a target name. Use ${usage}.`);
    case 'plain-mention':
      return errorReply("Slack sent that name as plain text, not as a person: pick them from the @ autocomplete, or give their member ID (profile → ⋮ → Copy member ID), e.g. `/jit audit U012ABCDEF`. (The app's slash command needs \"Escape channels, users, and links\" on: manifest.yml has it.)");
    case 'since-missing':
      return errorReply('Say how far back to look, e.g. `since 7d` or `since 12h`.');
    case 'extra':
      return errorReply(`Only \`since <duration>\` may follow. Use ${usage}.`);
  }
}

/** A "More" button whose value is not a page token. */
export const auditBadPageReply = (): SlackMessage => errorReply('This button does not carry a valid page; run the `/jit audit` command again.');

/** The one refusal for anyone who is not an approver, whatever they asked. */
export const auditRefusedReply = (): SlackMessage => errorReply(problemText(problem('audit-approvers-only', {})));
