/**
 * The effective approval policy as plain text, target by target: what `/jit policy check` and
 * `npm run policy:check` print. Pure and deterministic: the same config gives the same lines.
 * It says which rules *can* apply to a target (by target name and tags); whether they do for a
 * given request (requester, time window) is `evaluateRequest`'s job in src/policy.ts.
 */
import type { JitConfig } from './config-types';
import { formatDuration } from './domain/duration';
import { formatWindow, nameMatches, tagsMatch } from './domain/match';
import { DEFAULT_RATE_LIMITS } from './domain/safety';
import { MAX_REASON_LENGTH } from './domain/policy-terms';
import type { AutoApproveRule, DenyRule, Principals, ReasonRule, RuleMatch, Target, TimeWindow } from './domain/types';

/** The order `evaluateRequest` checks things in, as one paragraph (first answer wins). */
export const PRECEDENCE =
  'Precedence, first answer wins: requesters → deny rules (file order; they refuse break-glass too) → ' +
  'maxTotalDuration (an extension past it is refused) → break-glass where allowed (granted at once, reviewed later) → ' +
  'the first auto-approve rule matching target, requester and time (file order; grants up to its maxDuration, longer goes to the approvers) → ' +
  'the approvers (approvalsRequired distinct ones, never the requester).';

/** `users U1, U2; groups S1`, or `nobody`. */
export function formatPrincipals(p: Principals): string {
  const parts: string[] = [];
  if (p.everyone) parts.push('everyone (every full member of the workspace)');
  if (p.users.length > 0) parts.push(`users ${p.users.join(', ')}`);
  if (p.groups.length > 0) parts.push(`groups ${p.groups.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'nobody';
}

/** Tags as `K=v, K2=v2`, sorted by name. */
export function formatTagList(tags: Readonly<Record<string, string>>): string {
  const keys = Object.keys(tags).sort();
  return keys.length > 0 ? keys.map((k) => `${k}=${tags[k]}`).join(', ') : 'none';
}

/** A window as `mon,tue 08:00–18:00 Europe/London`, marked when it runs overnight. */
export function formatWindowText(w: TimeWindow): string {
  return w.to <= w.from ? `${formatWindow(w)} (overnight, into the next day)` : formatWindow(w);
}

/** The part of a rule that depends on the request, not the target: who asks, and when. */
export function ruleConditions(rule: RuleMatch): string {
  const parts: string[] = [];
  if (rule.requesters) parts.push(`when the requester is among ${formatPrincipals(rule.requesters)}`);
  if (rule.window) parts.push(`during ${formatWindowText(rule.window)}`);
  return parts.length > 0 ? parts.join(' and ') : 'always';
}

/** The rule can apply to the target: its target names and tags (when given) match it. */
export function ruleCoversTarget(rule: RuleMatch, target: Target): boolean {
  if (rule.targets && !rule.targets.some((p) => nameMatches(p, target.name))) return false;
  if (rule.tags && !tagsMatch(rule.tags, target.tags)) return false;
  return true;
}

const unconditional = (rule: RuleMatch) => rule.requesters === undefined && rule.window === undefined;

/** The deny rules that can refuse requests for the target, in file order. */
export function denyRulesFor(config: JitConfig, target: Target): DenyRule[] {
  return config.denyRules.filter((r) => ruleCoversTarget(r, target));
}

/**
 * The auto-approve rules that can decide the target's requests, in file order: the first one that
 * covers it, and, while those have requester or window conditions, the ones consulted when they do
 * not hold (up to the first unconditional rule, which always decides).
 */
export function autoApproveChainFor(config: JitConfig, target: Target): AutoApproveRule[] {
  const chain: AutoApproveRule[] = [];
  for (const rule of config.autoApprove) {
    if (!ruleCoversTarget(rule, target)) continue;
    chain.push(rule);
    if (unconditional(rule)) break;
  }
  return chain;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The lines for one target (its heading first). */
export function describeTarget(config: JitConfig, target: Target): string[] {
  const p = target.policy;
  const lines: string[] = [];
  lines.push(`target ${target.name} (${target.kind})${target.description ? `: ${target.description}` : ''}`);
  lines.push(
    `  durations: ${formatDuration(target.minDurationMs)}–${formatDuration(target.maxDurationMs)} per request; ` +
      `maxTotalDuration ${formatDuration(p.maxTotalDurationMs)} per grant, extensions included`,
  );
  lines.push(`  tags: ${formatTagList(target.tags)}`);
  lines.push(`  requesters: ${p.requesters ? (p.requesters.everyone ? formatPrincipals(p.requesters) : `${formatPrincipals(p.requesters)} (hidden from everyone else)`) : 'everyone (none named)'}`);
  lines.push(
    `  approvers: ${formatPrincipals(p.approvers)}; ` +
      (p.approvalsRequired === 1 ? '1 approval required' : `${p.approvalsRequired} distinct approvals required`) +
      ' (never the requester)',
  );
  lines.push(`  approval timeout: ${formatDuration(p.approvalTimeoutMs)}`);
  lines.push(
    `  reminders: ${p.reminders ? `every ${formatDuration(p.reminders.everyMs)} in the approval thread${p.reminders.dm ? ', and by DM to approvers who have not approved' : ''}` : 'none'}`,
  );
  lines.push(`  break-glass: ${p.breakGlass ? 'allowed (granted at once, @here alert, needs a review)' : 'not allowed'}`);
  lines.push(`  reason: ${reasonRuleText(p.reason)}`);

  const deny = denyRulesFor(config, target);
  if (deny.length === 0) lines.push('  deny rules: none');
  for (const rule of deny) {
    const always = unconditional(rule) ? ' (every request for this target is refused)' : '';
    lines.push(`  deny rule ${rule.name}: ${ruleConditions(rule)}${always}${rule.message ? `: "${rule.message}"` : ''}`);
  }

  const chain = autoApproveChainFor(config, target);
  if (chain.length === 0) {
    lines.push('  auto-approve: none (the approvers decide)');
  } else {
    chain.forEach((rule, i) => {
      const label = i === 0 ? 'auto-approve' : '  otherwise auto-approve';
      lines.push(`  ${label} rule ${rule.name}: grants up to ${formatDuration(rule.maxDurationMs)} (for an extension: the grant's total), ${ruleConditions(rule)}; longer goes to the approvers`);
    });
    if (!unconditional(chain[chain.length - 1]!)) lines.push('    otherwise the approvers decide');
  }
  return lines;
}

