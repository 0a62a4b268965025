/**
 * The DynamoDB table's schema, defined once: the app's store (tableDefinition in dynamo.ts, the
 * embedded store's CreateTable) and infra/ (the deployed table, and its test) both build from it.
 * Dependency-free on purpose: infra/ compiles it with its own TypeScript and packages.
 */

/** DynamoDB scalar attribute types used by keys: string or number. */
export type KeyAttributeType = 'S' | 'N';

export interface IndexSchema {
  name: string;
  partitionKey: string;
  sortKey: string;
}

export const INDEX = { due: 'due', outbox: 'outbox', byRequester: 'byRequester', byTarget: 'byTarget', byChange: 'byChange', held: 'held' } as const;

/**
 * Indexes the bot works without (more slowly) when a table lacks them: start-up warns instead of
 * refusing, and the store falls back to what it did before the index existed.
 */
export const OPTIONAL_INDEXES: ReadonlySet<string> = new Set([INDEX.held]);

/**
 * The due index is sharded: a request's `dueShard` is "due#<n>", n = a hash of its id mod
 * DUE_SHARDS, written with `dueAt` in the same write, so a large organisation's expiries spread
 * over DUE_SHARDS partitions; the sweeper queries every shard in parallel and merges by dueAt.
 * Changing DUE_SHARDS strands the items of the shards it drops: reshard as the README says.
 */
export const DUE_SHARDS = 8;
/** The one partition of the due index before it was sharded; items still there are moved at start-up. */
export const LEGACY_DUE_SHARD = 'due';

/** Every due shard's partition key value. */
export const DUE_SHARD_KEYS: readonly string[] = Array.from({ length: DUE_SHARDS }, (_, n) => `due#${n}`);

/** FNV-1a over a string's characters: the shard hash of every sharded index. */
function fnv1a(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The due shard of a request id (FNV-1a over its characters, mod DUE_SHARDS). */
export function dueShardOf(id: string): string {
  return DUE_SHARD_KEYS[fnv1a(id) % DUE_SHARDS]!;
}

/**
 * The held index is sharded the same way: a rule of the registry carries `heldShard`
 * ("held#<n>", n = a hash of its rule key mod HELD_SHARDS) while it has holders, so the drift
 * sweep lists every held rule in HELD_SHARDS Queries instead of a batched read per 100 rules,
 * and a burst of grants or expiries spreads its index writes over that many partitions.
 */
export const HELD_SHARDS = 8;

/** Every held shard's partition key value. */
export const HELD_SHARD_KEYS: readonly string[] = Array.from({ length: HELD_SHARDS }, (_, n) => `held#${n}`);

/** The held shard of a rule key. */
export function heldShardOf(ruleKey: string): string {
  return HELD_SHARD_KEYS[fnv1a(ruleKey) % HELD_SHARDS]!;
}

export const TABLE_SCHEMA = {
  /** One item per request: pk = "REQ#<id>" (and a few bookkeeping items). */
  partitionKey: 'pk',
  /** Epoch seconds after which DynamoDB may delete a resolved request (see the README, retention). */
  ttlAttribute: 'purgeAt',
  /** Every key attribute of the table and its indexes, with its type; nothing else is declared. */
  attributes: { pk: 'S', dueShard: 'S', dueAt: 'N', outboxShard: 'S', outboxAt: 'N', requesterId: 'S', createdAt: 'S', targetName: 'S', changeMonth: 'S', changedAt: 'S', heldShard: 'S' } satisfies Record<string, KeyAttributeType>,
  /** Sparse global secondary indexes, all projecting ALL attributes. */
  indexes: {
    due: { name: INDEX.due, partitionKey: 'dueShard', sortKey: 'dueAt' },
    outbox: { name: INDEX.outbox, partitionKey: 'outboxShard', sortKey: 'outboxAt' },
    byRequester: { name: INDEX.byRequester, partitionKey: 'requesterId', sortKey: 'createdAt' },
    /** `/jit audit <target>`: every request item carries targetName, so this index back-fills on creation. */
    byTarget: { name: INDEX.byTarget, partitionKey: 'targetName', sortKey: 'createdAt' },
    /**
     * The audit export's "changed since": changeMonth ("YYYY-MM", UTC) and changedAt (ISO) of the
     * request's latest audit record, rewritten with every record; a request moves to the month of
     * its latest change, so one Query per month from `since` finds each changed request once.
     */
    byChange: { name: INDEX.byChange, partitionKey: 'changeMonth', sortKey: 'changedAt' },
    /**
     * The drift sweep's list of held rules: only rule items (pk "RULE#<key>") carry heldShard, set
     * by join and removed when the last holder leaves to revoke. Eventually consistent like every
     * GSI: the sweep confirms what it does not find here with a strongly consistent read.
     */
    held: { name: INDEX.held, partitionKey: 'heldShard', sortKey: 'pk' },
  } satisfies Record<keyof typeof INDEX, IndexSchema>,
  projection: 'ALL',
} as const;

/** The schema as DynamoDB's CreateTable input (on-demand billing), without any SDK import. */
export function tableSchemaDefinition(table: string) {
  return {
    TableName: table,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: Object.entries(TABLE_SCHEMA.attributes).map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as KeyAttributeType })),
    KeySchema: [{ AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' as const }],
    GlobalSecondaryIndexes: Object.values(TABLE_SCHEMA.indexes).map((index) => ({
      IndexName: index.name as string,
      KeySchema: [
        { AttributeName: index.partitionKey as string, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey as string, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: TABLE_SCHEMA.projection },
    })),
  };
}
