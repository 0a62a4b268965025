/**
 * DynamoDB round trips per lifecycle, pinned: a change that adds (or saves) a store call on one
 * of these paths fails here, so it is seen in review and README's Operate → Cost table is
 * updated (`npm run cost` prints it). Counts of calls only: units depend on item sizes, which
 * change with any new field, so they are printed by `npm run cost`, not pinned (beyond > 0).
 *
 * Vocabulary of the store calls (src/store/dynamo.ts):
 *   get               GetItem, consistent (the service reads the request before a transition; the
 *                     outbox's pass right after this replica's own write starts from what it wrote)
 *   listByRequester   Query byRequester (the rate limit at submission; the extension's "one
 *                     waiting" check)
 *   create            PutItem, conditional (the new request, its first notifications inside)
 *   transition        UpdateItem, conditional on status + version: the lifecycle event, its
 *                     audit record and its notifications in ONE write
 *   claimNotifications UpdateItem, conditional: this replica sends these messages (one per delivery pass)
 *   ackNotifications  UpdateItem REMOVE outbox.<ids> and, when that empties the outbox, the index
 *                     attributes in the same write (one per delivery pass); the pass that posted
 *                     the approval message stores its Slack ref in it too
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

it('request: 1 read, 3 writes', () => {
  expect(find('request').messages).toEqual(['approval.post', 'home.refresh']);
  expect(ops('request')).toEqual({
    listByRequester: 1, // the requester's rate limit
    create: 1, // PENDING, with its two notifications
    claimNotifications: 1, // the delivery pass, all its messages (it starts from the request as written: no read)
    ackNotifications: 1, // the messages sent, the approval message's ts (for later updates) and leaving the outbox index, in one write
  });
  expect(find('request').tally).toMatchObject({ reads: 1, writes: 3 });
});

it('approve + grant: 1 read, 5 writes', () => {
  expect(messages('approve + grant')).toBe(6); // approval.update ×2, home.refresh ×3, dm.granted
  expect(ops('approve + grant')).toEqual({
    get: 1, // approve reads the request
    transition: 2, // approve (APPROVED → GRANTING, claimed) and grant (ACTIVE)
    join: 1, // the rule's holder registry
    claimNotifications: 1, // one pass for the six messages
    ackNotifications: 1,
  });
  expect(find('approve + grant').tally).toMatchObject({ reads: 1, writes: 5 });
});

it('expiry warning: 1 read, 3 writes', () => {
  expect(find('expiry warning').messages).toEqual(['dm.warning']);
  expect(ops('expiry warning')).toEqual({
    get: 1, // processDue's read
    transition: 1, // warn
    claimNotifications: 1,
    ackNotifications: 1,
  });
  expect(find('expiry warning').tally).toMatchObject({ reads: 1, writes: 3 });
});

it('revoke at expiry: 1 read, 6 writes', () => {
  expect(messages('revoke at expiry')).toBe(4); // approval.update, dm.ended, thread.revoked, home.refresh
  expect(ops('revoke at expiry')).toEqual({
    get: 1, // processDue's read
    transition: 2, // expire (ACTIVE → REVOKING) and revoked (REVOKED)
    leaveLast: 1, // the only holder leaves and the rule is being revoked, in one write
    forget: 1, // the rule is gone: its registry item deleted
    claimNotifications: 1,
    ackNotifications: 1,
  });
  expect(find('revoke at expiry').tally).toMatchObject({ reads: 1, writes: 6 });
});

it('the whole lifecycle is the sum of its steps: 4 reads, 17 writes', () => {
  expect(find('lifecycle').tally).toMatchObject({ reads: 4, writes: 17 });
  expect(find('lifecycle').tally.reads).toBe(report.steps.reduce((s, p) => s + p.tally.reads, 0));
  expect(find('lifecycle').tally.wru).toBeGreaterThan(18); // items over 1 KB and index writes cost more than a unit per write
});

it('deny, withdraw, approval timeout: one transition each after the request', () => {
  const after = { listByRequester: 1, create: 1, get: 1, transition: 1, claimNotifications: 2, ackNotifications: 2 };
  expect(ops('deny')).toEqual(after);
  expect(ops('withdraw')).toEqual(after);
  expect(ops('approval timeout')).toEqual(after);
  for (const p of ['deny', 'withdraw', 'approval timeout']) {
    expect(messages(p)).toBeGreaterThan(2); // several messages…
    expect(find(p).tally.calls.filter((c) => c.op === 'claimNotifications').length).toBe(2); // …one claim per delivery pass
  }
});

it('extension: the new request and its approval, which moves the grant', () => {
  expect(ops('extension')).toEqual({
    get: 5, // the grant and the extension read by extend and approve
    listByRequester: 2, // the rate limit and "no extension already waiting"
    create: 1,
    transition: 3, // the extension APPROVED, the grant's expiry moved, the extension EXTENDED
    claimNotifications: 3, // a pass per request changed per step
    ackNotifications: 3,
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
