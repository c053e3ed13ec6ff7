/**
 * AWS SDK clients. Each handler module calls the factories it needs once, at cold start,
 * and injects the clients into its domain functions; factories (not module-level clients)
 * keep each bundle free of the SDKs it does not use.
 *
 * Endpoints come from the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables, so the same
 * code talks to the local emulators and to AWS. S3's is read by the config (env.ts
 * S3_ENDPOINT_URL_ENV, config.ts loadS3ClientConfig) and handed to its factories, because
 * an S3 client away from AWS must also address its buckets by path.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3ClientConfig } from './config.ts';
import { tracer } from './powertools.ts';
import { backoffDelay } from './retry.ts';

/**
 * How the writers of chunk results (aggregator, DLQ consumer) retry DynamoDB: a transient or
 * server error up to the SDK's usual 3 attempts (CHUNK_WRITER_MAX_ATTEMPTS_UNTHROTTLED), and
 * a throttled request for longer; each after a wait of full jitter on an exponential base (from 100 ms,
 * doubling, at most 1 s: CHUNK_WRITER_RETRY_BASE_MS, CHUNK_WRITER_RETRY_MAX_MS), for as long
 * as CHUNK_WRITER_RETRY_BUDGET_MS (8 s) from the request's first attempt; past it the chunk
 * fails back to SQS. The budget bounds one request; an aggregation makes three in turn (job
 * read, page put, marker), a few more when it completes a shard or the job, and the
 * aggregator's 30 s timeout bounds them together: past it the chunk is delivered again, and
 * every step is idempotent.
 *
 * Why not the SDK's standard strategy: it waits from a 1 s base after a throttling error (a
 * random delay up to 1 s, 2 s, 4 s, …), made for a service that sheds load, and it stops
 * retrying once a client's retry quota (500 tokens, 5 a throttled retry) is spent, a breaker
 * for outages. The throttling a chunk writer meets is back-pressure, not an outage: a
 * partition's 1,000 WCU/s gives back a page's units (at most 400 KB) within 0.4 s, so a
 * second's wait leaves the partition idle while the chunk holds a worker, and a burst of
 * chunks spends the quota in seconds and then fails chunks that one more try would store.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html#Programming.Errors.RetryAndBackoff
 */
export const CHUNK_WRITER_RETRY_BASE_MS = 100;
export const CHUNK_WRITER_RETRY_MAX_MS = 1_000;
export const CHUNK_WRITER_RETRY_BUDGET_MS = 8_000;
export const CHUNK_WRITER_MAX_ATTEMPTS_UNTHROTTLED = 3;

const CHUNK_WRITER_BACKOFF = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: CHUNK_WRITER_RETRY_BASE_MS,
  maxDelayMs: CHUNK_WRITER_RETRY_MAX_MS,
};

/** The wait before retry `retry` (1 for the first) of a chunk writer's request, in ms. */
export function chunkWriterRetryDelayMs(retry: number, random: () => number = Math.random): number {
  return backoffDelay(Math.max(1, retry), CHUNK_WRITER_BACKOFF, random);
}

/** A retry token of ChunkWriterRetryStrategy: the SDK waits its delay before the retry. */
interface ChunkWriterRetryToken {
  readonly getRetryCount: () => number;
  readonly getRetryDelay: () => number;
  /** When the request's first attempt started (ms since the epoch). */
  readonly startedAt: number;
}

/** What the SDK tells a retry strategy of a failed attempt. */
interface RetryErrorInfo {
  readonly errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
}

function chunkWriterToken(
  retries: number,
  delayMs: number,
  startedAt: number,
): ChunkWriterRetryToken {
  return { getRetryCount: () => retries, getRetryDelay: () => delayMs, startedAt };
}

/**
 * The SDK's retry strategy interface (acquire a token, refresh it for each retry, record a
 * success), with the chunk writers' policy above. A client error (a failed condition, a
 * validation error) is never retried: it is an answer. So is a plain write's
 * TransactionConflictException (a 400 the SDK does not mark retryable): recordShard, whose
 * write on the job item may meet the DLQ consumer's transaction, retries it itself
 * (store/jobs.ts).
 */
export class ChunkWriterRetryStrategy {
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(now: () => number = Date.now, random: () => number = Math.random) {
    this.#now = now;
    this.#random = random;
  }

  async acquireInitialRetryToken(_scope: string): Promise<ChunkWriterRetryToken> {
    return chunkWriterToken(0, 0, this.#now());
  }

  async refreshRetryTokenForRetry(
    token: ChunkWriterRetryToken,
    error: RetryErrorInfo,
  ): Promise<ChunkWriterRetryToken> {
    const retries = token.getRetryCount() + 1;
    const delayMs = chunkWriterRetryDelayMs(retries, this.#random);
    const overBudget = this.#now() + delayMs - token.startedAt > CHUNK_WRITER_RETRY_BUDGET_MS;
    // Throttling is back-pressure and passes; anything else gets a few quick tries only.
    const overAttempts =
      error.errorType !== 'THROTTLING' && retries >= CHUNK_WRITER_MAX_ATTEMPTS_UNTHROTTLED;
    if (error.errorType === 'CLIENT_ERROR' || overBudget || overAttempts) {
      throw new Error(`not retried: ${error.errorType}, ${retries - 1} retries`);
    }
    return chunkWriterToken(retries, delayMs, token.startedAt);
  }

  recordSuccess(_token: ChunkWriterRetryToken): void {
    // No quota to give back.
  }
}

/**
 * A DynamoDB client (for Powertools idempotency, which takes a plain client).
 * `maxAttempts` defaults to the SDK's 3.
 */
export function createDynamoDbClient(
  options: { readonly maxAttempts?: number } = {},
): DynamoDBClient {
  return tracer.captureAWSv3Client(
    new DynamoDBClient(
      options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts },
    ),
  );
}

/** The DynamoDB client of a chunk writer, retrying as ChunkWriterRetryStrategy says. */
export function createChunkWriterDynamoDbClient(): DynamoDBClient {
  return tracer.captureAWSv3Client(
    new DynamoDBClient({ retryStrategy: new ChunkWriterRetryStrategy() }),
  );
}

/**
 * A DynamoDB document client: plain JS values in and out, undefined attributes dropped.
 * Pass `client` to share one connection pool with other users of it.
 */
export function createDocumentClient(
  client: DynamoDBClient = createDynamoDbClient(),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(): SQSClient {
  return tracer.captureAWSv3Client(new SQSClient({}));
}

export function createLambdaClient(): LambdaClient {
  return tracer.captureAWSv3Client(new LambdaClient({}));
}

/**
 * The endpoint of `config`, addressed by path (the local emulator has no per-bucket host
 * names); AWS's endpoint, virtual-hosted style, when it has none.
 */
function s3Endpoint(config: S3ClientConfig): { endpoint?: string; forcePathStyle: boolean } {
  return config.endpointUrl === undefined
    ? { forcePathStyle: false }
    : { endpoint: config.endpointUrl, forcePathStyle: true };
}

export function createS3Client(config: S3ClientConfig): S3Client {
  return tracer.captureAWSv3Client(new S3Client(s3Endpoint(config)));
}

/**
 * An S3 client for presigning upload URLs. It computes no checksum unless an operation requires
 * one: by default the SDK would sign the CRC32 of the empty body it sees when presigning into the
 * URL, and S3 would reject every real upload through it (aws-sdk-js-v3 #6994).
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html
 */
export function createPresigningS3Client(config: S3ClientConfig): S3Client {
  return new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED', ...s3Endpoint(config) });
}
