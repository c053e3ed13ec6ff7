import type { APIGatewayProxyResult } from 'aws-lambda';
import { jobPath, resultsPath } from '#commons/api-paths.ts';
import { planChunks } from '#commons/chunking.ts';
import { addUsage, type JobUsage, NO_USAGE } from '#commons/cost.ts';
import { clientPath, jsonResponse } from '#commons/http.ts';
import { DEFAULT_JOB_DEADLINE_SECONDS } from '#commons/limits.ts';
import type { NumberInput } from '#commons/numbers.ts';
import { logger, MetricUnit, metrics } from '#commons/powertools.ts';
import type { QueueEntry } from '#commons/queue.ts';
import { decodeRequestBody, parseIdempotencyKey } from '#commons/request.ts';
import type { RouteRequest } from '#commons/router.ts';
import type { ChunkMessage } from '#commons/types.ts';
import { createJob, expiryAfterDays } from '#store/jobs.ts';
import { shardCountFor } from '#store/shards.ts';
import { type DispatcherDeps, deadlineAfter, type SubmittedJob, sendSqsRequests } from './deps.ts';
import { handleCreateInputJob, isInputRequest } from './input-request.ts';
import { parseJobRequest } from './job-request.ts';
import { queueChunks } from './queue-chunks.ts';

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

  await queueChunks(jobId, entries, deps, 'chunks');

  metrics.addMetric('JobsSubmitted', MetricUnit.Count, 1);
  metrics.addMetric('NumbersSubmitted', MetricUnit.Count, numbers.length);
  logger.info('job submitted', { numbersCount: numbers.length, chunkCount: entries.length });
  return {
    jobId,
    status: 'RUNNING',
    numbersCount: numbers.length,
    chunkCount: entries.length,
    statusUrl: jobPath(jobId),
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
