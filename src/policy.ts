/**
 * Policy: who may do what, and whether a request is acceptable. Pure functions of (config,
 * request, the user's groups, clock). The service decides at submission AND decides again
 * (`redecide`: the whole decision, not a re-check) at every approval, before every grant attempt
 * and before an extension is applied, so a click can never carry a grant the policy of that
 * moment would refuse.
 *
 * How a request is decided (`evaluateRequest`), first answer wins:
 *   1. requesters   the target is only for its requesters (others do not see it at all)
 *   2. deny rules   every rule is checked, in file order; the first match refuses (break-glass too)
 *   3. total cap    an extension may not take the grant past the target's maxTotalDuration
 *   4. break-glass  `--break-glass` on a target that allows it: granted now, reviewed later
 *   5. auto-approve rules in file order; the FIRST rule that matches the target (names or tags),
 *                   the requester and the time decides: within its maxDuration it grants at once,
 *                   beyond it the request goes to the approvers (later rules are not consulted)
 *   6. approvers    the target's approvers, `approvalsRequired` distinct ones, never the requester
 */
import type { JitConfig } from './config-types';
import { parseHostAddress } from './domain/address';
import { formatDuration, parseDuration } from './domain/duration';
import { CannotDecideError, NotAllowedError, type Problem, problem, type RefusalCode, ValidationError } from './domain/errors';
import { isIn, ruleMatches } from './domain/match';
import { reasonMatches } from './domain/reason';
import { type AccessRequest, accountChoices, isStsKind, type Principals, STS_MIN_DURATION_MS, takesAddress, type Target } from './domain/types';
import { approvalsPhrase, type ExtensionHeadroom, MAX_COMMENT_LENGTH, MAX_REASON_LENGTH, type ReminderAudience, type TargetSummary } from './domain/policy-terms';

// The terms shared with the edge live in src/domain/policy-terms.ts (one home); re-exported for the core.
export { approvalsPhrase, type ExtensionHeadroom, MAX_COMMENT_LENGTH, MAX_REASON_LENGTH, type ReminderAudience, type TargetSummary };

/**
 * The shortest extension the policy accepts, on every target (a short top-up is the point of an
 * extension; the target's minDuration applies to new requests only). The warning DM's Extend
 * button, the extension form and the policy's refusals all go by `extensionHeadroom`.
 */
export const MIN_EXTENSION_MS = 60_000;

/** The time a grant holds so far, extensions included (undefined while it is not granted). */
export function grantedMsOf(grant: Pick<AccessRequest, 'grantedAt' | 'expiresAt'>): number | undefined {
  if (!grant.grantedAt || !grant.expiresAt) return undefined;
  return Date.parse(grant.expiresAt) - Date.parse(grant.grantedAt);
}

/** The one home of the extension limits: `grantedMs` is the grant's time so far (see grantedMsOf). */
export function extensionHeadroom(target: Target, grantedMs: number): ExtensionHeadroom {
  const maxMs = Math.max(0, Math.min(target.maxDurationMs, target.policy.maxTotalDurationMs - grantedMs));
  return { maxMs, canExtend: maxMs >= MIN_EXTENSION_MS };
}
const NO_GROUPS: ReadonlySet<string> = new Set();

export interface SubmissionInput {
  requesterId: string;
  targetName?: string;
  duration?: string;
  address?: string;
  /** Account ids, separated by commas or spaces (a target that lists accounts). */
  accounts?: string;
  reason?: string;
  breakGlass?: boolean;
}

export interface ValidSubmission {
  target: Target;
  durationMs: number;
  cidr?: string;
  /** The accounts the request is for (a target that lists accounts): those it named, or all when it named none. */
  accounts?: string[];
  reason: string;
}

/** What the policy needs to know beyond the config and the request. */
export interface PolicyContext {
  now: Date;
  /** The requester's Slack user groups (those the config names), resolved. */
  requesterGroups: ReadonlySet<string>;
  /**
   * Members of the groups among the target's approvers. When given, a request that could never
   * reach its quorum (too few approvers other than the requester) is refused up front.
   */
  groupMembers?: ReadonlyMap<string, readonly string[]>;
}

