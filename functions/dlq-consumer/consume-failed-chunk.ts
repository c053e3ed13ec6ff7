/**
 * The dead-letter queue consumer: a chunk message lands in the work queue's DLQ after
 * maxReceiveCount failed deliveries. For each one it:
 * 1. keeps the original message as the `FAILED#<index>` item, for a redrive;
 * 2. marks the job FAILED (CHUNKS_FAILED) and lists the chunk in its `failedChunks`, with the
 *    reason a worker recorded in `chunkErrors` (else "exhausted its deliveries").
 * Both happen in one transaction, so a duplicate DLQ message is counted once. A CANCELLED or
 * SUCCEEDED job stays as it is. A chunk whose page is stored after all (another copy of the
 * message succeeded, or its aggregator crashed after the page on every delivery) fails
 * nothing: it is counted instead (commons/completion.ts), which is idempotent, so the job
 * completes even when the crash left the chunk unmarked.
 *
 * Transient failures (throttling, conflicts with other chunks of the job, after a few quick
 * retries) make the record a batch item failure, redelivered from the DLQ.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { countChunk, jobReadUnits } from '#commons/completion.ts';
import { parseChunkMessage } from '#commons/contracts.ts';
import { deliverySqsRequests } from '#commons/cost.ts';
import { isTransientTransactionError } from '#commons/errors.ts';
import { MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import { type Logger, logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { type RetryPolicy, retryWhile, type Sleep } from '#commons/retry.ts';
import type { ChunkMessage, JobStatus } from '#commons/types.ts';
import {
  readFailureContext,
  type StoreFailedChunkOutcome,
  storeFailedChunk,
} from '#store/failed-chunks.ts';
import { getJob } from '#store/jobs.ts';
import { getPageCount } from '#store/pages.ts';
import type { JobTable } from '#store/table.ts';

export interface DlqConsumerDeps {
  readonly table: JobTable;
  readonly now?: () => Date;
  readonly sleep?: Sleep;
  /** Retries of a transaction cancelled by a conflict on the job item or by throttling. */
  readonly transactionRetry?: RetryPolicy;
}

export const DEFAULT_DLQ_TRANSACTION_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 20,
  maxDelayMs: 500,
};

/** The reason of a failed chunk when no worker recorded one (a crash, a timeout). */
export const EXHAUSTED_REASON = 'exhausted its deliveries';

/** Most of an unparseable body that is logged. */
const LOGGED_BODY_CHARACTERS = 2_000;

/** Statuses the consumer leaves as they are. */
const ENDED_STATUSES: ReadonlySet<JobStatus> = new Set(['CANCELLED', 'SUCCEEDED']);

export type DeadLetterOutcome =
  /** The chunk is recorded and its job FAILED. */
  | 'RECORDED'
  /** The chunk was recorded before (a duplicate DLQ message). */
  | 'DUPLICATE'
  /** The chunk's result is stored (another copy of the message succeeded): nothing failed. */
  | 'ALREADY_STORED'
  /** The job is CANCELLED or SUCCEEDED: left as it is. */
  | 'JOB_ENDED'
  /** The job does not exist any more (expired): nothing to mark. */
  | 'JOB_GONE'
  /** The body is not a chunk message: logged, nothing to mark. */
  | 'UNPARSEABLE';

function receiveCountOf(record: SQSRecord): number {
  const count = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? '', 10);
  return Number.isSafeInteger(count) && count >= 0 ? count : 0;
}

function storeWithRetries(
  deps: DlqConsumerDeps,
  store: () => Promise<StoreFailedChunkOutcome>,
  recordLogger: Logger,
): Promise<StoreFailedChunkOutcome> {
  return retryWhile(store, {
    policy: deps.transactionRetry ?? DEFAULT_DLQ_TRANSACTION_RETRY,
    isRetryable: isTransientTransactionError,
    sleep: deps.sleep,
    onRetry: (error, attempt) =>
      recordLogger.warn('failed chunk transaction cancelled, retrying', {
        attempt,
        reasons: error.reasons,
      }),
  });
}

/**
 * Handles one DLQ record.
 * @throws on a transient failure, so the batch processor reports the record for redelivery
 */
