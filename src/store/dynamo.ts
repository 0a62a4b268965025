/**
 * RequestStore on DynamoDB. One item per request (pk = "REQ#<id>"); every state change is a
 * single UpdateItem conditioned on (status, version), so concurrent writers get exactly one
 * winner. The audit record and the notifications a transition owes are written in that same
 * update (list_append / map SET), so neither can be lost between two writes.
 *
 * Sparse indexes drive the background work, never a scan:
 *   due       (dueShard, dueAt)        — requests the sweeper must look at, by time; sharded
 *                                        (schema.ts DUE_SHARDS), every shard queried in parallel
 *   outbox    (outboxShard, outboxAt)  — requests with undelivered notifications
 *   byRequester (requesterId, createdAt) — `/jit list`, `/jit audit @user`
 *   byTarget  (targetName, createdAt)  — `/jit audit <target>`
 *   byChange  (changeMonth, changedAt) — the audit export: requests changed since a time
 *   held      (heldShard, pk)          — rules of the registry that have holders (the drift sweep)
 */
import { type AttributeValue, ConditionalCheckFailedException, CreateTableCommand, DeleteTableCommand, DescribeTableCommand, type DynamoDBClient, PutItemCommand, ResourceNotFoundException, ScanCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../domain/errors';
import type { AccessRequest, AuditEntry, SlackMessageRef } from '../domain/types';
import type { ChangeCursor, ChangePage, HistoryCursor, HistoryPage, NotificationClaim, StoreAdapter, StoreBacklog, Transition } from '../ports';

import { DUE_SHARD_KEYS, dueShardOf, HELD_SHARD_KEYS, heldShardOf, INDEX, LEGACY_DUE_SHARD, OPTIONAL_INDEXES, tableSchemaDefinition } from './schema';

export { INDEX };
const OUTBOX_SHARD = 'outbox';
/** BatchGetItem takes at most 100 keys per call. */
const BATCH_GET_MAX = 100;
/** Calls per batch of keys before unprocessed keys fail the read (DynamoDB throttling for that long). */
const BATCH_GET_ATTEMPTS = 8;
/** Attributes that exist only for the indexes; never part of the domain object. */
const INDEX_ATTRIBUTES = ['pk', 'dueShard', 'outboxShard', 'outboxAt', 'changeMonth', 'changedAt'] as const;

/** The byChange bucket of a time: its UTC month, "YYYY-MM". */
export function changeMonthOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 7);
}

