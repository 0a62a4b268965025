import { errorReply } from '../../blocks/command';
import { errorText, notificationText, problemText } from '../../blocks/errors';
import { CannotDecideError, NotFoundError, type Problem, problem, PROBLEM_CODES, type ProblemCode, type ProblemParams, ValidationError } from '../../src/domain/errors';

/** One example of every problem code: a code without an example here does not compile. */
const EXAMPLES: { [C in ProblemCode]: ProblemParams[C] } = {
  plain: { text: 'role arn:aws:iam::123456789012:role/x does not exist' },
  'target-missing': { visible: ['prod-db', 'dev-box'] },
  'target-unknown': { target: 'secret', visible: [] },
  'duration-missing': { minMs: 15 * 60_000, maxMs: 4 * 3_600_000 },
  'duration-invalid': { text: 'soon', minMs: 15 * 60_000, maxMs: 4 * 3_600_000 },
  'duration-sts-too-short': { target: 'prod-role', durationMs: 10 * 60_000, maxMs: 3_600_000 },
  'duration-out-of-bounds': { target: 'prod-db', durationMs: 5 * 3_600_000, minMs: 15 * 60_000, maxMs: 4 * 3_600_000 },
  'address-not-taken': { target: 'prod-role', kind: 'sts-role', address: '203.0.113.7' },
  'accounts-not-taken': { target: 'prod-role', kind: 'aws-role' },
  'accounts-unknown': { target: 'prod-admin', unknown: ['999999999999'], choices: ['111111111111', '222222222222'] },
  'accounts-too-many': { target: 'prod-admin', count: 3, max: 2 },
  'accounts-missing': { target: 'prod-admin', max: 1, choices: ['111111111111', '222222222222'] },
  'reason-missing': {},
  'reason-too-long': { length: 612, max: 500 },
  'comment-too-long': { length: 501, max: 500 },
  'target-gone': { target: 'old-db' },
  'target-changed': { target: 'prod-db', kind: 'sts-role', was: 'ec2-ssh' },
  'extension-out-of-bounds': { target: 'prod-db', durationMs: 9 * 3_600_000 },
  'stored-address-invalid': { cidr: '203.0.113.0/24' },
  'narrowed-invalid': { text: 'later' },
  'narrowed-too-long': { durationMs: 2 * 3_600_000, askedMs: 3_600_000 },
  'narrowed-too-short': { target: 'prod-db', durationMs: 60_000, minMs: 15 * 60_000 },
  'extension-missing': { maxMs: 4 * 3_600_000 },
  'extension-invalid': { text: 'more' },
  'extension-out-of-range': { target: 'prod-db', durationMs: 30_000, minMs: 60_000, maxMs: 4 * 3_600_000 },
  'extension-over-total': { target: 'prod-db', maxTotalMs: 8 * 3_600_000, maxMs: 10 * 60_000 },
  'not-requester': { target: 'prod-db' },
  'deny-rule': { rule: 'no-nights', message: 'Not at night.' },
  'total-cap': { target: 'prod-db', maxTotalMs: 8 * 3_600_000, canExtend: false, maxMs: 0 },
  'break-glass-off': { target: 'prod-db' },
  'quorum-unreachable': { target: 'prod-db', required: 2, available: 1 },
  'cannot-decide': {},
  'cannot-revoke': { id: 'jit-abc123' },
  'extend-target-gone': { target: 'old-db', id: 'jit-abc123' },
  'extension-waiting': { id: 'jit-abc123', waiting: 'jit-def456', durationMs: 30 * 60_000 },
  'already-approved': { id: 'jit-abc123', left: 1 },
  'not-break-glass': { id: 'jit-abc123' },
  'already-reviewed': { id: 'jit-abc123' },
  'revoke-pending': { id: 'jit-abc123' },
  'being-granted': { id: 'jit-abc123' },
  'being-revoked': { id: 'jit-abc123' },
  'no-credentials': { id: 'jit-abc123', kind: 'ec2-ssh' },
  'not-a-request-id': {},
  'no-such-request': { id: 'jit-abc123', action: 'revoke' },
  'already-resolved': { id: 'jit-abc123', status: 'REVOKED' },
  'not-eligible': {},
  'profile-unknown': {},
  'rate-limited': { limit: 'breakGlass', max: 1, perMs: 86_400_000, waitMs: 14 * 3_600_000, retryAt: '2026-12-02T02:00:00.000Z' },
  'address-missing': {},
  'address-network': { text: '203.0.113.0/24', prefix: 32 },
  'address-unusable': { address: '127.0.0.1', why: 'loopback' },
  'address-v4-mapped': { address: '::ffff:203.0.113.7' },
  'address-not-ip': { text: 'bastion.example.com' },
  'revoke-failing': { id: 'jit-abc123', target: 'prod-db', failure: 'aws-denied', ref: '7KQ3M9XD' },
  'reason-format': { target: 'prod-db', message: 'Start with a ticket key such as OPS-123' },
  'audit-approvers-only': {},
  'audit-since-invalid': { text: '7x', maxMs: 400 * 86_400_000 },
};

