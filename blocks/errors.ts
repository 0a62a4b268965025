/**
 * Words for every problem the core reports (src/domain/errors.ts PROBLEM_CODES): what is wrong and
 * what to do, in Slack mrkdwn, with the `/jit` hints. The core returns codes and parameters; this
 * is the one place that turns them into what people read.
 */
import { formatDuration } from '../src/domain/duration';
import { JitError, type Problem, type ProblemCode, type ProblemParams, type RequestAction, type UnusableAddress } from '../src/domain/errors';
import type { Notification } from '../src/domain/types';
import { approvalsPhrase } from '../src/domain/policy-terms';
import { CANNOT_DECIDE } from './outcome';

const HINT = 'Send the single public address you will connect from, e.g. `203.0.113.7` (or `2001:db8::7`).';

const UNUSABLE: Record<UnusableAddress, string> = {
  unusable: 'is not a usable source address',
  loopback: 'is a loopback address',
  'multicast-reserved-broadcast': 'is a multicast, reserved or broadcast address',
  'link-local': 'is a link-local address',
  unspecified: 'is the unspecified address',
  multicast: 'is a multicast address',
};

/** The same words for every reason: the refusal names no rule and no request. */
export const NOT_ELIGIBLE_MESSAGE =
  'Your Slack account cannot request or approve access here: only full members of this workspace can. If you need access, ask a workspace admin or your platform team.';
export const PROFILE_UNKNOWN_MESSAGE = 'Slack could not confirm your account just now, so nothing was done. Try again in a minute; if it keeps happening, tell your platform team.';

/** "There is no request … that you can <verb>." */
const ACTION_VERBS: Record<RequestAction, string> = { extend: 'extend', revoke: 'revoke', credentials: 'see the credentials of' };

const LIST_HINT = '`/jit list` shows your open requests.';

function names(visible: string[]): string {
  return visible.length > 0 ? visible.map((t) => `\`${t}\``).join(', ') : 'nothing (ask an admin to add you as a requester)';
}

