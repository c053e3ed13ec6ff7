/**
 * Jobs and chunk results in the single DynamoDB table: plain functions over an injected
 * document client and table name.
 *
 * Items (keys `pk`/`sk`, TTL attribute `expiresAt` in epoch seconds):
 * - job:    `pk = JOB#<jobId>`, `sk = JOB`
 * - chunk:  `pk = JOB#<jobId>`, `sk = CHUNK#<chunkIndex zero-padded to 8>`, so a Query on the
 *   job's partition returns its chunks in index order, which is result order.
 * - failed chunk input: `pk = JOB#<jobId>`, `sk = FAILED#<chunkIndex 8 digits>` (failed-chunks.ts)
 * - idempotency records of `POST /jobs`: `pk = IDEMPOTENCY#submit` (Powertools, see
 *   dispatcher/idempotent-submit.ts)
 *
 * While a job is RUNNING its item carries `runningPk = RUNNING` and `deadlineAt` (epoch ms),
 * the keys of the sparse index RunningByDeadline; every transition out of RUNNING removes
 * `runningPk`, so the index holds exactly the running jobs, by deadline (deadlines.ts).
 *
 * Results are stored as JSON text, never as DynamoDB numbers: a big square stays the exact
 * decimal string it was, and a float keeps the exact text JSON.stringify gave it.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ASSUMED_JOB_ITEM_BYTES,
  addUsage,
  INDEX_ENTRY_WRITE_UNITS,
  itemSizeBytes,
  type JobUsage,
  NO_USAGE,
  writeUnits,
} from './cost.ts';
import { errorName, InconsistentJobError, TransientTransactionError } from './errors.ts';
import {
  type ChunkError,
  type FailedChunk,
  isJobStatus,
  type JobFailure,
  type JobStatus,
} from './types.ts';

export interface JobTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** A job item as read back. */
export interface JobRecord {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly numbersCount: number;
  readonly chunkCount: number;
  /** Chunks stored so far; each counted exactly once. */
  readonly chunksDone: number;
  /** Numbers of the stored chunks; equals numbersCount when chunksDone equals chunkCount. */
  readonly numbersDone: number;
  /** Sum of the stored chunks' result JSON lengths (an upper bound of the joined length). */
  readonly resultBytes: number;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When the job reached a terminal status. */
  readonly completedAt?: string;
  /** Epoch seconds: DynamoDB TTL. */
  readonly expiresAt: number;
  readonly failure?: JobFailure;
  /** The joined ordered results as JSON text, when the job SUCCEEDED and they are small. */
  readonly results?: string;
  /** Epoch milliseconds after which the sweeper fails the job while it is RUNNING. */
  readonly deadlineAt?: number;
  /** ISO 8601, when it was cancelled. */
  readonly cancelledAt?: string;
  /** Failed chunk deliveries recorded by the workers (each one is delivered again). */
  readonly attempts: number;
  /** The last failure a worker saw per chunk index (at most MAX_RECORDED_CHUNK_ERRORS). */
  readonly chunkErrors: Readonly<Record<string, ChunkError>>;
  /** Chunks that reached the dead-letter queue, by index (at most MAX_RECORDED_FAILED_CHUNKS). */
  readonly failedChunks: Readonly<Record<string, Omit<FailedChunk, 'chunkIndex'>>>;
  /** How many chunks reached the dead-letter queue, each counted once. */
  readonly failedChunkCount: number;
  /** What the job used so far, for the cost estimate (cost.ts). */
  readonly usage: JobUsage;
  /** The size of the item as read (inline results only when asked for), for write costs. */
  readonly itemBytes: number;
}

export interface NewJob {
  readonly jobId: string;
  readonly numbersCount: number;
  readonly chunkCount: number;
  readonly now: Date;
  readonly expiresAt: number;
  /** Epoch milliseconds; the job is FAILED (DEADLINE_EXCEEDED) if still RUNNING after it. */
  readonly deadlineAt: number;
  /** What submitting used besides the job item's own write (its units are added here). */
  readonly usage?: JobUsage;
}

