/** What every operation's limiter shares: the meter, the tables, the locks, the reader. */
import { randomUUID } from 'node:crypto';
import { writeUnits } from './capacity.ts';
import {
  type DynamoDbErrorAnswer,
  type ThrottledResource,
  throughputExceeded,
} from './dynamodb-errors.ts';
import { indexWrites } from './index-writes.ts';
import type { ItemReader } from './item-reader.ts';
import { keyIdentity } from './item-reader.ts';
import type { AttributeValueLike } from './item-size.ts';
import { asItem, type ItemLike, pick } from './item-size.ts';

export { asItem };

import type { CloudLimits } from './options.ts';
import { partitionOf } from './partitions.ts';
import type { UsageRecorder } from './report.ts';
import type { TableRegistry, TableSchema } from './tables.ts';
import type { Charge, PartitionRef, ThroughputMeter } from './throughput.ts';
import type { TransactionLocks } from './transaction-locks.ts';

/** DynamoDB Local's answer, as the proxy forwards it back. */
export interface Forwarded {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

/** One request the limiter decides on. */
export interface LimitedRequest {
  /** The listener it came in on (a function logical id, or `external`). */
  readonly client: string;
  readonly operation: string;
  readonly input: Readonly<Record<string, unknown>>;
  /** Forwards the request to DynamoDB Local: as received, or with another input. */
  readonly forward: (input?: Readonly<Record<string, unknown>>) => Promise<Forwarded>;
}

export interface LimiterContext {
  readonly limits: CloudLimits['dynamodb'];
  readonly meter: ThroughputMeter;
  readonly tables: TableRegistry;
  readonly locks: TransactionLocks;
  readonly reader: ItemReader;
  readonly usage: UsageRecorder;
  readonly now: () => number;
  /** The ARN of a table, for throttling reasons. */
  readonly arnOf: (table: string) => string;
}

/** An error DynamoDB would answer, as the HTTP answer the proxy sends. */
export function errorAnswer(error: DynamoDbErrorAnswer): Forwarded {
  const text = JSON.stringify(error.body);
  return {
    status: error.status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': String(Buffer.byteLength(text)),
      'x-amzn-errortype': error.type,
      'x-amzn-requestid': randomUUID(),
    },
    body: Buffer.from(text, 'utf8'),
  };
}

/** A JSON answer of ours built from a forwarded one (a batch with items added back). */
export function rewrittenAnswer(forwarded: Forwarded, body: unknown): Forwarded {
  const text = JSON.stringify(body);
  return {
    status: forwarded.status,
    headers: { ...forwarded.headers, 'content-length': String(Buffer.byteLength(text)) },
    body: Buffer.from(text, 'utf8'),
  };
}

/** The JSON body of an answer ({} when it is not JSON). */
export function bodyOf(forwarded: Forwarded): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(forwarded.body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The primary key of an item of the table. */
export function keyOf(schema: TableSchema, item: ItemLike): ItemLike {
  return pick(item, schema.keyAttributes);
}

/** The text that names one item (for transaction holds). */
export function itemIdentity(schema: TableSchema, key: ItemLike): string {
  return keyIdentity(schema.name, key, schema.keyAttributes);
}

/** The table partition an item (or key) falls in. */
export function tablePartition(
  ctx: LimiterContext,
  schema: TableSchema,
  key: ItemLike,
): PartitionRef {
  const value = key[schema.partitionKey] as AttributeValueLike | undefined;
  const count = ctx.meter.partitions(schema.name);
  return { table: schema.name, partition: value === undefined ? 0 : partitionOf(value, count) };
}

/** The index write charges of a table write, from the item before and after. */
export function indexCharges(
  ctx: LimiterContext,
  schema: TableSchema,
  before: ItemLike | undefined,
  after: ItemLike | undefined,
): Charge[] {
  const charges: Charge[] = [];
  for (const index of schema.indexes) {
    for (const write of indexWrites(before, after, index)) {
      const value = write.entry[index.keyAttributes[0] ?? ''] as AttributeValueLike | undefined;
      const count = ctx.meter.partitions(schema.name, index.name);
      if (value === undefined || count === 0) continue;
      charges.push({
        at: { table: schema.name, index: index.name, partition: partitionOf(value, count) },
        kind: 'write',
        units: writeUnits(write.bytes),
      });
    }
  }
  return charges;
}

/** The answer to a request its partitions cannot take, counted as throttled for its client. */
export function throttledAnswer(
  ctx: LimiterContext,
  request: LimitedRequest,
  blocked: readonly Charge[],
) {
  ctx.usage.add(request.client, 'throttledRequests');
  return errorAnswer(throughputExceeded(throttledResources(ctx, blocked)));
}

/** The resources behind blocked charges, for the throttling reasons. */
export function throttledResources(
  ctx: LimiterContext,
  blocked: readonly Charge[],
): ThrottledResource[] {
  return blocked.map((charge) => ({
    tableArn: ctx.arnOf(charge.at.table),
    index: charge.at.index,
    kind: charge.kind,
  }));
}

export function sum(charges: readonly Charge[]): number {
  return charges.reduce((total, charge) => total + charge.units, 0);
}
