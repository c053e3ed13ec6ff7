/**
 * The deadline sweeper (every minute): fails the RUNNING jobs past their deadline with
 * DEADLINE_EXCEEDED (and the upload jobs still AWAITING_INPUT past their upload deadline with
 * INPUT_NOT_UPLOADED: they are in the same index), listing the chunks that never completed, so every job ends even when a
 * message was lost (lithops#246: jobs stuck forever).
 *
 * Each run is bounded: at most MAX_JOBS_PER_SWEEP jobs, and it stops while the function has
 * time left; the next run picks up the rest. The missing chunks are read from the job's open
 * shards (the markers not set). A job whose chunks are all counted but that was never
 * finalized (its aggregator crashed between the steps, and no redelivery came back) is
 * completed instead of failed: the same idempotent steps (commons/completion.ts).
 */
import type { Context } from 'aws-lambda';
import { completeShard, finalizeIfComplete, readOpenShards } from '#commons/completion.ts';
import { MAX_JOBS_PER_SWEEP, MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import { type Logger, logger, MetricUnit, metrics } from '#commons/powertools.ts';
import type { FailedChunk, JobFailure, JobStatus } from '#commons/types.ts';
import { queryExpiredJobIds } from '#store/deadlines.ts';
import { failJob, getJob, type JobRecord, markJobDeadlineExceeded } from '#store/jobs.ts';
import {
  chunkIndexesOfShard,
  chunksInShard,
  isShardComplete,
  type ShardState,
} from '#store/shards.ts';
import type { JobTable } from '#store/table.ts';

export interface SweeperDeps {
  readonly table: JobTable;
  readonly now?: () => Date;
  /** Most jobs examined per run; MAX_JOBS_PER_SWEEP unless a test lowers it. */
  readonly maxJobs?: number;
}

/** A run stops examining jobs when the function has less time left than this. */
export const SWEEP_TIME_RESERVE_MS = 10_000;

/** The reason of a missing chunk no worker recorded a failure for. */
export const NOT_COMPLETED_REASON =
  'not completed by the deadline (no failure was recorded: its message may be lost, or still queued)';

export interface SweepSummary {
  /** Jobs read from the index. */
  readonly examined: number;
  /** Jobs failed with DEADLINE_EXCEEDED. */
  readonly failed: number;
  /** Jobs whose chunks were all stored, finalized instead. */
  readonly finalized: number;
  /** Jobs that had ended or got a new deadline since the index showed them. */
  readonly skipped: number;
  /** Jobs whose sweep threw (logged; the next run tries again). */
  readonly errors: number;
  /** True when the run stopped for lack of time before the index was exhausted. */
  readonly stoppedEarly: boolean;
}

type JobOutcome = 'FAILED' | 'FINALIZED' | 'SKIPPED';

/** The chunks of the open shards that are not marked, ascending, at most `maxListed`. */
export function missingChunks(
  job: Pick<JobRecord, 'chunkCount' | 'shardCount'>,
  open: readonly ShardState[],
  maxListed: number,
): number[] {
  const missing: number[] = [];
  for (const shard of open) {
    for (const index of chunkIndexesOfShard(shard.shardIndex, job.chunkCount, job.shardCount)) {
      if (!shard.markers.has(index)) missing.push(index);
    }
  }
  return missing.sort((a, b) => a - b).slice(0, maxListed);
}

/** The DEADLINE_EXCEEDED failure of a job, with its missing chunks listed. */
export function deadlineFailure(
  job: Pick<JobRecord, 'chunkCount' | 'deadlineAt' | 'chunkErrors'>,
  missing: readonly number[],
  missingCount: number,
): JobFailure {
  const deadline =
    job.deadlineAt === undefined ? 'its deadline' : new Date(job.deadlineAt).toISOString();
  const failedChunks: FailedChunk[] = missing.map((chunkIndex) => {
    const recorded = job.chunkErrors[String(chunkIndex)];
    return recorded === undefined
      ? { chunkIndex, reason: NOT_COMPLETED_REASON }
      : { chunkIndex, reason: recorded.reason, receiveCount: recorded.receiveCount };
  });
  const listed = missing.length < missingCount ? ' (the first ones are listed)' : '';
  return {
    code: 'DEADLINE_EXCEEDED',
    message: `the job did not complete by ${deadline}: ${missingCount} of ${job.chunkCount} chunks never completed${listed}`,
    failedChunks,
    failedChunkCount: missingCount,
  };
}

/**
 * Completes what a crash left undone: records the open shards that are complete, and
 * finalizes the job when that completes it. Returns the job's status after.
 */
async function healJob(
  deps: SweeperDeps,
  job: JobRecord,
  complete: readonly ShardState[],
  now: Date,
  jobLogger: Logger,
): Promise<JobStatus> {
  let status: JobStatus = job.status;
  for (const shard of complete)
    status = await completeShard(deps.table, job, shard, now, jobLogger);
  return complete.length === 0 ? finalizeIfComplete(deps.table, job, now, jobLogger) : status;
}

async function sweepJob(
  jobId: string,
  deps: SweeperDeps,
  now: Date,
  jobLogger: Logger,
): Promise<JobOutcome> {
  const job = await getJob(deps.table, jobId, { consistentRead: true });
  if (
    job?.status === 'AWAITING_INPUT' &&
    job.deadlineAt !== undefined &&
    job.deadlineAt < now.getTime()
  ) {
    return failNotUploaded(deps, job, now, jobLogger);
  }
  if (
    job === undefined ||
    job.status !== 'RUNNING' ||
    job.deadlineAt === undefined ||
    job.deadlineAt >= now.getTime()
  ) {
    // The index is eventually consistent: the job ended or was redriven a moment ago.
    jobLogger.info('expired job skipped: it has ended or has a new deadline', {
      jobStatus: job?.status ?? 'GONE',
    });
    return 'SKIPPED';
  }
  const open = await readOpenShards(deps.table, job);
  const complete = open.filter((shard) => isShardComplete(shard, job));
  if (complete.length === open.length) {
    const status = await healJob(deps, job, complete, now, jobLogger);
    jobLogger.warn('expired job had every chunk stored: finalized', { jobStatus: status });
    return status === 'SUCCEEDED' ? 'FINALIZED' : 'SKIPPED';
  }
  const missingCount = open.reduce(
    (sum, shard) =>
      sum + chunksInShard(shard.shardIndex, job.chunkCount, job.shardCount) - shard.markers.size,
    0,
  );
  const missing = missingChunks(job, open, MAX_RECORDED_FAILED_CHUNKS);
  const failure = deadlineFailure(job, missing, missingCount);
  if (!(await markJobDeadlineExceeded(deps.table, jobId, failure, now))) {
    jobLogger.info('expired job skipped: it ended or got a new deadline meanwhile');
    return 'SKIPPED';
  }
  jobLogger.error('job failed: deadline exceeded', {
    deadlineAt: job.deadlineAt,
    missingChunkCount: failure.failedChunkCount,
  });
  metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
  metrics.addMetric('DeadlinesExceeded', MetricUnit.Count, 1);
  return 'FAILED';
}

/** The failure of an upload job that was never started. */
export function notUploadedFailure(job: Pick<JobRecord, 'deadlineAt'>): JobFailure {
  const deadline =
    job.deadlineAt === undefined ? 'its deadline' : new Date(job.deadlineAt).toISOString();
  return {
    code: 'INPUT_NOT_UPLOADED',
    message: `the job's input was not uploaded and started (POST /jobs/{jobId}/start) by ${deadline}`,
  };
}

/** Fails an upload job still AWAITING_INPUT past its upload deadline. */
async function failNotUploaded(
  deps: SweeperDeps,
  job: JobRecord,
  now: Date,
  jobLogger: Logger,
): Promise<JobOutcome> {
  const failed = await failJob(
    deps.table,
    job.jobId,
    notUploadedFailure(job),
    ['AWAITING_INPUT'],
    now,
  );
  if (!failed) {
    jobLogger.info('expired upload job skipped: it was started or ended meanwhile');
    return 'SKIPPED';
  }
  jobLogger.warn('job failed: its input was never uploaded');
  metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
  metrics.addMetric('UploadsNeverCompleted', MetricUnit.Count, 1);
  return 'FAILED';
}

/** One sweep over the jobs past their deadline. */
export async function sweepExpiredJobs(
  deps: SweeperDeps,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SweepSummary> {
  const now = deps.now?.() ?? new Date();
  const counts = { examined: 0, failed: 0, finalized: 0, skipped: 0, errors: 0 };
  let stoppedEarly = false;
  for await (const jobId of queryExpiredJobIds(
    deps.table,
    now,
    deps.maxJobs ?? MAX_JOBS_PER_SWEEP,
  )) {
    if (context !== undefined && context.getRemainingTimeInMillis() < SWEEP_TIME_RESERVE_MS) {
      stoppedEarly = true;
      break;
    }
    counts.examined++;
    const jobLogger = logger.createChild({ persistentKeys: { jobId } });
    try {
      const outcome = await sweepJob(jobId, deps, now, jobLogger);
      if (outcome === 'FAILED') counts.failed++;
      else if (outcome === 'FINALIZED') counts.finalized++;
      else counts.skipped++;
    } catch (error) {
      // One job's failure does not stop the sweep; the next run tries it again.
      counts.errors++;
      jobLogger.error('expired job could not be swept', { error });
    }
  }
  const summary: SweepSummary = { ...counts, stoppedEarly };
  if (counts.examined > 0 || stoppedEarly) logger.info('sweep done', { ...summary });
  return summary;
}
