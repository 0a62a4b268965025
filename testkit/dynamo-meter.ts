/**
 * A meter on a DynamoDBClient: counts every call and the capacity units DynamoDB on-demand would
 * bill for it (`npm run cost`, test/store/cost.test.ts).
 *
 * Reads: the store's GetItem and Query calls are sent with ReturnConsumedCapacity TOTAL and the
 * units are the emulator's answer (dynalite computes them from the sizes read: 4 KB per unit,
 * halved when eventually consistent; a GSI Query is always eventually consistent).
 * Writes: dynalite reports neither index writes nor failed conditional writes, so the meter reads
 * the item before and after each write (through `peek`, a client WITHOUT this meter) and applies
 * DynamoDB's rules: the table write costs 1 WRU per KB of the larger image (a failed condition
 * still costs the existing item's size, at least 1); each global secondary index (all project
 * ALL, src/store/schema.ts) costs a put of the new image when the item enters or stays in it, a
 * delete of the old image when it leaves, and both when its index key changes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from '../src/store/schema';

type Item = Record<string, AttributeValue>;

export interface MeteredCall {
  command: string;
  /** The store method that made the call (see labelled), or '?'. */
  op: string;
  /** Read request units (RRU). */
  rru: number;
  /** Write request units (WRU), table and indexes. */
  wru: number;
  /** The part of `wru` spent on each index. */
  indexWru: Record<string, number>;
  /** Items the call returned (reads). */
  items: number;
  /** The write's condition failed (it still costs). */
  conditionFailed?: boolean;
}

export interface Tally {
  reads: number;
  writes: number;
  rru: number;
  wru: number;
  calls: MeteredCall[];
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand']);
const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand']);

/** The size DynamoDB counts for an attribute value (bytes). */
function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) {
    const digits = v.N.replace(/^[-+]?0*/, '').replace('.', '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  if (v.NS !== undefined) return v.NS.reduce((s, x) => s + valueSize({ N: x }), 0);
  if (v.BS !== undefined) return v.BS.reduce((s, x) => s + x.length, 0);
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueSize(x), 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueSize(x), 0);
  return 0;
}

/** An item's size as DynamoDB bills it: attribute names plus values, in bytes. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((s, [k, v]) => s + Buffer.byteLength(k) + valueSize(v), 0);
}

/** WRU for writing (or deleting) one image: 1 per KB, at least 1. */
const writeUnits = (item: Item | undefined): number => Math.max(1, Math.ceil((item ? itemSize(item) : 0) / 1024));

const indexKey = (item: Item | undefined, ix: { partitionKey: string; sortKey: string }): string | undefined => {
  const p = item?.[ix.partitionKey];
  const s = item?.[ix.sortKey];
  return p && s ? JSON.stringify([p, s]) : undefined;
};

/** The WRU a write costs in each index, from the item's images before and after. */
export function indexWrites(before: Item | undefined, after: Item | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const ix of Object.values(TABLE_SCHEMA.indexes)) {
    const was = indexKey(before, ix);
    const is = indexKey(after, ix);
    let units = 0;
    if (was !== undefined && is === undefined) units = writeUnits(before);
    else if (was === undefined && is !== undefined) units = writeUnits(after);
    else if (was !== undefined && is !== undefined) units = was === is ? writeUnits(after) : writeUnits(before) + writeUnits(after);
    if (units > 0) out[ix.name] = units;
  }
  return out;
}

/** Which store method is running: calls made within it carry its name. */
const current = new AsyncLocalStorage<string>();

/**
 * `target` with every method labelled: the DynamoDB calls a method makes are counted under its
 * name (the outermost one when methods call each other).
 */
export function labelled<T extends object>(target: T): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => (current.getStore() ? value.apply(t, args) : current.run(prop, () => value.apply(t, args)));
    },
  });
}

export interface DynamoMeter {
  /** What was counted since the last reset. */
  tally(): Tally;
  reset(): void;
}

/**
 * Adds the meter to `client`. `peek` reads an item by key with a client that is NOT metered
 * (the before/after images of writes); `table` is the table's name.
 */
export function meterDynamo(client: DynamoDBClient, peek: DynamoDBClient, table: string): DynamoMeter {
  let calls: MeteredCall[] = [];
  // Writes are metered one at a time (before image, write, after image), so a concurrent write
  // to the same item cannot slip between the images. It orders writes, never adds or drops one.
  let writing: Promise<unknown> = Promise.resolve();
  const read = async (key: Item | undefined): Promise<Item | undefined> => {
    if (!key) return undefined;
    const out = await peek.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
    return out.Item;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      const input = args.input as Record<string, unknown>;
      if (READS.has(command)) {
        const out = await next(args);
        const o = out.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }>; Item?: Item; Items?: Item[] };
        let consumed = Array.isArray(o.ConsumedCapacity) ? o.ConsumedCapacity.reduce((s, c) => s + (c.CapacityUnits ?? 0), 0) : (o.ConsumedCapacity?.CapacityUnits ?? 0);
        // A Query that finds nothing still costs the minimum read (dynalite says 0).
        if (command === 'QueryCommand') consumed = Math.max(consumed, input.ConsistentRead ? 1 : 0.5);
        calls.push({ command, op: current.getStore() ?? '?', rru: consumed, wru: 0, indexWru: {}, items: o.Items?.length ?? (o.Item ? 1 : 0) });
        return out;
      }
      if (!WRITES.has(command)) return next(args);
      const metered = async () => {
        const key = (input.Key ?? (input.Item ? { [TABLE_SCHEMA.partitionKey]: (input.Item as Item)[TABLE_SCHEMA.partitionKey] } : undefined)) as Item | undefined;
        const before = await read(key);
        try {
          const out = await next(args);
          const after = await read(key);
          const indexWru = indexWrites(before, after);
          const table = Math.max(writeUnits(before), command === 'DeleteItemCommand' ? 0 : writeUnits(after));
          calls.push({ command, op: current.getStore() ?? '?', rru: 0, wru: table + Object.values(indexWru).reduce((s, n) => s + n, 0), indexWru, items: 0 });
          return out;
        } catch (err) {
          if ((err as Error).name === 'ConditionalCheckFailedException') calls.push({ command, op: current.getStore() ?? '?', rru: 0, wru: writeUnits(before), indexWru: {}, items: 0, conditionFailed: true });
          throw err;
        }
      };
      const turn = writing.then(metered);
      writing = turn.catch(() => undefined);
      return turn;
    },
    { step: 'build', name: 'jitCapacityMeter' },
  );
  // Asks the emulator for the units of each read (set before the input is serialized).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (READS.has(context.commandName ?? '') && input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
      return next(args);
    },
    { step: 'serialize', priority: 'high', name: 'jitCapacityAsk' },
  );
  return {
    tally() {
      const reads = calls.filter((c) => READS.has(c.command));
      const writes = calls.filter((c) => WRITES.has(c.command));
      return { reads: reads.length, writes: writes.length, rru: reads.reduce((s, c) => s + c.rru, 0), wru: writes.reduce((s, c) => s + c.wru, 0), calls: [...calls] };
    },
    reset() {
      calls = [];
    },
  };
}