/** One chunk's results, as the aggregator stores them. */
export interface ChunkToStore {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly offset: number;
  readonly count: number;
  /** JSON array text of the chunk's squares. */
  readonly resultsJson: string;
  readonly computeMs: number;
  readonly receiveCount: number;
  readonly expiresAt: number;
  /** What this delivery used besides the transaction's own writes (which are added here). */
  readonly usage?: JobUsage;
  /** The job item's size, for the transaction's write units; ASSUMED_JOB_ITEM_BYTES if unknown. */
  readonly jobItemBytes?: number;
}

/** One chunk's results, as read back. */
export interface StoredChunk {
  readonly chunkIndex: number;
  readonly offset: number;
  readonly count: number;
  readonly resultsJson: string;
}

export type StoreChunkOutcome =
  | { readonly outcome: 'STORED' }
  | { readonly outcome: 'DUPLICATE' }
  | { readonly outcome: 'JOB_NOT_RUNNING'; readonly jobStatus: JobStatus | undefined };

const JOB_SORT_KEY = 'JOB';
const JOB_PREFIX = 'JOB#';
const CHUNK_PREFIX = 'CHUNK#';
export const CHUNK_INDEX_DIGITS = 8;
export const FIRST_CHUNK_SORT_KEY = `${CHUNK_PREFIX}${'0'.repeat(CHUNK_INDEX_DIGITS)}`;
export const LAST_CHUNK_SORT_KEY = `${CHUNK_PREFIX}${'9'.repeat(CHUNK_INDEX_DIGITS)}`;

/** The sparse index of running jobs by deadline (KEYS_ONLY): `runningPk` / `deadlineAt`. */
export const RUNNING_BY_DEADLINE_INDEX = 'RunningByDeadline';
/** The one value of `runningPk`, present only while the job is RUNNING. */
export const RUNNING_PARTITION = 'RUNNING';

export function jobPartitionKey(jobId: string): string {
  return `${JOB_PREFIX}${jobId}`;
}

/** The job id of a job partition key, or undefined when `pk` is not one. */
export function jobIdOfPartitionKey(pk: unknown): string | undefined {
  return typeof pk === 'string' && pk.startsWith(JOB_PREFIX)
    ? pk.slice(JOB_PREFIX.length)
    : undefined;
}

/** The chunk index of a `CHUNK#…` or `FAILED#…` sort key, or undefined. */
export function chunkIndexOfSortKey(sk: unknown): number | undefined {
  if (typeof sk !== 'string') return undefined;
  const match = /^(?:CHUNK|FAILED)#([0-9]{8})$/.exec(sk);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function jobKey(jobId: string): { pk: string; sk: string } {
  return { pk: jobPartitionKey(jobId), sk: JOB_SORT_KEY };
}

export function chunkSortKey(chunkIndex: number): string {
  return `${CHUNK_PREFIX}${String(chunkIndex).padStart(CHUNK_INDEX_DIGITS, '0')}`;
}

/** Epoch seconds `days` after `now`: the TTL of a job created at `now`. */
export function expiryAfterDays(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + days * 86_400;
}

/** Job attributes without the inline results (up to MAX_INLINE_RESULT_BYTES). */
const JOB_SUMMARY_ATTRIBUTES = [
  'jobId',
  'status',
  'numbersCount',
  'chunkCount',
  'chunksDone',
  'numbersDone',
  'resultBytes',
  'createdAt',
  'updatedAt',
  'completedAt',
  'expiresAt',
  'failure',
  'deadlineAt',
  'cancelledAt',
  'attempts',
  'chunkErrors',
  'failedChunks',
  'failedChunkCount',
  'workerMbMs',
  'sqsRequests',
  'writeUnits',
];