export interface PolicyInput {
  target: Target;
  requesterId: string;
  durationMs: number;
  breakGlass?: boolean;
  /** Extensions: how long the grant already lasts (its granted time plus earlier extensions). */
  grantedMs?: number;
}

export type PolicyDecision =
  | { outcome: 'deny'; code: RefusalCode; rule?: string; problem: Problem; reasons: string[] }
  | { outcome: 'break-glass'; reasons: string[] }
  | { outcome: 'auto'; rule: string; reasons: string[] }
  | { outcome: 'approval'; approvers: Principals; approvalsRequired: number; reasons: string[] };

export function findTarget(config: JitConfig, name: string | undefined): Target | undefined {
  return config.targets.find((t) => t.name === name);
}

/** May this user request the target (and see it in `/jit targets` and the form)? */
export function canRequest(target: Target, userId: string, userGroups: ReadonlySet<string>): boolean {
  return target.policy.requesters === undefined || isIn(target.policy.requesters, userId, userGroups);
}

export function visibleTargets(config: JitConfig, userId: string, userGroups: ReadonlySet<string>): Target[] {
  return config.targets.filter((t) => canRequest(t, userId, userGroups));
}

/**
 * Decides a STORED request again, as a new one would be decided now: the whole policy
 * (requesters, deny rules, total cap, break-glass, quorum) with the current config, clock and
 * group membership, plus the input rules (target still there and of the same kind, duration
 * within bounds, a single-host address). Called at every approval, before every grant attempt
 * (resumed ones included) and before an extension is applied.
 *
 * Only `deny` refuses. An auto-approve rule that no longer matches is not a refusal (a pending
 * request goes on to its approvers; an auto-approved one was approved when it was decided), and a
 * break-glass request is decided as break-glass (still allowed on the target, by requesters and
 * deny rules). `grantedMs` is how long the grant an extension extends already lasts.
 */
export function redecide(config: JitConfig, request: AccessRequest, ctx: PolicyContext, grantedMs?: number): PolicyDecision {
  const target = findTarget(config, request.targetName);
  if (!target) return { outcome: 'deny', code: 'target-gone', problem: problem('target-gone', { target: request.targetName }), reasons: ['the target is no longer configured'] };
  try {
    recheckForGrant(config, request);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const code: RefusalCode = target.kind !== request.kind ? 'target-changed' : err.field === 'duration' ? 'duration-out-of-bounds' : 'address-invalid';
    return { outcome: 'deny', code, problem: err.problem, reasons: [err.message] };
  }
  const breakGlass = request.breakGlass === true || request.approvedVia === 'break-glass';
  return evaluateRequest(config, { target, requesterId: request.requesterId, durationMs: request.durationMs, breakGlass, ...(grantedMs !== undefined ? { grantedMs } : {}) }, ctx);
}

/** Approves this target's requests (the requester's own excepted). */
export function isApproverOf(target: Target, userId: string, userGroups: ReadonlySet<string>): boolean {
  return isIn(target.policy.approvers, userId, userGroups);
}

/** Approves something: the default approvers or any target's. */
export function isAnyApprover(config: JitConfig, userId: string, userGroups: ReadonlySet<string>): boolean {
  return isIn(config.approvers, userId, userGroups) || config.targets.some((t) => isApproverOf(t, userId, userGroups));
}

/** Every Slack user group the config names (what the group directory has to resolve). */
export function referencedGroups(config: JitConfig): string[] {
  const groups = new Set<string>(config.approvers.groups);
  const add = (p?: Principals) => p?.groups.forEach((g) => groups.add(g));
  for (const t of config.targets) {
    add(t.policy.approvers);
    add(t.policy.requesters);
  }
  for (const r of [...config.denyRules, ...config.autoApprove]) add(r.requesters);
  return [...groups].sort();
}

