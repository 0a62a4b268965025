/**
 * The permission set's inline policy as the bot rewrites it to end earlier sessions (pure): the
 * administrator's statements kept, one statement per ended grant, its own stale ones dropped, a
 * document it cannot read left alone, and the read-back check.
 */
import { endedSessionsStatement, holdsEndedSessions, withEndedSessions, type EndedSessions } from '../../src/aws/sso-session-deny';
import { inlinePolicySize } from '../../src/domain/session-policy';
import { GrantError } from '../../src/domain/errors';

const e = (requestId: string, issuedBefore: string, accountIds = ['210987654321']): EndedSessions => ({ requestId, userId: '9067-alice', accountIds, issuedBefore });
const statements = (doc: string) => (JSON.parse(doc) as { Statement: Array<Record<string, unknown>> }).Statement;
const T = Date.parse('2026-12-02T10:00:00.000Z');

it('adds a Deny of everything for that user, those accounts and sessions issued before the end', () => {
  const doc = withEndedSessions(undefined, e('jit-abc0000001', '2026-12-02T10:00:00.000Z'), T - 3_600_000);
  expect(JSON.parse(doc)).toEqual({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'JitEndedSessionsjitabc0000001',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { StringEquals: { 'identitystore:userId': '9067-alice', 'aws:PrincipalAccount': ['210987654321'] }, DateLessThan: { 'aws:TokenIssueTime': '2026-12-02T10:00:00.000Z' } },
      },
    ],
  });
  expect(doc).not.toMatch(/\s/);
});

it("keeps the administrator's statements (a single one, not in a list, too) and its Version", () => {
  const admin = { Sid: 'ReadOnly', Effect: 'Allow', Action: 's3:Get*', Resource: '*' };
  const doc = withEndedSessions(JSON.stringify({ Version: '2008-10-17', Statement: admin }), e('jit-abc0000001', '2026-12-02T10:00:00.000Z'), T);
  expect(JSON.parse(doc).Version).toBe('2008-10-17');
  expect(statements(doc)[0]).toEqual(admin);
  expect(statements(doc)).toHaveLength(2);
});

it('one statement per request: a retried end replaces its own; another request adds its own', () => {
  let doc = withEndedSessions(undefined, e('jit-abc0000001', '2026-12-02T10:00:00.000Z'), T - 1);
  doc = withEndedSessions(doc, e('jit-abc0000001', '2026-12-02T10:00:05.000Z'), T - 1);
  doc = withEndedSessions(doc, e('jit-abc0000002', '2026-12-02T10:00:06.000Z'), T - 1);
  expect(statements(doc).map((s) => s.Sid)).toEqual(['JitEndedSessionsjitabc0000001', 'JitEndedSessionsjitabc0000002']);
  expect(JSON.stringify(statements(doc)[0])).toContain('10:00:05');
});

it('drops its own statements about sessions issued before the stale bound, and only its own', () => {
  const admin = { Sid: 'JitLooking', Effect: 'Deny', Action: 'iam:*', Resource: '*' };
  let doc = JSON.stringify({ Version: '2012-10-17', Statement: [admin, endedSessionsStatement(e('jit-old0000001', '2026-12-02T07:59:00.000Z'))] });
  doc = withEndedSessions(doc, e('jit-new0000001', '2026-12-02T10:00:00.000Z'), Date.parse('2026-12-02T08:00:00.000Z'));
  expect(statements(doc).map((s) => s.Sid)).toEqual(['JitLooking', 'JitEndedSessionsjitnew0000001']);
});

it('does not rewrite a document it cannot read (retried, not overwritten)', () => {
  for (const bad of ['{"Statement": [', '[1, 2]', 'null']) {
    let thrown: unknown;
    try {
      withEndedSessions(bad, e('jit-abc0000001', '2026-12-02T10:00:00.000Z'), T);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GrantError);
    expect(thrown).toMatchObject({ retryable: true });
  }
});

it('the read-back check: exactly that statement, with that time and those accounts', () => {
  const entry = e('jit-abc0000001', '2026-12-02T10:00:00.000Z');
  const doc = withEndedSessions(undefined, entry, T);
  expect(holdsEndedSessions(doc, entry)).toBe(true);
  expect(holdsEndedSessions(doc, { ...entry, issuedBefore: '2026-12-02T10:00:01.000Z' })).toBe(false);
  expect(holdsEndedSessions(doc, { ...entry, accountIds: ['210987654321', '310987654321'] })).toBe(false);
  expect(holdsEndedSessions(undefined, entry)).toBe(false);
  expect(holdsEndedSessions('not json', entry)).toBe(false);
});

it('counts what IAM counts against a role: characters other than whitespace', () => {
  expect(inlinePolicySize('{ "a" :\n "b c" }')).toBe(10);
});
