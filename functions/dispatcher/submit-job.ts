/**
 * `POST /jobs`: validate the numbers, record the job, queue one message per chunk.
 *
 * The job item is written before any message is sent, so the aggregator always finds the
 * job its chunks belong to. It carries the job's deadline (JOB_DEADLINE_SECONDS from now), by
 * which the sweeper fails it if it is still running. When chunks cannot be queued after
 * retries, the job is marked FAILED (chunks already queued are then dropped by the
 * aggregator as JOB_NOT_RUNNING) and the client gets a 503 naming the job.
 *
 * With an `Idempotency-Key` header the submission runs at most once per key and body (see
 * idempotent-submit.ts). The body is validated first, so a rejected request (400, 413) never
 * reaches the idempotency store, and its key stays free for a corrected request.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { planChunks } from '../commons/chunking.ts';
import { addUsage, type JobUsage, NO_USAGE, sqsBilledRequests } from '../commons/cost.ts';
import { ServiceUnavailableError } from '../commons/errors.ts';
import { clientPath, errorResponse, jsonResponse } from '../commons/http.ts';
import { DEFAULT_JOB_DEADLINE_SECONDS, MAX_RECORDED_FAILED_CHUNKS } from '../commons/limits.ts';
import type { NumberInput } from '../commons/numbers.ts';
import { logger, MetricUnit, metrics } from '../commons/powertools.ts';
import {
  planMessageBatches,
  type QueueEntry,
  type SendMessagesOptions,
  sendMessagesInBatches,
} from '../commons/queue.ts';
import { decodeRequestBody, parseIdempotencyKey } from '../commons/request.ts';
import { createJob, expiryAfterDays, markJobFailed } from '../commons/store/jobs.ts';
import { shardCountFor } from '../commons/store/shards.ts';
import type { JobTable } from '../commons/store/table.ts';
import type { ChunkMessage, JobFailure } from '../commons/types.ts';
import type { IdempotentSubmitter } from './idempotent-submit.ts';
import type { InputDeps } from './input-job.ts';
import { handleCreateInputJob, isInputRequest } from './input-request.ts';
import { parseJobRequest } from './job-request.ts';

export interface DispatcherDeps {
  readonly table: JobTable;
  readonly sqs: SQSClient;
  readonly workQueueUrl: string;
  readonly numbersPerChunk: number;
  readonly jobRetentionDays: number;
  /** Seconds a job may run before the sweeper fails it; DEFAULT_JOB_DEADLINE_SECONDS if unset. */
  readonly jobDeadlineSeconds?: number;
  /** Runs a submission once per `Idempotency-Key` (required to accept the header). */
  readonly idempotency?: IdempotentSubmitter;
  readonly now?: () => Date;
  readonly newJobId?: () => string;
  /** Retry policy, concurrency and sleep of the SendMessageBatch calls. */
  readonly send?: SendMessagesOptions;
  /** S3 inputs (input-job.ts); a request with `input` is refused without them. */
  readonly input?: InputDeps;
}

/** The 202 body of `POST /jobs`. */
export interface SubmittedJob {
  readonly jobId: string;
  readonly status: 'RUNNING';
  readonly numbersCount: number;
  readonly chunkCount: number;
  readonly statusUrl: string;
  readonly resultsUrl: string;
}

export function statusPath(jobId: string): string {
  return `/jobs/${jobId}`;
}

export function resultsPath(jobId: string): string {
  return `/jobs/${jobId}/results`;
}

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
 * Billed SQS requests of sending `entries` with SendMessageBatch: ceil(bytes / 64 KB) per
 * batch, as planned (retries of failed entries are not counted).
 */
export function sendSqsRequests(entries: readonly QueueEntry[]): number {
  return planMessageBatches(entries).reduce(
    (sum, batch) =>
      sum +
      sqsBilledRequests(batch.reduce((bytes, entry) => bytes + Buffer.byteLength(entry.body), 0)),
    0,
  );
}

/** Epoch milliseconds `seconds` after `now`. */
export function deadlineAfter(now: Date, seconds: number): number {
  return now.getTime() + seconds * 1000;
}

/**
 * Creates a job for validated `numbers` and queues its chunks.
 * @param extraUsage what the submission used besides the job's own writes and sends (the
 *   idempotency record's writes), added to the job's cost counters
 * @throws ServiceUnavailableError (DISPATCH_FAILED) when chunks could not be queued; the
 *   job is then FAILED with the failed chunks recorded
 */
export async function submitJob(
  numbers: readonly NumberInput[],
  deps: DispatcherDeps,
  extraUsage: JobUsage = NO_USAGE,
): Promise<SubmittedJob> {
  const now = deps.now?.() ?? new Date();
  const jobId = deps.newJobId?.() ?? crypto.randomUUID();
  const entries = buildChunkEntries(jobId, numbers, deps.numbersPerChunk);
  logger.appendKeys({ jobId });

  await createJob(deps.table, {
    jobId,
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
 * The whole `POST /jobs` request: 202 with the job, or a JSON error. With an
 * `Idempotency-Key`, a repeat of the same key and body answers the first request's 202.
 */
export async function handleCreateJob(
  event: APIGatewayProxyEvent,
  deps: DispatcherDeps,
  context?: Context,
): Promise<APIGatewayProxyResult> {
  try {
    const idempotencyKey = parseIdempotencyKey(event.headers);
    const text = decodeRequestBody(event);
    if (isInputRequest(text)) return await handleCreateInputJob(event, text, idempotencyKey, deps);
    const numbers = parseJobRequest(text);
    let job: SubmittedJob;
    if (idempotencyKey === undefined) {
      job = await submitJob(numbers, deps);
    } else {
      if (deps.idempotency === undefined || context === undefined) {
        throw new Error('an Idempotency-Key needs the idempotency store and the Lambda context');
      }
      job = await deps.idempotency.submit(
        { key: idempotencyKey, caller: callerOf(event), body: text },
        numbers,
        deps,
        context,
      );
    }
    return jsonResponse(202, job, { location: clientPath(event, job.statusUrl) });
  } catch (error) {
    const response = errorResponse(error, logger);
    metrics.addMetric(
      response.statusCode >= 500 ? 'SubmitServerErrors' : 'JobsRejected',
      MetricUnit.Count,
      1,
    );
    return response;
  }
}

/**
 * Whose key space an `Idempotency-Key` belongs to: the caller's AWS account (the API takes
 * IAM-signed requests), so two accounts never share a key. Not the principal: a client's
 * role session may change between a request and its retry.
 */
function callerOf(event: APIGatewayProxyEvent): string {
  return event.requestContext?.identity?.accountId ?? 'anonymous';
}
