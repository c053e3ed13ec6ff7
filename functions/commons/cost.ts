/**
 * The per-job cost estimate of `GET /jobs/{jobId}`, from what the job used.
 *
 * Every stage ADDs what it used to three counters of the job item, in the same write that
 * does its work where it can:
 * - `workerMbMs`: worker time x memory. Each delivery counts its fair share of the worker
 *   invocation (records of one batch run at once, so each moment is split among the records
 *   in flight; see worker/fair-share.ts) up to its hand-off or failure, times the configured
 *   memory. Only the workers are counted: the dispatcher, aggregator, status, DLQ consumer and
 *   sweeper invocations are not, nor a worker's wait for the aggregator's answer.
 * - `sqsRequests`: billed SQS requests. SQS bills each 64 KB of a request's payload as one
 *   request, so a SendMessageBatch counts ceil(batch bytes / 64 KB), a message received
 *   counts ceil(message bytes / 64 KB) and a delete counts 1. The event source mapping
 *   receives and deletes in batches and polls while the queue is empty, so per message this
 *   is an upper bound of the receives and deletes, and empty polls are not counted.
 * - `writeUnits`: DynamoDB write request units. A write costs 1 unit per KB of the item
 *   (the larger of its sizes before and after, for an update), 2 in a transaction; a write
 *   that adds or removes the job's entry in the RunningByDeadline index costs 1 more unit.
 *   Item sizes follow the documented formula (itemSizeBytes); a job item whose size the
 *   writer does not read is counted as 1 KB. A transaction cancelled by its condition (a
 *   duplicate chunk) is counted as if it had written, like a failed conditional write.
 *
 * Not counted: Lambda request charges, DynamoDB reads, API Gateway, CloudWatch, X-Ray,
 * storage, data transfer and free tiers.
 * @see https://aws.amazon.com/lambda/pricing/
 * @see https://aws.amazon.com/sqs/pricing/
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
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

/** The size assumed for the job item by writers that do not read it. */
export const ASSUMED_JOB_ITEM_BYTES = 1_024;

/** Units of a write that adds or removes an entry of the KEYS_ONLY RunningByDeadline index. */
export const INDEX_ENTRY_WRITE_UNITS = 1;

/** What one job used, as counted in its item. */
export interface JobUsage {
  /** Sum over worker deliveries of (share of billed ms) x (memory MB). */
  readonly workerMbMs: number;
  readonly sqsRequests: number;
  readonly writeUnits: number;
}

export const NO_USAGE: JobUsage = { workerMbMs: 0, sqsRequests: 0, writeUnits: 0 };

/** Adds usages together. */
export function addUsage(...usages: readonly JobUsage[]): JobUsage {
  return usages.reduce(
    (sum, usage) => ({
      workerMbMs: sum.workerMbMs + usage.workerMbMs,
      sqsRequests: sum.sqsRequests + usage.sqsRequests,
      writeUnits: sum.writeUnits + usage.writeUnits,
    }),
    NO_USAGE,
  );
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
  /** Worker GB-seconds: workerMbMs / 1024 / 1000. */
  readonly lambdaGbSeconds: number;
  readonly sqsRequests: number;
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
  'worker Lambda duration (fair share per chunk delivery, not the other functions), SQS requests (64 KB each) and DynamoDB write units; not Lambda requests, reads, API Gateway, CloudWatch, storage, transfer or free tiers';

/** Rounds a tiny amount to 10 decimal places, so JSON shows it without float noise. */
function round(value: number, places = 10): number {
  return Number(value.toFixed(places));
}

/** The cost estimate of a job's usage at PRICING. */
export function estimateCost(usage: JobUsage): CostEstimate {
  const lambdaGbSeconds = usage.workerMbMs / 1024 / 1000;
  const lambda = lambdaGbSeconds * PRICING.lambdaUsdPerGbSecond;
  const sqs = (usage.sqsRequests / 1_000_000) * PRICING.sqsUsdPerMillionRequests;
  const dynamodb = (usage.writeUnits / 1_000_000) * PRICING.dynamodbUsdPerMillionWriteUnits;
  return {
    lambdaGbSeconds: round(lambdaGbSeconds, 6),
    sqsRequests: usage.sqsRequests,
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
