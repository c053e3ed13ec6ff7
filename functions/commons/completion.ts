/**
 * Counting a stored chunk and completing its job, exactly once, in idempotent steps that any
 * stage may repeat (the aggregator after storing a page, the DLQ consumer for a chunk whose
 * page is stored, the sweeper for a job whose chunks are all stored):
 * 1. mark the chunk on its shard (shards.ts markChunk): idempotent, returns the shard after;
 * 2. if that shard is now complete, record it on the job (jobs.ts recordShard): idempotent,
 *    returns the job after;
 * 3. if every shard is recorded and the job is RUNNING, finalize it (jobs.ts finalizeJob):
 *    conditional on RUNNING, so it succeeds once, and never for a CANCELLED or FAILED job.
 * A crash between any two steps is healed by a repeat: the redelivered chunk finds its page
 * stored (a duplicate) and runs steps 1–3 again, which change nothing already done.
 */
import { addUsage, type JobUsage, readUnits } from './cost.ts';
import { InconsistentJobError, JobNotFoundError } from './errors.ts';
import { MAX_INLINE_RESULT_BYTES } from './limits.ts';
import { type Logger, logger, MetricUnit, metrics } from './powertools.ts';
import { finalizeJob, getJob, type JobRecord, recordShard } from './store/jobs.ts';
import { joinResultArrays, readPageRange } from './store/pages.ts';
import {
  isShardComplete,
  markChunk,
  readShards,
  type ShardState,
  shardNumbers,
} from './store/shards.ts';
import type { JobTable } from './store/table.ts';
import type { JobStatus } from './types.ts';

/**
 * A square is at least 2 bytes of joined JSON (a digit and a comma), so a job of more
 * numbers than this can never have inline results, and its pages are not read to find out.
 */
const MAX_INLINE_NUMBERS = Math.floor(MAX_INLINE_RESULT_BYTES / 2);

export interface ChunkToCount {
  readonly chunkIndex: number;
  /** Its count of numbers. */
  readonly count: number;
  /** What the delivery used so far: it lands on the chunk's shard. */
  readonly usage: Partial<JobUsage>;
}

/**
 * Finalizes `job` (as just read or returned by a write) when every shard is recorded and it
 * is RUNNING. Small jobs get their joined results inline. Returns the job's status after.
 * @throws InconsistentJobError when the recorded shards do not add up to the job
 */
export async function finalizeIfComplete(
  table: JobTable,
  job: JobRecord,
  now: Date,
  log: Logger = logger,
): Promise<JobStatus> {
  const recorded = Object.values(job.shards);
  if (job.status !== 'RUNNING' || recorded.length < job.shardCount) return job.status;
  const chunks = recorded.reduce((sum, shard) => sum + shard.chunks, 0);
  const numbers = recorded.reduce((sum, shard) => sum + shard.numbers, 0);
  if (chunks !== job.chunkCount || numbers !== job.numbersCount) {
    throw new InconsistentJobError(
      job.jobId,
      `its shards hold ${chunks}/${job.chunkCount} chunks with ${numbers}/${job.numbersCount} numbers`,
    );
  }
  let resultsJson: string | undefined;
  let usage: Partial<JobUsage> = {};
  if (job.numbersCount <= MAX_INLINE_NUMBERS) {
    const read = await readPageRange(table, job, 0, job.chunkCount);
    const joined = joinResultArrays(read.pages);
    if (joined.length <= MAX_INLINE_RESULT_BYTES) resultsJson = joined;
    usage = { readUnits: read.readUnits };
  }
  if (!(await finalizeJob(table, job, now, resultsJson, usage))) {
    // Finalized by another delivery first, or cancelled or failed meanwhile: read which.
    const current = await getJob(table, job.jobId, { consistentRead: true });
    return current?.status ?? job.status;
  }
  metrics.addMetric('JobsSucceeded', MetricUnit.Count, 1);
  log.info('job succeeded', {
    numbersCount: job.numbersCount,
    chunkCount: job.chunkCount,
    shardCount: job.shardCount,
    resultsInline: resultsJson !== undefined,
  });
  return 'SUCCEEDED';
}

/**
 * Records a complete shard on its job (step 2), then finalizes the job if it is complete
 * (step 3). Returns the job's status after.
 * @throws JobNotFoundError when the job item is gone
 */
export async function completeShard(
  table: JobTable,
  job: JobRecord,
  shard: ShardState,
  now: Date,
  log: Logger = logger,
): Promise<JobStatus> {
  const recorded = await recordShard(
    table,
    job.jobId,
    shard.shardIndex,
    { chunks: shard.markers.size, numbers: shardNumbers(shard), usage: shard.usage },
    job.itemBytes,
  );
  if (recorded.outcome === 'NO_JOB') throw new JobNotFoundError(job.jobId);
  return finalizeIfComplete(table, recorded.job, now, log);
}

/**
 * Counts a chunk whose page is stored (steps 1–3). Returns the job's status after.
 */
export async function countChunk(
  table: JobTable,
  job: JobRecord,
  chunk: ChunkToCount,
  now: Date,
  log: Logger = logger,
): Promise<JobStatus> {
  const shard = await markChunk(table, {
    jobId: job.jobId,
    chunkIndex: chunk.chunkIndex,
    count: chunk.count,
    chunkCount: job.chunkCount,
    shardCount: job.shardCount,
    expiresAt: job.expiresAt,
    usage: chunk.usage,
  });
  if (!isShardComplete(shard, job)) return job.status;
  return completeShard(table, job, shard, now, log);
}

/** What the shards not yet recorded on a job hold, read (eventually consistent) in one go. */
export interface OpenShards {
  readonly shards: ShardState[];
  /** Their read units. */
  readonly readUnits: number;
}

/** Reads the shards of `job` that its `shards` map does not hold yet. */
export async function readOpenShards(
  table: JobTable,
  job: JobRecord,
  options: { readonly consistent: boolean } = { consistent: false },
): Promise<OpenShards> {
  const open: number[] = [];
  for (let index = 0; index < job.shardCount; index++) {
    if (job.shards[String(index)] === undefined) open.push(index);
  }
  if (open.length === 0) return { shards: [], readUnits: 0 };
  return readShards(table, job.jobId, open, job, options);
}

/** Progress of a job: its recorded shards plus what its open shards hold. */
export function progressOf(
  job: JobRecord,
  open: readonly ShardState[],
): { readonly chunksDone: number; readonly numbersDone: number; readonly usage: JobUsage } {
  let chunksDone = 0;
  let numbersDone = 0;
  for (const shard of Object.values(job.shards)) {
    chunksDone += shard.chunks;
    numbersDone += shard.numbers;
  }
  for (const shard of open) {
    chunksDone += shard.markers.size;
    numbersDone += shardNumbers(shard);
  }
  return {
    chunksDone,
    numbersDone,
    usage: addUsage(...open.map((shard) => shard.usage)),
  };
}

/** The read units of a strongly consistent read of the job item. */
export function jobReadUnits(job: Pick<JobRecord, 'itemBytes'>): number {
  return readUnits(job.itemBytes, { consistent: true });
}