const examples = PROBLEM_CODES.map((code) => [code, { code, params: EXAMPLES[code] } as Problem] as const);

it('has an example for exactly the codes the core defines', () => {
  expect(Object.keys(EXAMPLES).sort()).toEqual([...PROBLEM_CODES].sort());
  expect(new Set(PROBLEM_CODES).size).toBe(PROBLEM_CODES.length);
});

it.each(examples)('%s has words: one line, every parameter filled in', (_code, p) => {
  const text = problemText(p);
  expect(text.length).toBeGreaterThan(10);
  expect(text).not.toMatch(/undefined|NaN|\[object Object\]|\n/);
});

it('says the words users read today, byte for byte', () => {
  const say = <C extends ProblemCode>(code: C, params: ProblemParams[C]) => problemText(problem(code, params));
  expect(say('not-a-request-id', {})).toBe('That is not a request id. `/jit list` shows your open requests.');
  expect(say('no-such-request', { id: 'jit-abc123', action: 'revoke' })).toBe('There is no request `jit-abc123` that you can revoke. `/jit list` shows your open requests.');
  expect(say('no-such-request', { id: 'jit-abc123' })).toBe('There is no request `jit-abc123`. `/jit list` shows your open requests.');
  expect(say('already-resolved', { id: 'jit-abc123', status: 'REVOKED' })).toBe('Request `jit-abc123` is already revoked. Nothing was changed.');
  expect(say('target-unknown', { target: 'secret', visible: ['prod-db', 'dev-box'] })).toBe('There is no target called `secret`. You can request: `prod-db`, `dev-box` (see `/jit targets`).');
  expect(say('target-missing', { visible: [] })).toBe('Say which target you need. You can request: nothing (ask an admin to add you as a requester).');
  expect(say('extension-waiting', { id: 'jit-abc123', waiting: 'jit-def456', durationMs: 30 * 60_000 })).toBe(
    'An extension of `jit-abc123` is already waiting: `jit-def456` (30m). Wait for it, or withdraw it with `/jit revoke jit-def456`.',
  );
  expect(say('deny-rule', { rule: 'no-nights' })).toBe('Refused by the deny rule `no-nights`.');
  expect(say('rate-limited', { limit: 'requests', max: 3, perMs: 3_600_000, waitMs: 20 * 60_000, retryAt: '2026-12-01T12:20:00.000Z' })).toBe(
    'You have sent 3 requests in the last 1h, the most allowed. Nothing was sent: try again in 20m (at 12:20 UTC).',
  );
  expect(say('revoke-failing', { id: 'jit-abc123', target: 'prod-db', failure: 'aws-denied', ref: '7KQ3M9XD' })).toBe(
    'Revoking `jit-abc123` (prod-db) keeps failing: aws-denied, ref 7KQ3M9XD. The bot keeps retrying; check its AWS permissions and the resource (the log and the audit record have the details under that reference).',
  );
});

it('renders errors by their problem; err.message is only the code and parameters, for logs', () => {
  const err = new NotFoundError('no-such-request', { id: 'jit-abc123' });
  expect(err.message).toBe('no-such-request {"id":"jit-abc123"}');
  expect(errorText(err)).toBe('There is no request `jit-abc123`. `/jit list` shows your open requests.');
  expect(new CannotDecideError().message).toBe('cannot-decide');
  expect(errorText(new CannotDecideError())).toBe("You can't approve this request.");
  const plain = new ValidationError('plain', { text: 'the session policy needs "Version": "2012-10-17"' }, 'sessionPolicy');
  expect(plain.message).toBe(errorText(plain));
});

it('a notification says its problem; older stored ones their text', () => {
  expect(notificationText({ problem: problem('being-revoked', { id: 'jit-abc123' }) })).toBe('`jit-abc123` is already being revoked.');
  expect(notificationText({ text: 'stored before codes' })).toBe('stored before codes');
  expect(notificationText({})).toBe('');
});

describe('reason-format', () => {
  it("leads with the operator's message as written (errorReply escapes it), and names the target", () => {
    expect(problemText(problem('reason-format', { target: 'prod-db', message: 'Start with a ticket key such as OPS-123' }))).toBe(
      'Start with a ticket key such as OPS-123. (`prod-db` asks for reasons in this form; nothing was sent.)',
    );
    expect(problemText(problem('reason-format', { target: 'prod-db', message: 'Name the <!channel> & ticket!' }))).toBe(
      'Name the <!channel> & ticket! (`prod-db` asks for reasons in this form; nothing was sent.)',
    );
    const reply = errorReply(problemText(problem('reason-format', { target: 'prod-db', message: 'Name the <!channel> & ticket!' })));
    expect(JSON.stringify(reply)).toContain('Name the &lt;!channel&gt; &amp; ticket!');
    expect(JSON.stringify(reply)).not.toContain('<!channel>');
  });
});
