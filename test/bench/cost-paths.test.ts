/**
 * DynamoDB round trips per lifecycle, pinned: a change that adds (or saves) a store call on one
 * of these paths fails here, so it is seen in review and README's Operate → Cost table is
 * updated (`npm run cost` prints it). Counts of calls only: units depend on item sizes, which
 * change with any new field, so they are printed by `npm run cost`, not pinned (beyond > 0).
 *
 * Vocabulary of the store calls (src/store/dynamo.ts):
 *   get               GetItem, consistent (the service reads the request before a transition; the
 *                     outbox reads it once per delivery pass)
 *   listByRequester   Query byRequester (the rate limit at submission; the extension's "one
 *                     waiting" check)
 *   create            PutItem, conditional (the new request, its first notifications inside)
 *   transition        UpdateItem, conditional on status + version: the lifecycle event, its
 *                     audit record and its notifications in ONE write
 *   setApprovalMessage UpdateItem: the approval message's Slack ref, once per request
 *   claimNotification UpdateItem, conditional: this replica sends this message (one per message)
 *   ackNotification   UpdateItem REMOVE outbox.<id> (one per message) + one more UpdateItem per
 *                     delivery pass that emptied the outbox: the request leaves the outbox index
 *   join / leave / beginRevoke / forget   the RULE# holder registry of an ec2-ssh rule
 *   appendAudit       UpdateItem: an audit record with no state change (credentials issued)
 */
import { DUE_SHARDS } from '../../src/store/schema';
import { type CostReport, measureCost, type PathCost } from '../../bench/cost-paths';

let report: CostReport;
beforeAll(async () => {
  report = await measureCost();
}, 60_000);

const find = (name: string): PathCost => [...report.steps, ...report.paths].find((p) => p.path === name)!;
/** Store calls of a path, by store method. */
function ops(name: string): Record<string, number> {
  const by: Record<string, number> = {};
  for (const c of find(name).tally.calls) by[c.op] = (by[c.op] ?? 0) + 1;
  return by;
}
const messages = (name: string) => find(name).messages.length;

it('request: 2 reads, 7 writes', () => {
  expect(find('request').messages).toEqual(['approval.post', 'home.refresh']);
  expect(ops('request')).toEqual({
    listByRequester: 1, // the requester's rate limit
    create: 1, // PENDING, with its two notifications
    get: 1, // the outbox's delivery pass
    claimNotification: 2, // one per message
    setApprovalMessage: 1, // the approval message's ts, for later updates
    ackNotification: 3, // one per message + leaving the outbox index
  });
  expect(find('request').tally).toMatchObject({ reads: 2, writes: 7 });
});

it('approve + grant: 2 reads, 16 writes', () => {
  expect(messages('approve + grant')).toBe(6); // approval.update ×2, home.refresh ×3, dm.granted
  expect(ops('approve + grant')).toEqual({
    get: 2, // approve reads the request; the outbox's pass
    transition: 2, // approve (APPROVED → GRANTING, claimed) and grant (ACTIVE)
    join: 1, // the rule's holder registry
    claimNotification: 6,
    ackNotification: 7, // 6 messages + leaving the outbox index once
  });
  expect(find('approve + grant').tally).toMatchObject({ reads: 2, writes: 16 });
});

it('expiry warning: 2 reads, 4 writes', () => {
  expect(find('expiry warning').messages).toEqual(['dm.warning']);
  expect(ops('expiry warning')).toEqual({
    get: 2, // processDue's read, the outbox's pass
    transition: 1, // warn
    claimNotification: 1,
    ackNotification: 2, // the message + leaving the outbox index
  });
  expect(find('expiry warning').tally).toMatchObject({ reads: 2, writes: 4 });
});

it('revoke at expiry: 2 reads, 13 writes', () => {
  expect(messages('revoke at expiry')).toBe(4); // approval.update, dm.ended, thread.revoked, home.refresh
  expect(ops('revoke at expiry')).toEqual({
    get: 2, // processDue's read, the outbox's pass
    transition: 2, // expire (ACTIVE → REVOKING) and revoked (REVOKED)
    leaveLast: 1, // the only holder leaves and the rule is being revoked: one write
    forget: 1, // the rule is gone: its registry item deleted
    claimNotification: 4,
    ackNotification: 5,
  });
  expect(find('revoke at expiry').tally).toMatchObject({ reads: 2, writes: 13 });
});

it('the whole lifecycle is the sum of its steps: 8 reads, 40 writes', () => {
  expect(find('lifecycle').tally).toMatchObject({ reads: 8, writes: 40 });
  expect(find('lifecycle').tally.reads).toBe(report.steps.reduce((s, p) => s + p.tally.reads, 0));
  expect(find('lifecycle').tally.wru).toBeGreaterThan(40); // items over 1 KB and index writes cost more than a unit per write
});

it('deny, withdraw, approval timeout: one transition each after the request', () => {
  expect(ops('deny')).toEqual({ listByRequester: 1, create: 1, get: 3, transition: 1, setApprovalMessage: 1, claimNotification: 6, ackNotification: 8 });
  expect(ops('withdraw')).toEqual({ listByRequester: 1, create: 1, get: 3, transition: 1, setApprovalMessage: 1, claimNotification: 4, ackNotification: 6 });
  expect(ops('approval timeout')).toEqual({ listByRequester: 1, create: 1, get: 3, transition: 1, setApprovalMessage: 1, claimNotification: 5, ackNotification: 7 });
  for (const p of ['deny', 'withdraw', 'approval timeout']) {
    expect(find(p).tally.calls.filter((c) => c.op === 'claimNotification').length).toBe(messages(p)); // a claim per message
  }
});

it('extension: the new request and its approval, which moves the grant', () => {
  expect(ops('extension')).toEqual({
    get: 8, // the grant and the extension read by extend and approve, and the outbox's passes over both requests
    listByRequester: 2, // the rate limit and "no extension already waiting"
    create: 1,
    transition: 3, // the extension APPROVED, the grant's expiry moved, the extension EXTENDED
    setApprovalMessage: 1,
    claimNotification: 11,
    ackNotification: 14,
  });
});

it('showing aws-role credentials: one read and one audit write', () => {
  expect(ops('credentials (aws-role)')).toEqual({ get: 1, appendAudit: 1 });
});

it('idle: the sweeps read no item; each poll is one Query per due shard (or one for the outbox) at the minimum half unit', () => {
  for (const i of report.idle) {
    expect(i.tally.writes).toBe(0);
    expect(i.tally.calls.reduce((s, c) => s + c.items, 0)).toBe(0);
  }
  const byName = Object.fromEntries(report.idle.map((i) => [i.path, i.tally]));
  expect(byName.sweep).toMatchObject({ reads: DUE_SHARDS, rru: DUE_SHARDS * 0.5 }); // the due index is sharded: one Query per shard
  expect(byName['outbox poll']).toMatchObject({ reads: 1, rru: 0.5 });
  expect(byName['drift sweep']).toMatchObject({ reads: 0 }); // no bot rule: nothing to look up
});

it('no write on these paths loses its condition (each one wins the first time)', () => {
  expect([...report.steps, ...report.paths].flatMap((p) => p.tally.calls).filter((c) => c.conditionFailed)).toEqual([]);
});
