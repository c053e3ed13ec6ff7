/**
 * Job items (`pk = JOB#<jobId>`, `sk = JOB`): creation, reads, and every status change
 * through one function, transitionJob.
 *
 * While a job is RUNNING its item carries `runningPk` and `deadlineAt`, the keys of the sparse
 * index RunningByDeadline; every transition out of RUNNING removes `runningPk`, and the one
 * into RUNNING (a redrive) sets both, so the index holds exactly the running jobs.
 *
 * A job's chunks are counted on its shard items (shards.ts), never on the job item: the job
 * item is written once per shard (`shards.<k>`, when shard k completes), not once per chunk.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  ASSUMED_JOB_ITEM_BYTES,
  addUsage,
  INDEX_ENTRY_WRITE_UNITS,
  itemSizeBytes,
  type JobUsage,
  NO_USAGE,
  writeUnits,
} from '../cost.ts';
import { errorName, InconsistentJobError } from '../errors.ts';
import { retryWhile } from '../retry.ts';
import {
  type ChunkError,
  type FailedChunk,
  type InputFormat,
  isJobStatus,
  type JobFailure,
  type JobStatus,
  TERMINAL_STATUSES,
} from '../types.ts';
import {
  jobKey,
  OWNER_ATTRIBUTE,
  OWNER_INDEX_ATTRIBUTES,
  OWNER_INDEX_PARTITION_KEY,
  OWNER_INDEX_SORT_KEY,
  ownerPartitionKey,
  ownerSortKey,
  PARTITION_KEY,
  RUNNING_INDEX_PARTITION_KEY,
  RUNNING_INDEX_SORT_KEY,
  RUNNING_PARTITION,
} from './keys.ts';
import {
  counter,
  type Item,
  isConditionalCheckFailed,
  isCount,
  isPlainObject,
  type JobTable,
  oldItemOfFailedCondition,
  projection,
  UpdateBuilder,
} from './table.ts';
import { addUsageTo, usageOf } from './usage.ts';

/**
 * Where an S3 input job reads its numbers (the `input` map of the job item). `size` and
 * `etag` are set when the job starts (HeadObject); `uploadId` while a multipart upload is open.
 */
export interface JobInput {
  readonly bucket: string;
  readonly key: string;
  readonly format: InputFormat;
  /** Bytes of each range (the last one shorter). */
  readonly rangeBytes: number;
  /** Most numbers the job may hold; past it the job FAILS (TOO_MANY_NUMBERS). */
  readonly maxNumbers: number;
  readonly size?: number;
  readonly etag?: string;
  readonly uploadId?: string;
}

/** A job item as read back. */
export interface JobRecord {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly numbersCount: number;
  readonly chunkCount: number;
  /** Shards the chunks are counted in (shards.ts); chunk i belongs to shard i mod shardCount. */
  readonly shardCount: number;
  /**
   * The completed shards: shard index → its count of numbers. One small number per shard,
   * so the job item, read (and billed by its size) by every chunk's worker and aggregator,
   * stays small however many shards a job has.
   */
  readonly shards: Readonly<Record<string, number>>;
  /** Numbers of the job's results once SUCCEEDED (0 before). */
  readonly numbersDone: number;
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
  /**
   * What the job item's own counters hold: what the dispatcher, failures, drops and redrives
   * used, and, once SUCCEEDED, every shard's usage (folded in by the finalize).
   */
  readonly usage: JobUsage;
  /** The size of the item as read, for the units of later writes and reads. */
  readonly itemBytes: number;
  /** The principal ARN that submitted the job (commons/caller.ts); absent on older jobs. */
  readonly ownerArn?: string;
  /**
   * Set for a job whose input is an S3 object: its `numbersCount` is 0 until it SUCCEEDS (the
   * chunks report their counts), and its chunks are the object's ranges.
   */
  readonly input?: JobInput;
}