/** The month after "YYYY-MM". */
export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** The byChange keys of a change at `iso` (the latest audit record's time). */
function changeKeys(iso: string): { changeMonth: string; changedAt: string } {
  const changedAt = new Date(iso).toISOString();
  return { changeMonth: changedAt.slice(0, 7), changedAt };
}

export interface DynamoStoreOptions {
  /** The table has the held index (default true); without it the drift sweep reads each rule's holders in batches. */
  heldIndex?: boolean;
}

export class DynamoRequestStore implements StoreAdapter {
  private readonly doc: DynamoDBDocumentClient;
  private readonly heldIndex: boolean;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    options: DynamoStoreOptions = {},
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.heldIndex = options.heldIndex ?? true;
  }

  async create(request: AccessRequest): Promise<void> {
    const item: Record<string, unknown> = { ...request, pk: key(request.id), ...changeKeys(request.audit.at(-1)?.at ?? request.createdAt) };
    if (request.dueAt !== undefined) item.dueShard = dueShardOf(request.id);
    if (Object.keys(request.outbox).length > 0) {
      item.outboxShard = OUTBOX_SHARD;
      item.outboxAt = Date.parse(request.createdAt);
    }
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (err) {
      throw mapConflict(err, `request ${request.id} already exists`);
    }
  }

  async get(id: string): Promise<AccessRequest | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: key(id) }, ConsistentRead: true }));
    return out.Item ? toRequest(out.Item) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<Map<string, AccessRequest>> {
    const found = new Map<string, AccessRequest>();
    for (const item of await this.batchGet([...new Set(ids)].map(key))) {
      const request = toRequest(item);
      found.set(request.id, request);
    }
    return found;
  }

  async transition(t: Transition): Promise<AccessRequest> {
    const u = new UpdateBuilder();
    u.set('status', t.status);
    u.setRaw('#version = #version + :one', { '#version': 'version' }, { ':one': 1 });
    for (const [field, value] of Object.entries(t.set)) {
      if (value === undefined) u.remove(field);
      else u.set(field, value);
    }
    if ('dueAt' in t.set) {
      if (t.set.dueAt === undefined) u.remove('dueShard');
      else u.set('dueShard', dueShardOf(t.id));
    }
    if (t.audit) {
      u.setRaw('#audit = list_append(#audit, :audit)', { '#audit': 'audit' }, { ':audit': [t.audit] });
      for (const [field, value] of Object.entries(changeKeys(t.audit.at))) u.set(field, value);
    }
    for (const n of t.notify ?? []) u.setRaw(`#outbox.#n_${u.size} = :n_${u.size}`, { '#outbox': 'outbox', [`#n_${u.size}`]: n.id }, { [`:n_${u.size}`]: n });
    if ((t.notify ?? []).length > 0) {
      u.set('outboxShard', OUTBOX_SHARD);
      u.setRaw('#outboxAt = if_not_exists(#outboxAt, :outboxAt)', { '#outboxAt': 'outboxAt' }, { ':outboxAt': Date.parse(t.notify![0]!.createdAt) });
    }
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: key(t.id) },
          UpdateExpression: u.expression(),
          ConditionExpression: '#cond_status = :cond_status AND #version = :cond_version',
          ExpressionAttributeNames: { ...u.names, '#cond_status': 'status', '#version': 'version' },
          ExpressionAttributeValues: { ...u.values, ':cond_status': t.expectStatus, ':cond_version': t.expectVersion },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRequest(out.Attributes!);
    } catch (err) {
      throw mapConflict(err, `request ${t.id} changed (expected ${t.expectStatus} v${t.expectVersion})`);
    }
  }

  async listDue(nowMs: number, limit: number): Promise<AccessRequest[]> {
    return this.mergeDueShards({ condition: '#t <= :t', names: { '#t': 'dueAt' }, values: { ':t': nowMs } }, limit, Number.POSITIVE_INFINITY);
  }

  async listPending(untilMs: number, limit: number, maxRead: number): Promise<AccessRequest[]> {
    return this.mergeDueShards({ condition: '#t <= :t', filter: '#status = :pending', names: { '#t': 'dueAt', '#status': 'status' }, values: { ':t': untilMs, ':pending': 'PENDING' } }, limit, maxRead);
  }

  /**
   * Reads the due index's shards in parallel, soonest due first across all of them (a k-way merge
   * by dueAt: a shard's next page is read only when its buffered items are used up). Returns at
   * most `limit`; reads at most about `maxRead` index entries (a filter's skipped ones count), then
   * merges what it holds. Each Query asks for no more than the merge can still use.
   */
  private async mergeDueShards(q: { condition: string; filter?: string; names: Record<string, string>; values: Record<string, unknown> }, limit: number, maxRead: number): Promise<AccessRequest[]> {
    const shards = DUE_SHARD_KEYS.map((shard) => ({ shard, items: [] as AccessRequest[], startKey: undefined as Record<string, unknown> | undefined, done: false }));
    const found: AccessRequest[] = [];
    let read = 0;
    while (found.length < limit) {
      const empty = shards.filter((s) => s.items.length === 0 && !s.done);
      if (empty.length > 0) {
        if (read >= maxRead) {
          for (const s of empty) s.done = true;
          continue;
        }
        const each = Math.max(1, Math.min(limit - found.length, Math.ceil((maxRead - read) / empty.length), 100));
        await Promise.all(
          empty.map(async (s) => {
            const out = await this.doc.send(
              new QueryCommand({
                TableName: this.table,
                IndexName: INDEX.due,
                KeyConditionExpression: `#s = :s AND ${q.condition}`,
                ...(q.filter ? { FilterExpression: q.filter } : {}),
                ExpressionAttributeNames: { ...q.names, '#s': 'dueShard' },
                ExpressionAttributeValues: { ...q.values, ':s': s.shard },
                ScanIndexForward: true,
                Limit: each,
                ExclusiveStartKey: s.startKey,
              }),
            );
            read += out.ScannedCount ?? out.Items?.length ?? 0;
            s.items = (out.Items ?? []).map(toRequest);
            s.startKey = out.LastEvaluatedKey;
            s.done = s.startKey === undefined;
          }),
        );
        continue;
      }
      let next: (typeof shards)[number] | undefined;
      for (const s of shards) if (s.items.length > 0 && (!next || s.items[0]!.dueAt! < next.items[0]!.dueAt!)) next = s;
      if (!next) break;
      found.push(next.items.shift()!);
    }
    return found;
  }

  /**
   * Moves the items still in the due index's one partition from before it was sharded
   * (dueShard "due") to their shard: one Query, empty once done, so it runs at every start. Each
   * move is conditioned on the old value, so a transition that wrote the shard meanwhile wins.
   * Returns how many were moved.
   */
  async reshardDue(): Promise<number> {
    let moved = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ TableName: this.table, IndexName: INDEX.due, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'dueShard', '#pk': 'pk' }, ExpressionAttributeValues: { ':s': LEGACY_DUE_SHARD }, ProjectionExpression: '#pk', ExclusiveStartKey: startKey }),
      );
      for (const item of out.Items ?? []) {
        const pk = item.pk as string;
        if (!pk.startsWith('REQ#')) continue;
        const done = await this.updateIfCondition({
          Key: { pk },
          UpdateExpression: 'SET #s = :shard',
          ConditionExpression: '#s = :legacy',
          ExpressionAttributeNames: { '#s': 'dueShard' },
          ExpressionAttributeValues: { ':shard': dueShardOf(pk.slice('REQ#'.length)), ':legacy': LEGACY_DUE_SHARD },
        });
        if (done) moved++;
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return moved;
  }

  async listByRequester(requesterId: string, limit: number): Promise<AccessRequest[]> {
    return this.query(INDEX.byRequester, '#r = :r', { '#r': 'requesterId' }, { ':r': requesterId }, limit, false);
  }

  async historyOfRequester(requesterId: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage> {
    return this.history(INDEX.byRequester, 'requesterId', requesterId, sinceIso, limit, after);
  }

  async historyOfTarget(targetName: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage> {
    return this.history(INDEX.byTarget, 'targetName', targetName, sinceIso, limit, after);
  }

  /**
   * Newest first from `after` (or the newest), created at or after `sinceIso`. Reads one item
   * more than it returns, so `next` is set only when there is a next page.
   */
  private async history(index: string, keyAttribute: string, keyValue: string, sinceIso: string, limit: number, after?: HistoryCursor): Promise<HistoryPage> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined = after ? { pk: key(after.id), [keyAttribute]: keyValue, createdAt: after.createdAt } : undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: '#k = :k AND #c >= :since',
          ExpressionAttributeNames: { '#k': keyAttribute, '#c': 'createdAt' },
          ExpressionAttributeValues: { ':k': keyValue, ':since': sinceIso },
          ScanIndexForward: false,
          Limit: limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length <= limit);
    const requests = items.slice(0, limit).map(toRequest);
    const last = requests.at(-1);
    return items.length > limit && last ? { requests, next: { createdAt: last.createdAt, id: last.id } } : { requests };
  }

  async changedSince(sinceIso: string, untilIso: string, limit: number, after?: ChangeCursor): Promise<ChangePage> {
    const lastMonth = changeMonthOf(untilIso);
    let month = after?.month ?? changeMonthOf(sinceIso);
    let startKey: Record<string, unknown> | undefined = after?.changedAt && after.id ? { pk: key(after.id), changeMonth: month, changedAt: after.changedAt } : undefined;
    const items: Record<string, unknown>[] = [];
    while (month <= lastMonth) {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX.byChange,
          KeyConditionExpression: '#m = :m AND #c >= :since',
          ExpressionAttributeNames: { '#m': 'changeMonth', '#c': 'changedAt' },
          ExpressionAttributeValues: { ':m': month, ':since': sinceIso },
          ScanIndexForward: true,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
      if (!startKey) {
        month = nextMonth(month);
        if (items.length >= limit) return { requests: items.map(toRequest), ...(month <= lastMonth ? { next: { month } } : {}) };
        continue;
      }
      if (items.length >= limit) {
        const last = items.at(-1)!;
        return { requests: items.map(toRequest), next: { month, changedAt: String(last.changedAt), id: String(last.id) } };
      }
    }
    return { requests: items.map(toRequest) };
  }

  async listWithOutbox(limit: number): Promise<AccessRequest[]> {
    return this.query(INDEX.outbox, '#s = :s', { '#s': 'outboxShard' }, { ':s': OUTBOX_SHARD }, limit, true);
  }

  async ackNotification(id: string, notificationId: string): Promise<void> {
    const after = await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: 'REMOVE #outbox.#n',
      ConditionExpression: 'attribute_exists(#outbox.#n)',
      ExpressionAttributeNames: { '#outbox': 'outbox', '#n': notificationId },
      ReturnValues: 'ALL_NEW',
    });
    if (!after || Object.keys((after.outbox as object | undefined) ?? {}).length > 0) return; // acked before, or more to send
    // Leave the outbox index once nothing is left; a notification added meanwhile keeps it there.
    await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: 'REMOVE #shard, #at',
      ConditionExpression: 'size(#outbox) = :zero',
      ExpressionAttributeNames: { '#shard': 'outboxShard', '#at': 'outboxAt', '#outbox': 'outbox' },
      ExpressionAttributeValues: { ':zero': 0 },
    });
  }

  async recordNotificationAttempt(id: string, notificationId: string, attempts: number): Promise<void> {
    await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: 'SET #outbox.#n.#a = :a',
      ConditionExpression: 'attribute_exists(#outbox.#n)',
      ExpressionAttributeNames: { '#outbox': 'outbox', '#n': notificationId, '#a': 'attempts' },
      ExpressionAttributeValues: { ':a': attempts },
    });
  }

  async appendAudit(id: string, status: AccessRequest['status'], entry: AuditEntry): Promise<void> {
    const after = await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: 'SET #audit = list_append(#audit, :entry), #month = :month, #changed = :changed',
      ConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#audit': 'audit', '#status': 'status', '#month': 'changeMonth', '#changed': 'changedAt' },
      ExpressionAttributeValues: { ':entry': [entry], ':status': status, ':month': changeKeys(entry.at).changeMonth, ':changed': changeKeys(entry.at).changedAt },
    });
    if (!after) throw new ConflictError(`request ${id} is no longer ${status}`);
  }

  async setApprovalMessage(id: string, ref: SlackMessageRef): Promise<void> {
    const after = await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: 'SET #m = :m',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#m': 'approvalMessage' },
      ExpressionAttributeValues: { ':m': ref },
      ReturnValues: 'UPDATED_NEW',
    });
    if (!after) throw new NotFoundError('plain', { text: `request ${id} not found` });
  }

  async claimNotification(id: string, notificationId: string, owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined> {
    return this.claimNotifications(id, [notificationId], owner, nowMs, untilMs);
  }

  async tryLease(name: string, owner: string, nowMs: number, untilMs: number): Promise<boolean> {
    const after = await this.updateIfCondition({
      Key: { pk: `LEASE#${name}` },
      UpdateExpression: 'SET #owner = :owner, #until = :until',
      ConditionExpression: 'attribute_not_exists(#until) OR #until < :now OR #owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner', '#until': 'leaseUntil' },
      ExpressionAttributeValues: { ':owner': owner, ':until': untilMs, ':now': nowMs },
    });
    return after !== undefined;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.updateIfCondition({
      Key: { pk: `LEASE#${name}` },
      UpdateExpression: 'SET #until = :zero',
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner', '#until': 'leaseUntil' },
      ExpressionAttributeValues: { ':owner': owner, ':zero': 0 },
    });
  }

  // ---------------------------------------------------------------- rule registry

  async join(ruleKey: string, requestId: string): Promise<void> {
    const after = await this.updateIfCondition({
      Key: { pk: `RULE#${ruleKey}` },
      // heldShard puts the rule in the held index (the drift sweep's list), in the same write.
      UpdateExpression: 'ADD #holders :h SET #hs = :shard',
      ConditionExpression: 'attribute_not_exists(#state)',
      ExpressionAttributeNames: { '#holders': 'holders', '#state': 'revoking', '#hs': 'heldShard' },
      ExpressionAttributeValues: { ':h': new Set([requestId]), ':shard': heldShardOf(ruleKey) },
    });
    if (!after) throw new ConflictError(`rule ${ruleKey} is being revoked; it cannot take a new holder`);
  }

  async leave(ruleKey: string, requestId: string): Promise<string[]> {
    const after = await this.updateIfCondition({
      Key: { pk: `RULE#${ruleKey}` },
      UpdateExpression: 'DELETE #holders :h',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#holders': 'holders' },
      ExpressionAttributeValues: { ':h': new Set([requestId]) },
      ReturnValues: 'ALL_NEW',
    });
    return [...((after?.holders as Set<string> | undefined) ?? [])].sort();
  }

  async beginRevoke(ruleKey: string): Promise<boolean> {
    const after = await this.updateIfCondition({
      Key: { pk: `RULE#${ruleKey}` },
      UpdateExpression: 'SET #state = :true REMOVE #hs',
      ConditionExpression: 'attribute_not_exists(#holders)',
      ExpressionAttributeNames: { '#holders': 'holders', '#state': 'revoking', '#hs': 'heldShard' },
      ExpressionAttributeValues: { ':true': true },
    });
    return after !== undefined;
  }

  async leaveLast(ruleKey: string, requestId: string): Promise<boolean> {
    const after = await this.updateIfCondition({
      Key: { pk: `RULE#${ruleKey}` },
      UpdateExpression: 'REMOVE #holders, #hs SET #state = :true',
      ConditionExpression: 'contains(#holders, :id) AND size(#holders) = :one',
      ExpressionAttributeNames: { '#holders': 'holders', '#state': 'revoking', '#hs': 'heldShard' },
      ExpressionAttributeValues: { ':true': true, ':id': requestId, ':one': 1 },
    });
    return after !== undefined;
  }

  async forget(ruleKey: string): Promise<void> {
    try {
      await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: `RULE#${ruleKey}` }, ConditionExpression: 'attribute_not_exists(#holders)', ExpressionAttributeNames: { '#holders': 'holders' } }));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async holders(ruleKey: string): Promise<string[]> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: `RULE#${ruleKey}` }, ConsistentRead: true }));
    return [...((out.Item?.holders as Set<string> | undefined) ?? [])].sort();
  }

  async holdersOf(ruleKeys: readonly string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(ruleKeys.map((k) => [k, []]));
    for (const item of await this.batchGet([...new Set(ruleKeys)].map((k) => `RULE#${k}`))) {
      found.set((item.pk as string).slice('RULE#'.length), [...((item.holders as Set<string> | undefined) ?? [])].sort());
    }
    return found;
  }

  /**
   * Every rule the held index lists with holders: one paged Query per held shard, all in
   * parallel, only pk and holders read. Eventually consistent, as every GSI: a rule joined a moment
   * ago may be missing (the drift sweep confirms what it does not find here with holdersOf), and
   * one whose last holder has just left may still be listed (swept next time). Undefined when the
   * table lacks the index.
   */
  async heldRules(): Promise<Set<string> | undefined> {
    if (!this.heldIndex) return undefined;
    const held = new Set<string>();
    await Promise.all(
      HELD_SHARD_KEYS.map(async (shard) => {
        let startKey: Record<string, unknown> | undefined;
        do {
          const out = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: INDEX.held,
              KeyConditionExpression: '#s = :s',
              ExpressionAttributeNames: { '#s': 'heldShard', '#pk': 'pk', '#holders': 'holders' },
              ExpressionAttributeValues: { ':s': shard },
              ProjectionExpression: '#pk, #holders',
              ExclusiveStartKey: startKey,
            }),
          );
          for (const item of out.Items ?? []) {
            if ((item.holders as Set<string> | undefined)?.size) held.add((item.pk as string).slice('RULE#'.length));
          }
          startKey = out.LastEvaluatedKey;
        } while (startKey);
      }),
    );
    return held;
  }

  /**
   * Strongly consistent BatchGetItem of many pks, BATCH_GET_MAX keys per call; the keys DynamoDB
   * leaves unprocessed (throttling, the 16 MB answer limit) are asked again with a short backoff.
   */
  private async batchGet(pks: readonly string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < pks.length; i += BATCH_GET_MAX) {
      let keys: Record<string, unknown>[] = pks.slice(i, i + BATCH_GET_MAX).map((pk) => ({ pk }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt >= BATCH_GET_ATTEMPTS) throw new Error(`BatchGetItem on ${this.table}: ${keys.length} key(s) still unprocessed after ${BATCH_GET_ATTEMPTS} attempts`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }));
        items.push(...(out.Responses?.[this.table] ?? []));
        keys = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return items;
  }

  async claimNotifications(id: string, notificationIds: readonly string[], owner: string, nowMs: number, untilMs: number): Promise<NotificationClaim | undefined> {
    if (notificationIds.length === 0) return { reclaimed: new Set() };
    const names: Record<string, string> = { '#outbox': 'outbox', '#until': 'claimUntil', '#owner': 'claimedBy' };
    const sets: string[] = [];
    const conds: string[] = [];
    notificationIds.forEach((n, i) => {
      names[`#n${i}`] = n;
      sets.push(`#outbox.#n${i}.#until = :until, #outbox.#n${i}.#owner = :owner`);
      conds.push(`(attribute_exists(#outbox.#n${i}) AND (attribute_not_exists(#outbox.#n${i}.#until) OR #outbox.#n${i}.#until < :now OR #outbox.#n${i}.#owner = :owner))`);
    });
    // UPDATED_OLD: the claims this write replaced, i.e. the notifications an earlier pass had claimed.
    const before = await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: conds.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':until': untilMs, ':owner': owner, ':now': nowMs },
      ReturnValues: 'UPDATED_OLD',
    });
    if (!before) return undefined;
    const old = (before.outbox ?? {}) as Record<string, { claimedBy?: unknown }>;
    return { reclaimed: new Set(notificationIds.filter((n) => old[n]?.claimedBy !== undefined)) };
  }

  async releaseNotifications(id: string, notificationIds: readonly string[], owner: string): Promise<void> {
    const ids = [...new Set(notificationIds)];
    if (ids.length === 0) return;
    const names: Record<string, string> = { '#outbox': 'outbox', '#until': 'claimUntil', '#owner': 'claimedBy' };
    ids.forEach((n, i) => (names[`#n${i}`] = n));
    // One write, all or nothing: should one have moved on meanwhile, the claims simply lapse (the
    // next pass then looks for those in Slack first, which is only slower).
    await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: `REMOVE ${ids.map((_, i) => `#outbox.#n${i}.#until, #outbox.#n${i}.#owner`).join(', ')}`,
      ConditionExpression: ids.map((_, i) => `(attribute_exists(#outbox.#n${i}) AND #outbox.#n${i}.#owner = :owner)`).join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':owner': owner },
    });
  }

  async ackNotifications(id: string, notificationIds: readonly string[], approvalMessage?: SlackMessageRef): Promise<void> {
    if (notificationIds.length === 0) return;
    const names: Record<string, string> = { '#outbox': 'outbox', ...(approvalMessage ? { '#m': 'approvalMessage' } : {}) };
    const set = approvalMessage ? 'SET #m = :m ' : '';
    const setValues = approvalMessage ? { ':m': approvalMessage } : {};
    const removes = notificationIds.map((n, i) => {
      names[`#n${i}`] = n;
      return `#outbox.#n${i}`;
    });
    // Usually the pass delivered everything there was: the outbox then holds exactly these (all
    // present, as many as there are), and the index is left in the same write.
    const present = notificationIds.map((_, i) => `attribute_exists(#outbox.#n${i})`).join(' AND ');
    const all = await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: `${set}REMOVE ${removes.join(', ')}, #shard, #at`,
      ConditionExpression: `${present} AND size(#outbox) = :count`,
      ExpressionAttributeNames: { ...names, '#shard': 'outboxShard', '#at': 'outboxAt' },
      ExpressionAttributeValues: { ':count': notificationIds.length, ...setValues },
    });
    if (all) return;
    // More was queued meanwhile (or some were acked already): remove ours only.
    const after = await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: `${set}REMOVE ${removes.join(', ')}`,
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: names,
      ...(approvalMessage ? { ExpressionAttributeValues: setValues } : {}),
      ReturnValues: 'ALL_NEW',
    });
    if (!after || Object.keys((after.outbox as object | undefined) ?? {}).length > 0) return;
    await this.updateIfCondition({
      Key: { pk: key(id) },
      UpdateExpression: 'REMOVE #shard, #at',
      ConditionExpression: 'size(#outbox) = :zero',
      ExpressionAttributeNames: { '#shard': 'outboxShard', '#at': 'outboxAt', '#outbox': 'outbox' },
      ExpressionAttributeValues: { ':zero': 0 },
    });
  }

  /**
   * A non-versioned bookkeeping update (delivery state, message refs): returns the attributes
   * asked for, or undefined when its condition did not hold.
   */
  private async updateIfCondition(input: Omit<UpdateCommand['input'], 'TableName'>): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.doc.send(new UpdateCommand({ TableName: this.table, ...input }));
      return out.Attributes ?? {};
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  /** A cheap call for readiness: the table answers DescribeTable. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.table }), { abortSignal: signal });
  }

  /**
   * What waits in the sparse indexes, for metrics and readiness: due requests (dueAt <= now) and
   * requests with undelivered notifications, each counted up to `bound` (COUNT queries read keys
   * only up to the bound), and when the oldest undelivered one was queued.
   */
  async backlog(nowMs: number, bound: number, signal?: AbortSignal): Promise<StoreBacklog> {
    const [due, outbox, oldest] = await Promise.all([
      Promise.all(DUE_SHARD_KEYS.map((shard) => this.count(INDEX.due, '#s = :s AND #t <= :t', { '#s': 'dueShard', '#t': 'dueAt' }, { ':s': shard, ':t': nowMs }, bound, signal))).then((counts) => Math.min(bound, counts.reduce((a, b) => a + b, 0))),
      this.count(INDEX.outbox, '#s = :s', { '#s': 'outboxShard' }, { ':s': OUTBOX_SHARD }, bound, signal),
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX.outbox,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'outboxShard', '#at': 'outboxAt' },
          ExpressionAttributeValues: { ':s': OUTBOX_SHARD },
          ProjectionExpression: '#at',
          ScanIndexForward: true,
          Limit: 1,
        }),
        { abortSignal: signal },
      ),
    ]);
    const at = oldest.Items?.[0]?.outboxAt;
    return { due, outbox, ...(typeof at === 'number' ? { outboxOldestAt: at } : {}) };
  }

  /** Requests with undelivered notifications, counted up to `bound`. */
  async outboxCount(bound: number, signal?: AbortSignal): Promise<number> {
    return this.count(INDEX.outbox, '#s = :s', { '#s': 'outboxShard' }, { ':s': OUTBOX_SHARD }, bound, signal);
  }

  private async count(index: string, condition: string, names: Record<string, string>, values: Record<string, unknown>, bound: number, signal?: AbortSignal): Promise<number> {
    let n = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({ TableName: this.table, IndexName: index, KeyConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values, Select: 'COUNT', Limit: bound - n, ExclusiveStartKey: startKey }),
        { abortSignal: signal },
      );
      n += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey && n < bound);
    return Math.min(n, bound);
  }

  private async query(index: string, condition: string, names: Record<string, string>, values: Record<string, unknown>, limit: number, ascending: boolean): Promise<AccessRequest[]> {
    const items: AccessRequest[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: ascending,
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) items.push(toRequest(item));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length < limit);
    return items;
  }
}

