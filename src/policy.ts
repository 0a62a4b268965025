/**
 * Policy: who may do what, and whether a request is acceptable. Pure functions of (config,
 * request, actor, clock). The service calls them at submission AND again right before anything
 * reaches AWS, so a click can never carry a grant that the server did not re-check.
 */
import type { JitConfig } from './config-types';
import { parseHostAddress } from './domain/address';
import { formatDuration, parseDuration } from './domain/duration';
import { NotAllowedError, ValidationError } from './domain/errors';
import { type AccessRequest, isStsKind, STS_MIN_DURATION_MS, type Target } from './domain/types';

export const MAX_REASON_LENGTH = 500;

export interface SubmissionInput {
  requesterId: string;
  targetName?: string;
  duration?: string;
  address?: string;
  reason?: string;
}

export interface ValidSubmission {
  target: Target;
  durationMs: number;
  cidr?: string;
  reason: string;
}

export function findTarget(config: JitConfig, name: string | undefined): Target | undefined {
  return config.targets.find((t) => t.name === name);
}

export function isApprover(config: JitConfig, userId: string): boolean {
  return config.approvers.users.includes(userId);
}

/** Validates user input for a new request. Throws ValidationError naming the field and the fix. */
export function validateSubmission(config: JitConfig, input: SubmissionInput): ValidSubmission {
  const names = config.targets.map((t) => `\`${t.name}\``).join(', ');
  if (!input.targetName) throw new ValidationError(`Say which target you need. You can request: ${names}.`, 'target');
  const target = findTarget(config, input.targetName);
  if (!target) throw new ValidationError(`There is no target called \`${input.targetName}\`. You can request: ${names} (see \`/jit targets\`).`, 'target');

  if (!input.duration) throw new ValidationError(`Say how long you need access, e.g. \`30m\` or \`1h30m\` (${bounds(target)}).`, 'duration');
  const durationMs = parseDuration(input.duration);
  if (durationMs === undefined) throw new ValidationError(`\`${input.duration}\` is not a duration. Use forms like \`15m\`, \`1h\` or \`1h30m\` (${bounds(target)}).`, 'duration');
  checkDuration(target, durationMs);

  let cidr: string | undefined;
  if (target.kind === 'ec2-ssh') cidr = parseHostAddress(input.address).cidr;
  else if (input.address) throw new ValidationError(`\`${target.name}\` is ${target.kind} access and takes no address: drop \`${input.address}\` and send \`/jit request ${target.name} <duration> <reason>\`.`, 'address');

  const reason = (input.reason ?? '').trim();
  if (reason === '') throw new ValidationError('Say why you need access: the reason is shown to the approvers and kept in the audit log.', 'reason');
  if (reason.length > MAX_REASON_LENGTH) throw new ValidationError(`The reason is ${reason.length} characters long; keep it under ${MAX_REASON_LENGTH}.`, 'reason');
  return { target, durationMs, cidr, reason };
}

/** Throws unless `actorId` may approve or deny this request now. */
export function checkCanDecide(config: JitConfig, request: AccessRequest, actorId: string): void {
  if (actorId === request.requesterId) throw new NotAllowedError('You cannot approve or deny your own request: another approver has to decide.');
  if (!isApprover(config, actorId)) throw new NotAllowedError(`You are not an approver for \`${request.targetName}\`, so you cannot approve or deny this request.`);
}

/** Throws unless `actorId` may end this request early (the requester or an approver). */
export function checkCanRevoke(config: JitConfig, request: AccessRequest, actorId: string): void {
  if (actorId !== request.requesterId && !isApprover(config, actorId)) {
    throw new NotAllowedError(`Only the requester or an approver can revoke \`${request.id}\`.`);
  }
}

/**
 * The last check before anything reaches AWS: the stored request must still fit the current
 * policy (the config may have changed since it was submitted, or the item may have been edited).
 */
export function recheckForGrant(config: JitConfig, request: AccessRequest): Target {
  const target = findTarget(config, request.targetName);
  if (!target) throw new ValidationError(`Target \`${request.targetName}\` is no longer configured.`);
  if (target.kind !== request.kind) throw new ValidationError(`Target \`${target.name}\` is now of kind ${target.kind}, not ${request.kind}.`);
  checkDuration(target, request.durationMs);
  if (target.kind === 'ec2-ssh') {
    const host = parseHostAddress(request.cidr);
    if (host.cidr !== request.cidr) throw new ValidationError(`Stored address ${request.cidr} is not a single host.`);
  }
  return target;
}

function checkDuration(target: Target, durationMs: number): void {
  if (isStsKind(target.kind) && durationMs < STS_MIN_DURATION_MS) {
    throw new ValidationError(`${formatDuration(durationMs)} is too short for \`${target.name}\`: AWS STS issues credentials for at least 15 minutes, so ask for 15m or more (up to ${formatDuration(target.maxDurationMs)}).`, 'duration');
  }
  if (durationMs < target.minDurationMs || durationMs > target.maxDurationMs) {
    throw new ValidationError(`${formatDuration(durationMs)} is outside what \`${target.name}\` allows: ${bounds(target)}.`, 'duration');
  }
}

function bounds(target: Target): string {
  return `between ${formatDuration(target.minDurationMs)} and ${formatDuration(target.maxDurationMs)}`;
}
