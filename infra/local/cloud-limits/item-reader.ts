/**
 * The limiter's own reads of DynamoDB Local, straight to it and never billed: the item before
 * and after a write (to size it and its index entries), a Query or Scan page re-run without
 * projection or filter (to size what it read), and DescribeTable.
 *
 * They are plain JSON requests on a kept-alive connection, in the wire form the limiter
 * already reads (B as base64 text), not SDK calls: the limiter runs beside the whole local
 * stack, and every write it meters costs one of these reads, so an SDK's serializing,
 * signing and parsing would be the instrument's own load on the machine it measures.
 * DynamoDB Local does not check signatures; it keys its data by the credential's access key
 * and region, which the Authorization header names.
 */
import { Agent, request as httpRequest } from 'node:http';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { asItem, type ItemLike } from './item-size.ts';

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

/** Attempts of one read: DynamoDB Local may drop a connection under load. */
const READ_ATTEMPTS = 3;
/** A read that has not answered by then is given up (and tried again): it holds a write. */
const READ_TIMEOUT_MS = 10_000;

/** A DynamoDB error answer, by its type (the part after `#`). */
export class DynamoDbLocalError extends Error {
  readonly type: string;

  constructor(type: string, message: string) {
    super(`${type}: ${message}`);
    this.name = 'DynamoDbLocalError';
    this.type = type;
  }
}

type WireBody = Readonly<Record<string, unknown>>;

/** The objects of a JSON array of items (anything else in it left out). */
function itemsOf(value: unknown): ItemLike[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const object = asItem(item);
    return object === undefined ? [] : [object];
  });
}

export class ItemReader {
  readonly #target: URL;
  readonly #authorization: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(endpoint: string, region: string, credentials: { readonly accessKeyId: string }) {
    this.#target = new URL(endpoint);
    this.#authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20200101/${region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-target, Signature=${'0'.repeat(64)}`;
  }

  /** One DynamoDB JSON request; the answer's body, or a DynamoDbLocalError. */
  async #call(operation: string, input: WireBody): Promise<WireBody> {
    const body = Buffer.from(JSON.stringify(input), 'utf8');
    for (let attempt = 1; ; attempt++) {
      try {
        const { status, text } = await this.#post(operation, body);
        const answer = asItem(JSON.parse(text)) ?? {};
        if (status === 200) return answer;
        const type = String(answer.__type ?? 'UnknownError');
        const error = new DynamoDbLocalError(
          type.slice(type.indexOf('#') + 1),
          String(answer.message ?? answer.Message ?? text.slice(0, 200)),
        );
        if (status < 500 || attempt >= READ_ATTEMPTS) throw error;
      } catch (error) {
        if (error instanceof DynamoDbLocalError || attempt >= READ_ATTEMPTS) throw error;
      }
    }
  }

  #post(operation: string, body: Buffer): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const sent = httpRequest(
        {
          host: this.#target.hostname,
          port: this.#target.port,
          method: 'POST',
          path: '/',
          agent: this.#agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': String(body.length),
            'x-amz-target': `DynamoDB_20120810.${operation}`,
            authorization: this.#authorization,
          },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.once('error', reject);
          answer.once('end', () =>
            resolve({
              status: answer.statusCode ?? 502,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      sent.once('error', reject);
      sent.setTimeout(READ_TIMEOUT_MS, () =>
        sent.destroy(
          new Error(`DynamoDB Local did not answer ${operation} in ${READ_TIMEOUT_MS} ms`),
        ),
      );
      sent.end(body);
    });
  }

  async describe(table: string): Promise<TableDescription | undefined> {
    try {
      const answer = await this.#call('DescribeTable', { TableName: table });
      // DescribeTable's answer, of which the limiter reads the key schema and indexes.
      return asItem(answer.Table) as TableDescription | undefined;
    } catch (error) {
      if (error instanceof DynamoDbLocalError && error.type === 'ResourceNotFoundException')
        return undefined;
      throw error;
    }
  }

  async get(table: string, key: ItemLike): Promise<ItemLike | undefined> {
    const answer = await this.#call('GetItem', {
      TableName: table,
      Key: key,
      ConsistentRead: true,
    });
    return asItem(answer.Item);
  }

  /** The items of the keys, in order (undefined for a missing one), 100 keys per request. */
  async getMany(keys: readonly ItemKey[]): Promise<(ItemLike | undefined)[]> {
    const found = new Map<string, ItemLike>();
    for (let start = 0; start < keys.length; start += 100) {
      const group = keys.slice(start, start + 100);
      const requestItems: Record<string, { Keys: ItemLike[]; ConsistentRead: boolean }> = {};
      const seen = new Set<string>();
      for (const { table, key } of group) {
        const id = keyIdentity(table, key, Object.keys(key));
        if (seen.has(id)) continue;
        seen.add(id);
        const entry = requestItems[table] ?? { Keys: [], ConsistentRead: true };
        entry.Keys.push(key);
        requestItems[table] = entry;
      }
      let pending: WireBody | undefined = requestItems;
      while (pending !== undefined && Object.keys(pending).length > 0) {
        const answer = await this.#call('BatchGetItem', { RequestItems: pending });
        const responses = asItem(answer.Responses) ?? {};
        for (const [table, listed] of Object.entries(responses)) {
          const items = itemsOf(listed);
          const sample = group.find((entry) => entry.table === table)?.key;
          const keyNames = Object.keys(sample ?? {});
          for (const item of items) found.set(keyIdentity(table, item, keyNames), item);
        }
        const unprocessed = asItem(answer.UnprocessedKeys);
        pending =
          unprocessed === undefined || Object.keys(unprocessed).length === 0
            ? undefined
            : unprocessed;
      }
    }
    return keys.map(({ table, key }) => found.get(keyIdentity(table, key, Object.keys(key))));
  }

  /** One page of a Query, its input in wire form. */
  async query(input: Readonly<Record<string, unknown>>): Promise<ItemLike[]> {
    const answer = await this.#call('Query', input);
    return itemsOf(answer.Items);
  }

  /** One page of a Scan, its input in wire form. */
  async scan(input: Readonly<Record<string, unknown>>): Promise<ItemLike[]> {
    const answer = await this.#call('Scan', input);
    return itemsOf(answer.Items);
  }

  destroy(): void {
    this.#agent.destroy();
  }
}
