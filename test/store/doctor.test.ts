/**
 * The doctor's store checks: the table's key and indexes (on dynalite), and the embedded store's
 * data directory (new, of an earlier version, in use by a running bot, or opened and checked).
 * Also: the embedded store refuses a data directory another process holds, with a message that
 * says so.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedStoreCheck, embeddedStoreCheckOf, tableCheck } from '../../src/store/doctor';
import { checkTable, DynamoRequestStore, ensureTable, tableDefinition } from '../../src/store/dynamo';
import { INDEX } from '../../src/store/schema';
import { DataDirLockedError, startEmbeddedDynamo } from '../../src/store/embedded';
import { embeddedState, openEmbeddedStore } from '../../src/store/local';
import { openSqliteStore } from '../../src/store/sqlite';
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

  it('passes on a table that lacks only the optional held index, naming it; the store then lists no held rules and the bot falls back', async () => {
    const def = tableDefinition('doctor-no-held');
    await db.client.send(new CreateTableCommand({ ...def, GlobalSecondaryIndexes: def.GlobalSecondaryIndexes!.filter((g) => g.IndexName !== INDEX.held) }));
    expect(await checkTable(db.client, 'doctor-no-held')).toEqual({ missingOptional: ['held'] });
    expect(await tableCheck(db.client, 'doctor-no-held')).toEqual({ ok: true, detail: expect.stringMatching(/lacks the optional index held \(the drift sweep reads more until you add it/) });
    const store = new DynamoRequestStore(db.client, 'doctor-no-held', { heldIndex: false });
    await store.join('eu-west-1#sgr-1', 'jit-0000000001');
    expect(await store.heldRules()).toBeUndefined();
    expect(await checkTable(db.client, 'doctor-ok')).toEqual({ missingOptional: [] });
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
    expect(await embeddedStoreCheck(path)).toEqual({ ok: true, detail: `embedded store: ${path} holds no store yet; the bot creates it at start` });
    expect(embeddedState(path)).toBe('new');
    expect(existsSync(path)).toBe(false);
  });

  it('opens a store no process holds and checks that it answers', async () => {
    const path = join(dir, 'closed');
    (await openEmbeddedStore(path)).store.close();
    expect(await embeddedStoreCheck(path)).toEqual({ ok: true, detail: `embedded store (SQLite) ${join(path, 'jit.sqlite')} opens and answers` });
  });

  it('reports a store a running bot holds instead of failing obscurely, and a second store there is refused clearly', async () => {
    const path = join(dir, 'held');
    const running = await openEmbeddedStore(path);
    try {
      expect(await embeddedStoreCheck(path)).toMatchObject({ ok: true, detail: expect.stringContaining(`embedded store in ${path} is open in a running bot`) });
      await expect(openEmbeddedStore(path)).rejects.toThrow(DataDirLockedError);
      await expect(openEmbeddedStore(path)).rejects.toThrow(`the data directory ${path} is in use by another process (a running bot?)`);
    } finally {
      running.store.close();
    }
  });

  it('reports a directory of an earlier version (dynalite) as one the bot migrates at start, and changes nothing', async () => {
    const path = join(dir, 'legacy');
    const old = await startEmbeddedDynamo(path);
    await old.close();
    const before = readdirSync(path).sort();
    expect(await embeddedStoreCheck(path)).toEqual({ ok: true, detail: `embedded store: ${path} holds the store of an earlier version (dynalite); the bot moves it to SQLite (jit.sqlite) at its next start and keeps the old files in a backup folder` });
    expect(readdirSync(path).sort()).toEqual(before);
  });

  it('the SQLite store in memory, as a bot has it open: answers', async () => {
    const store = openSqliteStore(undefined);
    try {
      expect(await embeddedStoreCheckOf(store, undefined)).toEqual({ ok: true, detail: 'embedded store (SQLite) (in memory) opens and answers' });
    } finally {
      store.close();
    }
    expect(await embeddedStoreCheckOf(store, '/data/jit.sqlite')).toMatchObject({ ok: false, detail: expect.stringMatching(/^the embedded store \(SQLite\) \/data\/jit\.sqlite does not answer/) });
  });
});
