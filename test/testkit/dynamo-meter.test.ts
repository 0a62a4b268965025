/**
 * The capacity meter's rules (DynamoDB on-demand billing) on known items, and the meter on a real
 * client against the embedded store: what `npm run cost` counts is only as good as these.
 */
import { DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../src/store/dynamo';
import { indexWrites, itemSize, meterDynamo } from '../../testkit/dynamo-meter';
import { useEmbeddedDynamo } from '../support/store';

describe('item size, as DynamoDB counts it', () => {
  it('counts attribute names and values: strings in UTF-8 bytes, numbers by digits', () => {
    expect(itemSize({ pk: { S: 'REQ#1' } })).toBe(2 + 5);
    expect(itemSize({ é: { S: 'é' } })).toBe(2 + 2);
    expect(itemSize({ n: { N: '12345' } })).toBe(1 + 4); // ceil(5 / 2) + 1
    expect(itemSize({ b: { BOOL: true }, z: { NULL: true } })).toBe(1 + 1 + 1 + 1);
    expect(itemSize({ m: { M: { ab: { S: 'xyz' } } } })).toBe(1 + 3 + 1 + 2 + 3);
    expect(itemSize({ l: { L: [{ S: 'a' }, { S: 'bc' }] } })).toBe(1 + 3 + (1 + 1) + (1 + 2));
  });
});

describe('index writes (every index projects ALL)', () => {
  const small = { pk: { S: 'REQ#1' }, requesterId: { S: 'U1' }, createdAt: { S: '2026' } };
  const big = { ...small, pad: { S: 'x'.repeat(1500) } };
  it('an item entering an index costs a put of its new image; leaving, a delete of the old', () => {
    expect(indexWrites(undefined, small)).toEqual({ byRequester: 1 });
    expect(indexWrites(small, undefined)).toEqual({ byRequester: 1 });
    expect(indexWrites(undefined, big)).toEqual({ byRequester: 2 }); // 1.5 KB → 2 units
  });
  it('a change of a projected attribute rewrites the entry; a change of the index key costs a delete and a put', () => {
    expect(indexWrites(small, big)).toEqual({ byRequester: 2 });
    expect(indexWrites(small, { ...small, createdAt: { S: '2027' } })).toEqual({ byRequester: 2 });
  });
  it('an item outside every index costs nothing there', () => {
    expect(indexWrites({ pk: { S: 'RULE#1' } }, { pk: { S: 'RULE#1' }, n: { N: '1' } })).toEqual({});
  });
});

describe('on a client', () => {
  const dynamo = useEmbeddedDynamo();
  let metered: DynamoDBClient;
  beforeAll(async () => {
    await ensureTable(dynamo.client, 'meter');
    // A second client of its own, so the meter's middleware stays off the shared one.
    metered = new DynamoDBClient({ endpoint: await dynamo.client.config.endpoint!().then((e) => `${e.protocol}//${e.hostname}:${e.port}`), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  });
  afterAll(() => metered.destroy());

  it('counts writes with their index units, failed conditions included, and reads with the emulator’s units', async () => {
    const meter = meterDynamo(metered, dynamo.client, 'meter');
    const item = { pk: { S: 'REQ#m1' }, requesterId: { S: 'U1' }, createdAt: { S: '2026-11-22' }, targetName: { S: 't' } };
    await metered.send(new PutItemCommand({ TableName: 'meter', Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    await expect(metered.send(new PutItemCommand({ TableName: 'meter', Item: item, ConditionExpression: 'attribute_not_exists(pk)' }))).rejects.toThrow();
    await metered.send(new UpdateItemCommand({ TableName: 'meter', Key: { pk: { S: 'REQ#m1' } }, UpdateExpression: 'SET #x = :x', ExpressionAttributeNames: { '#x': 'x' }, ExpressionAttributeValues: { ':x': { S: 'y' } } }));
    await metered.send(new QueryCommand({ TableName: 'meter', IndexName: 'byRequester', KeyConditionExpression: 'requesterId = :r', ExpressionAttributeValues: { ':r': { S: 'U1' } } }));
    await metered.send(new QueryCommand({ TableName: 'meter', IndexName: 'byRequester', KeyConditionExpression: 'requesterId = :r', ExpressionAttributeValues: { ':r': { S: 'nobody' } } }));
    const t = meter.tally();
    expect(t.calls.map((c) => [c.command, c.wru, c.rru, c.conditionFailed ?? false])).toEqual([
      ['PutItemCommand', 3, 0, false], // table + byRequester + byTarget, 1 unit each
      ['PutItemCommand', 1, 0, true], // the condition failed: still the item's unit, no index write
      ['UpdateItemCommand', 3, 0, false], // a projected attribute changed: both indexes rewritten
      ['QueryCommand', 0, 0.5, false], // one small item, eventually consistent
      ['QueryCommand', 0, 0.5, false], // nothing found: the minimum
    ]);
    expect(t).toMatchObject({ reads: 2, writes: 3, wru: 7, rru: 1 });
  });
});
