/**
 * `POST /jobs/{jobId}/redrive`: after the cause of a failure is fixed, re-sends the FAILED
 * job's failed chunks and lets it complete.
 *
 * The dead-letter queue consumer kept each failed chunk's original message (`FAILED#<index>`
 * items). A redrive:
 * 1. makes the job RUNNING again, with a new deadline (the condition on FAILED is its lock:
 *    of two concurrent redrives, one wins, the other gets 409);
 * 2. re-sends the stored messages to the work queue, page by page;
 * 3. deletes each stored message once it is sent.
 * Only the failed chunks are sent: chunks already stored are never computed again, and the
 * aggregator completes the job when the last of them is stored, with exact results.
 *
 * If some messages cannot be sent, the job is FAILED again (REDRIVE_FAILED) and keeps them,
 * so another redrive can send them.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jobPath } from '#commons/api-paths.ts';
import { mapWithConcurrency } from '#commons/concurrency.ts';
import { addUsage, type JobUsage, NO_USAGE, writeUnits } from '#commons/cost.ts';
import { ConflictError, errorMessage, ServiceUnavailableError } from '#commons/errors.ts';
import { jsonResponse } from '#commons/http.ts';
import { DEFAULT_JOB_DEADLINE_SECONDS, MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { type FailedQueueEntry, sendMessagesInBatches } from '#commons/queue.ts';
import { jobNotFoundError, type RouteRequest } from '#commons/router.ts';
import type { JobFailure } from '#commons/types.ts';
import {
  deleteFailedChunk,
  queryFailedChunkPages,
  type StoredFailedChunk,
} from '#store/failed-chunks.ts';
import {
  addJobUsage,
  getJob,
  type JobRecord,
  markJobFailed,
  reopenJobForRedrive,
} from '#store/jobs.ts';
import { type DispatcherDeps, deadlineAfter, sendSqsRequests } from './deps.ts';

/** Deletes of sent messages in flight at once. */
const DELETE_CONCURRENCY = 8;

/** The 202 body of `POST /jobs/{jobId}/redrive`. */
export interface RedrivenJob {
  readonly jobId: string;
  readonly status: 'RUNNING';
  /** How many failed chunks were sent again. */
  readonly redrivenChunks: number;
  /** The job's new deadline, ISO 8601. */
  readonly deadlineAt: string;
  readonly statusUrl: string;
}

function nothingToRedrive(message: string): ConflictError {
  return new ConflictError('NOTHING_TO_REDRIVE', message);
}

interface PageOutcome {
  readonly sent: number;
  readonly unsent: FailedQueueEntry[];
  readonly usage: JobUsage;
}

/** Sends one page of stored messages, then deletes those that were sent. */
async function redrivePage(
  jobId: string,
  page: readonly StoredFailedChunk[],
  deps: DispatcherDeps,
): Promise<PageOutcome> {
  const entries = page.map((chunk) => ({ id: String(chunk.chunkIndex), body: chunk.body }));
  const unsent = await sendMessagesInBatches(deps.sqs, deps.workQueueUrl, entries, deps.send);
  const unsentIds = new Set(unsent.map((entry) => entry.id));
  const sent = page.filter((chunk) => !unsentIds.has(String(chunk.chunkIndex)));
  let deleteUnits = 0;
  await mapWithConcurrency(sent, DELETE_CONCURRENCY, async (chunk) => {
    try {
      await deleteFailedChunk(deps.table, jobId, chunk.chunkIndex);
      deleteUnits += writeUnits(chunk.itemBytes);
    } catch (error) {
      // Not fatal: the chunk is queued. A later redrive would send it once more, and the
      // aggregator would count it as a duplicate.
      logger.warn('redriven chunk input could not be deleted', {
        chunkIndex: chunk.chunkIndex,
        error,
      });
    }
  });
  return {
    sent: sent.length,
    unsent,
    usage: addUsage({ sqsRequests: sendSqsRequests(entries), writeUnits: deleteUnits }),
  };
}

/**
 * @throws NotFoundError (JOB_NOT_FOUND)
 * @throws ConflictError (JOB_NOT_FAILED) when the job is not FAILED
 * @throws ConflictError (NOTHING_TO_REDRIVE) when no failed chunk input is stored
 * @throws ServiceUnavailableError (REDRIVE_FAILED) when some chunks could not be sent
 */