export interface NewJob {
  readonly jobId: string;
  /** The submitting principal's ARN (commons/caller.ts): the key of its OwnerJobs entry. */
  readonly ownerArn: string;
  readonly numbersCount: number;
  readonly chunkCount: number;
  readonly shardCount: number;
  readonly now: Date;
  readonly expiresAt: number;
  /** Epoch milliseconds; the job is FAILED (DEADLINE_EXCEEDED) if still RUNNING after it. */
  readonly deadlineAt: number;
  /** What submitting used besides the job item's own write (its units are added here). */
  readonly usage?: Partial<JobUsage>;
  /** AWAITING_INPUT for an upload job (deadlineAt is then its upload deadline); RUNNING if unset. */
  readonly status?: 'RUNNING' | 'AWAITING_INPUT';
  readonly input?: JobInput;
}

/** Epoch seconds `days` after `now`: the TTL of a job created at `now`. */
export function expiryAfterDays(now: Date, days: number): number {
  return Math.floor(now.getTime() / 1000) + days * 86_400;
}

/** Job attributes without the inline results (up to MAX_INLINE_RESULT_BYTES). */
const JOB_SUMMARY_ATTRIBUTES = [
  ...OWNER_INDEX_ATTRIBUTES, // what a listing shows, then the rest of the job
  'expiresAt',
  'failure',
  'deadlineAt',
  'cancelledAt',
  'attempts',
  'chunkErrors',
  'failedChunks',
  'failedChunkCount',
  'lambdaMbMs',
  'lambdaRequests',
  'sqsRequests',
  'readUnits',
  'writeUnits',
  OWNER_ATTRIBUTE,
  'input',
];

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

/** The completed shards of a job item's `shards` map. */
function toRecordedShards(value: unknown): Record<string, number> {
  const shards: Record<string, number> = {};
  if (!isPlainObject(value)) return shards;
  for (const [index, numbers] of Object.entries(value)) {
    if (isCount(numbers)) shards[index] = numbers;
  }
  return shards;
}

/** The fields every job item and every owner-index entry of it holds. */
export type JobSummaryFields = Pick<
  JobRecord,
  | 'status'
  | 'numbersCount'
  | 'chunkCount'
  | 'shardCount'
  | 'shards'
  | 'numbersDone'
  | 'createdAt'
  | 'updatedAt'
  | 'completedAt'
>;

/** Those fields of a job item or an owner-index entry, or undefined when one is missing. */
export function toJobSummaryFields(item: Item): JobSummaryFields | undefined {
  const { status, numbersCount, chunkCount, shardCount, createdAt, updatedAt } = item;
  if (
    !isJobStatus(status) ||
    !isCount(numbersCount) ||
    !isCount(chunkCount) ||
    !isCount(shardCount) ||
    typeof createdAt !== 'string' ||
    typeof updatedAt !== 'string'
  ) {
    return undefined;
  }
  return {
    status,
    numbersCount,
    chunkCount,
    shardCount,
    shards: toRecordedShards(item.shards),
    numbersDone: counter(item.numbersDone),
    createdAt,
    updatedAt,
    ...(typeof item.completedAt === 'string' && { completedAt: item.completedAt }),
  };
}

/** A job item as a JobRecord. @throws InconsistentJobError when it lacks an attribute */
export function toJobRecord(jobId: string, item: Item): JobRecord {
  const { expiresAt, failure, results, deadlineAt, cancelledAt } = item;
  const ownerArn = item[OWNER_ATTRIBUTE];
  const summary = toJobSummaryFields(item);
  if (summary === undefined || !isCount(expiresAt)) {
    throw new InconsistentJobError(jobId, 'the job item lacks a required attribute');
  }
  return {
    jobId,
    ...summary,
    expiresAt,
    ...(isPlainObject(failure) && { failure: failure as unknown as JobFailure }),
    ...(typeof results === 'string' && { results }),
    ...(isCount(deadlineAt) && { deadlineAt }),
    ...(typeof cancelledAt === 'string' && { cancelledAt }),
    attempts: counter(item.attempts),
    chunkErrors: toChunkErrors(item.chunkErrors),
    failedChunks: toFailedChunks(item.failedChunks),
    failedChunkCount: counter(item.failedChunkCount),
    usage: usageOf(item),
    itemBytes: itemSizeBytes({ ...item, ...jobKey(jobId) }),
    ...(typeof ownerArn === 'string' && { ownerArn }),
    ...(isPlainObject(item.input) && { input: toJobInput(jobId, item.input) }),
  };
}