/** Projection of `attributes`, every name aliased (`status`, `count` are reserved words). */
export function projection(attributes: readonly string[]): {
  ProjectionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
} {
  const names: Record<string, string> = {};
  for (const attribute of attributes) names[`#${attribute}`] = attribute;
  return { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A non-negative counter, 0 when absent (items written before the counter existed). */
function counter(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toChunkErrors(value: unknown): Record<string, ChunkError> {
  const errors: Record<string, ChunkError> = {};
  if (!isPlainObject(value)) return errors;
  for (const [index, entry] of Object.entries(value)) {
    if (!isPlainObject(entry)) continue;
    const { reason, at, receiveCount } = entry;
    if (typeof reason !== 'string') continue;
    errors[index] = {
      reason,
      at: typeof at === 'string' ? at : '',
      receiveCount: counter(receiveCount),
    };
  }
  return errors;
}

function toFailedChunks(value: unknown): Record<string, Omit<FailedChunk, 'chunkIndex'>> {
  const chunks: Record<string, Omit<FailedChunk, 'chunkIndex'>> = {};
  if (!isPlainObject(value)) return chunks;
  for (const [index, entry] of Object.entries(value)) {
    if (!isPlainObject(entry) || typeof entry.reason !== 'string') continue;
    chunks[index] = {
      reason: entry.reason,
      ...(isCount(entry.receiveCount) && { receiveCount: entry.receiveCount }),
    };
  }
  return chunks;
}

function toJobRecord(jobId: string, item: Record<string, unknown>): JobRecord {
  const { status, numbersCount, chunkCount, chunksDone, numbersDone, resultBytes } = item;
  const { createdAt, updatedAt, completedAt, expiresAt, failure, results } = item;
  const { deadlineAt, cancelledAt } = item;
  if (
    !isJobStatus(status) ||
    !isCount(numbersCount) ||
    !isCount(chunkCount) ||
    !isCount(chunksDone) ||
    !isCount(numbersDone) ||
    !isCount(resultBytes) ||
    typeof createdAt !== 'string' ||
    typeof updatedAt !== 'string' ||
    !isCount(expiresAt)
  ) {
    throw new InconsistentJobError(jobId, 'the job item lacks a required attribute');
  }
  return {
    jobId,
    status,
    numbersCount,
    chunkCount,
    chunksDone,
    numbersDone,
    resultBytes,
    createdAt,
    updatedAt,
    expiresAt,
    ...(typeof completedAt === 'string' && { completedAt }),
    ...(typeof failure === 'object' && failure !== null && { failure: failure as JobFailure }),
    ...(typeof results === 'string' && { results }),
    ...(isCount(deadlineAt) && { deadlineAt }),
    ...(typeof cancelledAt === 'string' && { cancelledAt }),
    attempts: counter(item.attempts),
    chunkErrors: toChunkErrors(item.chunkErrors),
    failedChunks: toFailedChunks(item.failedChunks),
    failedChunkCount: counter(item.failedChunkCount),
    usage: {
      workerMbMs: counter(item.workerMbMs),
      sqsRequests: counter(item.sqsRequests),
      writeUnits: counter(item.writeUnits),
    },
    itemBytes: itemSizeBytes({ ...item, ...jobKey(jobId) }),
  };
}

/**
 * Writes a new RUNNING job item, with its deadline (which puts it in RunningByDeadline), the
 * empty maps later writes set entries of (a nested SET needs its map to exist), and the
 * usage counters started with what submitting used, this write included.
 * @throws ConditionalCheckFailedException when the job id is taken (never, with UUIDs)
 */
export async function createJob(table: JobTable, job: NewJob): Promise<void> {
  const timestamp = job.now.toISOString();
  const submitted = job.usage ?? NO_USAGE;
  const item = {
    ...jobKey(job.jobId),
    jobId: job.jobId,
    status: 'RUNNING',
    numbersCount: job.numbersCount,
    chunkCount: job.chunkCount,
    chunksDone: 0,
    numbersDone: 0,
    resultBytes: 0,
    createdAt: timestamp,
    updatedAt: timestamp,
    expiresAt: job.expiresAt,
    runningPk: RUNNING_PARTITION,
    deadlineAt: job.deadlineAt,
    attempts: 0,
    chunkErrors: {},
    failedChunks: {},
    failedChunkCount: 0,
    workerMbMs: submitted.workerMbMs,
    sqsRequests: submitted.sqsRequests,
    writeUnits: submitted.writeUnits,
  };
  // The put's own units: the item (its counter sized as a 3-digit number) and its index entry.
  const ownUnits =
    writeUnits(itemSizeBytes({ ...item, writeUnits: 999 })) + INDEX_ENTRY_WRITE_UNITS;
  await table.client.send(
    new PutCommand({
      TableName: table.tableName,
      Item: { ...item, writeUnits: submitted.writeUnits + ownUnits },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/**
 * Reads a job. `withResults: false` leaves out the inline results (up to 128 KB) for
 * callers that only need the counters.
 */
export async function getJob(
  table: JobTable,
  jobId: string,
  options: { readonly consistentRead?: boolean; readonly withResults?: boolean } = {},
): Promise<JobRecord | undefined> {
  const attributes = options.withResults
    ? [...JOB_SUMMARY_ATTRIBUTES, 'results']
    : JOB_SUMMARY_ATTRIBUTES;
  const response = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: jobKey(jobId),
      ConsistentRead: options.consistentRead ?? false,
      ...projection(attributes),
    }),
  );
  return response.Item === undefined ? undefined : toJobRecord(jobId, response.Item);
}

/**
 * The status of a job, read strongly consistent with only `status` projected (a few bytes,
 * one read unit): the worker's check before it computes a chunk. Undefined when the job
 * does not exist (never created, or expired).
 */
export async function getJobStatus(table: JobTable, jobId: string): Promise<JobStatus | undefined> {
  const response = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: jobKey(jobId),
      ConsistentRead: true,
      ...projection(['status']),
    }),
  );
  const status = response.Item?.status;
  if (response.Item === undefined) return undefined;
  if (!isJobStatus(status)) throw new InconsistentJobError(jobId, 'the job item has no status');
  return status;
}

/** The UpdateExpression clause that adds `usage` to the job's counters (`:mbMs`, `:sqs`, `:wu`). */
export const ADD_USAGE = 'workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu';

export function usageValues(usage: JobUsage): Record<string, number> {
  return { ':mbMs': usage.workerMbMs, ':sqs': usage.sqsRequests, ':wu': usage.writeUnits };
}

/**
 * Moves a RUNNING job to FAILED with `failure`, out of RunningByDeadline. Resolves false when
 * the job was no longer RUNNING (or does not exist), so a terminal status is never
 * overwritten.
 */
export async function markJobFailed(
  table: JobTable,
  jobId: string,
  failure: JobFailure,
  now: Date,
): Promise<boolean> {
  const timestamp = now.toISOString();
  const usage = {
    ...NO_USAGE,
    writeUnits: writeUnits(ASSUMED_JOB_ITEM_BYTES) + INDEX_ENTRY_WRITE_UNITS,
  };
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(jobId),
        UpdateExpression: `SET #status = :failed, failure = :failure, completedAt = :now, updatedAt = :now REMOVE runningPk ADD ${ADD_USAGE}`,
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': 'FAILED',
          ':running': 'RUNNING',
          ':failure': failure,
          ':now': timestamp,
          ...usageValues(usage),
        },
      }),
    );
    return true;
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** Cancellation reason codes that a retry of the same transaction may get past. */
const TRANSIENT_CANCELLATION_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