/** The table as CreateTable input: the one schema in ./schema.ts (infra/ deploys the same). */
export function tableDefinition(table: string): CreateTableCommand['input'] {
  return tableSchemaDefinition(table);
}

/**
 * Creates the table if it does not exist (embedded store only), migrates one from an earlier
 * version that lacks an index (migrateTable) or whose due index is not sharded yet (reshardDue), and returns once it and its indexes are ACTIVE: CreateTable answers while the table is still CREATING, and a write before it
 * is ready fails with ResourceNotFoundException.
 *
 * TTL is not enabled here: dynalite has no UpdateTimeToLive, so the embedded store keeps resolved
 * requests (their `purgeAt` is written but nothing deletes them). A real table enables TTL on
 * `purgeAt` (infra/ does; the README says how by hand).
 */
export async function ensureTable(client: DynamoDBClient, table: string, timeoutMs = 30_000): Promise<'created' | 'exists'> {
  let outcome: 'created' | 'exists' = 'exists';
  if (await finishMigration(client, table, timeoutMs)) {
    await new DynamoRequestStore(client, table).reshardDue();
    return 'exists';
  }
  let existing;
  try {
    existing = await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await client.send(new CreateTableCommand(tableDefinition(table)));
    outcome = 'created';
  }
  if (existing && missingIndexes(existing.Table?.GlobalSecondaryIndexes).length > 0) await migrateTable(client, table, timeoutMs);
  await waitActive(client, table, timeoutMs);
  // Items from before the due index was sharded move to their shard (one empty Query once done).
  if (outcome === 'exists') await new DynamoRequestStore(client, table).reshardDue();
  return outcome;
}

