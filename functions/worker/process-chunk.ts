/**
 * The worker: squares each chunk of an SQS batch and hands the result to the aggregator.
 *
 * Before computing, it reads the job's status (once a batch for each job: its records start
 * together and share the read): the chunks of a CANCELLED or SUCCEEDED job (or
 * of a job that no longer exists) are skipped without computing, and their records succeed.
 * A FAILED job's chunks are still computed: a redrive may complete the job, and a chunk
 * skipped now would be lost to it (see functions/aggregator/aggregate-chunk.ts). If the status cannot be read, the chunk
 * is computed anyway: the aggregator's own conditions keep the result correct.
 *
 * A record succeeds only when the aggregator has confirmed the chunk (STORED, DUPLICATE or
 * JOB_NOT_RUNNING), so SQS deletes a message only after its result is durably stored. Any
 * failure (bad message, compute error, Invoke error, function error, unreadable answer)
 * makes that record, and only it, a batch item failure that SQS redelivers; after
 * maxReceiveCount deliveries it moves to the DLQ. Before that, the failure is recorded on the
 * job (`chunkErrors`, `attempts`), as best effort: a failure to record never hides the
 * original one.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseAggregateOutcome, parseChunkMessage } from '#commons/contracts.ts';
import { sqsBilledRequests } from '#commons/cost.ts';
import {
  AggregatorInvocationError,
  ChunkComputationError,
  errorName,
  type InvalidChunkMessageError,
  loggableError,
} from '#commons/errors.ts';
import { MAX_FAILURE_REASON_LENGTH } from '#commons/limits.ts';
import { type Logger, logger, MetricUnit, metrics } from '#commons/powertools.ts';
import { withSubsegment } from '#commons/tracing.ts';
import type { AggregateOutcome, ChunkMessage, ChunkResult, JobStatus } from '#commons/types.ts';
import { recordChunkFailure } from '#store/failed-chunks.ts';
import { getJobStatus } from '#store/jobs.ts';
import { gzipResults } from '#store/pages.ts';
import type { JobTable } from '#store/table.ts';
import { readChunkInput } from './chunk-input.ts';
import type { ChunkComputer } from './compute.ts';
import { type Clock, FairShareMeter } from './fair-share.ts';

export interface WorkerDeps {
  readonly lambda: LambdaClient;
  readonly aggregatorFunctionName: string;
  readonly computeChunk: ChunkComputer;
  /** The job table: the status check before computing, and failure recording. */
  readonly table: JobTable;
  /**
   * The function's memory in MB, for the cost estimate; when undefined, the Lambda context's
   * `memoryLimitInMB`, else 0.
   */
  readonly memoryMb?: number;
  /** Processes computing chunks, reported as the PoolSize metric (1 when computed inline). */
  readonly poolSize?: number;
  /** Milliseconds from an arbitrary origin, for the compute time and the time shares. */
  readonly clock?: Clock;
  /** Wall-clock time of recorded failures. */
  readonly now?: () => Date;
  /** Reads the ranges of S3 inputs (chunk-input.ts); required for range chunks. */
  readonly s3?: S3Client;
}

/** What became of a record that succeeded. */
export type RecordOutcome =
  | AggregateOutcome
  /** Not computed: the job is CANCELLED or SUCCEEDED, or no longer exists (undefined). */
  | { readonly outcome: 'SKIPPED'; readonly jobStatus: JobStatus | undefined };

/** Job statuses whose chunks are not computed. */
const SKIPPED_STATUSES: ReadonlySet<JobStatus | undefined> = new Set([
  'CANCELLED',
  'SUCCEEDED',
  undefined,
]);

const utf8 = new TextDecoder();

function describeFunctionError(payload: string): string {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value === 'object' && value !== null) {
      const { errorType, errorMessage } = value as { errorType?: unknown; errorMessage?: unknown };
      return `${String(errorType ?? 'Error')}: ${String(errorMessage ?? '')}`;
    }
  } catch {
    // fall through: report the raw payload
  }
  return payload.slice(0, 500);
}

/**
 * Hands one chunk result to the aggregator with a synchronous Invoke and returns its answer.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * @throws AggregatorInvocationError on a function error or an answer that is not an
 *   AggregateOutcome (SDK errors propagate as they are)
 */
export async function invokeAggregator(
  lambda: LambdaClient,
  functionName: string,
  chunkResult: ChunkResult,
): Promise<AggregateOutcome> {
  const response = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: Buffer.from(JSON.stringify(chunkResult)),
    }),
  );
  const payload = response.Payload === undefined ? '' : utf8.decode(response.Payload);
  if (response.FunctionError !== undefined) {
    throw new AggregatorInvocationError(
      `aggregator failed (${response.FunctionError}): ${describeFunctionError(payload)}`,
    );
  }
  let answer: unknown;
  try {
    answer = JSON.parse(payload);
  } catch (error) {
    throw new AggregatorInvocationError('aggregator answer is not JSON', { cause: error });
  }
  const outcome = parseAggregateOutcome(answer);
  if (outcome === undefined) {
    throw new AggregatorInvocationError('aggregator answer is not an AggregateOutcome');
  }
  return outcome;
}

