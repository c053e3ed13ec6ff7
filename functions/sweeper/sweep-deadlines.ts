/**
 * The deadline sweeper (every minute): fails the RUNNING jobs past their deadline with
 * DEADLINE_EXCEEDED, listing the chunks that never completed, so every job ends even when a
 * message was lost (lithops#246: jobs stuck forever).
 *
 * Each run is bounded: at most MAX_JOBS_PER_SWEEP jobs, MAX_CHUNK_PAGES_PER_SWEPT_JOB pages of
 * chunk keys per job, and it stops while the function has time left; the next run picks up
 * the rest. A job whose chunks are all stored but that was never finalized (its aggregator
 * crashed after the last chunk, and no redelivery came back) is finalized instead of failed.
 */
import type { Context } from 'aws-lambda';
import { completeJobIfDone } from '../aggregator/aggregate-chunk.ts';
import {
  type ExpiredJob,
  listMissingChunks,
  markJobDeadlineExceeded,
  queryExpiredJobIds,
  readExpiredJob,
} from '../commons/deadlines.ts';
import type { JobTable } from '../commons/job-store.ts';
import {
  MAX_CHUNK_PAGES_PER_SWEPT_JOB,
  MAX_JOBS_PER_SWEEP,
  MAX_RECORDED_FAILED_CHUNKS,
} from '../commons/limits.ts';
import { type Logger, logger, MetricUnit, metrics } from '../commons/powertools.ts';
import type { FailedChunk, JobFailure } from '../commons/types.ts';

export interface SweeperDeps {
  readonly table: JobTable;
  readonly now?: () => Date;
  /** Most jobs examined per run; MAX_JOBS_PER_SWEEP unless a test lowers it. */
  readonly maxJobs?: number;
  /** Most pages of chunk keys read per job; MAX_CHUNK_PAGES_PER_SWEPT_JOB by default. */
  readonly maxChunkPages?: number;
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

/** The DEADLINE_EXCEEDED failure of a job, with its missing chunks listed. */
export function deadlineFailure(
  job: ExpiredJob,
  missing: readonly number[],
  complete: boolean,
): JobFailure {
  const missingCount = Math.max(job.chunkCount - job.chunksDone, missing.length);
  const deadline =
    job.deadlineAt === undefined ? 'its deadline' : new Date(job.deadlineAt).toISOString();
  const failedChunks: FailedChunk[] = missing.map((chunkIndex) => {
    const recorded = job.chunkErrors[String(chunkIndex)];
    return recorded === undefined
      ? { chunkIndex, reason: NOT_COMPLETED_REASON }
      : { chunkIndex, reason: recorded.reason, receiveCount: recorded.receiveCount };
  });
  const listed = complete ? '' : ' (the first ones found are listed)';
  return {
    code: 'DEADLINE_EXCEEDED',
    message: `the job did not complete by ${deadline}: ${missingCount} of ${job.chunkCount} chunks never completed${listed}`,
    failedChunks,
    failedChunkCount: missingCount,
  };
}

async function sweepJob(
  jobId: string,
  deps: SweeperDeps,
  now: Date,
  jobLogger: Logger,
): Promise<JobOutcome> {
  const job = await readExpiredJob(deps.table, jobId);
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
  if (job.chunksDone >= job.chunkCount) {
    const status = await completeJobIfDone(deps.table, jobId, () => now, jobLogger);
    jobLogger.warn('expired job had every chunk stored: finalized', { jobStatus: status });
    return status === 'SUCCEEDED' ? 'FINALIZED' : 'SKIPPED';
  }
  const missing = await listMissingChunks(deps.table, jobId, job.chunkCount, {
    maxPages: deps.maxChunkPages ?? MAX_CHUNK_PAGES_PER_SWEPT_JOB,
    maxListed: MAX_RECORDED_FAILED_CHUNKS,
  });
  const failure = deadlineFailure(job, missing.indexes, missing.complete);
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
      jobLogger.error('expired job could not be swept', { error: error as Error });
    }
  }
  const summary: SweepSummary = { ...counts, stoppedEarly };
  if (counts.examined > 0 || stoppedEarly) logger.info('sweep done', { ...summary });
  return summary;
}
