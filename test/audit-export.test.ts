/**
 * The audit export on the embedded store with thousands of requests written through the store
 * (not through Slack): which requests are in the window (including grants created before it and
 * ended inside it), one record per transition, and memory bounded by the page size.
 */
import { exportAudit } from '../src/audit-export';
import { AUDIT_RECORD_FIELDS } from '../src/domain/audit';
import type { AccessRequest, AuditEntry } from '../src/domain/types';
import type { DynamoRequestStore } from '../src/store/dynamo';
import { useEmbeddedDynamo } from './support/store';

jest.setTimeout(180_000);

const db = useEmbeddedDynamo();
const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const SINCE = new Date(NOW - 30 * DAY).toISOString();
const UNTIL = new Date(NOW).toISOString();

const iso = (ms: number) => new Date(ms).toISOString();
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
/** A valid request id: "jit-" + the group letter + i in Crockford base32 (9 characters). */
const id = (group: string, i: number) => `jit-${group}${[...i.toString(32).padStart(9, '0')].map((c) => CROCKFORD[Number.parseInt(c, 32)]).join('')}`;

function granted(reqId: string, startMs: number): AccessRequest {
  const audit: AuditEntry[] = [
    { at: iso(startMs), actor: 'U0REQUESTER', action: 'request', from: null, to: 'PENDING', details: { target: 'prod-bastion', durationMs: '1800000' } },
    { at: iso(startMs + MIN), actor: 'U0APPROVER1', action: 'approve', from: 'PENDING', to: 'GRANTING', details: { approvals: '1 of 1' } },
    { at: iso(startMs + 2 * MIN), actor: 'system', action: 'grant', from: 'GRANTING', to: 'ACTIVE', details: { region: 'eu-west-1', securityGroupId: 'sg-1', securityGroupRuleId: `sgr-${reqId.slice(4)}`, cidr: '203.0.113.7/32', port: '22' } },
  ];
  return {
    id: reqId,
    version: 3,
    status: 'ACTIVE',
    kind: 'ec2-ssh',
    targetName: 'prod-bastion',
    requesterId: 'U0REQUESTER',
    reason: 'checkout latency, "p99"',
    durationMs: 30 * MIN,
    createdAt: iso(startMs),
    approvalDeadline: iso(startMs + 30 * MIN),
    approvals: [{ by: 'U0APPROVER1', at: iso(startMs + MIN) }],
    audit,
    outbox: {},
  };
}