function receiveCountOf(record: SQSRecord): number {
  const count = Number.parseInt(record.attributes?.ApproximateReceiveCount ?? '', 10);
  return Number.isSafeInteger(count) && count >= 0 ? count : 0;
}

/** A failure as one short line for `chunkErrors`: its name and message, cut to length. */
export function failureReason(error: unknown): string {
  const text =
    error instanceof Error ? `${error.name}: ${error.message}` : `${errorName(error) ?? 'Error'}`;
  return text.length > MAX_FAILURE_REASON_LENGTH
    ? `${text.slice(0, MAX_FAILURE_REASON_LENGTH - 1)}…`
    : text;
}

/**
 * The job's status, or 'UNKNOWN' when it cannot be read (the chunk is then computed: the
 * check only saves work, correctness never depends on it).
 */
async function readJobStatus(
  deps: WorkerDeps,
  jobId: string,
  recordLogger: Logger,
): Promise<JobStatus | undefined | 'UNKNOWN'> {
  try {
    return await getJobStatus(deps.table, jobId);
  } catch (error) {
    recordLogger.warn('job status could not be read, computing the chunk anyway', {
      error: loggableError(error),
    });
    return 'UNKNOWN';
  }
}

/**
 * The job statuses read in one invocation: the first record of a job reads its status, and
 * the batch's other records of that job share the answer. Records of a batch run at once, so
 * they would all read it at the same moment: one read serves them, for a fifth of the reads.
 */
export class BatchStatusReads {
  readonly #reads = new Map<string, Promise<JobStatus | undefined | 'UNKNOWN'>>();

  /** The job's status, and whether this record paid for the read (false: it was shared). */
  of(
    jobId: string,
    read: () => Promise<JobStatus | undefined | 'UNKNOWN'>,
  ): { readonly status: Promise<JobStatus | undefined | 'UNKNOWN'>; readonly paid: boolean } {
    const shared = this.#reads.get(jobId);
    if (shared !== undefined) return { status: shared, paid: false };
    const status = read();
    this.#reads.set(jobId, status);
    return { status, paid: true };
  }
}

interface DeliveryFacts {
  readonly receiveCount: number;
  readonly messageBytes: number;
  /** The delivery's share of the invocation, in ms. */
  readonly durationMs: number;
  /** It read the job's status itself (not shared with another record of its batch). */
  readonly paidStatusRead: boolean;
}

/** Records a failed delivery on its job; logs, never throws (best effort). */
async function recordFailure(
  deps: WorkerDeps,
  message: ChunkMessage,
  error: unknown,
  delivery: DeliveryFacts,
  recordLogger: Logger,
): Promise<void> {
  const now = deps.now?.() ?? new Date();
  try {
    const outcome = await recordChunkFailure(
      deps.table,
      {
        jobId: message.jobId,
        chunkIndex: message.chunkIndex,
        error: {
          reason: failureReason(error),
          at: now.toISOString(),
          receiveCount: delivery.receiveCount,
        },
        usage: {
          lambdaMbMs: delivery.durationMs * (deps.memoryMb ?? 0),
          lambdaRequests: 1,
          // Its status read (up to 4 KB, strongly consistent), unless it was shared.
          readUnits: delivery.paidStatusRead ? 1 : 0,
          // Received, not deleted: the message returns after its visibility timeout.
          sqsRequests: sqsBilledRequests(delivery.messageBytes),
        },
      },
      now,
    );
    if (outcome === 'NO_JOB') recordLogger.warn('chunk failure not recorded: the job is gone');
  } catch (recordError) {
    recordLogger.warn('chunk failure could not be recorded', { error: loggableError(recordError) });
  }
}

/**
 * Processes one SQS record: parse, check the job, compute, hand off. Resolves with the
 * aggregator's answer, or SKIPPED for a chunk of a job that has ended.
 * @param meter splits the invocation's time among the records in flight (cost estimate)
 * @param statuses the job statuses read in this invocation, shared by its records
 * @throws on any failure, so the batch processor reports the record for redelivery
 */
