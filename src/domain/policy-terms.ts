/**
 * The terms the policy shares with the Slack edge: input limits, and the shapes in which the core
 * answers what the edge has to show (a target as one user sees it, an extension's headroom, whom
 * to remind, how much of the policy a caller may see). Pure data and one phrase; no config, no
 * I/O. src/policy.ts decides with these; blocks/ render them; handlers/ and slack/ never import
 * src/policy (test/architecture.test.ts).
 */
import type { Principals, Target } from './types';

/** Reasons for a request or an extension. */
export const MAX_REASON_LENGTH = 500;
/** Approvers' notes on approve / deny. */
export const MAX_COMMENT_LENGTH = 500;

/** How much longer a grant may run, and whether that is enough for an extension at all (src/policy.ts extensionHeadroom). */
export interface ExtensionHeadroom {
  /** At most the target's maxDuration, within what maxTotalDuration leaves; never negative. */
  maxMs: number;
  /** maxMs is at least MIN_EXTENSION_MS: the policy would accept some extension. */
  canExtend: boolean;
}

/** What one user sees of a target in `/jit targets`. */
export interface TargetSummary {
  target: Target;
  approvers: Principals;
  approvalsRequired: number;
  /** The auto-approve rule that would decide the caller's request now, and its maximum. */
  autoApprove?: { rule: string; maxDurationMs: number };
  /** A deny rule that refuses the caller's requests now. */
  deniedBy?: { rule: string; message?: string };
  breakGlass: boolean;
  maxTotalDurationMs: number;
}

/**
 * Whom a reminder of a pending request goes to: the approvers who have not approved yet, named
 * in the thread reply under the approval message (users, and the approver groups as groups),
 * and, when the target asks for reminder DMs, each of them by DM (groups resolved to members).
 * Never the requester.
 */
export interface ReminderAudience {
  /** Named in the thread reply. */
  mention: { users: string[]; groups: string[] };
  /** Sent a DM each (sorted); empty unless the target's reminders say `dm`. */
  dm: string[];
}

/**
 * How much of the policy a caller may see (`/jit policy check`): approvers see the whole
 * effective policy, as plain-text lines; everyone else only their own targets (`/jit targets`).
 */
export type PolicyView = { scope: 'all'; lines: string[] } | { scope: 'own' };

/** "1 approval", "2 approvals". */
export function approvalsPhrase(n: number): string {
  return n === 1 ? '1 approval' : `${n} approvals`;
}