/** Validates user input for a new request. Throws ValidationError naming the field and the fix. */
export function validateSubmission(config: JitConfig, input: SubmissionInput, requesterGroups: ReadonlySet<string> = NO_GROUPS): ValidSubmission {
  const visible = visibleTargets(config, input.requesterId, requesterGroups);
  const names = visible.map((t) => t.name);
  if (!input.targetName) throw new ValidationError('target-missing', { visible: names }, 'target');
  const target = visible.find((t) => t.name === input.targetName);
  // A target the user may not request is reported as unknown: its existence is not theirs to know.
  if (!target) throw new ValidationError('target-unknown', { target: input.targetName, visible: names }, 'target');

  if (!input.duration) throw new ValidationError('duration-missing', bounds(target), 'duration');
  const durationMs = parseDuration(input.duration);
  if (durationMs === undefined) throw new ValidationError('duration-invalid', { text: input.duration, ...bounds(target) }, 'duration');
  checkDuration(target, durationMs);

  let cidr: string | undefined;
  if (takesAddress(target.kind)) cidr = parseHostAddress(input.address).cidr;
  else if (input.address) throw new ValidationError('address-not-taken', { target: target.name, kind: target.kind, address: input.address }, 'address');

  const accounts = pickAccounts(target, input.accounts);
  const reason = checkReason(input.reason, target);
  return { target, durationMs, cidr, ...(accounts ? { accounts } : {}), reason };
}

/**
 * The accounts a request is for: those it names (each one of the target's, at most
 * accountsPerRequest of them), or all of the target's when it names none and they fit; undefined
 * for a target that lists no accounts (naming some there is refused).
 */
export function pickAccounts(target: Target, text: string | undefined): string[] | undefined {
  const choices = accountChoices(target);
  const named = [...new Set((text ?? '').split(/[\s,]+/).filter((a) => a !== ''))];
  if (!choices) {
    if (named.length > 0) throw new ValidationError('accounts-not-taken', { target: target.name, kind: target.kind }, 'accounts');
    return undefined;
  }
  const { accountIds, perRequest } = choices;
  if (named.length === 0) {
    if (accountIds.length > perRequest) throw new ValidationError('accounts-missing', { target: target.name, max: perRequest, choices: [...accountIds] }, 'accounts');
    return [...accountIds];
  }
  const unknown = named.filter((a) => !accountIds.includes(a));
  // What the person typed is echoed back: the first few, each cut short.
  const shown = unknown.slice(0, 5).map((a) => (a.length > 20 ? `${a.slice(0, 19)}…` : a));
  if (unknown.length > 0) throw new ValidationError('accounts-unknown', { target: target.name, unknown: shown, choices: [...accountIds] }, 'accounts');
  if (named.length > perRequest) throw new ValidationError('accounts-too-many', { target: target.name, count: named.length, max: perRequest }, 'accounts');
  return named;
}

/**
 * The reason for a request or an extension: required, short enough to show, and (when the target
 * has a reason rule) following it: otherwise refused with the operator's message.
 */
export function checkReason(text: string | undefined, target?: Target): string {
  const reason = (text ?? '').trim();
  if (reason === '') throw new ValidationError('reason-missing', {}, 'reason');
  if (reason.length > MAX_REASON_LENGTH) throw new ValidationError('reason-too-long', { length: reason.length, max: MAX_REASON_LENGTH }, 'reason');
  const rule = target?.policy.reason;
  if (rule && !reasonMatches(rule, reason)) throw new ValidationError('reason-format', { target: target.name, message: rule.message }, 'reason');
  return reason;
}

/** An approver's optional note; undefined when empty. */
export function checkComment(text: string | undefined): string | undefined {
  const comment = (text ?? '').trim();
  if (comment === '') return undefined;
  if (comment.length > MAX_COMMENT_LENGTH) throw new ValidationError('comment-too-long', { length: comment.length, max: MAX_COMMENT_LENGTH }, 'comment');
  return comment;
}

