/**
 * The doctor's store checks: the DynamoDB table with its key and indexes (what start-up checks),
 * or the embedded store's data directory.
 */
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { fail, pass, type CheckOutcome } from '../doctor';
import { awsErrorCode } from '../aws/retry';
import { checkTable } from './dynamo';
import { dataDirState, startEmbeddedDynamo } from './embedded';

/** The table exists with partition key pk and every index the bot queries. */
export async function tableCheck(client: DynamoDBClient, table: string): Promise<CheckOutcome> {
  try {
    await checkTable(client, table);
    return pass(`DynamoDB table ${table} has the expected key and indexes`);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (text.startsWith('JIT_DYNAMODB_TABLE:')) return fail(text.slice('JIT_DYNAMODB_TABLE: '.length), 'create or fix the table as the README describes (section "Production store"), or deploy infra/');
    const code = awsErrorCode(err);
    if (/AccessDenied/.test(code)) return fail(`the bot may not describe table ${table} (${code})`, "allow dynamodb:DescribeTable on the table to the bot's IAM role");
    if (/could not load credentials/i.test(text) || code === 'CredentialsProviderError') return fail(`cannot read table ${table}: no AWS credentials`, 'see "AWS identity"');
    return fail(`cannot read table ${table} (${code}: ${text})`, 'check AWS_REGION and JIT_DYNAMODB_TABLE (and AWS_ENDPOINT_URL_DYNAMODB if set)');
  }
}

/**
 * The embedded store under `dataDir`, opened on its own (the CLI): a directory a running bot
 * holds is reported as such, not opened.
 */
export async function embeddedStoreCheck(dataDir: string, table: string): Promise<CheckOutcome> {
  let state: Awaited<ReturnType<typeof dataDirState>>;
  try {
    state = await dataDirState(dataDir);
  } catch (err) {
    return fail(`cannot open the embedded store in ${dataDir} (${err instanceof Error ? err.message : String(err)})`, 'check JIT_DATA_DIR and the permissions of that directory');
  }
  if (state === 'locked') {
    return pass(`embedded store in ${dataDir} is open in a running bot (one process at a time), so it was not opened here; /jit doctor checks it from inside the bot`);
  }
  if (state === 'new') return pass(`embedded store: ${dataDir} holds no store yet; the bot creates it at start`);
  const embedded = await startEmbeddedDynamo(dataDir);
  const client = new DynamoDBClient({ endpoint: embedded.endpoint, region: 'local', credentials: { accessKeyId: 'embedded', secretAccessKey: 'embedded' } });
  try {
    // The bot creates the table at start; the doctor only looks.
    const missing = await client.send(new DescribeTableCommand({ TableName: table })).then(
      () => false,
      (err: unknown) => err instanceof ResourceNotFoundException,
    );
    if (missing) return pass(`embedded store in ${dataDir}: no table yet; the bot creates it at start`);
    const outcome = await tableCheck(client, table);
    const tightened = embedded.tightenedFrom !== undefined ? ` (the directory was open to group or others, mode ${embedded.tightenedFrom.toString(8)}: closed to 0700)` : '';
    return outcome.ok ? pass(`embedded store in ${dataDir}: table ${table} has the expected key and indexes${tightened}`) : outcome;
  } finally {
    client.destroy();
    await embedded.close();
  }
}
