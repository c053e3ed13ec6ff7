/**
 * The per-job cost estimate of `GET /jobs/{jobId}`, from what the job used.
 *
 * What is counted (JobUsage), by the stage that spends it, in the write that does its work:
 * - `lambdaMbMs`: Lambda time x memory of the dispatcher (up to its job write), of each worker
 *   delivery (its fair share of the invocation, see worker/fair-share.ts) and of each
 *   aggregator invocation (up to its marker write);
 * - `lambdaRequests`: one aggregator Invoke per delivery, and one worker invocation per
 *   delivery (an upper bound: a batch of records shares one invocation);
 * - `sqsRequests`: billed SQS requests, each 64 KB of payload one request (sends, receives,
 *   deletes; empty polls are not counted);
 * - `readUnits` and `writeUnits`: DynamoDB request units as AWS bills them (itemSizeBytes,
 *   readUnits, writeUnits below), including conditional writes that failed, which are billed.
 *
 * Where it is added (store/usage.ts is the one place that writes the counters): the
 * dispatcher's on the job item when it is created; a chunk's on its shard item, in the same
 * update that marks the chunk (so no chunk writes the job item); each shard's total is copied
 * into the job's `shards` map when the shard completes; failures, drops and redrives add to
 * the job item. A job's usage is the job item's counters plus its shards' (totalUsage).
 *
 * Not counted: `GET /jobs/{jobId}` polls and result fetches (they depend on the client; see
 * docs/ARCHITECTURE.md for their units per call), the sweeper and DLQ consumer's Lambda time,
 * API Gateway, CloudWatch, X-Ray, storage, data transfer and free tiers.
 * @see https://aws.amazon.com/lambda/pricing/
 * @see https://aws.amazon.com/sqs/pricing/
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */

/**
 * The prices assumed: us-east-1, on-demand, Lambda on arm64 (the stack's architecture),
 * standard SQS queues, DynamoDB on-demand capacity. Change them here for another region.
 */
export const PRICING = {
  region: 'us-east-1',
  lambdaArchitecture: 'arm64',
  /**
   * Lambda arm64 duration, first 7.5 billion GB-seconds a month.
   * @see https://aws.amazon.com/lambda/pricing/
   */
  lambdaUsdPerGbSecond: 0.0000133334,
  /** @see https://aws.amazon.com/lambda/pricing/ */
  lambdaUsdPerMillionRequests: 0.2,
  /**
   * SQS standard queue requests beyond the free tier, first 100 billion a month.
   * @see https://aws.amazon.com/sqs/pricing/
   */
  sqsUsdPerMillionRequests: 0.4,
  /**
   * DynamoDB on-demand write request units (Standard table class).
   * @see https://aws.amazon.com/dynamodb/pricing/on-demand/
   */
  dynamodbUsdPerMillionWriteUnits: 0.625,
  /** @see https://aws.amazon.com/dynamodb/pricing/on-demand/ */
  dynamodbUsdPerMillionReadUnits: 0.125,
} as const;

/**
 * SQS bills each 64 KB chunk of a request's payload as one request.
 * @see https://aws.amazon.com/sqs/pricing/
 */
export const SQS_BILLING_CHUNK_BYTES = 65_536;

/**
 * One write request unit writes an item of up to 1 KB; a transactional write takes two.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption
 */
export const WRITE_UNIT_BYTES = 1_024;

/**
 * One read request unit reads up to 4 KB strongly consistent; an eventually consistent read
 * takes half. A Query sums its items' sizes before rounding; a BatchGetItem rounds each item.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#read-operation-consumption
 */
export const READ_UNIT_BYTES = 4_096;

/** The size assumed for the job item by writers that do not read it. */
export const ASSUMED_JOB_ITEM_BYTES = 1_024;

/** Units of a write of one index entry (RunningByDeadline keys, an OwnerJobs entry: each under 1 KB). */
export const INDEX_ENTRY_WRITE_UNITS = 1;

/** What one job used (see the top of this file). */
export interface JobUsage {
  /** Sum over invocations of (billed ms, or a delivery's share of it) x (memory MB). */
  readonly lambdaMbMs: number;
  readonly lambdaRequests: number;
  readonly sqsRequests: number;
  readonly readUnits: number;
  readonly writeUnits: number;
}

/** The counters of JobUsage, in the order items store them. */
export const USAGE_COUNTERS = [
  'lambdaMbMs',
  'lambdaRequests',
  'sqsRequests',
  'readUnits',
  'writeUnits',
] as const satisfies readonly (keyof JobUsage)[];

export const NO_USAGE: JobUsage = {
  lambdaMbMs: 0,
  lambdaRequests: 0,
  sqsRequests: 0,
  readUnits: 0,
  writeUnits: 0,
};

/** Adds usages together. */
export function addUsage(...usages: readonly Partial<JobUsage>[]): JobUsage {
  const sum: Record<keyof JobUsage, number> = { ...NO_USAGE };
  for (const usage of usages) {
    for (const name of USAGE_COUNTERS) sum[name] += usage[name] ?? 0;
  }
  return sum;
}