export async function processChunkRecord(
  record: SQSRecord,
  deps: WorkerDeps,
  meter: FairShareMeter = new FairShareMeter(deps.clock ?? (() => performance.now())),
  statuses: BatchStatusReads = new BatchStatusReads(),
): Promise<RecordOutcome> {
  let message: ChunkMessage;
  try {
    message = parseChunkMessage(record.body);
  } catch (error) {
    // Permanent: every delivery fails the same way until the message reaches the DLQ.
    logger.error('malformed chunk message', {
      messageId: record.messageId,
      receiveCount: receiveCountOf(record),
      error: error as InvalidChunkMessageError,
    });
    metrics.addMetric('MalformedMessages', MetricUnit.Count, 1);
    throw error;
  }
  // A child logger per record: records run concurrently, and temporary keys appended to the
  // shared logger are per invocation, not per record, so they would mix chunks up.
  const recordLogger: Logger = logger.createChild({
    persistentKeys: {
      jobId: message.jobId,
      chunkIndex: message.chunkIndex,
      messageId: record.messageId,
    },
  });
  const clock = deps.clock ?? (() => performance.now());
  const share = meter.begin();
  const started = clock();
  const receiveCount = receiveCountOf(record);
  const messageBytes = Buffer.byteLength(record.body, 'utf8');
  const annotations = { jobId: message.jobId, chunkIndex: message.chunkIndex };
  if (receiveCount > 1) metrics.addMetric('ChunkRetries', MetricUnit.Count, 1);
  const statusRead = statuses.of(message.jobId, () =>
    readJobStatus(deps, message.jobId, recordLogger),
  );
  try {
    const jobStatus = await statusRead.status;
    if (jobStatus !== 'UNKNOWN' && SKIPPED_STATUSES.has(jobStatus)) {
      share.end();
      recordLogger.info('chunk skipped: the job has ended', { jobStatus: jobStatus ?? 'GONE' });
      metrics.addMetric('ChunksSkipped', MetricUnit.Count, 1);
      return { outcome: 'SKIPPED', jobStatus };
    }

    const input = await readChunkInput(message, deps.s3);
    const computeStarted = clock();
    const results =
      input.numbers.length === 0
        ? []
        : await withSubsegment('### compute chunk', annotations, () =>
            deps.computeChunk(input.numbers),
          );
    const computeMs = clock() - computeStarted;
    if (!Array.isArray(results) || results.length !== input.numbers.length) {
      throw new ChunkComputationError(
        `computed ${Array.isArray(results) ? results.length : 'no'} results for ${input.numbers.length} numbers`,
      );
    }
    metrics.addMetric('ChunkComputeTime', MetricUnit.Milliseconds, computeMs);
    metrics.addMetric('NumbersSquared', MetricUnit.Count, results.length);

    const resultsJson = JSON.stringify(results);
    const chunkResult: ChunkResult = {
      jobId: message.jobId,
      chunkIndex: message.chunkIndex,
      offset: input.offset,
      // Compressed here, as its page stores it: the hand-off carries about half the bytes.
      resultsGzip: gzipResults(resultsJson).toString('base64'),
      count: results.length,
      resultsJsonLength: resultsJson.length,
      computeMs,
      receiveCount,
      durationMs: share.elapsed(),
      memoryMb: deps.memoryMb ?? 0,
      messageBytes,
      ...(!statusRead.paid && { statusRead: false }),
      ...(input.lines !== undefined && { lines: input.lines }),
    };
    const outcome = await withSubsegment('### hand off chunk', annotations, () =>
      invokeAggregator(deps.lambda, deps.aggregatorFunctionName, chunkResult),
    );
    share.end();
    const latencyMs = clock() - started;
    metrics.addMetric('ChunkLatency', MetricUnit.Milliseconds, latencyMs);
    recordLogger.info('chunk handed off', {
      outcome: outcome.outcome,
      jobStatus: outcome.jobStatus,
      numbersCount: results.length,
      computeMs,
      latencyMs,
    });
    return outcome;
  } catch (error) {
    const durationMs = share.end();
    recordLogger.error('chunk failed, it will be redelivered', {
      receiveCount,
      error: loggableError(error),
    });
    metrics.addMetric('ChunkFailures', MetricUnit.Count, 1);
    await recordFailure(
      deps,
      message,
      error,
      { receiveCount, messageBytes, durationMs, paidStatusRead: statusRead.paid },
      recordLogger,
    );
    throw error;
  }
}

function memoryOf(context: Context | undefined): number | undefined {
  const memory = Number(context?.memoryLimitInMB);
  return Number.isSafeInteger(memory) && memory > 0 ? memory : undefined;
}

/**
 * Processes an SQS batch; records run concurrently (the compute pool bounds the CPU work).
 * Returns the failed records for SQS to redeliver. As Powertools does by default, a batch
 * whose every record failed throws instead, so Lambda counts an error and backs off.
 * @see https://docs.powertools.aws.dev/lambda/typescript/latest/features/batch/
 */
export async function processChunkBatch(
  event: SQSEvent,
  deps: WorkerDeps,
  context?: Context,
): Promise<SQSBatchResponse> {
  const batchDeps: WorkerDeps = {
    ...deps,
    memoryMb: deps.memoryMb ?? memoryOf(context) ?? 0,
  };
  if (deps.poolSize !== undefined) metrics.addMetric('PoolSize', MetricUnit.Count, deps.poolSize);
  // One meter per invocation: it splits this invocation's time among its records.
  const meter = new FairShareMeter(deps.clock ?? (() => performance.now()));
  const statuses = new BatchStatusReads();
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    (record: SQSRecord) => processChunkRecord(record, batchDeps, meter, statuses),
    processor,
    context === undefined ? undefined : { context },
  );
}
