/**
 * The aggregator: stores each chunk result exactly once and completes the job after its last
 * chunk.
 *
 * Exactly once: the chunk item is put only if absent, in the same transaction that counts it
 * on the job, so a redelivered chunk changes nothing (DUPLICATE).
 *
 * Completion: after STORED *or* DUPLICATE, the job is re-read; when every chunk is counted
 * and it is still RUNNING, it is finalized. Finalizing on DUPLICATE too is what recovers a
 * crash between the transaction and the finalize: the worker never got an answer, SQS
 * redelivers, the chunk is a duplicate, and this delivery finishes the job.
 *
 * Jobs that have ended: the chunks of a CANCELLED or SUCCEEDED job are dropped
 * (JOB_NOT_RUNNING), so a result arriving after a cancellation never resurrects the job. A
 * FAILED job still stores its chunks (it may be redriven; see storeChunk), but is never
 * finalized until a redrive makes it RUNNING again.
 *
 * Cost: a STORED chunk adds its delivery's usage (worker time share x memory, SQS requests,
 * the transaction's write units) in the same transaction. A duplicate or dropped chunk's
 * usage is as real, so it is added by a separate best-effort update (see cost.ts).
 *
 * Any error that is not one of these outcomes propagates: the worker's Invoke sees a
 * function error, reports the record as failed, and SQS redelivers it.
 */
import { parseChunkResult } from '../commons/contracts.ts';
import {
  ASSUMED_JOB_ITEM_BYTES,
  addUsage,
  deliverySqsRequests,
  type JobUsage,
  NO_USAGE,
  writeUnits,
} from '../commons/cost.ts';
import {
  InconsistentJobError,
  InvalidChunkResultError,
  isTransientTransactionError,
  JobNotFoundError,
} from '../commons/errors.ts';
import {
  addJobUsage,
  buildChunkItem,
  type ChunkToStore,
  finalizeJob,
  getJob,
  type JobTable,
  joinResultArrays,
  readAllChunks,
  type StoreChunkOutcome,
  storeChunk,
  storeChunkWriteUnits,
} from '../commons/job-store.ts';
import { MAX_CHUNK_RESULT_BYTES, MAX_INLINE_RESULT_BYTES } from '../commons/limits.ts';
import { type Logger, logger, MetricUnit, metrics } from '../commons/powertools.ts';
import { type RetryPolicy, retryWhile, type Sleep } from '../commons/retry.ts';
import type { AggregateOutcome, ChunkResult, JobStatus } from '../commons/types.ts';

export interface AggregatorDeps {
  readonly table: JobTable;
  readonly now?: () => Date;
  readonly sleep?: Sleep;
  /** Retries of a transaction cancelled by a conflict on the job item or by throttling. */
  readonly transactionRetry?: RetryPolicy;
}

/**
 * Every chunk's transaction updates the same job item, so concurrent chunks of one job
 * cancel each other with TransactionConflict; a few quick jittered retries absorb that.
 */
export const DEFAULT_TRANSACTION_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 20,
  maxDelayMs: 1_000,
};

function storeWithRetries(
  deps: AggregatorDeps,
  store: () => Promise<StoreChunkOutcome>,
): Promise<StoreChunkOutcome> {
  return retryWhile(store, {
    policy: deps.transactionRetry ?? DEFAULT_TRANSACTION_RETRY,
    isRetryable: isTransientTransactionError,
    sleep: deps.sleep,
    onRetry: (error, attempt) => {
      metrics.addMetric('TransactionRetries', MetricUnit.Count, 1);
      logger.warn('chunk transaction cancelled, retrying', { attempt, reasons: error.reasons });
    },
  });
}

/**
 * Finalizes the job if every chunk is counted and it is still RUNNING. Returns the job's
 * status afterwards.
 * @throws InconsistentJobError when the counters or chunks contradict the job
 */
export async function completeJobIfDone(
  table: JobTable,
  jobId: string,
  now: () => Date,
  log: Logger = logger,
): Promise<JobStatus> {
  const job = await getJob(table, jobId, { consistentRead: true });
  if (job === undefined) throw new JobNotFoundError(jobId);
  if (job.status !== 'RUNNING' || job.chunksDone < job.chunkCount) return job.status;
  if (job.chunksDone > job.chunkCount || job.numbersDone !== job.numbersCount) {
    throw new InconsistentJobError(
      jobId,
      `counted ${job.chunksDone}/${job.chunkCount} chunks holding ${job.numbersDone}/${job.numbersCount} numbers`,
    );
  }
  // Joined results are never longer than the sum of the chunks' result JSON.
  const inline = job.resultBytes <= MAX_INLINE_RESULT_BYTES;
  const resultsJson = inline ? joinResultArrays(await readAllChunks(table, job)) : undefined;
  const finalized = await finalizeJob(table, jobId, now(), resultsJson, job.itemBytes);
  if (!finalized) {
    // Another delivery finalized it first, or it was cancelled meanwhile: read which.
    const current = await getJob(table, jobId, { consistentRead: true });
    return current?.status ?? job.status;
  }
  metrics.addMetric('JobsSucceeded', MetricUnit.Count, 1);
  log.info('job succeeded', {
    numbersCount: job.numbersCount,
    chunkCount: job.chunkCount,
    resultBytes: job.resultBytes,
    resultsInline: inline,
  });
  return 'SUCCEEDED';
}