/**
 * Decides how a valid request is approved: refused, granted by break-glass or an auto-approve
 * rule, or sent to approvers (and how many). Deterministic: the same inputs give the same
 * decision, with the reasons that led to it.
 */
export function evaluateRequest(config: JitConfig, input: PolicyInput, ctx: PolicyContext): PolicyDecision {
  const { target, requesterId } = input;
  const policy = target.policy;
  const reasons: string[] = [];
  const extension = input.grantedMs !== undefined;
  const totalMs = (input.grantedMs ?? 0) + input.durationMs;

  if (!canRequest(target, requesterId, ctx.requesterGroups)) {
    return { outcome: 'deny', code: 'not-requester', problem: problem('not-requester', { target: target.name }), reasons: ['not among the target\'s requesters'] };
  }
  reasons.push(policy.requesters ? 'among the target\'s requesters' : 'the target is open to everyone');

  for (const rule of config.denyRules) {
    const m = ruleMatches(rule, target, requesterId, ctx.requesterGroups, ctx.now);
    if (m.matches) {
      return { outcome: 'deny', code: 'deny-rule', rule: rule.name, problem: problem('deny-rule', { rule: rule.name, ...(rule.message ? { message: rule.message } : {}) }), reasons: [...reasons, `deny rule ${rule.name} matches`] };
    }
    reasons.push(`deny rule ${rule.name} does not apply: ${m.misses.join('; ')}`);
  }

  if (extension && totalMs > policy.maxTotalDurationMs) {
    const room = extensionHeadroom(target, input.grantedMs ?? 0);
    return {
      outcome: 'deny',
      code: 'total-cap',
      problem: problem('total-cap', { target: target.name, maxTotalMs: policy.maxTotalDurationMs, canExtend: room.canExtend, maxMs: room.maxMs }),
      reasons: [...reasons, `total ${formatDuration(totalMs)} is over maxTotalDuration ${formatDuration(policy.maxTotalDurationMs)}`],
    };
  }

  if (input.breakGlass) {
    if (!policy.breakGlass) {
      return { outcome: 'deny', code: 'break-glass-off', problem: problem('break-glass-off', { target: target.name }), reasons: [...reasons, 'break-glass is not allowed on this target'] };
    }
    return { outcome: 'break-glass', reasons: [...reasons, 'break-glass requested and allowed'] };
  }

  for (const rule of config.autoApprove) {
    const m = ruleMatches(rule, target, requesterId, ctx.requesterGroups, ctx.now);
    if (!m.matches) {
      reasons.push(`auto-approve rule ${rule.name} does not apply: ${m.misses.join('; ')}`);
      continue;
    }
    const asked = extension ? totalMs : input.durationMs;
    if (asked <= rule.maxDurationMs) return { outcome: 'auto', rule: rule.name, reasons: [...reasons, `auto-approve rule ${rule.name} covers ${formatDuration(asked)} (up to ${formatDuration(rule.maxDurationMs)})`] };
    reasons.push(`auto-approve rule ${rule.name} matches but covers only ${formatDuration(rule.maxDurationMs)}${extension ? ' in all' : ''}; ${formatDuration(asked)} needs approval`);
    break; // the first matching rule decides
  }

  if (ctx.groupMembers) {
    const pool = approverPool(policy.approvers, ctx.groupMembers);
    pool.delete(requesterId);
    if (pool.size < policy.approvalsRequired) {
      return {
        outcome: 'deny',
        code: 'quorum-unreachable',
        problem: problem('quorum-unreachable', { target: target.name, required: policy.approvalsRequired, available: pool.size }),
        reasons: [...reasons, `quorum of ${policy.approvalsRequired} cannot be met: ${pool.size} approver(s) besides the requester`],
      };
    }
  }
  return { outcome: 'approval', approvers: policy.approvers, approvalsRequired: policy.approvalsRequired, reasons: [...reasons, `needs ${approvalsPhrase(policy.approvalsRequired)}`] };
}