export async function redriveJob(
  jobId: string,
  deps: DispatcherDeps,
  read?: JobRecord,
): Promise<RedrivenJob> {
  const now = deps.now?.() ?? new Date();
  const job = read ?? (await getJob(deps.table, jobId, { consistentRead: true }));
  if (job === undefined) throw jobNotFoundError(jobId);
  if (job.status !== 'FAILED') {
    throw new ConflictError(
      'JOB_NOT_FAILED',
      `the job is ${job.status}; only a FAILED job can be redriven`,
      { details: { status: job.status } },
    );
  }
  if (job.failure?.code === 'DISPATCH_FAILED') {
    throw nothingToRedrive(
      'some chunks of this job were never queued and their input was not kept; submit the job again',
    );
  }

  const pages = queryFailedChunkPages(deps.table, jobId);
  const first = await pages.next();
  if (first.done === true) {
    throw nothingToRedrive(
      `no failed chunk input is stored for this job (it failed with ${job.failure?.code ?? 'no recorded reason'}: its messages were lost or are still queued); submit the job again`,
    );
  }

  const deadlineAt = deadlineAfter(now, deps.jobDeadlineSeconds ?? DEFAULT_JOB_DEADLINE_SECONDS);
  if (!(await reopenJobForRedrive(deps.table, jobId, deadlineAt, now))) {
    throw new ConflictError(
      'JOB_NOT_FAILED',
      'the job is no longer FAILED (another redrive may have started it); read its status',
    );
  }
  logger.info('job reopened for redrive', { deadlineAt });

  let sent = 0;
  const unsent: FailedQueueEntry[] = [];
  let usage: JobUsage = NO_USAGE;
  try {
    for (let page: StoredFailedChunk[] | undefined = first.value; page !== undefined; ) {
      const outcome = await redrivePage(jobId, page, deps);
      sent += outcome.sent;
      unsent.push(...outcome.unsent);
      usage = addUsage(usage, outcome.usage);
      const next = await pages.next();
      page = next.done === true ? undefined : next.value;
    }
  } catch (error) {
    // The job would wait for its deadline: fail it now, so it can be redriven again.
    await failRedrive(jobId, deps, `the redrive stopped: ${errorMessage(error)}`, []);
    throw error;
  }
  await addUsageBestEffort(jobId, deps, usage);
  metrics.addMetric('ChunksRedriven', MetricUnit.Count, sent);

  if (unsent.length > 0) {
    const total = sent + unsent.length;
    await failRedrive(
      jobId,
      deps,
      `${unsent.length} of ${total} failed chunks could not be queued again`,
      unsent,
    );
    throw new ServiceUnavailableError(
      'REDRIVE_FAILED',
      `${unsent.length} failed chunks could not be queued again; the job is FAILED and keeps them: redrive it again later`,
      { details: { jobId, redrivenChunks: sent, unsentChunks: unsent.length } },
    );
  }
  metrics.addMetric('JobsRedriven', MetricUnit.Count, 1);
  logger.info('job redriven', { redrivenChunks: sent });
  return {
    jobId,
    status: 'RUNNING',
    redrivenChunks: sent,
    deadlineAt: new Date(deadlineAt).toISOString(),
    statusUrl: jobPath(jobId),
  };
}

/** Fails a redriven job again (REDRIVE_FAILED); logs, never throws. */
async function failRedrive(
  jobId: string,
  deps: DispatcherDeps,
  message: string,
  unsent: readonly FailedQueueEntry[],
): Promise<void> {
  const sorted = [...unsent].sort((a, b) => Number(a.id) - Number(b.id));
  const failure: JobFailure = {
    code: 'REDRIVE_FAILED',
    message: `${message}; redrive the job again`,
    ...(sorted.length > 0 && {
      failedChunks: sorted.slice(0, MAX_RECORDED_FAILED_CHUNKS).map((entry) => ({
        chunkIndex: Number(entry.id),
        reason: `${entry.code}: ${entry.message}`,
      })),
      failedChunkCount: sorted.length,
    }),
  };
  try {
    await markJobFailed(deps.table, jobId, failure, deps.now?.() ?? new Date());
    metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
  } catch (error) {
    logger.error('redriven job could not be marked FAILED', { error });
  }
}

async function addUsageBestEffort(jobId: string, deps: DispatcherDeps, usage: JobUsage) {
  try {
    // addJobUsage adds its own write.
    await addJobUsage(deps.table, jobId, usage);
  } catch (error) {
    logger.warn('redrive usage could not be added', { error });
  }
}

/** The whole `POST /jobs/{jobId}/redrive` request: 202 with the count re-sent, or a JSON error. */
export async function handleRedriveJob(
  { jobId, job }: RouteRequest,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  return jsonResponse(202, await redriveJob(jobId, deps, job));
}
