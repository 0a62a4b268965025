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

export const INDEX = { due: 'due', outbox: 'outbox', byRequester: 'byRequester', byTarget: 'byTarget', byChange: 'byChange' } as const;

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

/** The due shard of a request id (FNV-1a over its characters, mod DUE_SHARDS). */
export function dueShardOf(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return DUE_SHARD_KEYS[(h >>> 0) % DUE_SHARDS]!;
}

export const TABLE_SCHEMA = {
  /** One item per request: pk = "REQ#<id>" (and a few bookkeeping items). */
  partitionKey: 'pk',
  /** Epoch seconds after which DynamoDB may delete a resolved request (see the README, retention). */
  ttlAttribute: 'purgeAt',
  /** Every key attribute of the table and its indexes, with its type; nothing else is declared. */
  attributes: { pk: 'S', dueShard: 'S', dueAt: 'N', outboxShard: 'S', outboxAt: 'N', requesterId: 'S', createdAt: 'S', targetName: 'S', changeMonth: 'S', changedAt: 'S' } satisfies Record<string, KeyAttributeType>,
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