/** A target's reason rule (requests and extensions alike), as plain text. */
export function reasonRuleText(rule: ReasonRule | undefined): string {
  if (!rule) return `free text (up to ${MAX_REASON_LENGTH} characters)`;
  const ticket = rule.ticketUrl ? `; the ticket key (${rule.regex.source.includes('(?<key>') ? 'the group named key' : 'the match'}) is linked as ${rule.ticketUrl} in the approval message and recorded in the audit` : '';
  return `must match /${rule.pattern}/ (requests and extensions), else refused with "${rule.message}"${ticket}`;
}

/** The whole effective policy: a header, then one block per target, in file order. */
export function describePolicy(config: JitConfig): string[] {
  const defaultApprovers = config.approvers.users.length + config.approvers.groups.length > 0 ? formatPrincipals(config.approvers) : 'none (every target names its own)';
  const lines = [
    `approver channel: ${config.approverChannel}`,
    `default approvers: ${defaultApprovers}`,
    `rules: ${plural(config.denyRules.length, 'deny rule')}${config.denyRules.length ? ` (${config.denyRules.map((r) => r.name).join(', ')})` : ''}, ` +
      `${plural(config.autoApprove.length, 'auto-approve rule')}${config.autoApprove.length ? ` (${config.autoApprove.map((r) => r.name).join(', ')})` : ''}`,
    PRECEDENCE,
  ];
  lines.push(safetyLine(config));
  for (const w of policyWarnings(config)) lines.push(`WARNING: ${w}`);
  for (const target of config.targets) lines.push('', ...describeTarget(config, target));
  return lines;
}

/** Guests and the per-user rate limits, as one line. */
export function safetyLine(config: JitConfig): string {
  const r = config.rateLimits ?? DEFAULT_RATE_LIMITS;
  return (
    `guests: ${config.allowGuests ? 'may request and approve (allowGuests: true)' : 'refused'}; other workspaces, deactivated accounts and bots: refused; ` +
    `rate limits per user: ${r.requests.max} requests per ${formatDuration(r.requests.perMs)}, ${r.breakGlass.max} break-glass per ${formatDuration(r.breakGlass.perMs)}`
  );
}

/**
 * What an admin should look at twice: requesters that are explicitly everyone where that means
 * instant access (break-glass, auto-approval), and guests allowed.
 */
export function policyWarnings(config: JitConfig): string[] {
  const warnings: string[] = [];
  for (const t of config.targets) {
    if (!t.policy.requesters?.everyone) continue;
    const instant = [t.policy.breakGlass ? 'break-glass' : '', autoApproveChainFor(config, t).some((r) => !r.requesters || r.requesters.everyone) ? 'auto-approval' : ''].filter(Boolean);
    warnings.push(`target ${t.name}: requesters is everyone${instant.length ? `, with ${instant.join(' and ')}: any workspace member gets access at once` : ''}`);
  }
  for (const r of config.autoApprove) if (r.requesters?.everyone) warnings.push(`auto-approve rule ${r.name}: requesters is everyone: it grants to any workspace member`);
  if (config.allowGuests) warnings.push('allowGuests is true: guest accounts may request and approve');
  return warnings;
}