/** Billed SQS requests of one call carrying `payloadBytes` (at least 1). */
export function sqsBilledRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / SQS_BILLING_CHUNK_BYTES));
}

/** Billed requests of one delivery of a message: its receive and, when it succeeded, its delete. */
export function deliverySqsRequests(messageBytes: number, deleted: boolean): number {
  return sqsBilledRequests(messageBytes) + (deleted ? 1 : 0);
}

/** Write request units of writing an item of `itemBytes` (at least 1 KB). */
export function writeUnits(itemBytes: number, options: { transactional?: boolean } = {}): number {
  const units = Math.max(1, Math.ceil(itemBytes / WRITE_UNIT_BYTES));
  return options.transactional ? 2 * units : units;
}

/**
 * Read request units of reading `itemBytes` (one item, or the sum a Query read): 1 per 4 KB
 * strongly consistent, half eventually consistent.
 */
export function readUnits(itemBytes: number, options: { consistent: boolean }): number {
  const units = Math.max(1, Math.ceil(itemBytes / READ_UNIT_BYTES));
  return options.consistent ? units : units / 2;
}

const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * Size of a DynamoDB number: 1 byte per two significant digits, plus 1 (leading and trailing
 * zeroes do not count).
 */
function numberBytes(value: number): number {
  const digits = Math.abs(value)
    .toExponential()
    .replace(/e.*$/, '')
    .replace('.', '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

/** Size of an attribute value, without its name. */
export function attributeValueBytes(value: unknown): number {
  if (typeof value === 'string') return utf8Bytes(value);
  if (typeof value === 'number') return numberBytes(value);
  if (typeof value === 'bigint') return numberBytes(Number(value));
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    let bytes = 0;
    for (const element of value) bytes += attributeValueBytes(element);
    return bytes;
  }
  if (Array.isArray(value)) {
    // A list: 3 bytes, and 1 byte per element on top of the element.
    return value.reduce<number>((bytes, element) => bytes + attributeValueBytes(element) + 1, 3);
  }
  if (typeof value === 'object') {
    // A map: 3 bytes, and per entry its name, its value and 1 byte.
    let bytes = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      bytes += utf8Bytes(name) + attributeValueBytes(element) + 1;
    }
    return bytes;
  }
  return 0;
}

/**
 * Size of an item as DynamoDB bills it: each attribute's name (UTF-8) plus its value.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSizeBytes(item: Readonly<Record<string, unknown>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    bytes += utf8Bytes(name) + attributeValueBytes(value);
  }
  return bytes;
}

/** The estimate shown by `GET /jobs/{jobId}`. */
export interface CostEstimate {
  /** Lambda GB-seconds of every counted invocation: lambdaMbMs / 1024 / 1000. */
  readonly lambdaGbSeconds: number;
  readonly lambdaRequests: number;
  readonly sqsRequests: number;
  readonly dynamodbReadUnits: number;
  readonly dynamodbWriteUnits: number;
  readonly usd: {
    readonly lambda: number;
    readonly sqs: number;
    readonly dynamodb: number;
    readonly total: number;
  };
  readonly pricing: typeof PRICING;
  /** What the estimate covers, in a sentence. */
  readonly covers: string;
}

export const COST_COVERAGE =
  'Lambda duration and requests of the dispatcher, workers and aggregator, SQS requests (64 KB each), DynamoDB read and write units of every stage but status polls and result fetches; not API Gateway, CloudWatch, storage, transfer or free tiers';

/** Rounds a tiny amount to 10 decimal places, so JSON shows it without float noise. */
function round(value: number, places = 10): number {
  return Number(value.toFixed(places));
}

/** The cost estimate of a job's usage at PRICING. */
export function estimateCost(usage: JobUsage): CostEstimate {
  const lambdaGbSeconds = usage.lambdaMbMs / 1024 / 1000;
  const lambda =
    lambdaGbSeconds * PRICING.lambdaUsdPerGbSecond +
    (usage.lambdaRequests / 1_000_000) * PRICING.lambdaUsdPerMillionRequests;
  const sqs = (usage.sqsRequests / 1_000_000) * PRICING.sqsUsdPerMillionRequests;
  const dynamodb =
    (usage.writeUnits / 1_000_000) * PRICING.dynamodbUsdPerMillionWriteUnits +
    (usage.readUnits / 1_000_000) * PRICING.dynamodbUsdPerMillionReadUnits;
  return {
    lambdaGbSeconds: round(lambdaGbSeconds, 6),
    lambdaRequests: usage.lambdaRequests,
    sqsRequests: usage.sqsRequests,
    dynamodbReadUnits: round(usage.readUnits, 1),
    dynamodbWriteUnits: usage.writeUnits,
    usd: {
      lambda: round(lambda),
      sqs: round(sqs),
      dynamodb: round(dynamodb),
      total: round(lambda + sqs + dynamodb),
    },
    pricing: PRICING,
    covers: COST_COVERAGE,
  };
}
