/**
 * What the limiter knows of each table: its key, its global secondary indexes and its
 * throughput (a warm throughput from the template, or a new on-demand table's), learned from
 * DynamoDB Local itself the first time a request names the table, so that a table any client
 * created gets the on-demand defaults.
 */
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import type { IndexSchema } from './index-writes.ts';
import type { Throughput } from './partitions.ts';
import type { ThroughputMeter } from './throughput.ts';

export interface TableSchema {
  readonly name: string;
  readonly arn: string;
  /** The partition key attribute. */
  readonly partitionKey: string;
  /** The primary key attributes: the partition key, then the sort key if any. */
  readonly keyAttributes: readonly string[];
  readonly indexes: readonly IndexSchema[];
}

/** A warm throughput set on a table and on some of its indexes (by index name). */
export interface WarmThroughput {
  readonly table?: Throughput;
  readonly indexes?: Readonly<Record<string, Throughput>>;
}

/** The schema of a table from DynamoDB's DescribeTable answer. */
export function schemaOf(description: TableDescription, arn: string): TableSchema {
  const keys = (description.KeySchema ?? [])
    .slice()
    .sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0))
    .map((key) => key.AttributeName ?? '');
  const partitionKey = keys[0];
  if (partitionKey === undefined || partitionKey === '')
    throw new Error(`table ${description.TableName} has no partition key`);
  const indexes: IndexSchema[] = (description.GlobalSecondaryIndexes ?? []).map((index) => {
    const indexKeys = (index.KeySchema ?? [])
      .slice()
      .sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0))
      .map((key) => key.AttributeName ?? '');
    const type = index.Projection?.ProjectionType ?? 'ALL';
    return {
      name: index.IndexName ?? '',
      keyAttributes: indexKeys,
      tableKeyAttributes: keys,
      projection: type === 'KEYS_ONLY' || type === 'INCLUDE' ? type : 'ALL',
      ...(index.Projection?.NonKeyAttributes === undefined
        ? {}
        : { nonKeyAttributes: index.Projection.NonKeyAttributes }),
    };
  });
  return { name: description.TableName ?? '', arn, partitionKey, keyAttributes: keys, indexes };
}

/** A table's name from a TableName parameter, which may be the table's ARN. */
export function tableNameOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const marker = ':table/';
  const at = value.indexOf(marker);
  return at < 0 ? value : (value.slice(at + marker.length).split('/')[0] ?? value);
}

export interface TableRegistryOptions {
  readonly meter: ThroughputMeter;
  /** A new on-demand table's (and index's) throughput. */
  readonly onDemand: Throughput;
  /** Warm throughputs by table name (from the template). */
  readonly warm: ReadonlyMap<string, WarmThroughput>;
  /** DescribeTable, unmetered; undefined when the table does not exist. */
  readonly describe: (name: string) => Promise<TableDescription | undefined>;
  readonly arnOf: (name: string) => string;
}

export class TableRegistry {
  readonly #options: TableRegistryOptions;
  readonly #tables = new Map<string, Promise<TableSchema | undefined>>();

  constructor(options: TableRegistryOptions) {
    this.#options = options;
  }

  /** The table's schema, its partitions registered; undefined when it does not exist. */
  get(name: string): Promise<TableSchema | undefined> {
    let known = this.#tables.get(name);
    if (known === undefined) {
      known = this.#learn(name);
      this.#tables.set(name, known);
      // A table that does not exist yet may be created later: ask again next time.
      known.then(
        (schema) => {
          if (schema === undefined) this.#tables.delete(name);
        },
        () => this.#tables.delete(name),
      );
    }
    return known;
  }

  /** Forgets a table (deleted or re-created): its partitions and schema. */
  forget(name: string): void {
    this.#tables.delete(name);
    this.#options.meter.forget(name);
  }

  async #learn(name: string): Promise<TableSchema | undefined> {
    const description = await this.#options.describe(name);
    if (description === undefined) return undefined;
    const schema = schemaOf(description, this.#options.arnOf(name));
    const warm = this.#options.warm.get(name);
    const { meter, onDemand } = this.#options;
    meter.register(name, undefined, warm?.table ?? onDemand);
    for (const index of schema.indexes) {
      meter.register(name, index.name, warm?.indexes?.[index.name] ?? onDemand);
    }
    return schema;
  }
}