function between(minMs: number, maxMs: number): string {
  return `between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
}

const d = formatDuration;

const WORDS: { [C in ProblemCode]: (p: ProblemParams[C]) => string } = {
  plain: (p) => p.text,
  'target-missing': (p) => `Say which target you need. You can request: ${names(p.visible)}.`,
  'target-unknown': (p) => `There is no target called \`${p.target}\`. You can request: ${names(p.visible)} (see \`/jit targets\`).`,
  'duration-missing': (p) => `Say how long you need access, e.g. \`30m\` or \`1h30m\` (${between(p.minMs, p.maxMs)}).`,
  'duration-invalid': (p) => `\`${p.text}\` is not a duration. Use forms like \`15m\`, \`1h\` or \`1h30m\` (${between(p.minMs, p.maxMs)}).`,
  'duration-sts-too-short': (p) =>
    `${d(p.durationMs)} is too short for \`${p.target}\`: AWS STS issues credentials for at least 15 minutes, so ask for 15m or more (up to ${d(p.maxMs)}).`,
  'duration-out-of-bounds': (p) => `${d(p.durationMs)} is outside what \`${p.target}\` allows: ${between(p.minMs, p.maxMs)}.`,
  'address-not-taken': (p) => `\`${p.target}\` is ${p.kind} access and takes no address: drop \`${p.address}\` and send \`/jit request ${p.target} <duration> <reason>\`.`,
  'accounts-not-taken': (p) => `\`${p.target}\` is ${p.kind} access and takes no accounts: drop \`--accounts=…\`.`,
  'accounts-unknown': (p) => `\`${p.target}\` does not offer ${names(p.unknown)}. Pick among: ${names(p.choices)} (\`--accounts=<id>,<id>\`).`,
  'accounts-too-many': (p) => `You picked ${p.count} accounts; \`${p.target}\` allows at most ${p.max} in one request. Pick fewer, or send another request for the rest.`,
  'accounts-missing': (p) => `Say which account${p.max === 1 ? '' : 's'} you need on \`${p.target}\` (${p.max === 1 ? 'one' : `up to ${p.max}`}): \`--accounts=<id>${p.max === 1 ? '' : ',<id>'}\`. It offers: ${names(p.choices)}.`,
  'reason-missing': () => 'Say why you need access: the reason is shown to the approvers and kept in the audit log.',
  'reason-too-long': (p) => `The reason is ${p.length} characters long; keep it under ${p.max}.`,
  'comment-too-long': (p) => `The note is ${p.length} characters long; keep it under ${p.max}.`,
  'target-gone': (p) => `Target \`${p.target}\` is no longer configured.`,
  'target-changed': (p) => `Target \`${p.target}\` is now of kind ${p.kind}, not ${p.was}.`,
  'extension-out-of-bounds': (p) => `An extension of ${d(p.durationMs)} is outside what \`${p.target}\` allows.`,
  'stored-address-invalid': (p) => `Stored address ${p.cidr} is not a single host.`,
  'narrowed-invalid': (p) => `\`${p.text}\` is not a duration. Use forms like \`15m\` or \`1h\`.`,
  'narrowed-too-long': (p) => `${d(p.durationMs)} is longer than the ${d(p.askedMs)} asked for: approve as asked, or for less.`,
  'narrowed-too-short': (p) => `${d(p.durationMs)} is shorter than \`${p.target}\` allows (at least ${d(p.minMs)}).`,
  'extension-missing': (p) => `Say how much longer you need, e.g. \`30m\` (up to ${d(p.maxMs)}).`,
  'extension-invalid': (p) => `\`${p.text}\` is not a duration. Use forms like \`15m\`, \`1h\` or \`1h30m\`.`,
  'extension-out-of-range': (p) => `An extension of ${d(p.durationMs)} is outside what \`${p.target}\` allows: ${between(p.minMs, p.maxMs)}.`,
  'extension-over-total': (p) => `\`${p.target}\` grants last at most ${d(p.maxTotalMs)} in all: this one can be extended by up to ${d(p.maxMs)}.`,
  'not-requester': (p) => `You are not among the requesters of \`${p.target}\`.`,
  'deny-rule': (p) => `Refused by the deny rule \`${p.rule}\`.${p.message ? ` ${p.message}` : ''}`,
  'total-cap': (p) =>
    `\`${p.target}\` grants last at most ${d(p.maxTotalMs)} in all, extensions included; ` +
    (p.canExtend ? `this one can be extended by up to ${d(p.maxMs)}.` : 'this one cannot be extended further: send a new request when it ends.'),
  'break-glass-off': (p) => `\`${p.target}\` does not allow break-glass access: send the request without \`--break-glass\` for the approvers to decide.`,
  'quorum-unreachable': (p) => `\`${p.target}\` needs ${approvalsPhrase(p.required)} from approvers other than you, and only ${p.available} can approve it: ask an admin to add approvers.`,
  'cannot-decide': () => CANNOT_DECIDE,
  'cannot-revoke': (p) => `Only the requester or an approver can revoke \`${p.id}\`.`,
  'extend-target-gone': (p) => `Target \`${p.target}\` is no longer configured, so \`${p.id}\` cannot be extended.`,
  'extension-waiting': (p) => `An extension of \`${p.id}\` is already waiting: \`${p.waiting}\` (${d(p.durationMs)}). Wait for it, or withdraw it with \`/jit revoke ${p.waiting}\`.`,
  'already-approved': (p) => `You already approved \`${p.id}\`; it needs ${approvalsPhrase(p.left)} more from other approvers.`,
  'not-break-glass': (p) => `\`${p.id}\` was not break-glass access: there is nothing to review.`,
  'already-reviewed': (p) => `\`${p.id}\` was already reviewed.`,
  'revoke-pending': (p) => `\`${p.id}\` is still waiting for approval: deny it instead of revoking.`,
  'being-granted': (p) => `\`${p.id}\` is being granted right now; try again in a few seconds.`,
  'being-revoked': (p) => `\`${p.id}\` is already being revoked.`,
  'no-credentials': (p) => `\`${p.id}\` is ${p.kind} access: there are no credentials to show.`,
  'not-a-request-id': () => `That is not a request id. ${LIST_HINT}`,
  'no-such-request': (p) => `There is no request \`${p.id}\`${p.action !== undefined ? ` that you can ${ACTION_VERBS[p.action]}` : ''}. ${LIST_HINT}`,
  'already-resolved': (p) => `Request \`${p.id}\` is already ${p.status.toLowerCase()}. Nothing was changed.`,
  'not-eligible': () => NOT_ELIGIBLE_MESSAGE,
  'profile-unknown': () => PROFILE_UNKNOWN_MESSAGE,
  'rate-limited': (p) => {
    const what = p.limit === 'breakGlass' ? 'break-glass requests' : 'requests';
    const after = p.limit === 'breakGlass' ? ' For access now, send the request without `--break-glass` for the approvers to decide.' : '';
    return `You have sent ${p.max} ${what} in the last ${d(p.perMs)}, the most allowed. Nothing was sent: try again in ${d(p.waitMs)} (at ${p.retryAt.slice(11, 16)} UTC).${after}`;
  },
  'address-missing': () => `An address is required for SSH access. ${HINT}`,
  'address-network': (p) => `\`${p.text}\` is a network, not one address: only /${p.prefix} is allowed. ${HINT}`,
  'address-unusable': (p) => `\`${p.address}\` ${UNUSABLE[p.why]}. ${HINT}`,
  'address-v4-mapped': (p) => `\`${p.address}\` is an IPv4-mapped address: send the IPv4 address itself.`,
  'address-not-ip': (p) => `\`${p.text}\` is not an IP address. ${HINT}`,
  'revoke-failing': (p) =>
    `Revoking \`${p.id}\` (${p.target}) keeps failing: ${p.failure}, ref ${p.ref}. The bot keeps retrying; check its AWS permissions and the resource (the log and the audit record have the details under that reference).`,
  // The operator's words lead (the request form shows the first 150 characters under the field);
  // like every text here they are escaped where they are rendered (errorReply), not here.
  'reason-format': (p) => `${p.message.trim()}${/[.!?]$/.test(p.message.trim()) ? '' : '.'} (\`${p.target}\` asks for reasons in this form; nothing was sent.)`,
  'audit-approvers-only': () => 'Only approvers can read the audit. `/jit list` shows your own open requests.',
  'audit-since-invalid': (p) => `\`${p.text}\` is not a look-back. Use e.g. \`since 7d\` or \`since 12h\` (at most ${d(p.maxMs)}, how long requests are kept).`,
};

/** What people read for a problem (mrkdwn; parameters are shown as the core gave them). */
export function problemText(problem: Problem): string {
  return (WORDS[problem.code] as (p: Problem['params']) => string)(problem.params);
}

/** What people read for a domain error: the words of its problem (never err.message). */
export function errorText(err: JitError): string {
  return problemText(err.problem);
}

/** The words a notification carries (an alert's problem; older stored items carry plain text). */
export function notificationText(n: Pick<Notification, 'problem' | 'text'>): string {
  return n.problem ? problemText(n.problem) : (n.text ?? '');
}