async function revoke(store: DynamoRequestStore, r: AccessRequest, atMs: number): Promise<void> {
  await store.transition({
    id: r.id,
    expectStatus: 'ACTIVE',
    expectVersion: r.version,
    status: 'REVOKED',
    set: { endedAt: iso(atMs), endReason: 'expired', revokeOutcome: 'verified' },
    audit: { at: iso(atMs), actor: 'system', action: 'revoke', from: 'REVOKING', to: 'REVOKED', details: { securityGroupRuleId: `sgr-${r.id.slice(4)}`, removed: 'true', outcome: 'verified' } },
  });
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const IN_WINDOW = 2_400; // created and ended inside the window: 4 records each
const LONG_GRANTS = 300; // created 45 days ago (another month), revoked yesterday: only the revoke is in the window
const OLD = 300; // created and ended 60 days ago: nothing in the window

let store: DynamoRequestStore;

beforeAll(async () => {
  store = await db.newStore('audit-export');
  const inWindow = Array.from({ length: IN_WINDOW }, (_, i) => granted(id('a', i), Date.parse(SINCE) + MIN + i * 17 * MIN)); // spread over ~28 days, two month buckets
  const long = Array.from({ length: LONG_GRANTS }, (_, i) => granted(id('b', i), NOW - 45 * DAY + i * MIN));
  const old = Array.from({ length: OLD }, (_, i) => granted(id('c', i), NOW - 60 * DAY + i * MIN));
  await pool([...inWindow, ...long, ...old], 16, async (r) => store.create(r));
  await pool(inWindow, 16, (r) => revoke(store, r, Date.parse(r.createdAt) + 32 * MIN));
  await pool(long, 16, (r) => revoke(store, r, NOW - DAY + long.indexOf(r) * 1_000));
  await pool(old, 16, (r) => revoke(store, r, Date.parse(r.createdAt) + 32 * MIN));
});

function collector() {
  const lines: string[] = [];
  const pages: number[] = [];
  const progress: string[] = [];
  let chunks = '';
  return {
    lines,
    pages,
    progress,
    sink: {
      write: async (chunk: string) => {
        chunks += chunk;
        const parts = chunks.split('\n');
        chunks = parts.pop()!;
        lines.push(...parts);
      },
      progress: (line: string) => progress.push(line),
      onPage: (n: number) => pages.push(n),
    },
  };
}

it('exports one JSON line per transition in the window: in-window grants whole, long grants only their revoke, old ones not at all', async () => {
  const c = collector();
  const summary = await exportAudit(store, { sinceIso: SINCE, untilIso: UNTIL, format: 'jsonl', pageSize: 100, progressEvery: 1_000 }, c.sink);
  expect(summary).toMatchObject({ requests: IN_WINDOW + LONG_GRANTS, records: IN_WINDOW * 4 + LONG_GRANTS });
  expect(c.lines).toHaveLength(IN_WINDOW * 4 + LONG_GRANTS);
  const records = c.lines.map((l) => JSON.parse(l) as Record<string, string>);
  expect(Object.keys(records[0]!)).toEqual([...AUDIT_RECORD_FIELDS]);
  const byGroup = (g: string) => records.filter((r) => r.requestId!.startsWith(`jit-${g}`));
  expect(new Set(byGroup('a').map((r) => r.requestId)).size).toBe(IN_WINDOW);
  expect(byGroup('b')).toHaveLength(LONG_GRANTS);
  expect(byGroup('b').every((r) => r.action === 'revoke' && r.seq === '4' && r.verification === 'verified' && r.from === 'REVOKING')).toBe(true);
  expect(byGroup('c')).toHaveLength(0);
  expect(records.every((r) => r.at! >= SINCE && r.at! <= UNTIL)).toBe(true);
  // A request's records stay together and in order.
  const first = byGroup('a').filter((r) => r.requestId === id('a', 7));
  expect(first.map((r) => [r.seq, r.action, r.actor])).toEqual([
    ['1', 'request', 'U0REQUESTER'],
    ['2', 'approve', 'U0APPROVER1'],
    ['3', 'grant', 'system'],
    ['4', 'revoke', 'system'],
  ]);
  expect(first[2]).toMatchObject({ securityGroupRuleId: `sgr-${id('a', 7).slice(4)}`, region: 'eu-west-1', cidr: '203.0.113.7/32' });
  // Bounded memory: never more than a page of requests at once, read in many pages.
  expect(Math.max(...c.pages)).toBeLessThanOrEqual(100);
  expect(c.pages.length).toBeGreaterThanOrEqual(Math.ceil((IN_WINDOW + LONG_GRANTS) / 100));
  expect(c.progress).toHaveLength(2);
  expect(c.progress[0]).toMatch(/^audit:export: \d+ requests, \d+ records so far/);
});

it('CSV: a header, then one row per transition, CRLF line ends', async () => {
  const c = collector();
  const summary = await exportAudit(store, { sinceIso: iso(NOW - 1.5 * DAY), untilIso: UNTIL, format: 'csv', pageSize: 37 }, c.sink);
  expect(summary.records).toBe(LONG_GRANTS);
  expect(c.lines[0]).toBe(`${AUDIT_RECORD_FIELDS.join(',')}\r`);
  expect(c.lines).toHaveLength(LONG_GRANTS + 1);
  expect(c.lines[1]).toContain(',"checkout latency, ""p99""",');
  expect(Math.max(...c.pages)).toBeLessThanOrEqual(37);
});

it('a window that ends early leaves later transitions out; an empty window exports nothing', async () => {
  const c = collector();
  const summary = await exportAudit(store, { sinceIso: iso(NOW - 45 * DAY - MIN), untilIso: iso(NOW - 40 * DAY), nowIso: UNTIL, format: 'jsonl' }, c.sink);
  // Their request, approve and grant; the revoke came later (a later month's bucket, still read).
  expect(summary.records).toBe(LONG_GRANTS * 3);
  expect(summary.requests).toBe(LONG_GRANTS);
  const none = collector();
  expect(await exportAudit(store, { sinceIso: iso(NOW + DAY), untilIso: iso(NOW + 2 * DAY), format: 'jsonl' }, none.sink)).toMatchObject({ requests: 0, records: 0 });
});
