/**
 * TransactWriteItems and TransactGetItems. Every item costs twice (a prepare and a commit):
 * 2 write units per KB, 2 read units per 4 KB. An item takes part in one write transaction
 * at a time: a transaction touching an item another holds is cancelled with
 * `TransactionConflict`; one whose partitions cannot take it is cancelled with
 * `ThrottlingError` (neither is retried by the SDK). The actions not at fault get `None`.
 * Index writes a transaction causes are standard writes on the index partitions.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html
 */
import { itemWriteUnits, readUnits } from './capacity.ts';
import { type CancellationCode, transactionCanceled } from './dynamodb-errors.ts';
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
  sum,
  tablePartition,
} from './limiter-context.ts';
import { type TableSchema, tableNameOf } from './tables.ts';
import type { Charge } from './throughput.ts';

type ActionKind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck' | 'Get';

interface Action {
  readonly kind: ActionKind;
  readonly schema: TableSchema | undefined;
  readonly key: ItemLike | undefined;
  /** A Put's new item. */
  readonly item: ItemLike | undefined;
  readonly partial: boolean;
}

async function actionsOf(ctx: LimiterContext, input: Readonly<Record<string, unknown>>) {
  const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
  const actions: Action[] = [];
  for (const entry of items) {
    const wrapper = asItem(entry) ?? {};
    const kind = (['Put', 'Update', 'Delete', 'ConditionCheck', 'Get'] as const).find(
      (name) => wrapper[name] !== undefined,
    );
    const body = asItem(kind === undefined ? undefined : wrapper[kind]) ?? {};
    const table = tableNameOf(body.TableName);
    const schema = table === undefined ? undefined : await ctx.tables.get(table);
    const given = asItem(kind === 'Put' ? body.Item : body.Key);
    actions.push({
      kind: kind ?? 'ConditionCheck',
      schema,
      key: schema === undefined || given === undefined ? undefined : keyOf(schema, given),
      item: kind === 'Put' ? given : undefined,
      partial: body.ProjectionExpression !== undefined,
    });
  }
  return actions;
}

function identities(actions: readonly Action[]): string[] {
  return actions.flatMap((action) =>
    action.schema === undefined || action.key === undefined
      ? []
      : [itemIdentity(action.schema, action.key)],
  );
}

/** The cancellation answer: `code` for the actions at fault, `None` for the others. */
function canceled(actions: readonly Action[], atFault: (action: Action) => boolean) {
  const codes: CancellationCode[] = actions.map(() => 'None');
  return (code: CancellationCode) => {
    actions.forEach((action, index) => {
      if (atFault(action)) codes[index] = code;
    });
    return errorAnswer(transactionCanceled(codes));
  };
}

/** The `TransactionConflict` answer: at fault, the actions on an item in `held`. */
function conflictCanceled(actions: readonly Action[], held: ReadonlySet<string>): Forwarded {
  return canceled(actions, (action) =>
    action.schema !== undefined && action.key !== undefined
      ? held.has(itemIdentity(action.schema, action.key))
      : false,
  )('TransactionConflict');
}

