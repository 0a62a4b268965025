/**
 * Ending the portal sessions an Identity Center grant leaves behind (an `sso-permission-set`
 * target with `endSessions: true`). Deleting an assignment stops new sign-ins, but role
 * credentials already issued through the portal stay valid until the permission set's session
 * duration runs out. AWS documents the remedy ("Revoke active IAM role sessions created by
 * permission sets"): an explicit Deny in the permission set's inline policy, conditioned on the
 * user's `identitystore:userId`, provisioned to the accounts. The bot writes one such statement
 * per ended grant, also conditioned on the accounts it ended there (`aws:PrincipalAccount`) and on
 * sessions issued before the end (`aws:TokenIssueTime`), so the same user's later grants, and
 * their other live grants on other accounts, are not touched.
 *
 * A statement is dropped (at the next write) once no session it names can still be valid: its
 * time plus the permission set's session duration (at most 12 hours) has passed. Everything else
 * in the inline policy (the administrator's own statements) is kept as it is; the document is
 * written minified.
 *
 * Size: Identity Center turns the inline policy into an inline policy of the role in each account,
 * so IAM's ROLE_INLINE_POLICY_LIMIT (10,240 characters per role) applies, not the 32,768 that
 * PutInlinePolicyToPermissionSet takes. At about 300 characters per statement, that is about 30
 * grants of one permission set ended within one session duration, less the administrator's own.
 *
 * Pure: reading, merging and checking the document. The calls are the provider's
 * (src/aws/sso-permission-set.ts).
 */
import { GrantError } from '../domain/errors';

/** Every statement of the bot's starts with this Sid (then the request id's letters and digits). */
export const ENDED_SESSIONS_SID = 'JitEndedSessions';

/** Identity Center's longest session duration: a statement is never kept longer than this past its time. */
export const MAX_SSO_SESSION_MS = 12 * 3_600_000;

export interface EndedSessions {
  requestId: string;
  /** The Identity Store user id (the assignment's principal). */
  userId: string;
  /** The accounts where the grant's assignment was deleted and the permission set's role remains. */
  accountIds: readonly string[];
  /** Sessions issued before this instant (ISO 8601, UTC) are denied. */
  issuedBefore: string;
}

interface Statement {
  Sid?: unknown;
  Condition?: { DateLessThan?: Record<string, unknown> } & Record<string, unknown>;
  [key: string]: unknown;
}

export function endedSessionsSid(requestId: string): string {
  return `${ENDED_SESSIONS_SID}${requestId.replace(/[^A-Za-z0-9]/g, '')}`;
}

export function endedSessionsStatement(e: EndedSessions): Statement {
  return {
    Sid: endedSessionsSid(e.requestId),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { 'identitystore:userId': e.userId, 'aws:PrincipalAccount': [...e.accountIds] },
      DateLessThan: { 'aws:TokenIssueTime': e.issuedBefore },
    },
  };
}

/**
 * `current` (the permission set's inline policy; empty or undefined: none) with the statement of
 * `e` added, or put in place of that request's earlier one, and the bot's statements about
 * sessions issued before `staleBeforeMs` dropped. Throws GrantError (retryable) when `current` is
 * not a JSON policy document: it is the administrator's, and it is not rewritten blind.
 */
export function withEndedSessions(current: string | undefined, e: EndedSessions, staleBeforeMs: number): string {
  const doc = parseDocument(current);
  const sid = endedSessionsSid(e.requestId);
  const kept = statementsOf(doc).filter((s) => !isOurs(s) || (s.Sid !== sid && issuedBeforeMs(s) >= staleBeforeMs));
  return JSON.stringify({ Version: '2012-10-17', ...doc, Statement: [...kept, endedSessionsStatement(e)] });
}

/** Does `policy` (read back) hold exactly the statement of `e`? */
export function holdsEndedSessions(policy: string | undefined, e: EndedSessions): boolean {
  let doc: Record<string, unknown>;
  try {
    doc = parseDocument(policy);
  } catch {
    return false;
  }
  const want = JSON.stringify(endedSessionsStatement(e));
  return statementsOf(doc).some((s) => s.Sid === endedSessionsSid(e.requestId) && JSON.stringify(s) === want);
}


function parseDocument(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GrantError("the permission set's inline policy is not JSON, so the bot does not rewrite it; sessions opened before the end last until the permission set's session duration", true);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GrantError("the permission set's inline policy is not a policy document, so the bot does not rewrite it", true);
  }
  return parsed as Record<string, unknown>;
}

function statementsOf(doc: Record<string, unknown>): Statement[] {
  const s = doc.Statement;
  if (s === undefined) return [];
  return (Array.isArray(s) ? s : [s]) as Statement[];
}

function isOurs(s: Statement): boolean {
  return typeof s.Sid === 'string' && s.Sid.startsWith(ENDED_SESSIONS_SID);
}

/** The statement's aws:TokenIssueTime bound (ms); one of ours without a readable one counts as stale. */
function issuedBeforeMs(s: Statement): number {
  const t = Date.parse(String(s.Condition?.DateLessThan?.['aws:TokenIssueTime'] ?? ''));
  return Number.isNaN(t) ? -Infinity : t;
}
