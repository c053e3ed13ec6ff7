/**
 * The limiter's own reads of DynamoDB Local, straight to it and never billed: the item before
 * and after a write (to size it and its index entries), a Query or Scan page re-run without
 * projection or filter (to size what it read), and DescribeTable.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { ItemLike } from './item-size.ts';

type Item = Record<string, AttributeValue>;

/** A wire-format value (B as base64 text) as the SDK wants it (B as bytes). */
export function toSdkValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toSdkValue);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'B' && typeof inner === 'string') out[key] = Buffer.from(inner, 'base64');
    else if (key === 'BS' && Array.isArray(inner))
      out[key] = inner.map((item) =>
        typeof item === 'string' ? Buffer.from(item, 'base64') : item,
      );
    else out[key] = toSdkValue(inner);
  }
  return out;
}

/** The wire form of a value (bytes as base64 text), for comparing keys. */
export function toWireValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toWireValue);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = toWireValue(inner);
  }
  return out;
}

/** One text per item key: the table and the key attributes' values, in name order. */
export function keyIdentity(table: string, item: ItemLike, keyNames: readonly string[]): string {
  const names = [...keyNames].sort();
  return `${table}\u0000${JSON.stringify(names.map((name) => toWireValue(item[name])))}`;
}

export interface ItemKey {
  readonly table: string;
  readonly key: ItemLike;
}

export class ItemReader {
  readonly #client: DynamoDBClient;

  constructor(
    endpoint: string,
    region: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
  ) {
    this.#client = new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 3 });
  }

  async describe(table: string): Promise<TableDescription | undefined> {
    try {
      const answer = await this.#client.send(new DescribeTableCommand({ TableName: table }));
      return answer.Table;
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  async get(table: string, key: ItemLike): Promise<ItemLike | undefined> {
    const answer = await this.#client.send(
      new GetItemCommand({ TableName: table, Key: toSdkValue(key) as Item, ConsistentRead: true }),
    );
    return answer.Item;
  }

  /** The items of the keys, in order (undefined for a missing one), 100 keys per request. */
  async getMany(keys: readonly ItemKey[]): Promise<(ItemLike | undefined)[]> {
    const found = new Map<string, ItemLike>();
    for (let start = 0; start < keys.length; start += 100) {
      const group = keys.slice(start, start + 100);
      const requestItems: Record<string, { Keys: Item[]; ConsistentRead: boolean }> = {};
      const seen = new Set<string>();
      for (const { table, key } of group) {
        const id = keyIdentity(table, key, Object.keys(key));
        if (seen.has(id)) continue;
        seen.add(id);
        const entry = requestItems[table] ?? { Keys: [], ConsistentRead: true };
        entry.Keys.push(toSdkValue(key) as Item);
        requestItems[table] = entry;
      }
      let pending: typeof requestItems | undefined = requestItems;
      while (pending !== undefined && Object.keys(pending).length > 0) {
        const answer: BatchGetItemCommandOutput = await this.#client.send(
          new BatchGetItemCommand({ RequestItems: pending }),
        );
        for (const [table, items] of Object.entries(answer.Responses ?? {})) {
          const sample = group.find((entry) => entry.table === table)?.key;
          const keyNames = Object.keys(sample ?? {});
          for (const item of items) found.set(keyIdentity(table, item, keyNames), item);
        }
        const unprocessed: BatchGetItemCommandOutput['UnprocessedKeys'] = answer.UnprocessedKeys;
        pending =
          unprocessed === undefined || Object.keys(unprocessed).length === 0
            ? undefined
            : (unprocessed as typeof requestItems);
      }
    }
    return keys.map(({ table, key }) => found.get(keyIdentity(table, key, Object.keys(key))));
  }

  /** One page of a Query, its input in wire form. */
  async query(input: Readonly<Record<string, unknown>>): Promise<ItemLike[]> {
    const answer = await this.#client.send(
      new QueryCommand(toSdkValue(input) as QueryCommandInput),
    );
    return answer.Items ?? [];
  }

  /** One page of a Scan, its input in wire form. */
  async scan(input: Readonly<Record<string, unknown>>): Promise<ItemLike[]> {
    const answer = await this.#client.send(new ScanCommand(toSdkValue(input) as ScanCommandInput));
    return answer.Items ?? [];
  }

  destroy(): void {
    this.#client.destroy();
  }
}