export async function consumeDeadLetter(
  record: SQSRecord,
  deps: DlqConsumerDeps,
): Promise<DeadLetterOutcome> {
  let message: ChunkMessage;
  try {
    message = parseChunkMessage(record.body);
  } catch (error) {
    // Nothing to mark: without a valid job id and chunk index the message belongs to no job
    // (the dispatcher never sends one like it). Its body is logged for inspection, and the
    // record succeeds, so it does not cycle through the DLQ.
    logger.error('unparseable dead letter dropped', {
      messageId: record.messageId,
      bodyBytes: Buffer.byteLength(record.body, 'utf8'),
      body: record.body.slice(0, LOGGED_BODY_CHARACTERS),
      error,
    });
    metrics.addMetric('UnparseableDeadLetters', MetricUnit.Count, 1);
    return 'UNPARSEABLE';
  }
  const recordLogger = logger.createChild({
    persistentKeys: {
      jobId: message.jobId,
      chunkIndex: message.chunkIndex,
      messageId: record.messageId,
    },
  });

  // Received from the DLQ, and deleted when this record succeeds.
  const sqsRequests = deliverySqsRequests(Buffer.byteLength(record.body, 'utf8'), true);
  const storedCount = await getPageCount(deps.table, message.jobId, message.chunkIndex);
  if (storedCount !== undefined) {
    const job = await getJob(deps.table, message.jobId, { consistentRead: true });
    if (job !== undefined && !ENDED_STATUSES.has(job.status)) {
      await countChunk(
        deps.table,
        job,
        {
          chunkIndex: message.chunkIndex,
          count: storedCount,
          usage: { sqsRequests, readUnits: jobReadUnits(job) },
        },
        deps.now?.() ?? new Date(),
        recordLogger,
      );
    }
    recordLogger.info('dead letter ignored: the chunk is stored (counted again, idempotently)');
    metrics.addMetric('DeadLettersOfStoredChunks', MetricUnit.Count, 1);
    return 'ALREADY_STORED';
  }
  const context = await readFailureContext(deps.table, message.jobId, message.chunkIndex);
  if (context === undefined) {
    recordLogger.warn('dead letter ignored: the job does not exist');
    return 'JOB_GONE';
  }
  if (ENDED_STATUSES.has(context.status)) {
    recordLogger.info('dead letter ignored: the job has ended', { jobStatus: context.status });
    return 'JOB_ENDED';
  }

  const reason = context.chunkError?.reason ?? EXHAUSTED_REASON;
  // The worker's count of its last failed delivery; the DLQ's own count otherwise.
  const receiveCount = context.chunkError?.receiveCount ?? receiveCountOf(record);
  const stored = await storeWithRetries(
    deps,
    () =>
      storeFailedChunk(
        deps.table,
        {
          jobId: message.jobId,
          chunkIndex: message.chunkIndex,
          body: record.body,
          reason,
          receiveCount,
          expiresAt: context.expiresAt,
          listInJob: context.failedChunkCount < MAX_RECORDED_FAILED_CHUNKS,
          usage: { sqsRequests },
        },
        deps.now?.() ?? new Date(),
      ),
    recordLogger,
  );
  switch (stored.outcome) {
    case 'RECORDED':
      recordLogger.error('chunk failed on every delivery: job FAILED', { reason, receiveCount });
      metrics.addMetric('FailedChunks', MetricUnit.Count, 1);
      if (context.status === 'RUNNING') metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
      return 'RECORDED';
    case 'DUPLICATE':
      recordLogger.info('duplicate dead letter ignored');
      metrics.addMetric('DuplicateDeadLetters', MetricUnit.Count, 1);
      return 'DUPLICATE';
    case 'JOB_ENDED':
      recordLogger.info('dead letter ignored: the job has ended');
      return 'JOB_ENDED';
  }
}

/**
 * Handles a DLQ batch; returns the records to redeliver (transient failures). As Powertools
 * does by default, a batch whose every record failed throws instead.
 * @see https://docs.powertools.aws.dev/lambda/typescript/latest/features/batch/
 */
export async function consumeDeadLetters(
  event: SQSEvent,
  deps: DlqConsumerDeps,
  context?: Context,
): Promise<SQSBatchResponse> {
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    (record: SQSRecord) => consumeDeadLetter(record, deps),
    processor,
    context === undefined ? undefined : { context },
  );
}