export async function limitTransactWrite(
  ctx: LimiterContext,
  request: LimitedRequest,
): Promise<Forwarded> {
  const actions = await actionsOf(ctx, request.input);
  const ids = identities(actions);
  const { owner, conflicts } = ctx.locks.acquire(ids);
  if (conflicts.length > 0) {
    const held = new Set(conflicts);
    ctx.usage.add(request.client, 'transactionConflicts');
    return conflictCanceled(actions, held);
  }
  let releaseMargin = ctx.limits.transactionHoldMarginMs;
  try {
    const metered = actions.filter(
      (action) => action.schema !== undefined && action.key !== undefined,
    );
    const befores = await ctx.reader.getMany(
      metered.map((action) => ({ table: action.schema?.name ?? '', key: action.key ?? {} })),
    );
    const before = new Map(metered.map((action, index) => [action, befores[index]]));
    const expected = (action: Action) =>
      action.kind === 'Put'
        ? action.item
        : action.kind === 'Delete'
          ? undefined
          : before.get(action);
    const charges = new Map<Action, Charge>();
    const estimates = new Map<Action, Charge[]>();
    for (const action of metered) {
      if (action.schema === undefined || action.key === undefined) continue;
      const charge: Charge = {
        at: tablePartition(ctx, action.schema, action.key),
        kind: 'write',
        units: itemWriteUnits(sizeOfItem(before.get(action)), sizeOfItem(expected(action)), true),
      };
      charges.set(action, charge);
      estimates.set(action, [
        charge,
        ...indexCharges(ctx, action.schema, before.get(action), expected(action)),
      ]);
    }
    const blocked = new Set(ctx.meter.blocked([...estimates.values()].flat()));
    if (blocked.size > 0) {
      releaseMargin = 0;
      ctx.usage.add(request.client, 'throttledRequests');
      return canceled(actions, (action) =>
        (estimates.get(action) ?? []).some((charge) => blocked.has(charge)),
      )('ThrottlingError');
    }
    ctx.meter.take([...charges.values()]);
    let units = sum([...charges.values()]);
    const answer = await request.forward();
    if (answer.status === 200) {
      const updates = metered.filter((action) => action.kind === 'Update');
      const afterItems = await ctx.reader.getMany(
        updates.map((action) => ({ table: action.schema?.name ?? '', key: action.key ?? {} })),
      );
      const after = new Map(updates.map((action, index) => [action, afterItems[index]]));
      const extra: Charge[] = [];
      for (const action of metered) {
        if (action.schema === undefined || action.kind === 'ConditionCheck') continue;
        const result = action.kind === 'Update' ? after.get(action) : expected(action);
        const charge = charges.get(action);
        if (charge !== undefined && action.kind === 'Update') {
          const actual = itemWriteUnits(sizeOfItem(before.get(action)), sizeOfItem(result), true);
          extra.push({ ...charge, units: Math.max(0, actual - charge.units) });
        }
        extra.push(...indexCharges(ctx, action.schema, before.get(action), result));
      }
      ctx.meter.take(extra);
      units += sum(extra);
    }
    ctx.usage.add(request.client, 'writeUnits', units);
    return answer;
  } finally {
    ctx.locks.release(owner, ids, releaseMargin);
  }
}

export async function limitTransactGet(
  ctx: LimiterContext,
  request: LimitedRequest,
): Promise<Forwarded> {
  const actions = await actionsOf(ctx, request.input);
  const held = new Set(identities(actions).filter((id) => ctx.locks.isHeld(id)));
  if (held.size > 0) {
    ctx.usage.add(request.client, 'transactionConflicts');
    return conflictCanceled(actions, held);
  }
  const charges = new Map<Action, Charge>();
  for (const action of actions) {
    if (action.schema === undefined || action.key === undefined) continue;
    charges.set(action, {
      at: tablePartition(ctx, action.schema, action.key),
      kind: 'read',
      units: readUnits(0, 'transactional'),
    });
  }
  const blocked = new Set(ctx.meter.blocked([...charges.values()]));
  if (blocked.size > 0) {
    ctx.usage.add(request.client, 'throttledRequests');
    return canceled(actions, (action) => {
      const charge = charges.get(action);
      return charge !== undefined && blocked.has(charge);
    })('ThrottlingError');
  }
  ctx.meter.take([...charges.values()]);
  let units = sum([...charges.values()]);
  const answer = await request.forward();
  if (answer.status === 200) {
    const responses = Array.isArray(bodyOf(answer).Responses)
      ? (bodyOf(answer).Responses as unknown[])
      : [];
    const partial = actions.filter((action) => action.partial && charges.has(action));
    const full = await ctx.reader.getMany(
      partial.map((action) => ({ table: action.schema?.name ?? '', key: action.key ?? {} })),
    );
    const fullOf = new Map(partial.map((action, index) => [action, full[index]]));
    const extra: Charge[] = [];
    actions.forEach((action, index) => {
      const charge = charges.get(action);
      if (charge === undefined) return;
      const item = action.partial ? fullOf.get(action) : asItem(asItem(responses[index])?.Item);
      extra.push({
        ...charge,
        units: readUnits(sizeOfItem(item) ?? 0, 'transactional') - charge.units,
      });
    });
    ctx.meter.take(extra);
    units += sum(extra);
  }
  ctx.usage.add(request.client, 'readUnits', units);
  return answer;
}
