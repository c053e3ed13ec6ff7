/**
 * Single-item operations: PutItem, UpdateItem, DeleteItem and GetItem, metered on the item's
 * table partition (and, for writes, on the index partitions its entries move through).
 */
import { itemWriteUnits, type ReadMode, readUnits } from './capacity.ts';
import { transactionConflict } from './dynamodb-errors.ts';
import { type ItemLike, sizeOfItem } from './item-size.ts';
import {
  asItem,
  bodyOf,
  errorAnswer,
  type Forwarded,
  indexCharges,
  itemIdentity,
  keyOf,
  type LimitedRequest,
  type LimiterContext,
  tablePartition,
  throttledAnswer,
} from './limiter-context.ts';
import type { TableSchema } from './tables.ts';
import type { Charge } from './throughput.ts';

/**
 * The item after a successful UpdateItem: the whole of it is in the answer when the request
 * asked for ReturnValues ALL_NEW ("all of the attributes of the item, as they appear after
 * the UpdateItem operation"), else it is read.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-ReturnValues
 */
async function updatedItem(
  ctx: LimiterContext,
  schema: TableSchema,
  request: LimitedRequest,
  answer: Forwarded,
  key: ItemLike,
): Promise<ItemLike | undefined> {
  if (request.input.ReturnValues === 'ALL_NEW') {
    const returned = asItem(bodyOf(answer).Attributes);
    if (returned !== undefined) return returned;
  }
  return ctx.reader.get(schema.name, key);
}

/** PutItem, UpdateItem, DeleteItem: the larger of before and after, index writes on success. */
export async function limitItemWrite(
  ctx: LimiterContext,
  schema: TableSchema,
  request: LimitedRequest,
): Promise<Forwarded> {
  const { input, operation } = request;
  const given = asItem(operation === 'PutItem' ? input.Item : input.Key);
  if (given === undefined) return request.forward();
  const key = keyOf(schema, given);
  if (ctx.locks.isHeld(itemIdentity(schema, key))) {
    ctx.usage.add(request.client, 'transactionConflicts');
    return errorAnswer(transactionConflict());
  }
  const before = await ctx.reader.get(schema.name, key);
  // What is known before the write: a put's new item; an update's result is read after it.
  const expected =
    operation === 'PutItem' ? given : operation === 'DeleteItem' ? undefined : before;
  const at = tablePartition(ctx, schema, key);
  const estimate: Charge = {
    at,
    kind: 'write',
    units: itemWriteUnits(sizeOfItem(before), sizeOfItem(expected)),
  };
  const estimatedIndex = indexCharges(ctx, schema, before, expected);
  const blocked = ctx.meter.blocked([estimate, ...estimatedIndex]);
  if (blocked.length > 0) return throttledAnswer(ctx, request, blocked);
  ctx.meter.take([estimate]);
  const answer = await request.forward();
  let units = estimate.units;
  if (answer.status === 200) {
    const after =
      operation === 'UpdateItem' ? await updatedItem(ctx, schema, request, answer, key) : expected;
    const actual = itemWriteUnits(sizeOfItem(before), sizeOfItem(after));
    const index = indexCharges(ctx, schema, before, after);
    const extra: Charge[] = [{ at, kind: 'write', units: Math.max(0, actual - estimate.units) }];
    ctx.meter.take([...extra, ...index]);
    units = Math.max(actual, estimate.units) + index.reduce((total, c) => total + c.units, 0);
  }
  ctx.usage.add(request.client, 'writeUnits', units);
  return answer;
}

function readModeOf(input: Readonly<Record<string, unknown>>): ReadMode {
  return input.ConsistentRead === true ? 'strong' : 'eventual';
}

/** Whether a read returns less than the whole item, so that the item must be read to size. */
export function isPartialRead(input: Readonly<Record<string, unknown>>): boolean {
  return input.ProjectionExpression !== undefined || input.AttributesToGet !== undefined;
}

/** GetItem: 4 KB steps of the whole item, whatever the projection; a missing item the minimum. */
export async function limitGetItem(
  ctx: LimiterContext,
  schema: TableSchema,
  request: LimitedRequest,
): Promise<Forwarded> {
  const given = asItem(request.input.Key);
  if (given === undefined) return request.forward();
  const key = keyOf(schema, given);
  const mode = readModeOf(request.input);
  const at = tablePartition(ctx, schema, key);
  const minimum: Charge = { at, kind: 'read', units: readUnits(0, mode) };
  const blocked = ctx.meter.blocked([minimum]);
  if (blocked.length > 0) return throttledAnswer(ctx, request, blocked);
  ctx.meter.take([minimum]);
  const answer = await request.forward();
  let units = minimum.units;
  if (answer.status === 200) {
    const item = isPartialRead(request.input)
      ? await ctx.reader.get(schema.name, key)
      : asItem(bodyOf(answer).Item);
    units = readUnits(sizeOfItem(item) ?? 0, mode);
    ctx.meter.take([{ at, kind: 'read', units: units - minimum.units }]);
  }
  ctx.usage.add(request.client, 'readUnits', units);
  return answer;
}
