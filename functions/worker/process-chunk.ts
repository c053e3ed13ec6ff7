/**
 * The worker: squares each chunk of an SQS batch and hands the result to the aggregator.
 *
 * A record succeeds only when the aggregator has confirmed the chunk (STORED, DUPLICATE or
 * JOB_NOT_RUNNING), so SQS deletes a message only after its result is durably stored. Any
 * failure (bad message, compute error, Invoke error, function error, unreadable answer)
 * makes that record, and only it, a batch item failure that SQS redelivers; after
 * maxReceiveCount deliveries it moves to the DLQ.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseAggregateOutcome, parseChunkMessage } from '../commons/contracts.ts';
import {
  AggregatorInvocationError,
  ChunkComputationError,
  type InvalidChunkMessageError,
} from '../commons/errors.ts';
import { type Logger, logger, MetricUnit, metrics } from '../commons/powertools.ts';
import type { AggregateOutcome, ChunkMessage, ChunkResult } from '../commons/types.ts';
import type { ChunkComputer } from './inline-compute.ts';

export interface WorkerDeps {
  readonly lambda: LambdaClient;
  readonly aggregatorFunctionName: string;
  readonly computeChunk: ChunkComputer;
  /** Milliseconds from an arbitrary origin, for the compute time. */
  readonly clock?: () => number;
}

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

/**
 * Processes one SQS record: parse, compute, hand off. Resolves with the aggregator's answer.
 * @throws on any failure, so the batch processor reports the record for redelivery
 */
export async function processChunkRecord(
  record: SQSRecord,
  deps: WorkerDeps,
): Promise<AggregateOutcome> {
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
  try {
    const clock = deps.clock ?? (() => performance.now());
    const started = clock();
    const results = await deps.computeChunk(message.numbers);
    const computeMs = clock() - started;
    if (!Array.isArray(results) || results.length !== message.numbers.length) {
      throw new ChunkComputationError(
        `computed ${Array.isArray(results) ? results.length : 'no'} results for ${message.numbers.length} numbers`,
      );
    }
    metrics.addMetric('ChunkComputeTime', MetricUnit.Milliseconds, computeMs);
    metrics.addMetric('NumbersSquared', MetricUnit.Count, results.length);

    const outcome = await invokeAggregator(deps.lambda, deps.aggregatorFunctionName, {
      jobId: message.jobId,
      chunkIndex: message.chunkIndex,
      offset: message.offset,
      results,
      computeMs,
      receiveCount: receiveCountOf(record),
    });
    recordLogger.info('chunk handed off', {
      outcome: outcome.outcome,
      jobStatus: outcome.jobStatus,
      numbersCount: results.length,
      computeMs,
    });
    return outcome;
  } catch (error) {
    recordLogger.error('chunk failed, it will be redelivered', {
      receiveCount: receiveCountOf(record),
      error: error as Error,
    });
    metrics.addMetric('ChunkFailures', MetricUnit.Count, 1);
    throw error;
  }
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
  const processor = new BatchProcessor(EventType.SQS);
  return processPartialResponse(
    event,
    (record: SQSRecord) => processChunkRecord(record, deps),
    processor,
    context === undefined ? undefined : { context },
  );
}
