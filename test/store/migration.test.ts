/**
 * The embedded store's upgrade: a table from before the audit indexes (byTarget, byChange) is
 * copied into one with every index, request items get their byChange keys from their audit, and
 * a migration cut short is finished at the next start. Requests in the due index's one partition
 * from before it was sharded (dueShard "due") move to their shard.
 */
import { CreateTableCommand, DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { AccessRequest } from '../../src/domain/types';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRequestStore, ensureTable, tableDefinition } from '../../src/store/dynamo';
import { dueShardOf, INDEX, LEGACY_DUE_SHARD } from '../../src/store/schema';
import { useEmbeddedDynamo } from '../support/store';

const db = useEmbeddedDynamo();

/** The table as versions before the audit indexes (and the held index) made it. */
function oldDefinition(table: string) {
  const def = tableDefinition(table);
  return {
    ...def,
    AttributeDefinitions: def.AttributeDefinitions!.filter((a) => !['targetName', 'changeMonth', 'changedAt', 'heldShard'].includes(a.AttributeName!)),
    GlobalSecondaryIndexes: def.GlobalSecondaryIndexes!.filter((g) => g.IndexName !== INDEX.byTarget && g.IndexName !== INDEX.byChange && g.IndexName !== INDEX.held),
  };
}

const oldRequest = (id: string, at: string) => ({
  pk: { S: `REQ#${id}` },
  id: { S: id },
  version: { N: '3' },
  status: { S: 'REVOKED' },
  kind: { S: 'ec2-ssh' },
  targetName: { S: 'prod-bastion' },
  requesterId: { S: 'U0REQUESTER' },
  reason: { S: 'old work' },
  durationMs: { N: '1800000' },
  createdAt: { S: '2026-10-01T10:00:00.000Z' },
  approvalDeadline: { S: '2026-10-01T10:30:00.000Z' },
  audit: { L: [{ M: { at: { S: '2026-10-01T10:00:00.000Z' }, actor: { S: 'U0REQUESTER' }, action: { S: 'request' }, from: { NULL: true }, to: { S: 'PENDING' } } }, { M: { at: { S: at }, actor: { S: 'system' }, action: { S: 'revoked' }, from: { S: 'REVOKING' }, to: { S: 'REVOKED' } } }] },
  outbox: { M: {} },
});

const indexes = async (table: string) => ((await db.client.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName).sort();

it('a table without the audit and held indexes is rebuilt with them; requests, their byChange keys, held rules with their heldShard and bookkeeping items survive', async () => {
  const table = 'old-version';
  await db.client.send(new CreateTableCommand(oldDefinition(table)));
  await db.client.send(new PutItemCommand({ TableName: table, Item: oldRequest('jit-0000000001', '2026-11-20T08:00:00.000Z') }));
  await db.client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'RULE#eu-west-1#sgr-1' }, holders: { SS: ['jit-0000000002'] } } }));
  expect(await indexes(table)).toEqual(['byRequester', 'due', 'outbox']);

  expect(await ensureTable(db.client, table)).toBe('exists');
  expect(await indexes(table)).toEqual(['byChange', 'byRequester', 'byTarget', 'due', 'held', 'outbox']);
  const store = new DynamoRequestStore(db.client, table);
  const request = (await store.get('jit-0000000001')) as AccessRequest;
  expect(request).toMatchObject({ status: 'REVOKED', reason: 'old work', version: 3 });
  expect(request).not.toHaveProperty('changedAt');
  expect((await store.changedSince('2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', 10)).requests.map((r) => r.id)).toEqual(['jit-0000000001']);
  expect((await store.changedSince('2026-11-21T00:00:00.000Z', '2026-12-01T00:00:00.000Z', 10)).requests).toEqual([]);
  expect((await store.historyOfTarget('prod-bastion', '2026-09-01T00:00:00.000Z', 10)).requests.map((r) => r.id)).toEqual(['jit-0000000001']);
  expect(await store.holders('eu-west-1#sgr-1')).toEqual(['jit-0000000002']);
  expect(await store.heldRules()).toEqual(new Set(['eu-west-1#sgr-1']));
  // Once migrated, the next start changes nothing.
  expect(await ensureTable(db.client, table)).toBe('exists');
  expect(await store.holders('eu-west-1#sgr-1')).toEqual(['jit-0000000002']);
});

