/**
 * Turns any error from the core into what the user should read. Domain errors carry a problem
 * code that blocks/errors.ts puts into words; anything else is logged with a reference and shown as that reference,
 * never as internals.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type BadIdSource, errorReply, resolvedReply } from '../blocks/command';
import { errorText } from '../blocks/errors';
import type { SlackMessage } from '../blocks/kit';
import { CANNOT_DECIDE, failureReply } from '../blocks/outcome';
import { AlreadyResolvedError, CannotDecideError, failureCodeOfError, GrantError, JitError, newFailureRef, ReferencedFailureError } from '../src/domain/errors';

export function userMessage(err: unknown, log: Logger, context: Record<string, unknown>): string {
  if (err instanceof CannotDecideError) return CANNOT_DECIDE;
  if (err instanceof ReferencedFailureError) return failureReply(err.failureCode, err.ref);
  if (err instanceof GrantError) {
    // AWS's message (ARNs, account ids) goes to the log under a reference; people see the code and it.
    const ref = newFailureRef();
    const code = failureCodeOfError(err);
    log.warn({ ...context, ref, code, err: err.message }, 'AWS call failed');
    return failureReply(code, ref);
  }
  if (err instanceof JitError) return errorText(err);
  const ref = randomBytes(4).toString('hex');
  log.error({ ...context, ref, err: err instanceof Error ? { type: err.name, message: err.message, stack: err.stack } : String(err) }, 'unexpected error');
  return `Something went wrong on our side (reference \`${ref}\`). Nothing was granted; try again, and tell your platform team the reference if it happens again.`;
}

/** The ephemeral reply for an error: a rendered status for moved-on requests, else the words of its problem. */
export function errorMessage(err: unknown, log: Logger, context: Record<string, unknown>): SlackMessage {
  if (err instanceof AlreadyResolvedError && err.request) return resolvedReply(err.request);
  return errorReply(userMessage(err, log, context));
}

/**
 * An id from outside (command argument, button value, form metadata) that is not a request id:
 * logged as a warning with where it came from and its length, never the value itself (it is
 * attacker-controlled: could be 3,000 characters, mrkdwn or a mention). The caller replies.
 */
export function warnBadId(log: Logger, source: BadIdSource, value: unknown, context: Record<string, unknown>): void {
  const length = typeof value === 'string' ? value.length : undefined;
  log.warn({ event: 'input.bad_id', source, length, ...context }, 'refused an id that is not a request id');
}