interface CancellationReasonLike {
  readonly Code?: string;
  readonly Item?: Record<string, { S?: string }>;
}

function cancellationReasons(error: unknown): CancellationReasonLike[] | undefined {
  if (errorName(error) !== 'TransactionCanceledException') return undefined;
  const { CancellationReasons } = error as { CancellationReasons?: unknown };
  return Array.isArray(CancellationReasons) ? CancellationReasons : undefined;
}

/** The chunk item storeChunk puts. */
export function buildChunkItem(chunk: ChunkToStore, storedAt: string): Record<string, unknown> {
  return {
    ...jobKey(chunk.jobId),
    sk: chunkSortKey(chunk.chunkIndex),
    jobId: chunk.jobId,
    chunkIndex: chunk.chunkIndex,
    offset: chunk.offset,
    count: chunk.count,
    results: chunk.resultsJson,
    resultBytes: chunk.resultsJson.length,
    computeMs: chunk.computeMs,
    receiveCount: chunk.receiveCount,
    storedAt,
    expiresAt: chunk.expiresAt,
  };
}

/** The write units of storeChunk's transaction: the chunk item and the job item, twice each. */
export function storeChunkWriteUnits(
  chunkItem: Record<string, unknown>,
  jobItemBytes: number,
): number {
  return (
    writeUnits(itemSizeBytes(chunkItem), { transactional: true }) +
    writeUnits(jobItemBytes, { transactional: true })
  );
}