it('a migration cut short after the old table was dropped is finished from the copy', async () => {
  const table = 'cut-short';
  await db.client.send(new CreateTableCommand(tableDefinition(`${table}.migrating`)));
  await db.client.send(new PutItemCommand({ TableName: `${table}.migrating`, Item: { ...oldRequest('jit-0000000003', '2026-11-20T08:00:00.000Z'), changeMonth: { S: '2026-11' }, changedAt: { S: '2026-11-20T08:00:00.000Z' } } }));
  expect(await ensureTable(db.client, table)).toBe('exists');
  expect(await indexes(table)).toEqual(['byChange', 'byRequester', 'byTarget', 'due', 'held', 'outbox']);
  const store = new DynamoRequestStore(db.client, table);
  expect((await store.changedSince('2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z', 10)).requests.map((r) => r.id)).toEqual(['jit-0000000003']);
  await expect(db.client.send(new DescribeTableCommand({ TableName: `${table}.migrating` }))).rejects.toThrow();
});

/** A live grant as versions before the sharded due index wrote it. */
const legacyDue = (id: string, dueAt: number) => ({ ...oldRequest(id, '2026-11-20T08:00:00.000Z'), status: { S: 'ACTIVE' }, dueAt: { N: String(dueAt) }, dueShard: { S: LEGACY_DUE_SHARD } });
const shardOf = async (table: string, id: string) => (await db.client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: `REQ#${id}` } }, ConsistentRead: true }))).Item?.dueShard?.S;

it('requests in the unsharded due partition move to their shard at start-up, from a current table or an older one', async () => {
  const due = Date.parse('2026-11-22T10:00:00.000Z');
  for (const [table, definition] of [['unsharded', tableDefinition('unsharded')], ['older-unsharded', oldDefinition('older-unsharded')]] as const) {
    await db.client.send(new CreateTableCommand(definition));
    const ids = ['jit-0000000011', 'jit-0000000012', 'jit-000000001a', 'jit-000000001b'];
    for (const [i, id] of ids.entries()) await db.client.send(new PutItemCommand({ TableName: table, Item: legacyDue(id, due + i) }));
    const store = new DynamoRequestStore(db.client, table);
    expect(await store.listDue(due + 10, 10)).toEqual([]); // not in any shard yet

    expect(await ensureTable(db.client, table)).toBe('exists');
    for (const id of ids) expect(await shardOf(table, id)).toBe(dueShardOf(id));
    expect((await store.listDue(due + 10, 10)).map((r) => r.id)).toEqual(ids);
    expect(await store.reshardDue()).toBe(0); // nothing left to move: the next start reads an empty partition
  }
});

it('resharding never overwrites what a transition wrote between its read and its move', async () => {
  const table = 'reshard-race';
  await db.client.send(new CreateTableCommand(tableDefinition(table)));
  await db.client.send(new PutItemCommand({ TableName: table, Item: legacyDue('jit-0000000021', 1) }));
  const store = new DynamoRequestStore(db.client, table);
  const doc = (store as unknown as { doc: { send: (c: unknown) => Promise<unknown> } }).doc;
  const original = doc.send.bind(doc);
  let raced = false;
  const send = jest.spyOn(doc, 'send').mockImplementation(async (command) => {
    const out = await original(command);
    if (!raced && command instanceof QueryCommand) {
      raced = true; // the item was read in the old partition; now a transition ends its due work
      await store.transition({ id: 'jit-0000000021', expectStatus: 'ACTIVE', expectVersion: 3, status: 'ACTIVE', set: { dueAt: undefined } });
    }
    return out;
  });
  try {
    expect(await store.reshardDue()).toBe(0);
  } finally {
    send.mockRestore();
  }
  expect(raced).toBe(true);
  expect(await shardOf(table, 'jit-0000000021')).toBeUndefined();
});
