/**
 * What every store module shares: the injected table, the one pagination helper, the one
 * expression builder, and the narrowing of DynamoDB's condition errors.
 */
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  paginateQuery,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { errorName, InconsistentJobError } from '../errors.ts';
import { sleep as defaultSleep, type Sleep } from '../retry.ts';
import type { ItemKey } from './keys.ts';

export interface JobTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

export type Item = Record<string, unknown>;

/**
 * Every item a Query returns, page by page (each page at most 1 MB, or `pageSize` items),
 * with lib-dynamodb's paginator following LastEvaluatedKey. Stop iterating to stop reading.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
 */
export async function* queryPages(
  table: JobTable,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  pageSize?: number,
): AsyncGenerator<Item[]> {
  const pages = paginateQuery(
    { client: table.client, ...(pageSize !== undefined && { pageSize }) },
    { ...input, TableName: table.tableName },
  );
  for await (const page of pages) yield page.Items ?? [];
}

/** BatchGetItem takes at most 100 keys; unprocessed keys are retried this often. */
const BATCH_GET_MAX_KEYS = 100;
const UNPROCESSED_RETRIES = 8;

export interface BatchGetOptions {
  readonly consistent: boolean;
  /** Names the items in the error when they stay unprocessed. */
  readonly what: string;
  /**
   * Only these attributes of each item (a projection; name the key attributes too, to tell
   * the items apart). A projection shrinks the response, not the bill: BatchGetItem is billed
   * by each item's full size.
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#read-operation-consumption
   */
  readonly attributes?: readonly string[];
  readonly sleep?: Sleep;
}

/**
 * The items of `keys` that exist, by BatchGetItem in groups of 100, retrying unprocessed
 * keys with backoff.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
 */
export async function batchGetItems(
  table: JobTable,
  keys: readonly ItemKey[],
  options: BatchGetOptions,
): Promise<Item[]> {
  const items: Item[] = [];
  const attributes = options.attributes === undefined ? {} : projection(options.attributes);
  for (let start = 0; start < keys.length; start += BATCH_GET_MAX_KEYS) {
    let pending: Record<string, unknown>[] = keys.slice(start, start + BATCH_GET_MAX_KEYS);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > UNPROCESSED_RETRIES) {
        throw new InconsistentJobError(options.what, 'items stayed unprocessed after retries');
      }
      if (attempt > 0) await (options.sleep ?? defaultSleep)(Math.min(1_000, 25 * 2 ** attempt));
      const response = await table.client.send(
        new BatchGetCommand({
          RequestItems: {
            [table.tableName]: {
              Keys: pending,
              ConsistentRead: options.consistent,
              ...attributes,
            },
          },
        }),
      );
      items.push(...(response.Responses?.[table.tableName] ?? []));
      pending = response.UnprocessedKeys?.[table.tableName]?.Keys ?? [];
    }
  }
  return items;
}

/** Projection of `attributes`, every name aliased (`status`, `count` are reserved words). */
export function projection(attributes: readonly string[]): {
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
} {
  const names: Record<string, string> = {};
  for (const attribute of attributes) names[`#${attribute}`] = attribute;
  return { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
}

/**
 * Builds an UpdateExpression from clauses, with every attribute name and value aliased, so
 * no store module writes expression text by hand. A path is an attribute name or
 * `[map, key]` for a map entry.
 */
export class UpdateBuilder {
  readonly #set: string[] = [];
  readonly #add: string[] = [];
  readonly #remove: string[] = [];
  readonly #conditions: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  #nextName = 0;
  #nextValue = 0;

  name(path: string | readonly [string, string]): string {
    const parts = typeof path === 'string' ? [path] : path;
    return parts
      .map((part) => {
        const existing = Object.entries(this.names).find(([, value]) => value === part)?.[0];
        if (existing !== undefined) return existing;
        const alias = `#n${this.#nextName++}`;
        this.names[alias] = part;
        return alias;
      })
      .join('.');
  }

  value(value: unknown): string {
    const alias = `:v${this.#nextValue++}`;
    this.values[alias] = value;
    return alias;
  }

  set(path: string | readonly [string, string], value: unknown): this {
    this.#set.push(`${this.name(path)} = ${this.value(value)}`);
    return this;
  }

  setIfAbsent(path: string, value: unknown): this {
    const name = this.name(path);
    this.#set.push(`${name} = if_not_exists(${name}, ${this.value(value)})`);
    return this;
  }

  add(path: string, value: number): this {
    this.#add.push(`${this.name(path)} ${this.value(value)}`);
    return this;
  }

  remove(path: string): this {
    this.#remove.push(this.name(path));
    return this;
  }

  /** A condition clause, ANDed with the others; `$name`/`$value` alias its operands. */
  condition(build: (name: UpdateBuilder['name'], value: UpdateBuilder['value']) => string): this {
    this.#conditions.push(
      build(
        (path) => this.name(path),
        (value) => this.value(value),
      ),
    );
    return this;
  }

  /** The expression parts of an UpdateItem (or a transaction's Update). */
  build(): {
    UpdateExpression: string;
    ConditionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    const clauses = [
      this.#set.length > 0 ? `SET ${this.#set.join(', ')}` : '',
      this.#remove.length > 0 ? `REMOVE ${this.#remove.join(', ')}` : '',
      this.#add.length > 0 ? `ADD ${this.#add.join(', ')}` : '',
    ].filter((clause) => clause !== '');
    return {
      UpdateExpression: clauses.join(' '),
      ...(this.#conditions.length > 0 && {
        ConditionExpression: this.#conditions.map((clause) => `(${clause})`).join(' AND '),
      }),
      ...(Object.keys(this.names).length > 0 && { ExpressionAttributeNames: this.names }),
      ...(Object.keys(this.values).length > 0 && { ExpressionAttributeValues: this.values }),
    };
  }
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/**
 * The old item a failed conditional write returned (ReturnValuesOnConditionCheckFailure:
 * ALL_OLD), still marshalled: the document client does not unmarshall it.
 */
export function oldItemOfFailedCondition(
  error: unknown,
): Record<string, { S?: string; N?: string }> | undefined {
  if (!isConditionalCheckFailed(error) || typeof error !== 'object' || error === null) {
    return undefined;
  }
  const { Item } = error as { Item?: unknown };
  return typeof Item === 'object' && Item !== null
    ? (Item as Record<string, { S?: string; N?: string }>)
    : undefined;
}

/** Cancellation reason codes that a retry of the same transaction may get past. */
const TRANSIENT_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

export interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Record<string, { S?: string }>;
}

/** The reasons of a cancelled transaction, or undefined when `error` is not one. */
export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (errorName(error) !== 'TransactionCanceledException') return undefined;
  const { CancellationReasons } = error as { CancellationReasons?: unknown };
  return Array.isArray(CancellationReasons) ? CancellationReasons : undefined;
}

export function hasTransientReason(reasons: readonly CancellationReason[]): boolean {
  return reasons.some((reason) => TRANSIENT_CANCELLATION_CODES.has(reason.Code ?? ''));
}

export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A non-negative counter, 0 when absent (items written before the counter existed). */
export function counter(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
