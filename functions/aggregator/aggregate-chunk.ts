/**
 * The aggregator: stores each chunk's result page exactly once and completes the job after
 * its last chunk, without a transaction and without writing the job item per chunk.
 *
 * 1. Read the job (strongly consistent). The chunks of a CANCELLED or SUCCEEDED job are
 *    dropped (JOB_NOT_RUNNING), so a result arriving after a cancellation never resurrects
 *    it. A FAILED job still stores its chunks: it may be redriven, and the chunks in flight
 *    when it failed are exact work a redrive could not redo.
 * 2. Put the chunk's page (store/pages.ts) under `attribute_not_exists`: STORED, or DUPLICATE
 *    when a delivery stored it before.
 *    A chunk of an S3 input (a range: `lines` in the payload) stores no offset, and keeps its
 *    bad lines on its page for the job's INVALID_INPUT list.
 * 3. Count it (commons/completion.ts): mark it on its shard (a range's bad lines beside it), record a completed shard on the
 *    job, finalize a complete RUNNING job; every step idempotent. A DUPLICATE runs the same
 *    steps, which is what heals a crash between any two of them.
 *
 * Cost: the delivery's usage (worker share, SQS, this invocation, its reads and writes) lands
 * on the chunk's shard in step 3's first write; a dropped chunk's on the job item.
 *
 * Any other error propagates: the worker's Invoke sees a function error, reports the record
 * as failed, and SQS redelivers it.
 */
import { countChunk, jobReadUnits } from '#commons/completion.ts';
import { parseChunkResult } from '#commons/contracts.ts';
import { addUsage, deliverySqsRequests, type JobUsage } from '#commons/cost.ts';
import { InvalidChunkResultError, JobNotFoundError } from '#commons/errors.ts';
import { MAX_CHUNK_RESULT_BYTES } from '#commons/limits.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import type { AggregateOutcome, JobStatus, ReceivedChunkResult } from '#commons/types.ts';
import { addJobUsage, getJob } from '#store/jobs.ts';
import { putPage } from '#store/pages.ts';
import type { JobTable } from '#store/table.ts';

export interface AggregatorDeps {
  readonly table: JobTable;
  readonly now?: () => Date;
  /** Milliseconds, monotonic: this invocation's duration, for the cost estimate. */
  readonly clock?: () => number;
  /** The aggregator's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); 0 when unknown. */
  readonly memoryMb?: number;
}

/** Statuses whose chunks are dropped: the job has ended for good. */
const DROPPED_STATUSES: ReadonlySet<JobStatus> = new Set(['CANCELLED', 'SUCCEEDED']);

/**
 * What the worker's delivery of a chunk used: its time share, its invocation (an upper
 * bound: records of a batch share one), its status read (unless another record of its batch
 * paid for it) and its SQS requests.
 */
export function deliveryUsage(chunk: ReceivedChunkResult, statusReadUnits: number): JobUsage {
  return addUsage({
    lambdaMbMs: chunk.durationMs * chunk.memoryMb,
    lambdaRequests: 1,
    readUnits: chunk.statusRead === false ? 0 : statusReadUnits,
    // Received, and deleted once this answer reaches the worker.
    sqsRequests: deliverySqsRequests(chunk.messageBytes, true),
  });
}

/** Adds a dropped chunk's usage to its job; logs, never throws. */
async function addUsageOfDroppedChunk(table: JobTable, jobId: string, usage: JobUsage) {
  try {
    await addJobUsage(table, jobId, usage);
  } catch (error) {
    logger.warn('usage of a dropped chunk could not be added', { error });
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
  const clock = deps.clock ?? (() => performance.now());
  const started = clock();
  const chunk = parseChunkResult(payload);
  logger.appendKeys({ jobId: chunk.jobId, chunkIndex: chunk.chunkIndex });
  const invocation = (): Partial<JobUsage> => ({
    lambdaMbMs: (clock() - started) * (deps.memoryMb ?? 0),
    lambdaRequests: 1,
  });

  const job = await getJob(deps.table, chunk.jobId, { consistentRead: true });
  if (job === undefined) throw new JobNotFoundError(chunk.jobId);
  // The worker's status read and this one read the same item.
  const reads = jobReadUnits(job);
  const delivery = deliveryUsage(chunk, reads);
  if (DROPPED_STATUSES.has(job.status)) {
    logger.info('chunk dropped: job not running', { jobStatus: job.status });
    metrics.addMetric('ChunksDropped', MetricUnit.Count, 1);
    await addUsageOfDroppedChunk(
      deps.table,
      chunk.jobId,
      addUsage(delivery, invocation(), { readUnits: reads }),
    );
    return { outcome: 'JOB_NOT_RUNNING', jobStatus: job.status };
  }
  if (chunk.chunkIndex >= job.chunkCount) {
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} is out of range: the job has ${job.chunkCount} chunks`,
    );
  }
  if ((chunk.lines === undefined) !== (job.input === undefined)) {
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} is ${chunk.lines === undefined ? 'not ' : ''}a range, but its job's input is ${job.input === undefined ? 'its body' : 'an S3 object'}`,
    );
  }
  if (chunk.lines === undefined && chunk.offset + chunk.count > job.numbersCount) {
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} ends at ${chunk.offset + chunk.count}, past the job's ${job.numbersCount} numbers`,
    );
  }
  // A range's page is bounded by its compressed size instead (putPage).
  if (chunk.lines === undefined && chunk.resultsJsonLength > MAX_CHUNK_RESULT_BYTES) {
    // Chunks are planned to stay below this; past it the page could exceed 400 KB.
    throw new InvalidChunkResultError(
      `chunk ${chunk.chunkIndex} results take ${chunk.resultsJsonLength} bytes, over ${MAX_CHUNK_RESULT_BYTES}`,
    );
  }

  const stored = await putPage(deps.table, {
    jobId: chunk.jobId,
    chunkIndex: chunk.chunkIndex,
    ...(chunk.lines === undefined ? { offset: chunk.offset } : { badLines: chunk.lines.badLines }),
    count: chunk.count,
    resultsGzip: chunk.resultsGzip,
    expiresAt: job.expiresAt,
  });
  if (stored.outcome === 'DUPLICATE') {
    logger.info('duplicate chunk: counting it again, idempotently', {
      receiveCount: chunk.receiveCount,
    });
    metrics.addMetric('DuplicateChunks', MetricUnit.Count, 1);
  } else {
    metrics.addMetric('ChunksStored', MetricUnit.Count, 1);
    metrics.addMetric('NumbersStored', MetricUnit.Count, chunk.count);
  }
  const jobStatus = await countChunk(
    deps.table,
    job,
    {
      chunkIndex: chunk.chunkIndex,
      count: chunk.count,
      ...(chunk.lines !== undefined && { badLineCount: chunk.lines.badLineCount }),
      usage: addUsage(delivery, invocation(), {
        readUnits: reads,
        writeUnits: stored.writeUnits,
      }),
    },
    now(),
  );
  return { outcome: stored.outcome, jobStatus };
}
