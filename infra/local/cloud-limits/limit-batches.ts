/**
 * BatchWriteItem and BatchGetItem: each item is rounded on its own and metered on its own
 * partition. The items whose partition cannot take them are not sent: they come back in
 * `UnprocessedItems` / `UnprocessedKeys`, as DynamoDB returns them; only when no item at all
 * could be processed is the whole batch throttled (ProvisionedThroughputExceededException).
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
import { readUnits, writeUnits } from './capacity.ts';
import { throughputExceeded } from './dynamodb-errors.ts';
import { type ItemLike, itemSize } from './item-size.ts';
import { isPartialRead } from './limit-items.ts';
import {
  asItem,
  bodyOf,
  errorAnswer,
  type Forwarded,
  indexCharges,
  keyOf,
  type LimitedRequest,
  type LimiterContext,
  rewrittenAnswer,
  sum,
  tablePartition,
  throttledResources,
} from './limiter-context.ts';
import { type TableSchema, tableNameOf } from './tables.ts';
import type { Charge } from './throughput.ts';

type Groups = Record<string, unknown[]>;

function append(groups: Groups, table: string, entries: readonly unknown[]): void {
  if (entries.length === 0) return;
  groups[table] = [...(groups[table] ?? []), ...entries];
}

async function schemas(
  ctx: LimiterContext,
  names: readonly string[],
): Promise<Map<string, TableSchema | undefined>> {
  const found = new Map<string, TableSchema | undefined>();
  for (const name of names) {
    const table = tableNameOf(name);
    found.set(name, table === undefined ? undefined : await ctx.tables.get(table));
  }
  return found;
}

export async function limitBatchWrite(
  ctx: LimiterContext,
  request: LimitedRequest,
): Promise<Forwarded> {
  const requestItems = (request.input.RequestItems ?? {}) as Groups;
  const tables = await schemas(ctx, Object.keys(requestItems));
  const entries = Object.entries(requestItems).flatMap(([table, writes]) =>
    (Array.isArray(writes) ? writes : []).map((write) => {
      const put = asItem(asItem(asItem(write)?.PutRequest)?.Item);
      const deleted = asItem(asItem(asItem(write)?.DeleteRequest)?.Key);
      const schema = tables.get(table);
      const given = put ?? deleted;
      const key = schema === undefined || given === undefined ? undefined : keyOf(schema, given);
      return { table, write, schema, key, after: put };
    }),
  );
  const metered = entries.flatMap((entry) =>
    entry.schema === undefined || entry.key === undefined
      ? []
      : [{ table: entry.schema.name, key: entry.key }],
  );
  const befores = await ctx.reader.getMany(metered);
  const admitted: Groups = {};
  const unprocessed: Groups = {};
  const blockedAll: Charge[] = [];
  let units = 0;
  let next = 0;
  for (const entry of entries) {
    if (entry.schema === undefined || entry.key === undefined) {
      append(admitted, entry.table, [entry.write]);
      continue;
    }
    const before = befores[next++];
    const charges: Charge[] = [
      {
        at: tablePartition(ctx, entry.schema, entry.key),
        kind: 'write',
        units: writeUnits(
          Math.max(
            before === undefined ? 0 : itemSize(before),
            entry.after === undefined ? 0 : itemSize(entry.after),
          ),
        ),
      },
      ...indexCharges(ctx, entry.schema, before, entry.after),
    ];
    const blocked = ctx.meter.blocked(charges);
    if (blocked.length > 0) {
      blockedAll.push(...blocked);
      append(unprocessed, entry.table, [entry.write]);
    } else {
      ctx.meter.take(charges);
      units += sum(charges);
      append(admitted, entry.table, [entry.write]);
    }
  }
  if (blockedAll.length > 0) ctx.usage.add(request.client, 'throttledRequests');
  if (Object.keys(admitted).length === 0) {
    return errorAnswer(throughputExceeded(throttledResources(ctx, blockedAll)));
  }
  ctx.usage.add(request.client, 'writeUnits', units);
  if (Object.keys(unprocessed).length === 0) return request.forward();
  const answer = await request.forward({ ...request.input, RequestItems: admitted });
  if (answer.status !== 200) return answer;
  const body = bodyOf(answer);
  const merged: Groups = { ...((body.UnprocessedItems ?? {}) as Groups) };
  for (const [table, writes] of Object.entries(unprocessed)) append(merged, table, writes);
  return rewrittenAnswer(answer, { ...body, UnprocessedItems: merged });
}

interface KeysAndAttributes {
  readonly Keys?: unknown[];
  readonly ConsistentRead?: boolean;
  readonly [name: string]: unknown;
}

export async function limitBatchGet(
  ctx: LimiterContext,
  request: LimitedRequest,
): Promise<Forwarded> {
  const requestItems = (request.input.RequestItems ?? {}) as Record<string, KeysAndAttributes>;
  const tables = await schemas(ctx, Object.keys(requestItems));
  const admitted: Record<string, KeysAndAttributes> = {};
  const unprocessed: Record<string, KeysAndAttributes> = {};
  const blockedAll: Charge[] = [];
  let units = 0;
  for (const [table, group] of Object.entries(requestItems)) {
    const schema = tables.get(table);
    const keys = Array.isArray(group.Keys) ? group.Keys : [];
    const mode = group.ConsistentRead === true ? 'strong' : 'eventual';
    const kept: unknown[] = [];
    const left: unknown[] = [];
    for (const key of keys) {
      const item = asItem(key);
      if (schema === undefined || item === undefined) {
        kept.push(key);
        continue;
      }
      const charge: Charge = {
        at: tablePartition(ctx, schema, item),
        kind: 'read',
        units: readUnits(0, mode),
      };
      const blocked = ctx.meter.blocked([charge]);
      if (blocked.length > 0) {
        blockedAll.push(...blocked);
        left.push(key);
      } else {
        ctx.meter.take([charge]);
        units += charge.units;
        kept.push(key);
      }
    }
    if (kept.length > 0) admitted[table] = { ...group, Keys: kept };
    if (left.length > 0) unprocessed[table] = { ...group, Keys: left };
  }
  if (blockedAll.length > 0) ctx.usage.add(request.client, 'throttledRequests');
  if (Object.keys(admitted).length === 0) {
    return errorAnswer(throughputExceeded(throttledResources(ctx, blockedAll)));
  }
  const answer = await request.forward(
    Object.keys(unprocessed).length === 0
      ? undefined
      : { ...request.input, RequestItems: admitted },
  );
  if (answer.status !== 200) {
    ctx.usage.add(request.client, 'readUnits', units);
    return answer;
  }
  const body = bodyOf(answer);
  const responses = (body.Responses ?? {}) as Record<string, unknown[]>;
  for (const [table, items] of Object.entries(responses)) {
    const schema = tables.get(table);
    const group = admitted[table];
    if (schema === undefined || group === undefined) continue;
    const mode = group.ConsistentRead === true ? 'strong' : 'eventual';
    const returned = items.flatMap((item) => {
      const asObject = asItem(item);
      return asObject === undefined ? [] : [asObject];
    });
    // A projection may leave out key attributes, so that the items returned cannot name
    // themselves: the keys asked for are read whole instead, each found one billed by size.
    const read: ItemLike[] = isPartialRead(group)
      ? (
          await ctx.reader.getMany(
            (group.Keys ?? []).flatMap((key) => {
              const item = asItem(key);
              return item === undefined ? [] : [{ table: schema.name, key: keyOf(schema, item) }];
            }),
          )
        ).filter((item): item is ItemLike => item !== undefined)
      : returned;
    const extra: Charge[] = read.map((item) => ({
      at: tablePartition(ctx, schema, item),
      kind: 'read',
      units: readUnits(itemSize(item), mode) - readUnits(0, mode),
    }));
    ctx.meter.take(extra);
    units += sum(extra);
  }
  ctx.usage.add(request.client, 'readUnits', units);
  if (Object.keys(unprocessed).length === 0) return answer;
  const merged = { ...((body.UnprocessedKeys ?? {}) as Record<string, KeysAndAttributes>) };
  for (const [table, group] of Object.entries(unprocessed)) {
    const existing = merged[table];
    merged[table] = {
      ...group,
      Keys: [...(Array.isArray(existing?.Keys) ? existing.Keys : []), ...(group.Keys ?? [])],
    };
  }
  return rewrittenAnswer(answer, { ...body, UnprocessedKeys: merged });
}