async function waitActive(client: DynamoDBClient, table: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: table }));
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')) return;
    if (Date.now() > deadline) throw new Error(`table ${table} is still ${Table?.TableStatus} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function missingIndexes(have: { IndexName?: string }[] | undefined): string[] {
  const names = new Set((have ?? []).map((g) => g.IndexName));
  return Object.values(INDEX).filter((name) => !names.has(name));
}

/** Where an embedded table is copied while it gains indexes. */
const migratingName = (table: string) => `${table}.migrating`;

/**
 * The embedded store's upgrade: dynalite cannot add an index to a table (no GSI create in
 * UpdateTable), so a table from an earlier version is copied into a new table with every index
 * (`changeMonth`/`changedAt` filled in from each request's audit), dropped, made again and filled
 * from the copy. A crash midway is finished at the next start (finishMigration). Local and
 * one-off: a real table gets its indexes from update-table or infra/ (README).
 */
async function migrateTable(client: DynamoDBClient, table: string, timeoutMs: number): Promise<void> {
  const temp = migratingName(table);
  await dropTable(client, temp, timeoutMs);
  await client.send(new CreateTableCommand(tableDefinition(temp)));
  await waitActive(client, temp, timeoutMs);
  await copyTable(client, table, temp, withIndexKeys);
  // From here the copy is complete: a crash leaves the copy, and the next start finishes from it.
  await dropTable(client, table, timeoutMs);
  await finishMigration(client, table, timeoutMs);
}

/**
 * Finishes a migration whose copy is complete: the old table is gone or already has every index.
 * A copy that may be incomplete (the old table is still there without them) is dropped and the
 * migration starts again. True when there was one to finish.
 */
async function finishMigration(client: DynamoDBClient, table: string, timeoutMs: number): Promise<boolean> {
  const temp = migratingName(table);
  if (!(await tableExists(client, temp))) return false;
  const old = await describe(client, table);
  if (old && missingIndexes(old.GlobalSecondaryIndexes).length > 0) {
    // The copy into temp may have stopped midway: start over from the old table.
    await dropTable(client, temp, timeoutMs);
    return false;
  }
  if (!old) {
    await client.send(new CreateTableCommand(tableDefinition(table)));
  }
  await waitActive(client, table, timeoutMs);
  await copyTable(client, temp, table, (item) => item);
  await dropTable(client, temp, timeoutMs);
  return true;
}

async function describe(client: DynamoDBClient, table: string) {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return undefined;
    throw err;
  }
}

async function tableExists(client: DynamoDBClient, table: string): Promise<boolean> {
  return (await describe(client, table)) !== undefined;
}

async function dropTable(client: DynamoDBClient, table: string, timeoutMs: number): Promise<void> {
  if (!(await tableExists(client, table))) return;
  await client.send(new DeleteTableCommand({ TableName: table }));
  const deadline = Date.now() + timeoutMs;
  while (await tableExists(client, table)) {
    if (Date.now() > deadline) throw new Error(`table ${table} is still there after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type RawItem = Record<string, AttributeValue>;

/** Copies every item (a Scan: the one-off migration of a local store, never a bot query). */
async function copyTable(client: DynamoDBClient, from: string, to: string, map: (item: RawItem) => RawItem): Promise<void> {
  let startKey: RawItem | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: from, ExclusiveStartKey: startKey, Limit: 200 }));
    for (const item of page.Items ?? []) await client.send(new PutItemCommand({ TableName: to, Item: map(item) }));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}