/**
 * Stores a chunk's results and counts it, exactly once, in one transaction:
 * 1. Put the chunk item if it does not exist yet;
 * 2. add 1 to the job's `chunksDone` (and the chunk's numbers and bytes to `numbersDone`
 *    and `resultBytes`, and the delivery's usage to the cost counters) if the job is RUNNING
 *    or FAILED and not yet complete.
 * Either both happen or neither. The cancellation reasons tell why nothing happened: the
 * chunk was stored before (DUPLICATE), or the job is CANCELLED or SUCCEEDED.
 *
 * A FAILED job still stores its chunks: it may be redriven, and the chunks still in flight
 * when it failed are exact work that a redrive could not redo (their messages are deleted
 * once handed off). It is only ever finalized after a redrive made it RUNNING again.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 * @throws TransientTransactionError when cancelled by a conflict or throttling: retry it
 * @throws InconsistentJobError when a RUNNING job's counter is complete but this chunk is new
 */
export async function storeChunk(
  table: JobTable,
  chunk: ChunkToStore,
  now: Date,
): Promise<StoreChunkOutcome> {
  const timestamp = now.toISOString();
  const chunkItem = buildChunkItem(chunk, timestamp);
  const usage = addUsage(chunk.usage ?? NO_USAGE, {
    ...NO_USAGE,
    writeUnits: storeChunkWriteUnits(chunkItem, chunk.jobItemBytes ?? ASSUMED_JOB_ITEM_BYTES),
  });
  try {
    await table.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table.tableName,
              Item: chunkItem,
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: table.tableName,
              Key: jobKey(chunk.jobId),
              UpdateExpression: `ADD chunksDone :one, numbersDone :count, resultBytes :bytes, ${ADD_USAGE} SET updatedAt = :now`,
              ConditionExpression: '#status IN (:running, :failed) AND chunksDone < chunkCount',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: {
                ':one': 1,
                ':count': chunk.count,
                ':bytes': chunk.resultsJson.length,
                ':now': timestamp,
                ':running': 'RUNNING',
                ':failed': 'FAILED',
                ...usageValues(usage),
              },
              // The old job item tells a job that is no longer RUNNING from a full counter.
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      }),
    );
    return { outcome: 'STORED' };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons === undefined) throw error;
    const [chunkReason, jobReason] = reasons;
    if (jobReason?.Code === 'ConditionalCheckFailed') {
      const status = jobReason.Item?.status?.S;
      if (status === 'RUNNING' || status === 'FAILED') {
        // A full counter with this chunk already stored is the redelivery of the last chunk
        // after a crash before the finalize: a duplicate, which the caller then finalizes.
        if (chunkReason?.Code === 'ConditionalCheckFailed') return { outcome: 'DUPLICATE' };
        // A full counter without this chunk: more chunks than the job has.
        throw new InconsistentJobError(chunk.jobId, 'chunksDone already equals chunkCount');
      }
      return { outcome: 'JOB_NOT_RUNNING', jobStatus: isJobStatus(status) ? status : undefined };
    }
    if (chunkReason?.Code === 'ConditionalCheckFailed') return { outcome: 'DUPLICATE' };
    const codes = reasons.map((reason) => reason.Code ?? 'None');
    if (codes.some((code) => TRANSIENT_CANCELLATION_CODES.has(code))) {
      throw new TransientTransactionError(codes, { cause: error });
    }
    throw error;
  }
}

/**
 * Marks a complete RUNNING job SUCCEEDED, with its joined results when given, and takes it
 * out of RunningByDeadline. Resolves false when another delivery finalized it first, or it is
 * no longer RUNNING: the condition makes finalizing idempotent.
 */