function toJobInput(jobId: string, value: Record<string, unknown>): JobInput {
  const { bucket, key, format, rangeBytes, maxNumbers, size, etag, uploadId } = value;
  if (
    typeof bucket !== 'string' ||
    typeof key !== 'string' ||
    (format !== 'lines' && format !== 'json') ||
    !isCount(rangeBytes) ||
    !isCount(maxNumbers)
  ) {
    throw new InconsistentJobError(jobId, 'the job item has an incomplete input');
  }
  return {
    bucket,
    key,
    format,
    rangeBytes,
    maxNumbers,
    ...(isCount(size) && { size }),
    ...(typeof etag === 'string' && { etag }),
    ...(typeof uploadId === 'string' && { uploadId }),
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
  const item: Item = {
    ...jobKey(job.jobId),
    jobId: job.jobId,
    status: job.status ?? 'RUNNING',
    numbersCount: job.numbersCount,
    chunkCount: job.chunkCount,
    shardCount: job.shardCount,
    shards: {},
    numbersDone: 0,
    createdAt: timestamp,
    updatedAt: timestamp,
    expiresAt: job.expiresAt,
    [RUNNING_INDEX_PARTITION_KEY]: RUNNING_PARTITION,
    [RUNNING_INDEX_SORT_KEY]: job.deadlineAt,
    [OWNER_ATTRIBUTE]: job.ownerArn,
    [OWNER_INDEX_PARTITION_KEY]: ownerPartitionKey(job.ownerArn),
    [OWNER_INDEX_SORT_KEY]: ownerSortKey(timestamp, job.jobId),
    attempts: 0,
    chunkErrors: {},
    failedChunks: {},
    failedChunkCount: 0,
    ...(job.input !== undefined && { input: job.input }),
  };
  // The put's own units: the item with its counters (sized as 5-digit numbers) and its
  // entries in RunningByDeadline and OwnerJobs.
  const counters = addUsage(job.usage ?? NO_USAGE);
  const sized = { ...item, ...addUsage({ lambdaMbMs: 99_999, writeUnits: 99_999 }) };
  const usage = addUsage(counters, {
    writeUnits: writeUnits(itemSizeBytes(sized)) + 2 * INDEX_ENTRY_WRITE_UNITS,
  });
  await table.client.send(
    new PutCommand({
      TableName: table.tableName,
      Item: { ...item, ...usage },
      ConditionExpression: `attribute_not_exists(${PARTITION_KEY})`,
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
 * The status of a job, read strongly consistent with only `status` projected: the worker's
 * check before it computes a chunk (billed by the whole item's size: 1 unit up to 4 KB).
 * Undefined when the job does not exist (never created, or expired).
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

/** A change of a job's status, as transitionJob writes it. */
export interface Transition {
  /** The statuses the job may be in; the write is conditional on them. */
  readonly from: readonly JobStatus[];
  readonly to: JobStatus;
  /** Required when `to` is RUNNING: the new deadline (epoch ms), back in RunningByDeadline. */
  readonly deadlineAt?: number;
  /** Other attributes to set; a `[map, key]` path sets one entry of a map. */
  readonly set?: readonly (readonly [string | readonly [string, string], unknown])[];
  /** Attributes set only when absent (e.g. the first failure's reason). */
  readonly setIfAbsent?: Readonly<Record<string, unknown>>;
  readonly remove?: readonly string[];
  /** Counters to ADD besides usage (e.g. failedChunkCount). */
  readonly add?: Readonly<Record<string, number>>;
  /** What the transition's caller used; this write's own units are added to it. */
  readonly usage?: Partial<JobUsage>;
  /** A further condition on the item (e.g. its deadline has passed). */
  readonly condition?: Parameters<UpdateBuilder['condition']>[0];
  /** The job item's size, for this write's units; ASSUMED_JOB_ITEM_BYTES when unknown. */
  readonly itemBytes?: number;
}

/**
 * The Update of a transition (for an UpdateItem, or an action of a transaction): `status`
 * from one of `from` to `to`, `updatedAt`, and with it the index key and timestamps that go
 * with the new status, in one place:
 * - out of RUNNING: `runningPk` removed (the job leaves RunningByDeadline); into a terminal
 *   status: `completedAt`, kept if already set (a FAILED job failing again);
 * - into RUNNING: `runningPk` and the new `deadlineAt` set, `completedAt` removed.
 * @throws RangeError for a transition into RUNNING without a deadline
 */
export function transitionUpdate(
  table: JobTable,
  jobId: string,
  transition: Transition,
  now: Date,
) {
  const timestamp = now.toISOString();
  const update = new UpdateBuilder();
  update.set('status', transition.to).set('updatedAt', timestamp);
  const leavesRunning = transition.to !== 'RUNNING' && transition.from.includes('RUNNING');
  if (transition.to === 'RUNNING') {
    if (transition.deadlineAt === undefined) {
      throw new RangeError('a transition into RUNNING needs a deadlineAt');
    }
    update
      .set(RUNNING_INDEX_PARTITION_KEY, RUNNING_PARTITION)
      .set(RUNNING_INDEX_SORT_KEY, transition.deadlineAt)
      .remove('completedAt');
  } else {
    update.remove(RUNNING_INDEX_PARTITION_KEY);
  }
  if (TERMINAL_STATUSES.includes(transition.to)) update.setIfAbsent('completedAt', timestamp);
  for (const [path, value] of transition.set ?? []) update.set(path, value);
  for (const [name, value] of Object.entries(transition.setIfAbsent ?? {})) {
    update.setIfAbsent(name, value);
  }
  for (const name of transition.remove ?? []) update.remove(name);
  for (const [name, value] of Object.entries(transition.add ?? {})) update.add(name, value);
  // RunningByDeadline's entry comes or goes; OwnerJobs' entry (status projected) is rewritten.
  const indexUnits =
    (leavesRunning || transition.to === 'RUNNING' ? INDEX_ENTRY_WRITE_UNITS : 0) +
    INDEX_ENTRY_WRITE_UNITS;
  addUsageTo(
    update,
    addUsage(transition.usage ?? NO_USAGE, {
      writeUnits: writeUnits(transition.itemBytes ?? ASSUMED_JOB_ITEM_BYTES) + indexUnits,
    }),
  );
  const statusName = update.name('status');
  const froms = transition.from.map((status) => update.value(status));
  update.condition(() => `${statusName} IN (${froms.join(', ')})`);
  if (transition.condition !== undefined) update.condition(transition.condition);
  return { TableName: table.tableName, Key: jobKey(jobId), ...update.build() };
}

export type TransitionOutcome =
  | { readonly changed: true }
  /** The job was in none of the `from` statuses (its status then), or does not exist. */
  | { readonly changed: false; readonly status: JobStatus | undefined };

/**
 * Changes a job's status, conditionally on its current one (transitionUpdate): of two
 * racing transitions from RUNNING (a cancel and a finalize), exactly one wins.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-ReturnValuesOnConditionCheckFailure
 */
export async function transitionJob(
  table: JobTable,
  jobId: string,
  transition: Transition,
  now: Date,
): Promise<TransitionOutcome> {
  try {
    await table.client.send(
      new UpdateCommand({
        ...transitionUpdate(table, jobId, transition, now),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { changed: true };
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
    const status = oldItemOfFailedCondition(error)?.status?.S;
    return { changed: false, status: isJobStatus(status) ? status : undefined };
  }
}

/**
 * Moves a RUNNING job to FAILED with `failure`, under a further `condition` if given. Resolves
 * false when the job was no longer RUNNING (or does not exist, or the condition failed), so a
 * terminal status is never overwritten.
 */
export async function markJobFailed(
  table: JobTable,
  jobId: string,
  failure: JobFailure,
  now: Date,
  condition?: Transition['condition'],
): Promise<boolean> {
  const outcome = await transitionJob(
    table,
    jobId,
    {
      from: ['RUNNING'],
      to: 'FAILED',
      set: [['failure', failure]],
      ...(condition === undefined ? {} : { condition }),
    },
    now,
  );
  return outcome.changed;
}

export type CancelOutcome =
  | { readonly outcome: 'CANCELLED'; readonly cancelledAt: string }
  | { readonly outcome: 'NOT_RUNNING'; readonly status: JobStatus | undefined }
  | { readonly outcome: 'NOT_FOUND' };

/**
 * Cancels a RUNNING job: status CANCELLED with `cancelledAt`. Workers then skip its chunks,
 * and the aggregator drops results that still arrive; the finalize's condition on RUNNING
 * means a CANCELLED job never becomes SUCCEEDED.
 */
export async function cancelJob(table: JobTable, jobId: string, now: Date): Promise<CancelOutcome> {
  const cancelledAt = now.toISOString();
  const outcome = await transitionJob(
    table,
    jobId,
    { from: ['RUNNING'], to: 'CANCELLED', set: [['cancelledAt', cancelledAt]] },
    now,
  );
  if (outcome.changed) return { outcome: 'CANCELLED', cancelledAt };
  return outcome.status === undefined
    ? { outcome: 'NOT_FOUND' }
    : { outcome: 'NOT_RUNNING', status: outcome.status };
}

/**
 * Makes a FAILED job RUNNING again for a redrive: a new deadline, its failure and failed
 * chunk list cleared. The condition on FAILED makes it the redrive's lock: of two concurrent
 * redrives, one wins.
 * @returns false when the job is not FAILED (or does not exist)
 */
export async function reopenJobForRedrive(
  table: JobTable,
  jobId: string,
  deadlineAt: number,
  now: Date,
): Promise<boolean> {
  const outcome = await transitionJob(
    table,
    jobId,
    {
      from: ['FAILED'],
      to: 'RUNNING',
      deadlineAt,
      set: [
        ['failedChunks', {}],
        ['failedChunkCount', 0],
      ],
      remove: ['failure'],
    },
    now,
  );
  return outcome.changed;
}

/**
 * Fails a job that is still RUNNING past its deadline (DEADLINE_EXCEEDED). The condition
 * re-checks the deadline on the item: the index may be stale, and a redrive may have given
 * the job a new deadline since it was read.
 * @returns false when the job is no longer RUNNING or its deadline moved
 */
export function markJobDeadlineExceeded(
  table: JobTable,
  jobId: string,
  failure: JobFailure,
  now: Date,
): Promise<boolean> {
  return markJobFailed(
    table,
    jobId,
    failure,
    now,
    (name, value) => `${name(RUNNING_INDEX_SORT_KEY)} < ${value(now.getTime())}`,
  );
}

/**
 * Marks a RUNNING job SUCCEEDED: its numbers done, its joined results when given (small
 * jobs), and `usage` (its shards' usage, folded into the job's counters, and the finalizer's
 * reads). The condition on RUNNING makes it happen
 * exactly once, and never for a job cancelled or failed meanwhile.
 * @returns false when it was finalized before, or is no longer RUNNING
 */
export async function finalizeJob(
  table: JobTable,
  job: Pick<JobRecord, 'jobId' | 'numbersCount' | 'itemBytes'>,
  now: Date,
  resultsJson?: string,
  usage: Partial<JobUsage> = {},
): Promise<boolean> {
  const outcome = await transitionJob(
    table,
    job.jobId,
    {
      from: ['RUNNING'],
      to: 'SUCCEEDED',
      set: [
        ['numbersDone', job.numbersCount],
        // An S3 input job learns its count from its chunks.
        ['numbersCount', job.numbersCount],
        ...(resultsJson === undefined ? [] : [['results', resultsJson] as const]),
      ],
      usage,
      // Billed by the item's size after the update: the results are added to it.
      itemBytes:
        job.itemBytes + (resultsJson === undefined ? 0 : 'results'.length + resultsJson.length),
    },
    now,
  );
  return outcome.changed;
}

/**
 * Adds usage to a job's own counters, whatever its status (what a duplicate or a dropped
 * chunk used is as real as a stored one's). Never creates a job item.
 * @returns false when the job does not exist
 */
export async function addJobUsage(
  table: JobTable,
  jobId: string,
  usage: Partial<JobUsage>,
): Promise<boolean> {
  const update = addUsageTo(
    new UpdateBuilder(),
    addUsage(usage, { writeUnits: writeUnits(ASSUMED_JOB_ITEM_BYTES) }),
  ).condition((name) => `attribute_exists(${name(PARTITION_KEY)})`);
  try {
    await table.client.send(
      new UpdateCommand({ TableName: table.tableName, Key: jobKey(jobId), ...update.build() }),
    );
    return true;
  } catch (error) {
    if (isConditionalCheckFailed(error)) return false;
    throw error;
  }
}

/**
 * Retries of a plain write that met an item held by a transaction: DynamoDB answers it
 * TransactionConflictException (HTTP 400), which neither the SDK's standard retry strategy
 * nor ChunkWriterRetryStrategy retries (a 400 not marked retryable is a client error to
 * both), so recordShard keeps this loop of its own.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#API_UpdateItem_Errors
 */
const CONFLICT_RETRY = { maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 400 };

function isTransactionConflict(error: unknown): error is Error {
  return errorName(error) === 'TransactionConflictException';
}

/** What recordShard read back: the job after the shard is in its `shards` map. */
export type RecordShardOutcome =
  | { readonly outcome: 'RECORDED'; readonly job: JobRecord }
  | { readonly outcome: 'NO_JOB' };

/**
 * Records a completed shard on its job: `shards.<k> = numbers`, idempotent (a redelivery
 * writes the same entry again), returning the job as it is after the write (ALL_NEW), so the
 * write that makes the map complete sees it complete. Written whatever the job's status: a
 * FAILED job keeps its completed shards for a redrive. This write's units go to the job's
 * own counters.
 */
export async function recordShard(
  table: JobTable,
  jobId: string,
  shardIndex: number,
  numbers: number,
  itemBytes: number = ASSUMED_JOB_ITEM_BYTES,
): Promise<RecordShardOutcome> {
  const update = new UpdateBuilder().set(['shards', String(shardIndex)], numbers);
  // `shards` is projected into OwnerJobs (a listing's progress): its entry is rewritten too.
  addUsageTo(update, {
    writeUnits:
      writeUnits(itemBytes + itemSizeBytes({ [String(shardIndex)]: numbers })) +
      INDEX_ENTRY_WRITE_UNITS,
  });
  update.condition((name) => `attribute_exists(${name(PARTITION_KEY)})`);
  try {
    // The DLQ consumer's transaction may hold the job item a moment; the clients' retry
    // strategies do not retry the plain write's TransactionConflictException, so a few quick
    // retries here do (CONFLICT_RETRY).
    const response = await retryWhile(
      () =>
        table.client.send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: jobKey(jobId),
            ...update.build(),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      { policy: CONFLICT_RETRY, isRetryable: isTransactionConflict },
    );
    if (response.Attributes === undefined) {
      throw new InconsistentJobError(jobId, 'the job item was not returned by its update');
    }
    return { outcome: 'RECORDED', job: toJobRecord(jobId, response.Attributes) };
  } catch (error) {
    if (isConditionalCheckFailed(error)) return { outcome: 'NO_JOB' };
    throw error;
  }
}

/** What `POST /jobs/{jobId}/start` found: the object, and the job's chunk plan. */
export interface InputStart {
  readonly size: number;
  readonly etag?: string;
  readonly chunkCount: number;
  readonly shardCount: number;
  /** The new deadline, from the start. */
  readonly deadlineAt: number;
}

/**
 * Starts an upload job: AWAITING_INPUT to RUNNING with its object's size and ETag and its chunk
 * plan. The condition on AWAITING_INPUT makes a repeated start a no-op that answers false.
 */
export async function startInputJob(
  table: JobTable,
  jobId: string,
  start: InputStart,
  now: Date,
): Promise<TransitionOutcome> {
  return transitionJob(
    table,
    jobId,
    {
      from: ['AWAITING_INPUT'],
      to: 'RUNNING',
      deadlineAt: start.deadlineAt,
      set: [
        ['chunkCount', start.chunkCount],
        ['shardCount', start.shardCount],
        [['input', 'size'], start.size],
        ...(start.etag === undefined ? [] : [[['input', 'etag'], start.etag] as const]),
      ],
    },
    now,
  );
}

/**
 * Fails a RUNNING (or, for INPUT_NOT_UPLOADED, AWAITING_INPUT) job with `failure`. Resolves
 * false when it was in neither (a terminal status is never overwritten).
 */
export async function failJob(
  table: JobTable,
  jobId: string,
  failure: JobFailure,
  from: readonly JobStatus[],
  now: Date,
): Promise<boolean> {
  const outcome = await transitionJob(
    table,
    jobId,
    { from, to: 'FAILED', set: [['failure', failure]] },
    now,
  );
  return outcome.changed;
}
