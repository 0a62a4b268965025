import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { decide, type LifecycleContext } from '../../src/lifecycle';
import { DynamoRequestStore, ensureTable } from '../../src/store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';
import { pendingRequest } from '../support/requests';

// Everything any store adapter must do is in the contract suite (test/store/contract.ts, run by
// dynamo-contract.test.ts); here only what is DynamoDB's own: the TTL attribute's type, the table.

let db: EmbeddedDynamo;
let client: DynamoDBClient;
let store: DynamoRequestStore;
let ids = 0;
const ctx = (now = '2026-11-22T10:05:00.000Z'): LifecycleContext => ({ now: new Date(now), leaseMs: 60_000, expiryWarningMs: 300_000, owner: 'replica-a', newId: () => `n${++ids}` });

beforeAll(async () => {
  db = await startEmbeddedDynamo(undefined);
  client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  expect(await ensureTable(client, 'jit-test')).toBe('created');
  expect(await ensureTable(client, 'jit-test')).toBe('exists');
  store = new DynamoRequestStore(client, 'jit-test');
});
afterAll(async () => {
  client.destroy();
  await db.close();
});

it('stores purgeAt (the TTL attribute, a Number of epoch seconds) in the write that resolves a request, and not before', async () => {
  const r = pendingRequest();
  await store.create(r);
  const raw = async () => (await client.send(new GetItemCommand({ TableName: 'jit-test', Key: { pk: { S: `REQ#${r.id}` } }, ConsistentRead: true }))).Item!;
  expect((await raw()).purgeAt).toBeUndefined();
  await store.transition(decide(r, { type: 'deny', actor: 'U0APPROVER' }, { ...ctx(), retentionMs: 30 * 86_400_000 }));
  expect((await raw()).purgeAt).toEqual({ N: String(Math.floor(Date.parse('2026-11-22T10:05:00.000Z') / 1000) + 30 * 86_400) });
});

it('ensureTable returns only once the table and its indexes are ACTIVE (a write right after succeeds)', async () => {
  const slow = dynalite({ createTableMs: 300 });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', () => resolve()));
  const c = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`, region: 'local', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  try {
    expect(await ensureTable(c, 'slow')).toBe('created');
    await new DynamoRequestStore(c, 'slow').create(pendingRequest());
  } finally {
    c.destroy();
    await new Promise((resolve) => slow.close(resolve));
  }
});
