/**
 * An in-process dynalite server for a test file, reached with the real DynamoDB client. Call at
 * the top level of a test file: it registers its own beforeAll/afterAll.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRequestStore, ensureTable } from '../../src/store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';

export interface TestDynamo {
  readonly client: DynamoDBClient;
  /** Creates a fresh table and returns a store on it. */
  newStore(table: string): Promise<DynamoRequestStore>;
}

export function useEmbeddedDynamo(): TestDynamo {
  let db: EmbeddedDynamo;
  let client: DynamoDBClient;
  beforeAll(async () => {
    db = await startEmbeddedDynamo(undefined);
    client = new DynamoDBClient({ endpoint: db.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });
  afterAll(async () => {
    client.destroy();
    await db.close();
  });
  return {
    get client() {
      return client;
    },
    async newStore(table: string) {
      await ensureTable(client, table);
      return new DynamoRequestStore(client, table);
    },
  };
}
