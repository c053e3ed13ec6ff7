/**
 * `POST /jobs`: validate the numbers, record the job, queue one message per chunk.
 *
 * The job item is written before any message is sent, so the aggregator always finds the
 * job its chunks belong to. When chunks cannot be queued after retries, the job is marked
 * FAILED (chunks already queued are then dropped by the aggregator as JOB_NOT_RUNNING) and
 * the client gets a 503 naming the job.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { planChunks } from '../commons/chunking.ts';
import { ServiceUnavailableError } from '../commons/errors.ts';
import { clientPath, errorResponse, jsonResponse } from '../commons/http.ts';
import { createJob, expiryAfterDays, type JobTable, markJobFailed } from '../commons/job-store.ts';
import { MAX_RECORDED_FAILED_CHUNKS } from '../commons/limits.ts';
import type { NumberInput } from '../commons/numbers.ts';
import { logger, MetricUnit, metrics } from '../commons/powertools.ts';
import {
  type QueueEntry,
  type SendMessagesOptions,
  sendMessagesInBatches,
} from '../commons/queue.ts';
import { decodeRequestBody } from '../commons/request.ts';
import type { ChunkMessage, JobFailure } from '../commons/types.ts';
import { parseJobRequest } from './job-request.ts';

export interface DispatcherDeps {
  readonly table: JobTable;
  readonly sqs: SQSClient;
  readonly workQueueUrl: string;
  readonly numbersPerChunk: number;
  readonly jobRetentionDays: number;
  readonly now?: () => Date;
  readonly newJobId?: () => string;
  /** Retry policy, concurrency and sleep of the SendMessageBatch calls. */
  readonly send?: SendMessagesOptions;
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
 * Creates a job for validated `numbers` and queues its chunks.
 * @throws ServiceUnavailableError (DISPATCH_FAILED) when chunks could not be queued; the
 *   job is then FAILED with the failed chunks recorded
 */
export async function submitJob(
  numbers: readonly NumberInput[],
  deps: DispatcherDeps,
): Promise<SubmittedJob> {
  const now = deps.now?.() ?? new Date();
  const jobId = deps.newJobId?.() ?? crypto.randomUUID();
  const entries = buildChunkEntries(jobId, numbers, deps.numbersPerChunk);
  logger.appendKeys({ jobId });

  await createJob(deps.table, {
    jobId,
    numbersCount: numbers.length,
    chunkCount: entries.length,
    now,
    expiresAt: expiryAfterDays(now, deps.jobRetentionDays),
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
    try {
      await markJobFailed(deps.table, jobId, failure, deps.now?.() ?? new Date());
    } catch (error) {
      // The job stays RUNNING until its deadline; the client is told it failed either way.
      logger.error('job could not be marked FAILED', { error: error as Error });
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

/** The whole `POST /jobs` request: 202 with the job, or a JSON error. */
export async function handleCreateJob(
  event: APIGatewayProxyEvent,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  try {
    const numbers = parseJobRequest(decodeRequestBody(event));
    const job = await submitJob(numbers, deps);
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
