/**
 * The store's readiness and metrics reads: ping, and the backlog counted on the sparse indexes
 * (COUNT queries, bounded), with the oldest undelivered notification's time.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRequestStore } from '../../src/store/dynamo';
import { pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const dynamo = useEmbeddedDynamo();
const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const note = (at: string) => ({ [`${at}-+post`]: { id: `${at}-+post`, kind: 'approval.post' as const, createdAt: at } });

it('counts due requests (dueAt <= now) and requests with undelivered notifications, up to the bound', async () => {
  const store = await dynamo.newStore('backlog');
  expect(await store.backlog(T0, 1000)).toEqual({ due: 0, outbox: 0 });
  for (let i = 0; i < 5; i++) await store.create(pendingRequest({ dueAt: T0 - i * 1000 }));
  await store.create(pendingRequest({ dueAt: T0 + 60_000 })); // not due yet
  await store.create(pendingRequest({ dueAt: undefined, createdAt: '2026-11-22T09:58:00.000Z', outbox: note('2026-11-22T09:58:00.000Z') }));
  await store.create(pendingRequest({ dueAt: undefined, createdAt: '2026-11-22T09:59:00.000Z', outbox: note('2026-11-22T09:59:00.000Z') }));

  expect(await store.backlog(T0, 1000)).toEqual({ due: 5, outbox: 2, outboxOldestAt: Date.parse('2026-11-22T09:58:00.000Z') });
  expect(await store.backlog(T0 + 60_000, 1000)).toMatchObject({ due: 6 });
  expect(await store.backlog(T0, 3)).toMatchObject({ due: 3, outbox: 2 });
  expect(await store.outboxCount(1000)).toBe(2);
  expect(await store.outboxCount(1)).toBe(1);
});

it('ping answers while the table is there, and fails on a missing table or an unreachable endpoint', async () => {
  const store = await dynamo.newStore('ping');
  await expect(store.ping()).resolves.toBeUndefined();
  await expect(new DynamoRequestStore(dynamo.client, 'no-such-table').ping()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  const dead = new DynamoDBClient({ endpoint: 'http://127.0.0.1:1', region: 'local', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await expect(new DynamoRequestStore(dead, 'ping').ping()).rejects.toThrow(/ECONNREFUSED/);
  dead.destroy();
});
