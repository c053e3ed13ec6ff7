/**
 * Query and Scan: a page costs the sum of the sizes of every item it read (before any filter
 * or projection), rounded up to 4 KB. A Query reads one partition of its table or index; a
 * Scan page is charged on the partitions of the items it read. A Query on a global secondary
 * index is eventually consistent and is charged on the index's partitions. When the request
 * filters or projects, the limiter re-runs the page without them (unbilled) to size it.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html#Query.CapacityUnits
 */
import { queryReadUnits, type ReadMode, readUnits } from './capacity.ts';
import type { IndexSchema } from './index-writes.ts';
import { type AttributeValueLike, type ItemLike, itemSize } from './item-size.ts';
import {
  asItem,
  bodyOf,
  type Forwarded,
  type LimitedRequest,
  type LimiterContext,
  throttledAnswer,
} from './limiter-context.ts';
import { partitionOf } from './partitions.ts';
import type { TableSchema } from './tables.ts';
import type { Charge, PartitionRef } from './throughput.ts';

/** The names (`#n`) and values (`:v`) an expression uses. */
function placeholders(expression: string, sigil: '#' | ':'): Set<string> {
  const pattern = sigil === '#' ? /#[A-Za-z0-9_]+/g : /:[A-Za-z0-9_]+/g;
  return new Set(expression.match(pattern) ?? []);
}

function only(map: unknown, wanted: ReadonlySet<string>): Record<string, unknown> | undefined {
  if (typeof map !== 'object' || map === null) return undefined;
  const kept = Object.fromEntries(
    Object.entries(map as Record<string, unknown>).filter(([name]) => wanted.has(name)),
  );
  return Object.keys(kept).length === 0 ? undefined : kept;
}

/** The partition key value a Query names (`pk = :v` in its key condition), if it can tell. */
export function queriedPartitionValue(
  input: Readonly<Record<string, unknown>>,
  partitionKey: string,
): AttributeValueLike | undefined {
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValueLike>;
  const expression =
    typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
  const resolve = (token: string) => (token.startsWith('#') ? names[token] : token);
  const equality =
    /(#?[A-Za-z0-9_.]+)\s*=\s*(:[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)\s*=\s*(#?[A-Za-z0-9_.]+)/g;
  for (const match of expression.matchAll(equality)) {
    const name = match[1] ?? match[4] ?? '';
    const value = match[2] ?? match[3] ?? '';
    if (resolve(name) === partitionKey && values[value] !== undefined) return values[value];
  }
  const legacy = (
    input.KeyConditions as Record<string, { AttributeValueList?: unknown[] }> | undefined
  )?.[partitionKey];
  return asItem(legacy?.AttributeValueList?.[0]) as AttributeValueLike | undefined;
}

/** Whether the page's items as returned are not the items as read. */
function isReduced(input: Readonly<Record<string, unknown>>): boolean {
  return (
    input.ProjectionExpression !== undefined ||
    input.AttributesToGet !== undefined ||
    input.FilterExpression !== undefined ||
    input.QueryFilter !== undefined ||
    input.ScanFilter !== undefined ||
    (input.Select !== undefined && input.Select !== 'ALL_ATTRIBUTES')
  );
}

/** The same page without projection or filter: what DynamoDB read for it. */
export function unreducedInput(input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const page: Record<string, unknown> = {};
  for (const name of [
    'TableName',
    'IndexName',
    'KeyConditions',
    'ExclusiveStartKey',
    'Limit',
    'ScanIndexForward',
    'ConsistentRead',
    'Segment',
    'TotalSegments',
  ]) {
    if (input[name] !== undefined) page[name] = input[name];
  }
  const condition = input.KeyConditionExpression;
  if (typeof condition === 'string') {
    page.KeyConditionExpression = condition;
    const names = only(input.ExpressionAttributeNames, placeholders(condition, '#'));
    const values = only(input.ExpressionAttributeValues, placeholders(condition, ':'));
    if (names !== undefined) page.ExpressionAttributeNames = names;
    if (values !== undefined) page.ExpressionAttributeValues = values;
  }
  return page;
}

function indexOf(schema: TableSchema, input: Readonly<Record<string, unknown>>) {
  const name = input.IndexName;
  return typeof name === 'string' ? schema.indexes.find((index) => index.name === name) : undefined;
}

function partitionFor(
  ctx: LimiterContext,
  schema: TableSchema,
  index: IndexSchema | undefined,
  value: AttributeValueLike | undefined,
): PartitionRef {
  const count = ctx.meter.partitions(schema.name, index?.name);
  return {
    table: schema.name,
    index: index?.name,
    partition: value === undefined || count === 0 ? 0 : partitionOf(value, count),
  };
}

/** Query or Scan. */
export async function limitPage(
  ctx: LimiterContext,
  schema: TableSchema,
  request: LimitedRequest,
): Promise<Forwarded> {
  const { input, operation } = request;
  const index = indexOf(schema, input);
  if (input.IndexName !== undefined && index === undefined) return request.forward();
  // Global secondary indexes are read eventually consistent only.
  const mode: ReadMode =
    index === undefined && input.ConsistentRead === true ? 'strong' : 'eventual';
  const partitionKey = index?.keyAttributes[0] ?? schema.partitionKey;
  const queried = operation === 'Query' ? queriedPartitionValue(input, partitionKey) : undefined;
  const first = partitionFor(ctx, schema, index, queried);
  const minimum: Charge = { at: first, kind: 'read', units: readUnits(0, mode) };
  const blocked = ctx.meter.blocked([minimum]);
  if (blocked.length > 0) return throttledAnswer(ctx, request, blocked);
  ctx.meter.take([minimum]);
  const answer = await request.forward();
  let units = minimum.units;
  if (answer.status === 200) {
    const items: ItemLike[] = isReduced(input)
      ? operation === 'Query'
        ? await ctx.reader.query(unreducedInput(input))
        : await ctx.reader.scan(unreducedInput(input))
      : ((bodyOf(answer).Items as unknown[] | undefined) ?? []).flatMap((item) => {
          const asObject = asItem(item);
          return asObject === undefined ? [] : [asObject];
        });
    // A Query's items share one partition; a Scan's are grouped by theirs.
    const byPartition = new Map<string, { at: PartitionRef; sizes: number[] }>();
    for (const item of items) {
      const at =
        operation === 'Query'
          ? first
          : partitionFor(ctx, schema, index, item[partitionKey] as AttributeValueLike | undefined);
      const key = `${at.index ?? ''}#${at.partition}`;
      const group = byPartition.get(key) ?? { at, sizes: [] };
      group.sizes.push(itemSize(item));
      byPartition.set(key, group);
    }
    const charges: Charge[] = [...byPartition.values()].map(({ at, sizes }) => ({
      at,
      kind: 'read',
      units: queryReadUnits(sizes, mode),
    }));
    const total = charges.reduce((sum, charge) => sum + charge.units, 0);
    units = Math.max(minimum.units, total);
    ctx.meter.take([
      { at: first, kind: 'read', units: -Math.min(minimum.units, total) },
      ...charges,
    ]);
  }
  ctx.usage.add(request.client, 'readUnits', units);
  return answer;
}
