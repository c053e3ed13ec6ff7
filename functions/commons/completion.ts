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
import { inputFailure, tooManyNumbersFailure } from './input-completion.ts';
import { MAX_INLINE_RESULT_BYTES } from './limits.ts';
import { type Logger, logger, MetricUnit, metrics } from './powertools.ts';
import { failJob, finalizeJob, getJob, type JobRecord, recordShard } from './store/jobs.ts';
import { joinResultArrays, readPageCounts, readPageRange } from './store/pages.ts';
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
  /** A range's bad lines (an S3 input), marked beside its count. */
  readonly badLineCount?: number;
}

/** Reads every shard of `job` (eventually consistent unless `consistent`). */
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
  completeJob: JobRecord,
  now: Date,
  log: Logger = logger,
): Promise<JobStatus> {
  let job = completeJob;
  const recorded = Object.values(job.shards);
  if (job.status !== 'RUNNING' || recorded.length < job.shardCount) return job.status;
  const numbers = recorded.reduce((sum, count) => sum + count, 0);
  // The shards, read once: their usage (and for an S3 input, its bad lines); usage of
  // deliveries after this read stays on the shards.
  let shards: Awaited<ReturnType<typeof readAllShards>> | undefined;
  if (job.input !== undefined) {
    // An S3 input job: its count is what its ranges reported, unless its input is bad.
    const { input } = job;
    const read = await readAllShards(table, job, { consistent: true });
    shards = read;
    const failure = await inputFailure(table, { ...job, input }, read.shards);
    if (failure !== undefined) {
      if (await failJob(table, job.jobId, failure, ['RUNNING'], now)) {
        metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
        // The caller's mistake, answered in the job's status: not an error of the service.
        log.info('job failed: its input is not valid', { failure: { ...failure, badLines: [] } });
        return 'FAILED';
      }
      const current = await getJob(table, job.jobId, { consistentRead: true });
      return current?.status ?? job.status;
    }
    job = { ...job, numbersCount: numbers };
  } else if (numbers !== job.numbersCount) {
    throw new InconsistentJobError(
      job.jobId,
      `its ${job.shardCount} shards hold ${numbers} numbers, not ${job.numbersCount}`,
    );
  }
  shards ??= await readAllShards(table, job);
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
  const { input } = recorded.job;
  if (input !== undefined && recorded.job.status === 'RUNNING') {
    // An S3 input job fails as soon as its counted numbers pass its limit.
    const counted = Object.values(recorded.job.shards).reduce((sum, count) => sum + count, 0);
    if (counted > input.maxNumbers) {
      const failure = tooManyNumbersFailure(counted, input.maxNumbers);
      if (await failJob(table, job.jobId, failure, ['RUNNING'], now)) {
        metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
        log.error('job failed: too many numbers', { counted, maxNumbers: input.maxNumbers });
        return 'FAILED';
      }
    }
  }
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
    ...(chunk.badLineCount !== undefined && { badLineCount: chunk.badLineCount }),
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

/**
 * Index in the job of chunk `chunkIndex`'s first number, from the counts of the chunks before
 * it: what a page of an S3 input's range does not store (its place was not known when it was
 * stored). Their shard markers are read, then the counts of the pages of the chunks not
 * marked yet (stored, their marker not written yet), in one batched read. Without an offset,
 * the first chunk before it that has neither: it is not stored yet.
 */
export async function chunkOffsetIfStored(
  table: JobTable,
  job: JobRecord,
  chunkIndex: number,
): Promise<{ readonly offset: number } | { readonly missingChunk: number }> {
  if (chunkIndex === 0) return { offset: 0 };
  const { shards } = await readAllShards(table, job, { consistent: true });
  const counts = new Map<number, number>();
  for (const shard of shards) for (const [index, count] of shard.markers) counts.set(index, count);
  const unmarked: number[] = [];
  for (let index = 0; index < chunkIndex; index++) if (!counts.has(index)) unmarked.push(index);
  if (unmarked.length > 0) {
    for (const [index, count] of await readPageCounts(table, job.jobId, unmarked)) {
      counts.set(index, count);
    }
  }
  let offset = 0;
  for (let index = 0; index < chunkIndex; index++) {
    const count = counts.get(index);
    if (count === undefined) return { missingChunk: index };
    offset += count;
  }
  return { offset };
}

/**
 * chunkOffsetIfStored for a chunk whose predecessors must all be stored (a finished job).
 * @throws InconsistentJobError when a chunk before it has neither a marker nor a page
 */
export async function chunkOffset(
  table: JobTable,
  job: JobRecord,
  chunkIndex: number,
): Promise<number> {
  const found = await chunkOffsetIfStored(table, job, chunkIndex);
  if ('offset' in found) return found.offset;
  throw new InconsistentJobError(
    job.jobId,
    `chunk ${found.missingChunk} has no count before ${chunkIndex}`,
  );
}

/** The read units of a strongly consistent read of the job item. */
export function jobReadUnits(job: Pick<JobRecord, 'itemBytes'>): number {
  return readUnits(job.itemBytes, { consistent: true });
}
