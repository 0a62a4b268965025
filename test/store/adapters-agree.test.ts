/**
 * The same data in both adapters gives the same answers, cursor for cursor: due order over many
 * ids, pending, history and changed-since pages at several page sizes (so a page cursor from one
 * means the same in the other, e.g. across a migration from the DynamoDB-based embedded store).
 *
 * Sort keys here are distinct: among EQUAL sort keys DynamoDB's indexes keep the order of its key
 * hashes and SQLite orders by id, so only the set is the same there (the contract suite checks that
 * pages over ties neither repeat nor skip a request, in both).
 */
import type { AccessRequest } from '../../src/domain/types';
import type { StoreAdapter } from '../../src/ports';
import { openSqliteStore, type SqliteRequestStore } from '../../src/store/sqlite';
import { useEmbeddedDynamo } from '../support/store';
import { indexFixture } from './contract';

const dynamo = useEmbeddedDynamo();
let sqlite: SqliteRequestStore;
let ddb: StoreAdapter;
const T0 = Date.parse('2026-11-22T10:00:00.000Z');

beforeAll(async () => {
  ddb = await dynamo.newStore('agree');
  sqlite = openSqliteStore(undefined);
  const all = indexFixture(150);
  for (const store of [ddb, sqlite]) {
    for (const r of all) await store.create(r);
    // Some move on: denied (off the due index, into a later change bucket), some re-scheduled.
    for (const [n, r] of all.filter((_, i) => i % 10 === 1).entries()) {
      const at = new Date(Date.parse('2026-11-25T08:00:00.000Z') + n * 1_000).toISOString();
      await store.transition({ id: r.id, expectStatus: r.status, expectVersion: 1, status: 'DENIED', set: { dueAt: undefined }, audit: { at, actor: 'U0B', action: 'deny', from: r.status, to: 'DENIED' } });
    }
    for (const r of all.filter((r, i) => i % 10 === 2 && r.dueAt !== undefined)) {
      await store.transition({ id: r.id, expectStatus: r.status, expectVersion: 1, status: r.status, set: { dueAt: r.dueAt! + 500 } });
    }
  }
}, 60_000);
afterAll(() => sqlite.close());

type Page = { requests: AccessRequest[]; next?: unknown };
const ids = (rs: AccessRequest[]) => rs.map((r) => r.id);

async function pages(read: (after?: never) => Promise<Page>): Promise<unknown[]> {
  const out: unknown[] = [];
  let after: unknown;
  do {
    const page = await read(after as never);
    out.push({ ids: ids(page.requests), next: page.next });
    after = page.next;
  } while (after && out.length < 500);
  return out;
}

it('due and pending: the same requests in the same order', async () => {
  for (const now of [T0 - 1, T0 + 10_000, T0 + 149_000, T0 + 200_000]) {
    for (const limit of [1, 13, 500]) expect(ids(await sqlite.listDue(now, limit))).toEqual(ids(await ddb.listDue(now, limit)));
    expect(ids(await sqlite.listPending(now, 500, 10_000))).toEqual(ids(await ddb.listPending(now, 500, 10_000)));
  }
  expect(await sqlite.backlog(T0 + 100_000, 1_000)).toEqual(await ddb.backlog(T0 + 100_000, 1_000));
});

it('history and changed-since: the same pages with the same cursors', async () => {
  for (const limit of [1, 4, 50]) {
    for (const who of ['U0REQ0', 'U0REQ2']) expect(await pages((after) => sqlite.historyOfRequester(who, '2026-10-25T00:00:00.000Z', limit, after))).toEqual(await pages((after) => ddb.historyOfRequester(who, '2026-10-25T00:00:00.000Z', limit, after)));
    expect(await pages((after) => sqlite.historyOfTarget('target-1', '2026-10-01T00:00:00.000Z', limit, after))).toEqual(await pages((after) => ddb.historyOfTarget('target-1', '2026-10-01T00:00:00.000Z', limit, after)));
    expect(await pages((after) => sqlite.changedSince('2026-10-27T00:00:00.000Z', '2026-11-30T00:00:00.000Z', limit, after))).toEqual(await pages((after) => ddb.changedSince('2026-10-27T00:00:00.000Z', '2026-11-30T00:00:00.000Z', limit, after)));
  }
  expect(ids(await sqlite.listByRequester('U0REQ1', 500))).toEqual(ids(await ddb.listByRequester('U0REQ1', 500)));
});

it('every request reads back the same from both', async () => {
  const all = indexFixture(150).map((r) => r.id);
  const [a, b] = [await sqlite.getMany(all), await ddb.getMany(all)];
  expect(a.size).toBe(150);
  for (const id of all) expect(a.get(id)).toEqual(b.get(id));
});
