import type { APIGatewayProxyResult } from 'aws-lambda';
import { planChunks } from '#commons/chunking.ts';
import { addUsage, type JobUsage, NO_USAGE } from '#commons/cost.ts';
import { ServiceUnavailableError } from '#commons/errors.ts';
import { clientPath, jsonResponse } from '#commons/http.ts';
import { DEFAULT_JOB_DEADLINE_SECONDS, MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import type { NumberInput } from '#commons/numbers.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { type QueueEntry, sendMessagesInBatches } from '#commons/queue.ts';
import { decodeRequestBody, parseIdempotencyKey } from '#commons/request.ts';
import type { RouteRequest } from '#commons/router.ts';
import type { ChunkMessage, JobFailure } from '#commons/types.ts';
import { createJob, expiryAfterDays, markJobFailed } from '#store/jobs.ts';
import { shardCountFor } from '#store/shards.ts';
import {
  type DispatcherDeps,
  deadlineAfter,
  resultsPath,
  type SubmittedJob,
  sendSqsRequests,
  statusPath,
} from './deps.ts';
import { handleCreateInputJob, isInputRequest } from './input-request.ts';
import { parseJobRequest } from './job-request.ts';

/** The SQS messages of a job: one per chunk, entry id = chunk index. */
export function buildChunkEntries(
  jobId: string,
  numbers: readonly NumberInput[],
  numbersPerChunk: number,
): QueueEntry[] {
  const chunks = planChunks(numbers, numbersPerChunk);
  return chunks.map(({ offset, count }, chunkIndex) => {
    const message: ChunkMessage = {
      jobId,
      chunkIndex,
      chunkCount: chunks.length,
      offset,
      numbers: numbers.slice(offset, offset + count),
    };
    return { id: String(chunkIndex), body: JSON.stringify(message) };
  });
}

/**
 * Creates a job for validated `numbers`, owned by `ownerArn` (commons/caller.ts), and queues
 * its chunks.
 * @param extraUsage what the submission used besides the job's own writes and sends (the
 *   idempotency record's writes), added to the job's cost counters
 * @throws ServiceUnavailableError (DISPATCH_FAILED) when chunks could not be queued; the
 *   job is then FAILED with the failed chunks recorded
 */
export async function submitJob(
  numbers: readonly NumberInput[],
  ownerArn: string,
  deps: DispatcherDeps,
  extraUsage: JobUsage = NO_USAGE,
): Promise<SubmittedJob> {
  const now = deps.now?.() ?? new Date();
  const jobId = deps.newJobId?.() ?? crypto.randomUUID();
  const entries = buildChunkEntries(jobId, numbers, deps.numbersPerChunk);
  logger.appendKeys({ jobId });

  await createJob(deps.table, {
    jobId,
    ownerArn,
    numbersCount: numbers.length,
    chunkCount: entries.length,
    shardCount: shardCountFor(entries.length),
    now,
    expiresAt: expiryAfterDays(now, deps.jobRetentionDays),
    deadlineAt: deadlineAfter(now, deps.jobDeadlineSeconds ?? DEFAULT_JOB_DEADLINE_SECONDS),
    // This invocation (its duration is not known yet: not counted) and its sends.
    usage: addUsage(extraUsage, { lambdaRequests: 1, sqsRequests: sendSqsRequests(entries) }),
  });

  const failed = await sendMessagesInBatches(deps.sqs, deps.workQueueUrl, entries, deps.send);
  if (failed.length > 0) {
    failed.sort((a, b) => Number(a.id) - Number(b.id));
    const failure: JobFailure = {
      code: 'DISPATCH_FAILED',
      message: `${failed.length} of ${entries.length} chunks could not be queued`,
      failedChunks: failed.slice(0, MAX_RECORDED_FAILED_CHUNKS).map((entry) => ({
        chunkIndex: Number(entry.id),
        reason: `${entry.code}: ${entry.message}`,
      })),
      failedChunkCount: failed.length,
    };
    logger.error('chunks could not be queued', { failure });
    metrics.addMetric('ChunksNotQueued', MetricUnit.Count, failed.length);
    metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
    try {
      await markJobFailed(deps.table, jobId, failure, deps.now?.() ?? new Date());
    } catch (error) {
      // The job stays RUNNING until its deadline; the client is told it failed either way.
      logger.error('job could not be marked FAILED', { error });
    }
    throw new ServiceUnavailableError(
      'DISPATCH_FAILED',
      'the job could not be queued and was marked FAILED; submit it again later',
      { details: { jobId, failedChunkCount: failed.length, chunkCount: entries.length } },
    );
  }

  metrics.addMetric('JobsSubmitted', MetricUnit.Count, 1);
  metrics.addMetric('NumbersSubmitted', MetricUnit.Count, numbers.length);
  metrics.addMetric('ChunksQueued', MetricUnit.Count, entries.length);
  logger.info('job submitted', { numbersCount: numbers.length, chunkCount: entries.length });
  return {
    jobId,
    status: 'RUNNING',
    numbersCount: numbers.length,
    chunkCount: entries.length,
    statusUrl: statusPath(jobId),
    resultsUrl: resultsPath(jobId),
  };
}

/**
 * The whole `POST /jobs` request: 202 with the job (errors are answered by the router). With
 * an `Idempotency-Key`, a repeat of the same key and body by the same owner answers the
 * first request's 202; keys are per owner, so two principals never share one.
 */
export async function handleCreateJob(
  { event, context, caller }: RouteRequest,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  const idempotencyKey = parseIdempotencyKey(event.headers);
  const text = decodeRequestBody(event);
  if (isInputRequest(text)) {
    return handleCreateInputJob(event, text, idempotencyKey, caller.ownerArn, deps);
  }
  const numbers = parseJobRequest(text);
  let job: SubmittedJob;
  if (idempotencyKey === undefined) {
    job = await submitJob(numbers, caller.ownerArn, deps);
  } else {
    if (deps.idempotency === undefined || context === undefined) {
      throw new Error('an Idempotency-Key needs the idempotency store and the Lambda context');
    }
    job = await deps.idempotency.submit(
      { key: idempotencyKey, caller: caller.ownerArn, body: text },
      numbers,
      deps,
      context,
    );
  }
  return jsonResponse(202, job, { location: clientPath(event, job.statusUrl) });
}