export async function finalizeJob(
  table: JobTable,
  jobId: string,
  now: Date,
  resultsJson?: string,
  jobItemBytes: number = ASSUMED_JOB_ITEM_BYTES,
): Promise<boolean> {
  const timestamp = now.toISOString();
  const setResults = resultsJson === undefined ? '' : ', #results = :results';
  // Billed by the item's size after the update: the results are added to it.
  const units =
    writeUnits(
      jobItemBytes + (resultsJson === undefined ? 0 : 'results'.length + resultsJson.length),
    ) + INDEX_ENTRY_WRITE_UNITS;
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(jobId),
        UpdateExpression: `SET #status = :succeeded, completedAt = :now, updatedAt = :now${setResults} REMOVE runningPk ADD writeUnits :wu`,
        ConditionExpression: '#status = :running AND chunksDone = chunkCount',
        ExpressionAttributeNames: {
          '#status': 'status',
          ...(resultsJson !== undefined && { '#results': 'results' }),
        },
        ExpressionAttributeValues: {
          ':succeeded': 'SUCCEEDED',
          ':running': 'RUNNING',
          ':now': timestamp,
          ':wu': units,
          ...(resultsJson !== undefined && { ':results': resultsJson }),
        },
      }),
    );
    return true;
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

function toStoredChunk(jobId: string, item: Record<string, unknown>): StoredChunk {
  const { chunkIndex, offset, count, results } = item;
  if (!isCount(chunkIndex) || !isCount(offset) || !isCount(count) || typeof results !== 'string') {
    throw new InconsistentJobError(jobId, `chunk item ${String(item.sk)} lacks an attribute`);
  }
  return { chunkIndex, offset, count, resultsJson: results };
}

/**
 * The job's stored chunks from `fromChunkIndex` on, in index order, read page by page
 * (strongly consistent: a chunk counted a moment ago is visible).
 */
export async function* queryChunks(
  table: JobTable,
  jobId: string,
  fromChunkIndex = 0,
): AsyncGenerator<StoredChunk> {
  let exclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const response = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': jobPartitionKey(jobId),
          ':from': chunkSortKey(fromChunkIndex),
          ':to': LAST_CHUNK_SORT_KEY,
        },
        ConsistentRead: true,
        ExclusiveStartKey: exclusiveStartKey,
        ...projection(['sk', 'chunkIndex', 'offset', 'count', 'results']),
      }),
    );
    for (const item of response.Items ?? []) yield toStoredChunk(jobId, item);
    exclusiveStartKey = response.LastEvaluatedKey;
  } while (exclusiveStartKey !== undefined);
}

/**
 * Joins chunk result arrays (JSON text, each non-empty) into one JSON array, in the given
 * order, without parsing them.
 */
export function joinResultArrays(chunks: readonly { readonly resultsJson: string }[]): string {
  return `[${chunks.map((chunk) => chunk.resultsJson.slice(1, -1)).join(',')}]`;
}

/**
 * Reads every chunk of a complete job and checks that together they cover its numbers
 * exactly once, in order.
 * @throws InconsistentJobError when a chunk is missing, doubled or out of place
 */
export async function readAllChunks(
  table: JobTable,
  job: Pick<JobRecord, 'jobId' | 'chunkCount' | 'numbersCount'>,
): Promise<StoredChunk[]> {
  const chunks: StoredChunk[] = [];
  let expectedOffset = 0;
  for await (const chunk of queryChunks(table, job.jobId)) {
    if (chunk.chunkIndex !== chunks.length || chunk.offset !== expectedOffset) {
      throw new InconsistentJobError(
        job.jobId,
        `chunk ${chunk.chunkIndex} at offset ${chunk.offset} found where chunk ${chunks.length} at offset ${expectedOffset} was expected`,
      );
    }
    chunks.push(chunk);
    expectedOffset += chunk.count;
  }
  if (chunks.length !== job.chunkCount || expectedOffset !== job.numbersCount) {
    throw new InconsistentJobError(
      job.jobId,
      `found ${chunks.length} chunks holding ${expectedOffset} numbers, expected ${job.chunkCount} holding ${job.numbersCount}`,
    );
  }
  return chunks;
}

