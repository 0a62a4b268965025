/**
 * The audit's rules, defined once: the window `/jit audit` and the export look back over, the page
 * size, the page token a "More" button carries, and the flat record the export writes per
 * transition (its field list is the CSV header and the README's schema table).
 */
import { isRequestId, TARGET_NAME_PATTERN, USER_ID_PATTERN } from './ids';
import type { AccessRequest, AuditEntry } from './types';

const DAY_MS = 86_400_000;

/** `/jit audit @user|<target>` without `since`: the last 30 days. */
export const DEFAULT_AUDIT_WINDOW_MS = 30 * DAY_MS;
/** Requests per page of `/jit audit @user|<target>`. */
export const AUDIT_PAGE_SIZE = 20;

/** Whose requests `/jit audit` lists. */
export type AuditSubject = { by: 'user'; userId: string } | { by: 'target'; name: string };

/** One page of a listing: the subject, the window's start, and where the previous page ended. */
export interface AuditPageQuery {
  subject: AuditSubject;
  sinceIso: string;
  after?: { createdAt: string; id: string };
}

/** Page tokens are short; anything longer is refused before it is split. */
const TOKEN_MAX = 200;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/**
 * The "More" button's value: "u|<user id>|<since>|<createdAt>|<id>" or "t|<target>|…". Every part
 * has a strict shape (user id, target name, ISO times, request id), so no user text rides in it.
 */
export function encodeAuditPage(q: AuditPageQuery): string {
  const subject = q.subject.by === 'user' ? `u|${q.subject.userId}` : `t|${q.subject.name}`;
  return [subject, q.sinceIso, q.after?.createdAt ?? '', q.after?.id ?? ''].join('|');
}

/** The page a token names, or undefined when it is not one (checked at the edge before use). */
export function decodeAuditPage(token: unknown): AuditPageQuery | undefined {
  if (typeof token !== 'string' || token.length > TOKEN_MAX) return undefined;
  const [by, who, sinceIso, createdAt, id, ...rest] = token.split('|');
  if (rest.length > 0 || who === undefined || sinceIso === undefined || createdAt === undefined || id === undefined) return undefined;
  let subject: AuditSubject;
  if (by === 'u' && USER_ID_PATTERN.test(who) && who.length <= 32) subject = { by: 'user', userId: who };
  else if (by === 't' && TARGET_NAME_PATTERN.test(who)) subject = { by: 'target', name: who };
  else return undefined;
  if (!isIsoTime(sinceIso)) return undefined;
  if (createdAt === '' && id === '') return { subject, sinceIso };
  if (!isIsoTime(createdAt) || !isRequestId(id)) return undefined;
  return { subject, sinceIso, after: { createdAt, id } };
}

function isIsoTime(text: string): boolean {
  return ISO.test(text) && !Number.isNaN(Date.parse(text));
}

// ------------------------------------------------------------------ the export's record

/**
 * The columns of one exported transition, in CSV order. Every record has every field (empty
 * when it does not apply), so JSON Lines and CSV carry the same thing.
 */
export const AUDIT_RECORD_FIELDS = [
  'requestId',
  'seq',
  'target',
  'kind',
  'requester',
  'actor',
  'action',
  'from',
  'to',
  'at',
  'reason',
  'status',
  'approvers',
  'note',
  'region',
  'securityGroupId',
  'securityGroupRuleId',
  'cidr',
  'port',
  'roleArn',
  'assumedRoleArn',
  'roleSessionName',
  'sourceIdentity',
  'instanceIds',
  'ssmSessions',
  'verification',
  'failure',
  'failureRef',
  'details',
] as const;

export type AuditRecordField = (typeof AUDIT_RECORD_FIELDS)[number];
export type AuditRecord = Record<AuditRecordField, string>;

/** Detail keys that have a column of their own; the rest go, as JSON, into `details`. */
const DETAIL_COLUMNS: Partial<Record<string, AuditRecordField>> = {
  region: 'region',
  securityGroupId: 'securityGroupId',
  securityGroupRuleId: 'securityGroupRuleId',
  cidr: 'cidr',
  port: 'port',
  roleArn: 'roleArn',
  assumedRoleArn: 'assumedRoleArn',
  roleSessionName: 'roleSessionName',
  sourceIdentity: 'sourceIdentity',
  instanceIds: 'instanceIds',
  sessionsEnded: 'ssmSessions',
  outcome: 'verification',
  code: 'failure',
  ref: 'failureRef',
  comment: 'note',
};

/** One record per audit entry of `request`, numbered by its place in the request's audit (seq, from 1). */
export function auditRecords(request: AccessRequest, keep: (entry: AuditEntry) => boolean = () => true): AuditRecord[] {
  const out: AuditRecord[] = [];
  request.audit.forEach((entry, i) => {
    if (keep(entry)) out.push(auditRecord(request, entry, i + 1));
  });
  return out;
}

export function auditRecord(request: AccessRequest, entry: AuditEntry, seq: number): AuditRecord {
  const record = Object.fromEntries(AUDIT_RECORD_FIELDS.map((f) => [f, ''])) as AuditRecord;
  record.requestId = request.id;
  record.seq = String(seq);
  record.target = request.targetName;
  record.kind = request.kind;
  record.requester = request.requesterId;
  record.actor = entry.actor;
  record.action = entry.action;
  record.from = entry.from ?? '';
  record.to = entry.to;
  record.at = new Date(entry.at).toISOString();
  record.reason = request.reason;
  record.status = request.status;
  record.approvers = (request.approvals ?? []).map((a) => a.by).join(',');
  const rest: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry.details ?? {})) {
    const column = DETAIL_COLUMNS[key];
    if (column && record[column] === '') record[column] = String(value);
    else rest[key] = String(value);
  }
  if (Object.keys(rest).length > 0) record.details = JSON.stringify(rest);
  return record;
}

/** The record as one line of JSON (JSON Lines). */
export function jsonLine(record: AuditRecord): string {
  return JSON.stringify(record);
}

/**
 * A CSV cell (RFC 4180): quoted when it holds a quote, comma, CR or LF, quotes doubled. A cell a
 * spreadsheet would run as a formula (starting with = + - @, or a tab or CR) gets a leading
 * apostrophe first, so it opens as text.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvRow(values: readonly string[]): string {
  return values.map(csvCell).join(',');
}

export function csvLine(record: AuditRecord): string {
  return csvRow(AUDIT_RECORD_FIELDS.map((f) => record[f]));
}