/**
 * An item with the index keys of this version: a held rule with its heldShard, a request with the
 * byChange keys of its latest audit record (or its creation).
 */
function withIndexKeys(item: RawItem): RawItem {
  const pk = item.pk?.S ?? '';
  if (pk.startsWith('RULE#')) return item.holders?.SS?.length && !item.heldShard ? { ...item, heldShard: { S: heldShardOf(pk.slice('RULE#'.length)) } } : item;
  if (!pk.startsWith('REQ#') || item.changedAt) return item;
  const audit = item.audit?.L ?? [];
  const at = audit.at(-1)?.M?.at?.S ?? item.createdAt?.S;
  if (!at || Number.isNaN(Date.parse(at))) return item;
  const keys = changeKeys(at);
  return { ...item, changeMonth: { S: keys.changeMonth }, changedAt: { S: keys.changedAt } };
}

/**
 * Checks that an existing table has the key schema and indexes this store needs; throws naming
 * what is missing. Returns the optional indexes it lacks (OPTIONAL_INDEXES: the bot works
 * without them, more slowly: pass heldIndex: false to the store and warn).
 */
export async function checkTable(client: DynamoDBClient, table: string): Promise<{ missingOptional: string[] }> {
  let out;
  try {
    out = await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException) throw new Error(`JIT_DYNAMODB_TABLE: table "${table}" does not exist in this account/region; create it as the README describes (or deploy infra/)`);
    throw err;
  }
  const absent = missingIndexes(out.Table?.GlobalSecondaryIndexes);
  const missing = absent.filter((name) => !OPTIONAL_INDEXES.has(name));
  const hashKey = out.Table?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
  if (hashKey !== 'pk') throw new Error(`JIT_DYNAMODB_TABLE: table "${table}" must have partition key "pk" (string), found "${hashKey}"`);
  if (missing.length > 0) throw new Error(`JIT_DYNAMODB_TABLE: table "${table}" lacks the global secondary index(es) ${missing.join(', ')}; see the README's table schema`);
  return { missingOptional: absent.filter((name) => OPTIONAL_INDEXES.has(name)) };
}

