/**
 * The DynamoDB store's readiness read: ping fails on a missing table or endpoint. The backlog
 * counts (bounded, with the oldest undelivered notification's time) are in the contract suite.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRequestStore } from '../../src/store/dynamo';
import { pendingRequest } from '../support/requests';
import { useEmbeddedDynamo } from '../support/store';

const dynamo = useEmbeddedDynamo();
const T0 = Date.parse('2026-11-22T10:00:00.000Z');
const note = (at: string) => ({ [`${at}-+post`]: { id: `${at}-+post`, kind: 'approval.post' as const, createdAt: at } });

it('ping answers while the table is there, and fails on a missing table or an unreachable endpoint', async () => {
  const store = await dynamo.newStore('ping');
  await expect(store.ping()).resolves.toBeUndefined();
  await expect(new DynamoRequestStore(dynamo.client, 'no-such-table').ping()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  const dead = new DynamoDBClient({ endpoint: 'http://127.0.0.1:1', region: 'local', maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  await expect(new DynamoRequestStore(dead, 'ping').ping()).rejects.toThrow(/ECONNREFUSED/);
  dead.destroy();
});
