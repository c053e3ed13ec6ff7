/**
 * An in-memory stand-in for the table's idempotency records, behind a mocked DynamoDBClient:
 * Powertools' DynamoDBPersistenceLayer sends plain PutItem / GetItem / UpdateItem /
 * DeleteItem, and this answers them as DynamoDB would, conditions included (the put succeeds
 * only for a new key, an expired record, or an in-progress record whose lock expired).
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/** An attribute value as plain JSON (the kinds the persistence layer writes). */
export function plainValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.L !== undefined) return value.L.map(plainValue);
  if (value.M !== undefined) return plainItem(value.M);
  throw new TypeError(`unexpected attribute value ${JSON.stringify(value)}`);
}

export function plainItem(item: Item): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, plainValue(value)]));
}

export interface IdempotencyTable {
  readonly items: Map<string, Item>;
  /** The stored records as plain objects. */
  records(): Record<string, unknown>[];
  /** Replaces a stored record's attribute, e.g. to make its lock expire. */
  set(sortKey: string, attribute: string, value: AttributeValue): void;
}

function keyOf(key: Item | undefined): string {
  return `${key?.pk?.S}|${key?.sk?.S}`;
}

/**
 * A copy with every map's keys in reverse order: DynamoDB does not keep the order of map
 * keys, so code that depends on it fails here as it would there.
 */
function reordered(item: Item): Item {
  const reorder = (value: AttributeValue): AttributeValue =>
    value.M === undefined ? value : { M: reordered(value.M) };
  return Object.fromEntries(
    Object.entries(item)
      .reverse()
      .map(([name, value]) => [name, reorder(value)]),
  );
}

function number(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}

/** Wires the fake into a mocked DynamoDBClient (call after `reset()`). */
export function useIdempotencyTable(mock: AwsClientStub<DynamoDBClient>): IdempotencyTable {
  const items = new Map<string, Item>();

  mock.on(PutItemCommand).callsFake((input: PutItemCommandInput) => {
    const item = input.Item ?? {};
    const key = keyOf(item);
    const old = items.get(key);
    if (old !== undefined) {
      const now = Date.now();
      const expired = (number(old.expiresAt) ?? Number.POSITIVE_INFINITY) < now / 1000;
      const lockExpired =
        old.status?.S === 'INPROGRESS' &&
        (number(old.in_progress_expiration) ?? Number.POSITIVE_INFINITY) < now;
      if (!expired && !lockExpired) {
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: { httpStatusCode: 400 },
          Item: reordered(old),
        });
      }
    }
    items.set(key, item);
    return {};
  });

  mock.on(GetItemCommand).callsFake((input: GetItemCommandInput) => {
    const item = items.get(keyOf(input.Key));
    return item === undefined ? {} : { Item: reordered(item) };
  });

  mock.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
    const key = keyOf(input.Key);
    const item: Item = { ...(items.get(key) ?? input.Key ?? {}) };
    const assignments = (input.UpdateExpression ?? '').replace(/^SET /, '').split(', ');
    for (const assignment of assignments) {
      const [name, value] = assignment.split(' = ');
      const attribute = input.ExpressionAttributeNames?.[name ?? ''];
      const attributeValue = input.ExpressionAttributeValues?.[value ?? ''];
      if (attribute !== undefined && attributeValue !== undefined) item[attribute] = attributeValue;
    }
    items.set(key, item);
    return {};
  });

  mock.on(DeleteItemCommand).callsFake((input: DeleteItemCommandInput) => {
    items.delete(keyOf(input.Key));
    return {};
  });

  return {
    items,
    records: () => [...items.values()].map(plainItem),
    set(sortKey, attribute, value) {
      for (const item of items.values()) {
        if (item.sk?.S === sortKey) item[attribute] = value;
      }
    },
  };
}
