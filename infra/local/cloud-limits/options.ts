/**
 * The cloud-limits mode's settings: every limit AWS applies that the local stack models, its
 * default being AWS's default (defined here once), each overridable.
 */

/** DynamoDB throughput, partitions and transactions. */
export interface DynamoDbLimitsOptions {
  /**
   * Write units/s one partition serves (also with on-demand: "key range throughput").
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
   * @default 1000
   */
  readonly partitionWriteUnitsPerSecond?: number;
  /** Read units/s one partition serves. @default 3000 */
  readonly partitionReadUnitsPerSecond?: number;
  /**
   * Write units/s a new on-demand table (and each of its indexes) takes at once, unless the
   * template gives it a warm throughput.
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html
   * @default 4000
   */
  readonly onDemandWriteUnitsPerSecond?: number;
  /** Read units/s a new on-demand table takes at once. @default 12000 */
  readonly onDemandReadUnitsPerSecond?: number;
  /**
   * The burst of each partition's token buckets, in seconds of its rate. DynamoDB keeps
   * unused capacity for bursts, but never past a partition's hard per-second limit, so the
   * model keeps only a small smoothing burst: 0.1 s is 100 write units on a partition.
   * @default 0.1
   */
  readonly burstSeconds?: number;
  /**
   * How long past the forwarded call's own duration a transaction holds its items (DynamoDB
   * Local runs transactions one at a time, so it never shows a conflict itself).
   * @default 5
   */
  readonly transactionHoldMarginMs?: number;
}

/** The S3 request rates per prefix. */
export interface S3LimitsOptions {
  /**
   * PUT/COPY/POST/DELETE requests/s per partitioned prefix.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
   * @default 3500
   */
  readonly writesPerSecondPerPrefix?: number;
  /** GET/HEAD requests/s per partitioned prefix. @default 5500 */
  readonly readsPerSecondPerPrefix?: number;
}

/** API Gateway (REST API). */
export interface ApiGatewayLimitsOptions {
  /**
   * The integration timeout: past it the client gets 504 "Endpoint request timed out".
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
   * @default 29000
   */
  readonly integrationTimeoutMs?: number;
}

export interface CloudLimitsOptions {
  readonly dynamodb?: DynamoDbLimitsOptions;
  readonly s3?: S3LimitsOptions;
  readonly apiGateway?: ApiGatewayLimitsOptions;
}

/** Every setting, with the defaults filled in and validated. */
export interface CloudLimits {
  readonly dynamodb: Required<DynamoDbLimitsOptions>;
  readonly s3: Required<S3LimitsOptions>;
  readonly apiGateway: Required<ApiGatewayLimitsOptions>;
}

/**
 * The local stack's least cap on concurrent batches of an event source mapping and on
 * environments of a function under the cloud limits (without them: the cores): there the
 * functions also wait on AWS's quotas, not only on the cores. Measured on 2 cores, runs
 * alternated: 4 takes 1,000,000 numbers from a body in 3.86-3.99 s where 6 takes 3.90-4.48 s
 * (6 environments a function warm up and collect garbage six times over), and 10,000,000
 * from a file in 26.8 s where 6 takes 28.0 s (both were 34-42 s with 2). AWS itself would
 * run up to the template's MaximumConcurrency.
 */
export const CLOUD_LIMITS_LOCAL_CONCURRENCY = 4;

/** AWS's defaults. */
export const AWS_DEFAULT_LIMITS: CloudLimits = {
  dynamodb: {
    partitionWriteUnitsPerSecond: 1000,
    partitionReadUnitsPerSecond: 3000,
    onDemandWriteUnitsPerSecond: 4000,
    onDemandReadUnitsPerSecond: 12000,
    burstSeconds: 0.1,
    transactionHoldMarginMs: 5,
  },
  s3: { writesPerSecondPerPrefix: 3500, readsPerSecondPerPrefix: 5500 },
  apiGateway: { integrationTimeoutMs: 29_000 },
};

function positive(value: number, path: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0))
    throw new RangeError(`cloudLimits.${path} must be a positive number, got ${String(value)}`);
  return value;
}

function nonNegative(value: number, path: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0))
    throw new RangeError(`cloudLimits.${path} must be a non-negative number, got ${String(value)}`);
  return value;
}

/** The settings for `true` (AWS's defaults) or an object overriding some of them. */
export function resolveCloudLimits(options: true | CloudLimitsOptions): CloudLimits {
  const given = options === true ? {} : options;
  const dynamodb = { ...AWS_DEFAULT_LIMITS.dynamodb, ...given.dynamodb };
  const s3 = { ...AWS_DEFAULT_LIMITS.s3, ...given.s3 };
  const apiGateway = { ...AWS_DEFAULT_LIMITS.apiGateway, ...given.apiGateway };
  for (const key of [
    'partitionWriteUnitsPerSecond',
    'partitionReadUnitsPerSecond',
    'onDemandWriteUnitsPerSecond',
    'onDemandReadUnitsPerSecond',
    'burstSeconds',
  ] as const) {
    positive(dynamodb[key], `dynamodb.${key}`);
  }
  nonNegative(dynamodb.transactionHoldMarginMs, 'dynamodb.transactionHoldMarginMs');
  positive(s3.writesPerSecondPerPrefix, 's3.writesPerSecondPerPrefix');
  positive(s3.readsPerSecondPerPrefix, 's3.readsPerSecondPerPrefix');
  positive(apiGateway.integrationTimeoutMs, 'apiGateway.integrationTimeoutMs');
  return { dynamodb, s3, apiGateway };
}