/** Named users plus the members of named groups. */
export function approverPool(approvers: Principals, groupMembers: ReadonlyMap<string, readonly string[]>): Set<string> {
  const pool = new Set(approvers.users);
  for (const g of approvers.groups) for (const u of groupMembers.get(g) ?? []) pool.add(u);
  return pool;
}

/**
 * Throws unless `actorId` may approve or deny this request now: not the requester, and an
 * approver of its target (directly or through a group). A second approval by the same approver
 * is refused by the lifecycle (and reported by the service); an approver who approved may still deny.
 */
export function checkCanDecide(config: JitConfig, request: AccessRequest | undefined, actorId: string, actorGroups: ReadonlySet<string> = NO_GROUPS): Target {
  // One neutral refusal for every reason (no such request, the requester, not an approver, target
  // gone): who may not decide learns nothing about the request, not even that it exists.
  const target = request && actorId !== request.requesterId ? findTarget(config, request.targetName) : undefined;
  if (!target || !isApproverOf(target, actorId, actorGroups)) throw new CannotDecideError();
  return target;
}

/** Throws unless `actorId` may end this request early (the requester or an approver of its target). */
export function checkCanRevoke(config: JitConfig, request: AccessRequest, actorId: string, actorGroups: ReadonlySet<string> = NO_GROUPS): void {
  if (actorId === request.requesterId) return;
  const target = findTarget(config, request.targetName);
  const approver = target ? isApproverOf(target, actorId, actorGroups) : isIn(config.approvers, actorId, actorGroups);
  if (!approver) throw new NotAllowedError('cannot-revoke', { id: request.id });
}

/**
 * The input rules on a stored request (target, kind, duration bounds, single-host address): the
 * config may have changed since it was submitted, or the item may have been edited. Part of
 * `redecide`, which the service runs before anything reaches AWS.
 */
export function recheckForGrant(config: JitConfig, request: AccessRequest): Target {
  const target = findTarget(config, request.targetName);
  if (!target) throw new ValidationError('target-gone', { target: request.targetName });
  if (target.kind !== request.kind) throw new ValidationError('target-changed', { target: target.name, kind: target.kind, was: request.kind });
  if (request.extends) {
    if (request.durationMs <= 0 || request.durationMs > target.maxDurationMs) throw new ValidationError('extension-out-of-bounds', { target: target.name, durationMs: request.durationMs }, 'duration');
  } else {
    checkDuration(target, request.durationMs);
  }
  if (takesAddress(target.kind)) {
    const host = parseHostAddress(request.cidr);
    if (host.cidr !== request.cidr) throw new ValidationError('stored-address-invalid', { cidr: String(request.cidr) });
  }
  // The accounts picked must still be the target's, and no more than it allows now.
  if (request.accounts) pickAccounts(target, request.accounts.join(','));
  return target;
}

/** An approver's shorter duration: at least the target's minimum, at most what was asked. */
export function checkNarrowedDuration(target: Target, request: AccessRequest, text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const ms = parseDuration(text.trim());
  if (ms === undefined) throw new ValidationError('narrowed-invalid', { text }, 'duration');
  if (ms > request.durationMs) throw new ValidationError('narrowed-too-long', { durationMs: ms, askedMs: request.durationMs }, 'duration');
  const min = request.extends ? 60_000 : Math.max(target.minDurationMs, isStsKind(target.kind) ? STS_MIN_DURATION_MS : 0);
  if (ms < min) throw new ValidationError('narrowed-too-short', { target: target.name, durationMs: ms, minMs: min }, 'duration');
  return ms === request.durationMs ? undefined : ms;
}