function key(id: string): string {
  return `REQ#${id}`;
}

/** What one item of the table is, read back from its raw (unmarshalled) attributes. */
export type StoredItem =
  | { kind: 'request'; request: AccessRequest }
  | { kind: 'rule'; ruleKey: string; holders: string[]; revoking: boolean }
  | { kind: 'lease'; name: string; owner: string; untilMs: number }
  | { kind: 'other'; pk: string };

/**
 * Maps an item as a Scan returns it (lib-dynamodb, unmarshalled) back to what this store keeps:
 * a request without its index attributes, a rule of the registry with its holders, or a named
 * lease. The one place outside the store that knows its item keys (the embedded store's move to
 * SQLite reads the old table with it).
 */
export function fromRawItem(item: Record<string, unknown>): StoredItem {
  const pk = String(item.pk ?? '');
  if (pk.startsWith('REQ#')) return { kind: 'request', request: toRequest(item) };
  if (pk.startsWith('RULE#')) return { kind: 'rule', ruleKey: pk.slice('RULE#'.length), holders: [...((item.holders as Set<string> | undefined) ?? [])].sort(), revoking: item.revoking === true };
  if (pk.startsWith('LEASE#')) return { kind: 'lease', name: pk.slice('LEASE#'.length), owner: String(item.owner ?? ''), untilMs: Number(item.leaseUntil ?? 0) };
  return { kind: 'other', pk };
}

