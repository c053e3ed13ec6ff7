/**
 * DynamoDB's limits, enforced on every request that reaches the local DynamoDB endpoint:
 * capacity units computed as AWS computes them, partitions with token buckets (throttling
 * with the errors AWS returns), and transaction conflicts. It sits in the DynamoDB proxy
 * (dynamodb-faults.ts), which forwards what it lets through; its own reads (the item before
 * and after a write, a page re-read to size it) go to DynamoDB Local straight and are not
 * billed. It counts units, throttles and conflicts by client, and each partition's units
 * in 1 s windows.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from '../emulators/common.ts';
import { ItemReader } from './item-reader.ts';
import { limitBatchGet, limitBatchWrite } from './limit-batches.ts';
import { limitGetItem, limitItemWrite } from './limit-items.ts';
import { limitPage } from './limit-pages.ts';
import { limitTransactGet, limitTransactWrite } from './limit-transactions.ts';
import type { Forwarded, LimitedRequest, LimiterContext } from './limiter-context.ts';
import type { CloudLimits } from './options.ts';
import { type DynamoDbLimitsReport, UsageRecorder } from './report.ts';
import { TableRegistry, tableNameOf, type WarmThroughput } from './tables.ts';
import { ThroughputMeter } from './throughput.ts';
import { TransactionLocks } from './transaction-locks.ts';

export interface DynamoDbLimiterOptions {
  /** DynamoDB Local's own endpoint, for the limiter's unbilled reads. */
  readonly target: string;
  readonly limits: CloudLimits['dynamodb'];
  /** Warm throughputs by table name (from the template). @default none */
  readonly warm?: ReadonlyMap<string, WarmThroughput>;
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
  /** @default the local region */
  readonly region?: string;
  /** @default the local account */
  readonly accountId?: string;
}

export class DynamoDbLimiter {
  readonly #context: LimiterContext;
  readonly #reader: ItemReader;

  constructor(options: DynamoDbLimiterOptions) {
    const now = options.now ?? Date.now;
    const region = options.region ?? LOCAL_REGION;
    const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
    const arnOf = (table: string) => `arn:aws:dynamodb:${region}:${accountId}:table/${table}`;
    const meter = new ThroughputMeter(options.limits, now);
    this.#reader = new ItemReader(options.target, region, LOCAL_CREDENTIALS);
    const reader = this.#reader;
    this.#context = {
      limits: options.limits,
      meter,
      tables: new TableRegistry({
        meter,
        onDemand: {
          writeUnitsPerSecond: options.limits.onDemandWriteUnitsPerSecond,
          readUnitsPerSecond: options.limits.onDemandReadUnitsPerSecond,
        },
        warm: options.warm ?? new Map(),
        describe: (name) => reader.describe(name),
        arnOf,
      }),
      locks: new TransactionLocks(now),
      reader,
      usage: new UsageRecorder(),
      now,
      arnOf,
    };
  }

  /** Partitions of a table (or of one of its indexes) once a request has named it. */
  partitions(table: string, index?: string): number {
    return this.#context.meter.partitions(table, index);
  }

  /** Decides on one request: forwards it (perhaps reduced) or answers an error itself. */
  async handle(request: LimitedRequest): Promise<Forwarded> {
    const ctx = this.#context;
    const { operation, input } = request;
    switch (operation) {
      case 'BatchWriteItem':
        return limitBatchWrite(ctx, request);
      case 'BatchGetItem':
        return limitBatchGet(ctx, request);
      case 'TransactWriteItems':
        return limitTransactWrite(ctx, request);
      case 'TransactGetItems':
        return limitTransactGet(ctx, request);
      case 'CreateTable':
      case 'DeleteTable': {
        const answer = await request.forward();
        const name = tableNameOf(input.TableName);
        if (name !== undefined) ctx.tables.forget(name);
        return answer;
      }
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem':
      case 'GetItem':
      case 'Query':
      case 'Scan': {
        const name = tableNameOf(input.TableName);
        const schema = name === undefined ? undefined : await ctx.tables.get(name);
        // An unknown table: DynamoDB Local answers ResourceNotFoundException itself.
        if (schema === undefined) return request.forward();
        if (operation === 'GetItem') return limitGetItem(ctx, schema, request);
        if (operation === 'Query' || operation === 'Scan') return limitPage(ctx, schema, request);
        return limitItemWrite(ctx, schema, request);
      }
      default:
        // Control plane and PartiQL: not metered (see docs/CLOUD-LIMITS.md).
        return request.forward();
    }
  }

  report(): DynamoDbLimitsReport {
    const totals = this.#context.usage.totals();
    const peaks = this.#context.meter.peaks();
    return {
      readUnits: totals.readUnits,
      writeUnits: totals.writeUnits,
      throttledRequests: totals.throttledRequests,
      transactionConflicts: totals.transactionConflicts,
      hottestPartitionPeakWcuPerSecond: peaks.write,
      hottestPartitionPeakRcuPerSecond: peaks.read,
      byClient: totals.byClient,
    };
  }

  destroy(): void {
    this.#reader.destroy();
  }
}
