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

/** Reads every shard of `job` (eventually consistent). */
export async function readAllShards(
  table: JobTable,
  job: JobRecord,
  options: { readonly consistent: boolean } = { consistent: false },
): Promise<{ readonly shards: ShardState[]; readonly readUnits: number }> {
  const all = Array.from({ length: job.shardCount }, (_, index) => index);
  return readShards(table, job.jobId, all, job, options);
}

/**
 * Finalizes `job` (as just read or returned by a write) when every shard is recorded and it
 * is RUNNING: folds its shards' usage into its counters and, for small jobs, writes the
 * joined results inline. Returns the job's status after.
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
  const numbers = recorded.reduce((sum, count) => sum + count, 0);
  if (numbers !== job.numbersCount) {
    throw new InconsistentJobError(
      job.jobId,
      `its ${job.shardCount} shards hold ${numbers} numbers, not ${job.numbersCount}`,
    );
  }
  // The shards' usage, read once: usage of deliveries after this read stays on the shards.
  const shards = await readAllShards(table, job);
  let usage = addUsage(...shards.shards.map((shard) => shard.usage), {
    readUnits: shards.readUnits,
  });
  let resultsJson: string | undefined;
  if (job.numbersCount <= MAX_INLINE_NUMBERS) {
    const read = await readPageRange(table, job, 0, job.chunkCount);
    const joined = joinResultArrays(read.pages);
    if (joined.length <= MAX_INLINE_RESULT_BYTES) resultsJson = joined;
    usage = addUsage(usage, { readUnits: read.readUnits });
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
    shardNumbers(shard),
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

/** Reads the shards of `job` that its `shards` map does not hold yet (strongly consistent). */
export async function readOpenShards(table: JobTable, job: JobRecord): Promise<ShardState[]> {
  const open: number[] = [];
  for (let index = 0; index < job.shardCount; index++) {
    if (job.shards[String(index)] === undefined) open.push(index);
  }
  if (open.length === 0) return [];
  return (await readShards(table, job.jobId, open, job, { consistent: true })).shards;
}

/** Progress of a job from all of its shards: the chunks marked, their numbers and usage. */
export function progressOf(shards: readonly ShardState[]): {
  readonly chunksDone: number;
  readonly numbersDone: number;
  readonly usage: JobUsage;
} {
  let chunksDone = 0;
  let numbersDone = 0;
  for (const shard of shards) {
    chunksDone += shard.markers.size;
    numbersDone += shardNumbers(shard);
  }
  return { chunksDone, numbersDone, usage: addUsage(...shards.map((shard) => shard.usage)) };
}

/** The read units of a strongly consistent read of the job item. */
export function jobReadUnits(job: Pick<JobRecord, 'itemBytes'>): number {
  return readUnits(job.itemBytes, { consistent: true });
}