export interface ChunkPage {
  /** Consecutive chunks, at least one. */
  readonly chunks: StoredChunk[];
  /** The first chunk of the next page, or undefined after the last chunk. */
  readonly nextChunkIndex: number | undefined;
}

/**
 * Reads whole chunks from `fromChunkIndex` on while their results fit in `maxBytes` (the
 * first chunk always does: a chunk's results are bounded far below a page).
 * @throws InconsistentJobError when a chunk of the job is missing
 */
export async function readChunkPage(
  table: JobTable,
  job: Pick<JobRecord, 'jobId' | 'chunkCount'>,
  fromChunkIndex: number,
  maxBytes: number,
): Promise<ChunkPage> {
  const chunks: StoredChunk[] = [];
  let bytes = 0;
  let nextChunkIndex: number | undefined;
  for await (const chunk of queryChunks(table, job.jobId, fromChunkIndex)) {
    const expectedIndex = fromChunkIndex + chunks.length;
    if (chunk.chunkIndex !== expectedIndex) {
      throw new InconsistentJobError(job.jobId, `chunk ${expectedIndex} is missing`);
    }
    if (chunks.length > 0 && bytes + chunk.resultsJson.length > maxBytes) {
      nextChunkIndex = chunk.chunkIndex;
      break;
    }
    chunks.push(chunk);
    bytes += chunk.resultsJson.length;
  }
  const reachedEnd = nextChunkIndex === undefined;
  const lastIndex = fromChunkIndex + chunks.length - 1;
  if (chunks.length === 0 || (reachedEnd && lastIndex !== job.chunkCount - 1)) {
    throw new InconsistentJobError(job.jobId, `chunk ${lastIndex + 1} is missing`);
  }
  return { chunks, nextChunkIndex };
}

/**
 * Adds usage to a job's cost counters, whatever its status (what a duplicate or a dropped
 * chunk used is as real as a stored one's). Does nothing for a job that does not exist:
 * an update must not create a job item.
 * @returns false when the job does not exist
 */
export async function addJobUsage(
  table: JobTable,
  jobId: string,
  usage: JobUsage,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(jobId),
        UpdateExpression: `ADD ${ADD_USAGE}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: usageValues(usage),
      }),
    );
    return true;
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

export type CancelOutcome =
  | { readonly outcome: 'CANCELLED'; readonly cancelledAt: string }
  | { readonly outcome: 'NOT_RUNNING'; readonly status: JobStatus | undefined }
  | { readonly outcome: 'NOT_FOUND' };

/**
 * Cancels a RUNNING job: status CANCELLED with `cancelledAt`, out of RunningByDeadline.
 * Workers then skip its chunks, and the aggregator drops results that still arrive. The old
 * item returned when the condition fails tells a terminal job (its status) from an unknown
 * one.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-ReturnValuesOnConditionCheckFailure
 */
export async function cancelJob(table: JobTable, jobId: string, now: Date): Promise<CancelOutcome> {
  const cancelledAt = now.toISOString();
  const units = writeUnits(ASSUMED_JOB_ITEM_BYTES) + INDEX_ENTRY_WRITE_UNITS;
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(jobId),
        UpdateExpression:
          'SET #status = :cancelled, cancelledAt = :now, completedAt = :now, updatedAt = :now REMOVE runningPk ADD writeUnits :wu',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':cancelled': 'CANCELLED',
          ':running': 'RUNNING',
          ':now': cancelledAt,
          ':wu': units,
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { outcome: 'CANCELLED', cancelledAt };
  } catch (error) {
    if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
    // The document client leaves the old item of a failed condition marshalled.
    const { Item } = error as { Item?: Record<string, { S?: string }> };
    if (Item === undefined) return { outcome: 'NOT_FOUND' };
    const status = Item.status?.S;
    return { outcome: 'NOT_RUNNING', status: isJobStatus(status) ? status : undefined };
  }
}