function toRequest(item: Record<string, unknown>): AccessRequest {
  const copy = { ...item };
  for (const attr of INDEX_ATTRIBUTES) delete copy[attr];
  copy.outbox ??= {};
  copy.audit ??= [];
  return copy as unknown as AccessRequest;
}

function mapConflict(err: unknown, message: string): unknown {
  return err instanceof ConditionalCheckFailedException ? new ConflictError(message) : err;
}

/** Builds "SET a = :a, … REMOVE b, …" with generated placeholders. */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  get size(): number {
    return this.sets.length + this.removes.length;
  }
  set(field: string, value: unknown): void {
    const i = this.size;
    this.names[`#f${i}`] = field;
    this.values[`:v${i}`] = value;
    this.sets.push(`#f${i} = :v${i}`);
  }
  setRaw(expression: string, names: Record<string, string>, values: Record<string, unknown>): void {
    Object.assign(this.names, names);
    Object.assign(this.values, values);
    this.sets.push(expression);
  }
  remove(field: string): void {
    const i = this.size;
    this.names[`#f${i}`] = field;
    this.removes.push(`#f${i}`);
  }
  expression(): string {
    return [this.sets.length ? `SET ${this.sets.join(', ')}` : '', this.removes.length ? `REMOVE ${this.removes.join(', ')}` : ''].filter(Boolean).join(' ');
  }
}
