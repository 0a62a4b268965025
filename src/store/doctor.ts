/**
 * The doctor's store checks: the DynamoDB table with its key and indexes (what start-up checks),
 * or the embedded store (SQLite) in its data directory.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fail, pass, type CheckOutcome } from '../doctor';
import { awsErrorCode } from '../aws/retry';
import { checkTable } from './dynamo';
import type { StoreAdapter } from '../ports';
import { DataDirLockedError, DynaliteMissingError, loadDynalite } from './embedded';
import { embeddedState, openInDir, SQLITE_FILE, sqlitePathOf } from './local';
import type { SqliteRequestStore } from './sqlite';

/** The table exists with partition key pk and every index the bot queries. */
export async function tableCheck(client: DynamoDBClient, table: string): Promise<CheckOutcome> {
  try {
    const { missingOptional } = await checkTable(client, table);
    if (missingOptional.length > 0) return pass(`DynamoDB table ${table} has the expected key and required indexes; it lacks the optional index ${missingOptional.join(', ')} (the drift sweep reads more until you add it: README, "Production store")`);
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
 * The embedded store under `dataDir`, opened on its own (the CLI): a store a running bot holds is
 * reported as such; a directory of an earlier version (dynalite) is reported as one the bot
 * migrates at start. Nothing is created or changed.
 */
export async function embeddedStoreCheck(dataDir: string): Promise<CheckOutcome> {
  const state = embeddedState(dataDir);
  if (state === 'new') return pass(`embedded store: ${dataDir} holds no store yet; the bot creates it at start`);
  if (state === 'legacy') {
    try {
      loadDynalite();
    } catch (err) {
      if (err instanceof DynaliteMissingError) return fail(`embedded store: ${dataDir} holds the store of an earlier version (dynalite), and dynalite, needed once to move it to SQLite, is not installed here`, 'start the bot once from a full install (npm ci, with the optional dependencies) to migrate it; see "Upgrading" in the README');
      throw err;
    }
    return pass(`embedded store: ${dataDir} holds the store of an earlier version (dynalite); the bot moves it to SQLite (${SQLITE_FILE}) at its next start and keeps the old files in a backup folder`);
  }
  let store: SqliteRequestStore;
  try {
    store = openInDir(sqlitePathOf(dataDir), dataDir);
  } catch (err) {
    if (err instanceof DataDirLockedError) return pass(`embedded store in ${dataDir} is open in a running bot (one process at a time), so it was not opened here; /jit doctor checks it from inside the bot`);
    return fail(`cannot open the embedded store ${sqlitePathOf(dataDir)} (${err instanceof Error ? err.message : String(err)})`, 'check JIT_DATA_DIR and the permissions of that directory and file');
  }
  try {
    return await embeddedStoreCheckOf(store, sqlitePathOf(dataDir));
  } finally {
    store.close();
  }
}

/** The embedded store a bot has open (/jit doctor): it answers a read. */
export async function embeddedStoreCheckOf(store: Pick<StoreAdapter, 'ping' | 'outboxCount'>, path: string | undefined): Promise<CheckOutcome> {
  const where = path ?? '(in memory)';
  try {
    await store.ping();
    await store.outboxCount(1);
    return pass(`embedded store (SQLite) ${where} opens and answers`);
  } catch (err) {
    return fail(`the embedded store (SQLite) ${where} does not answer (${err instanceof Error ? err.message : String(err)})`, 'check the disk and the permissions of JIT_DATA_DIR; restart the bot');
  }
}