/** Extension length: positive, within the target's maxDuration (the total cap is policy's). */
export function checkExtensionDuration(target: Target, text: string | undefined): number {
  if (!text || text.trim() === '') throw new ValidationError('extension-missing', { maxMs: target.maxDurationMs }, 'duration');
  const ms = parseDuration(text.trim());
  if (ms === undefined) throw new ValidationError('extension-invalid', { text }, 'duration');
  if (ms < MIN_EXTENSION_MS || ms > target.maxDurationMs) throw new ValidationError('extension-out-of-range', { target: target.name, durationMs: ms, minMs: MIN_EXTENSION_MS, maxMs: target.maxDurationMs }, 'duration');
  return ms;
}

function checkDuration(target: Target, durationMs: number): void {
  if (isStsKind(target.kind) && durationMs < STS_MIN_DURATION_MS) {
    throw new ValidationError('duration-sts-too-short', { target: target.name, durationMs, maxMs: target.maxDurationMs }, 'duration');
  }
  if (durationMs < target.minDurationMs || durationMs > target.maxDurationMs) {
    throw new ValidationError('duration-out-of-bounds', { target: target.name, durationMs, ...bounds(target) }, 'duration');
  }
}

function bounds(target: Target): { minMs: number; maxMs: number } {
  return { minMs: target.minDurationMs, maxMs: target.maxDurationMs };
}

/** The targets `userId` may request, with how their requests would be decided right now. */
export function summarizeFor(config: JitConfig, userId: string, userGroups: ReadonlySet<string>, now: Date): TargetSummary[] {
  return visibleTargets(config, userId, userGroups).map((target) => {
    const deny = config.denyRules.find((r) => ruleMatches(r, target, userId, userGroups, now).matches);
    const auto = config.autoApprove.find((r) => ruleMatches(r, target, userId, userGroups, now).matches);
    return {
      target,
      approvers: target.policy.approvers,
      approvalsRequired: target.policy.approvalsRequired,
      ...(auto ? { autoApprove: { rule: auto.name, maxDurationMs: auto.maxDurationMs } } : {}),
      ...(deny ? { deniedBy: { rule: deny.name, ...(deny.message ? { message: deny.message } : {}) } } : {}),
      breakGlass: target.policy.breakGlass,
      maxTotalDurationMs: target.policy.maxTotalDurationMs,
    };
  });
}

// ------------------------------------------------------------------ answers for the Slack edge
// The service hands these on (handlers/ and slack/ never import this module).

/**
 * Whom a reminder of a pending request goes to (see ReminderAudience): the target's approvers
 * (the default approvers when the target is gone) who are not the requester and have not approved
 * yet. `groupMembers` (members of the approver groups) is needed only for reminder DMs.
 */
export function reminderAudienceFor(config: JitConfig, request: AccessRequest, groupMembers: ReadonlyMap<string, readonly string[]> = new Map()): ReminderAudience {
  const target = findTarget(config, request.targetName);
  const approvers = target?.policy.approvers ?? config.approvers;
  const approved = new Set((request.approvals ?? []).map((a) => a.by));
  const waitedOn = (user: string) => user !== request.requesterId && !approved.has(user);
  const dm = target?.policy.reminders?.dm ? [...approverPool(approvers, groupMembers)].sort().filter(waitedOn) : [];
  return { mention: { users: approvers.users.filter(waitedOn), groups: [...approvers.groups] }, dm };
}

/** May this grant be offered "Extend" now: live, its target still configured with the same kind, and headroom left? */
export function canExtendGrant(config: JitConfig, grant: AccessRequest): boolean {
  const target = findTarget(config, grant.targetName);
  if (!target || target.kind !== grant.kind || !grant.expiresAt || !grant.grantedAt) return false;
  return extensionHeadroom(target, grantedMsOf(grant) ?? 0).canExtend;
}

/** The extension form's duration: a valid extension length (checkExtensionDuration) within the grant's headroom. */
export function checkExtensionWithin(target: Target, room: ExtensionHeadroom, text: string | undefined): number {
  const ms = checkExtensionDuration(target, text);
  if (ms > room.maxMs) throw new ValidationError('extension-over-total', { target: target.name, maxTotalMs: target.policy.maxTotalDurationMs, maxMs: room.maxMs }, 'duration');
  return ms;
}