/** Statuses whose chunks are dropped: the job has ended for good. */
const DROPPED_STATUSES: ReadonlySet<JobStatus> = new Set(['CANCELLED', 'SUCCEEDED']);

/** What the worker's delivery of a chunk used: its time share and its SQS requests. */
export function deliveryUsage(chunk: ChunkResult): JobUsage {
  return {
    workerMbMs: chunk.durationMs * chunk.memoryMb,
    // Received, and deleted once this answer reaches the worker.
    sqsRequests: deliverySqsRequests(chunk.messageBytes, true),
    writeUnits: 0,
  };
}

/** Adds a dropped or duplicate chunk's usage to its job; logs, never throws. */
async function addUsageOfUnstoredChunk(table: JobTable, jobId: string, usage: JobUsage) {
  try {
    // This update writes the job item too.
    const ownWrite = { ...NO_USAGE, writeUnits: writeUnits(ASSUMED_JOB_ITEM_BYTES) };
    await addJobUsage(table, jobId, addUsage(usage, ownWrite));
  } catch (error) {
    logger.warn('usage of an unstored chunk could not be added', { error: error as Error });
  }
}

/**
 * Stores one chunk result (the Invoke payload) and completes its job after the last one.
 * @throws InvalidChunkResultError when the payload is not a ChunkResult of its job
 * @throws JobNotFoundError when the job does not exist
 */
export async function aggregateChunk(
  payload: unknown,
  deps: AggregatorDeps,
): Promise<AggregateOutcome> {
  const now = deps.now ?? (() => new Date());
  const chunk: ChunkResult = parseChunkResult(payload);
  logger.appendKeys({ jobId: chunk.jobId, chunkIndex: chunk.chunkIndex });
  const delivery = deliveryUsage(chunk);

  const job = await getJob(deps.table, chunk.jobId, { consistentRead: true });
  if (job === undefined) throw new JobNotFoundError(chunk.jobId);
  if (DROPPED_STATUSES.has(job.status)) {
    logger.info('chunk dropped: job not running', { jobStatus: job.status });
    metrics.addMetric('ChunksDropped', MetricUnit.Count, 1);
    await addUsageOfUnstoredChunk(deps.table, chunk.jobId, delivery);
    return { outcome: 'JOB_NOT_RUNNING', jobStatus: job.status };
  }
  if (chunk.chunkIndex >= job.chunkCount) {
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} is out of range: the job has ${job.chunkCount} chunks`,
    );
  }
  if (chunk.offset + chunk.results.length > job.numbersCount) {
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} ends at ${chunk.offset + chunk.results.length}, past the job's ${job.numbersCount} numbers`,
    );
  }
  const resultsJson = JSON.stringify(chunk.results);
  if (resultsJson.length > MAX_CHUNK_RESULT_BYTES) {
    // Chunks are planned to stay below this; past it the item could exceed 400 KB.
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} results take ${resultsJson.length} bytes, over ${MAX_CHUNK_RESULT_BYTES}`,
    );
  }

  const toStore: ChunkToStore = {
    jobId: chunk.jobId,
    chunkIndex: chunk.chunkIndex,
    offset: chunk.offset,
    count: chunk.results.length,
    resultsJson,
    computeMs: chunk.computeMs,
    receiveCount: chunk.receiveCount,
    expiresAt: job.expiresAt,
    usage: delivery,
    jobItemBytes: job.itemBytes,
  };
  const stored = await storeWithRetries(deps, () => storeChunk(deps.table, toStore, now()));

  if (stored.outcome !== 'STORED') {
    // The transaction was cancelled on its condition, and is billed as if it had written.
    const transaction = storeChunkWriteUnits(buildChunkItem(toStore, ''), job.itemBytes);
    await addUsageOfUnstoredChunk(
      deps.table,
      chunk.jobId,
      addUsage(delivery, { ...NO_USAGE, writeUnits: transaction }),
    );
  }
  if (stored.outcome === 'JOB_NOT_RUNNING') {
    logger.info('chunk dropped: job not running', { jobStatus: stored.jobStatus });
    metrics.addMetric('ChunksDropped', MetricUnit.Count, 1);
    // The job item existed a moment ago; without a status it was deleted meanwhile.
    if (stored.jobStatus === undefined) throw new JobNotFoundError(chunk.jobId);
    return { outcome: 'JOB_NOT_RUNNING', jobStatus: stored.jobStatus };
  }
  if (stored.outcome === 'DUPLICATE') {
    logger.info('duplicate chunk ignored', { receiveCount: chunk.receiveCount });
    metrics.addMetric('DuplicateChunks', MetricUnit.Count, 1);
  } else {
    metrics.addMetric('ChunksStored', MetricUnit.Count, 1);
    metrics.addMetric('NumbersStored', MetricUnit.Count, chunk.results.length);
  }
  const jobStatus = await completeJobIfDone(deps.table, chunk.jobId, now);
  return { outcome: stored.outcome, jobStatus };
}
