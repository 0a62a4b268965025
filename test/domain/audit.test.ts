import { AUDIT_RECORD_FIELDS, auditRecord, auditRecords, csvCell, csvLine, csvRow, decodeAuditPage, encodeAuditPage, jsonLine } from '../../src/domain/audit';
import type { AccessRequest } from '../../src/domain/types';

const request = (over: Partial<AccessRequest> = {}): AccessRequest => ({
  id: 'jit-7k3m9q2xab',
  version: 4,
  status: 'REVOKED',
  kind: 'ec2-ssh',
  targetName: 'prod-bastion',
  requesterId: 'U0REQUESTER',
  reason: 'checkout latency, "p99"',
  durationMs: 1_800_000,
  createdAt: '2026-11-30T10:00:00.000Z',
  approvalDeadline: '2026-11-30T10:30:00.000Z',
  approvals: [{ by: 'U0APPROVER1', at: '2026-11-30T10:01:00.000Z', comment: 'ok' }],
  audit: [
    { at: '2026-11-30T10:00:00.000Z', actor: 'U0REQUESTER', action: 'request', from: null, to: 'PENDING', details: { target: 'prod-bastion', durationMs: '1800000' } },
    { at: '2026-11-30T10:01:00.000Z', actor: 'U0APPROVER1', action: 'approve', from: 'PENDING', to: 'GRANTING', details: { approvals: '1 of 1' } },
    { at: '2026-11-30T10:01:02.000Z', actor: 'system', action: 'grant', from: 'GRANTING', to: 'ACTIVE', details: { region: 'eu-west-1', securityGroupId: 'sg-1', securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32', port: '22' } },
    { at: '2026-11-30T10:31:02.000Z', actor: 'system', action: 'revoke', from: 'REVOKING', to: 'REVOKED', details: { securityGroupRuleId: 'sgr-1', removed: 'true', outcome: 'verified', sessionsEnded: 's-1,s-2' } },
  ],
  outbox: {},
  ...over,
});

describe('the page token of "More"', () => {
  const page = { subject: { by: 'user' as const, userId: 'U0REQUESTER' }, sinceIso: '2026-11-01T00:00:00.000Z', after: { createdAt: '2026-11-20T08:00:00.000Z', id: 'jit-7k3m9q2xab' } };

  it('round-trips a user page, a target page and a first page', () => {
    expect(decodeAuditPage(encodeAuditPage(page))).toEqual(page);
    const target = { subject: { by: 'target' as const, name: 'prod-db.eu_1' }, sinceIso: '2026-11-01T00:00:00.000Z' };
    expect(decodeAuditPage(encodeAuditPage(target))).toEqual(target);
  });

  it.each([
    ['not a string', 42],
    ['too long', `u|U1|${'x'.repeat(300)}`],
    ['wrong kind', 'x|U0REQUESTER|2026-11-01T00:00:00.000Z||'],
    ['a mention with markup', 'u|<!channel>|2026-11-01T00:00:00.000Z||'],
    ['an upper-case target', 't|Prod|2026-11-01T00:00:00.000Z||'],
    ['a bad time', 'u|U0REQUESTER|yesterday||'],
    ['a bad request id', 'u|U0REQUESTER|2026-11-01T00:00:00.000Z|2026-11-20T08:00:00.000Z|jit-NOPE'],
    ['a half cursor', 'u|U0REQUESTER|2026-11-01T00:00:00.000Z|2026-11-20T08:00:00.000Z|'],
    ['extra parts', 'u|U0REQUESTER|2026-11-01T00:00:00.000Z|||'],
  ])('refuses %s', (_name, token) => {
    expect(decodeAuditPage(token)).toBeUndefined();
  });
});

describe('the export record', () => {
  it('flattens the details: AWS ids, verification and SSM sessions get columns, the rest goes to details', () => {
    const [req, approve, grant, revoke] = auditRecords(request());
    expect(req).toMatchObject({ requestId: 'jit-7k3m9q2xab', seq: '1', target: 'prod-bastion', kind: 'ec2-ssh', requester: 'U0REQUESTER', actor: 'U0REQUESTER', from: '', to: 'PENDING', at: '2026-11-30T10:00:00.000Z', reason: 'checkout latency, "p99"' });
    expect(JSON.parse(req!.details)).toEqual({ target: 'prod-bastion', durationMs: '1800000' });
    expect(approve).toMatchObject({ seq: '2', actor: 'U0APPROVER1', from: 'PENDING', to: 'GRANTING', approvers: 'U0APPROVER1' });
    expect(grant).toMatchObject({ region: 'eu-west-1', securityGroupId: 'sg-1', securityGroupRuleId: 'sgr-1', cidr: '203.0.113.7/32', port: '22', details: '' });
    expect(revoke).toMatchObject({ seq: '4', verification: 'verified', ssmSessions: 's-1,s-2', details: '{"removed":"true"}' });
    expect(Object.keys(revoke!)).toEqual([...AUDIT_RECORD_FIELDS]);
  });

  it('keeps only the entries asked for, numbered by their place in the audit', () => {
    const r = request();
    const kept = auditRecords(r, (e) => e.at >= '2026-11-30T10:01:02.000Z');
    expect(kept.map((k) => k.seq)).toEqual(['3', '4']);
    expect(auditRecord(r, r.audit[0]!, 1).at).toBe('2026-11-30T10:00:00.000Z');
  });

  it('JSON Lines: one line, every field', () => {
    const line = jsonLine(auditRecords(request())[0]!);
    expect(line).not.toContain('\n');
    expect(Object.keys(JSON.parse(line))).toEqual([...AUDIT_RECORD_FIELDS]);
  });
});

describe('CSV cells', () => {
  it('quotes commas, quotes and line breaks (RFC 4180), and leaves plain text alone', () => {
    expect(csvCell('plain text')).toBe('plain text');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r\nlf')).toBe('"cr\r\nlf"');
    expect(csvCell('')).toBe('');
  });

  it('puts an apostrophe before anything a spreadsheet would run as a formula', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tTAB')).toBe("'\tTAB");
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('a row is the header order; a record with a hostile reason stays one parseable row', () => {
    expect(csvRow(['a', 'b,c'])).toBe('a,"b,c"');
    const line = csvLine(auditRecords(request({ reason: '=cmd|\' /C calc\'!A0\nnext, "line"' }))[0]!);
    expect(line).toContain(`"'=cmd|' /C calc'!A0\nnext, ""line"""`);
    expect(line.startsWith('jit-7k3m9q2xab,1,prod-bastion,ec2-ssh,U0REQUESTER,U0REQUESTER,request,,PENDING,2026-11-30T10:00:00.000Z,')).toBe(true);
  });
});
