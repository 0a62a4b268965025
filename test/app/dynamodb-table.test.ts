/**
 * JIT_DYNAMODB_TABLE: the bot uses an existing table through the SDK's default configuration
 * (here AWS_ENDPOINT_URL_DYNAMODB pointing at a dynalite server standing in for DynamoDB), checks
 * its schema at start, and never falls back to the embedded store.
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { parseConfig } from '../../src/config';
import type { EnvConfig } from '../../src/config';
import { startBot } from '../../src/main';
import { tableDefinition } from '../../src/store/dynamo';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../src/store/embedded';
import { CONFIG_YAML, REQUESTER } from '../support/harness';
import { startSlackStandIn, type SlackStandIn } from '../../testkit/slack-stand-in';

let ddb: EmbeddedDynamo;
let admin: DynamoDBClient;
let slack: SlackStandIn;
const saved = { ...process.env };

beforeAll(async () => {
  ddb = await startEmbeddedDynamo(undefined);
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  admin = new DynamoDBClient({});
  await admin.send(new CreateTableCommand(tableDefinition('jit-prod')));
  await admin.send(new CreateTableCommand({ TableName: 'no-indexes', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] }));
  slack = await startSlackStandIn();
});
afterAll(async () => {
  process.env = saved;
  admin.destroy();
  await slack.close();
  await ddb.close();
});

const env = (table: string): EnvConfig => ({ slackBotToken: 'xoxb-t', slack: { mode: 'http', signingSecret: 's', port: 0 }, slackApiUrl: slack.url, configPath: '-', dataDir: '/nonexistent/never-used', dynamoTable: table, awsRegion: 'eu-west-1', logLevel: 'silent' });
const config = parseConfig(CONFIG_YAML);
const quiet = { log: pino({ level: 'silent' }), background: false };

it('stores requests in the configured table', async () => {
  const bot = await startBot(env('jit-prod'), config, quiet);
  try {
    const r = await bot.service.submit({ requesterId: REQUESTER, targetName: 'prod-bastion', duration: '30m', address: '203.0.113.7', reason: 'x' });
    const item = await admin.send(new GetItemCommand({ TableName: 'jit-prod', Key: { pk: { S: `REQ#${r.id}` } } }));
    expect(item.Item?.status?.S).toBe('PENDING');
  } finally {
    await bot.stop();
  }
});

it('refuses to start on a missing table or a table without the indexes, naming the variable', async () => {
  await expect(startBot(env('does-not-exist'), config, quiet)).rejects.toThrow(/JIT_DYNAMODB_TABLE: table "does-not-exist" does not exist/);
  await expect(startBot(env('no-indexes'), config, quiet)).rejects.toThrow(/JIT_DYNAMODB_TABLE: table "no-indexes" lacks the global secondary index\(es\) due, outbox, byRequester/);
});
