/**
 * The doctor's store checks on dynalite: the table's key and indexes, and the embedded store's
 * data directory (new, in use by a running bot, or opened and checked). Also: the embedded store
 * refuses a data directory another process holds, with a message that says so.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedStoreCheck, tableCheck } from '../../src/store/doctor';
import { ensureTable } from '../../src/store/dynamo';
import { DataDirLockedError, dataDirState, startEmbeddedDynamo } from '../../src/store/embedded';
import { useEmbeddedDynamo } from '../support/store';

const db = useEmbeddedDynamo();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jit-store-doctor-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tableCheck', () => {
  it('passes on a table made by ensureTable', async () => {
    await ensureTable(db.client, 'doctor-ok');
    expect(await tableCheck(db.client, 'doctor-ok')).toEqual({ ok: true, detail: 'DynamoDB table doctor-ok has the expected key and indexes' });
  });

  it('fails when the table does not exist', async () => {
    const outcome = await tableCheck(db.client, 'doctor-missing');
    expect(outcome).toMatchObject({ ok: false, detail: 'table "doctor-missing" does not exist in this account/region; create it as the README describes (or deploy infra/)' });
    expect(outcome.fix).toMatch(/Production store/);
  });

  it('fails naming the missing indexes', async () => {
    await db.client.send(
      new CreateTableCommand({ TableName: 'doctor-bare', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' }),
    );
    expect(await tableCheck(db.client, 'doctor-bare')).toMatchObject({ ok: false, detail: expect.stringMatching(/^table "doctor-bare" lacks the global secondary index\(es\) /) });
  });

  it('fails when the store cannot be reached', async () => {
    const nowhere = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
    const outcome = await tableCheck(nowhere, 'jit');
    nowhere.destroy();
    expect(outcome).toMatchObject({ ok: false, detail: expect.stringMatching(/^cannot read table jit/) });
  });
});

describe('embeddedStoreCheck', () => {
  it('passes on a directory that holds no store yet, and creates nothing', async () => {
    const path = join(dir, 'fresh');
    expect(await embeddedStoreCheck(path, 'jit-access-requests')).toEqual({ ok: true, detail: `embedded store: ${path} holds no store yet; the bot creates it at start` });
    expect(await dataDirState(path)).toBe('new');
  });

  it('opens a store no process holds and checks its table', async () => {
    const path = join(dir, 'closed');
    const embedded = await startEmbeddedDynamo(path);
    const client = new DynamoDBClient({ endpoint: embedded.endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    await ensureTable(client, 'jit-access-requests');
    client.destroy();
    await embedded.close();
    expect(await dataDirState(path)).toBe('free');
    expect(await embeddedStoreCheck(path, 'jit-access-requests')).toEqual({ ok: true, detail: `embedded store in ${path}: table jit-access-requests has the expected key and indexes` });
    expect(await embeddedStoreCheck(path, 'no-such-table')).toEqual({ ok: true, detail: `embedded store in ${path}: no table yet; the bot creates it at start` });
  });

  it('reports a directory a running bot holds instead of failing obscurely, and a second store there is refused clearly', async () => {
    const path = join(dir, 'held');
    const running = await startEmbeddedDynamo(path);
    try {
      expect(await dataDirState(path)).toBe('locked');
      expect(await embeddedStoreCheck(path, 'jit-access-requests')).toMatchObject({ ok: true, detail: expect.stringContaining('is open in a running bot') });
      await expect(startEmbeddedDynamo(path)).rejects.toThrow(DataDirLockedError);
      await expect(startEmbeddedDynamo(path)).rejects.toThrow(`the data directory ${path} is in use by another process (a running bot?)`);
    } finally {
      await running.close();
    }
  });
});
