/**
 * The sharded due index (issue 13 item 4): dueShard is written with dueAt (create and every
 * transition), spread over DUE_SHARDS partitions; listDue and listPending read every shard and
 * merge by dueAt; an idle sweep reads no item however many requests are live.
 */
import { BatchWriteItemCommand, GetItemCommand, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoRequestStore } from '../../src/store/dynamo';
import { DUE_SHARD_KEYS, DUE_SHARDS, dueShardOf } from '../../src/store/schema';
import { pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';
import { indexFixture } from './contract';

const db = useEmbeddedDynamo();
let tables = 0;
let store: DynamoRequestStore;
let table: string;
beforeEach(async () => {
  table = `shards-${++tables}`;
  store = await db.newStore(table);
});

const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const rawShard = async (id: string) => (await db.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `REQ#${id}` } }, ConsistentRead: true }))).Item?.dueShard?.S;
const docOf = (s: DynamoRequestStore) => (s as unknown as { doc: DynamoDBDocumentClient }).doc;

it('the shard of an id is fixed, one of DUE_SHARDS, and ids spread over all of them', () => {
  expect(DUE_SHARD_KEYS).toHaveLength(DUE_SHARDS);
  const counts = new Map<string, number>();
  for (let n = 0; n < 8_000; n++) {
    const shard = dueShardOf(`jit-${String(n).padStart(10, '0')}`);
    counts.set(shard, (counts.get(shard) ?? 0) + 1);
  }
  expect([...counts.keys()].sort()).toEqual([...DUE_SHARD_KEYS].sort());
  for (const c of counts.values()) expect(c).toBeGreaterThan(600); // ≈ 1,000 each
  expect(dueShardOf('jit-0000000001')).toBe(dueShardOf('jit-0000000001'));
});

it('create and transitions write dueShard with dueAt, and remove it with dueAt', async () => {
  const r = pendingRequest({ dueAt: T0 + 1_000 });
  await store.create(r);
  expect(await rawShard(r.id)).toBe(dueShardOf(r.id));
  const moved = await store.transition({ id: r.id, expectStatus: 'PENDING', expectVersion: 1, status: 'PENDING', set: { dueAt: T0 + 2_000 } });
  expect(moved.dueAt).toBe(T0 + 2_000);
  expect(moved).not.toHaveProperty('dueShard');
  expect(await rawShard(r.id)).toBe(dueShardOf(r.id));
  await store.transition({ id: r.id, expectStatus: 'PENDING', expectVersion: 2, status: 'DENIED', set: { dueAt: undefined } });
  expect(await rawShard(r.id)).toBeUndefined();
  expect(await store.listDue(T0 + 10_000, 10)).toEqual([]);
});

it('the contract suite\'s ordering fixture spreads over the shards, so its listDue/listPending checks exercise the merge', () => {
  // The order itself is checked for every adapter in test/store/contract.ts (dynamo-contract.test.ts).
  expect(new Set(indexFixture(60).map((r) => dueShardOf(r.id))).size).toBeGreaterThan(4);
});

it('an idle sweep reads no item: 10,000 live requests, none due', async () => {
  // Live grants: due at their warning time, later than now.
  const items = Array.from({ length: 10_000 }, (_, n) => {
    const r = pendingRequest({ id: `jit-${String(n).padStart(10, '0')}`, status: 'ACTIVE', dueAt: T0 + 60_000 + n });
    return { ...r, pk: `REQ#${r.id}`, dueShard: dueShardOf(r.id) };
  });
  for (let i = 0; i < items.length; i += 25) {
    await db.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item, { removeUndefinedValues: true }) } })) } }));
  }
  const doc = docOf(store);
  const send = jest.spyOn(doc, 'send');
  try {
    expect(await store.listDue(T0, 200)).toEqual([]);
    const queries = send.mock.calls.filter(([c]) => c instanceof QueryCommand);
    expect(queries).toHaveLength(DUE_SHARDS); // every shard asked, in parallel
    const outputs = (await Promise.all(send.mock.results.map((r) => r.value))) as QueryCommandOutput[];
    const itemsRead = outputs.reduce((n, out) => n + (out.ScannedCount ?? 0), 0);
    expect(itemsRead).toBeLessThanOrEqual(100);
    expect(itemsRead).toBe(0);
    // Once due, they are found.
    expect(await store.listDue(T0 + 60_000 + 9, 200)).toHaveLength(10);
  } finally {
    send.mockRestore();
  }
}, 180_000);
