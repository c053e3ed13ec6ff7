/**
 * The contracts between the pipeline's stages: the SQS chunk message, the worker's
 * hand-off to the aggregator, and the job as stored in DynamoDB.
 */
import type { NumberInput, SquareResult } from './numbers.ts';

export type JobStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const JOB_STATUSES: readonly string[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

export function isJobStatus(value: unknown): value is JobStatus {
  return typeof value === 'string' && JOB_STATUSES.includes(value);
}

/** One chunk that could not be processed, and why. */
export interface FailedChunk {
  readonly chunkIndex: number;
  readonly reason: string;
  /** Deliveries of the chunk's message when it was given up (when known). */
  readonly receiveCount?: number;
}

/**
 * Why a job ended FAILED:
 * - DISPATCH_FAILED: some chunks could not be queued when the job was submitted;
 * - CHUNKS_FAILED: chunks failed on every delivery and reached the dead-letter queue (their
 *   inputs are kept, so `POST /jobs/{jobId}/redrive` can re-send them);
 * - DEADLINE_EXCEEDED: the job was still running at its deadline;
 * - REDRIVE_FAILED: a redrive could not re-queue every failed chunk (redrive again).
 */
export type JobFailureCode =
  | 'DISPATCH_FAILED'
  | 'CHUNKS_FAILED'
  | 'DEADLINE_EXCEEDED'
  | 'REDRIVE_FAILED';

/** The last failure a worker saw for one chunk (`chunkErrors.<chunkIndex>` of the job item). */
export interface ChunkError {
  readonly reason: string;
  /** ISO 8601. */
  readonly at: string;
  readonly receiveCount: number;
}

/** Why a job ended FAILED, as stored in the job item and shown by `GET /jobs/{jobId}`. */
export interface JobFailure {
  /** A stable machine-readable reason (JobFailureCode). */
  readonly code: string;
  readonly message: string;
  /** The first MAX_RECORDED_FAILED_CHUNKS failed chunks, by index. */
  readonly failedChunks?: readonly FailedChunk[];
  /** How many chunks failed in all. */
  readonly failedChunkCount?: number;
}

/** The body of one work-queue message: a slice of a job's numbers. */
export interface ChunkMessage {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** Index in the job of `numbers[0]`. */
  readonly offset: number;
  readonly numbers: NumberInput[];
}

/** What the worker hands to the aggregator (Lambda Invoke payload) for one chunk. */
export interface ChunkResult {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly offset: number;
  /** results[i] is the square of the chunk's numbers[i]. */
  readonly results: SquareResult[];
  /** Wall time the worker spent computing the chunk. */
  readonly computeMs: number;
  /** SQS ApproximateReceiveCount of the message: 1 on the first delivery. */
  readonly receiveCount: number;
  /**
   * This delivery's share of the worker's billed time, up to the hand-off: the record's wall
   * time with every moment split evenly among the records in flight (see fair-share.ts).
   */
  readonly durationMs: number;
  /** The worker's configured memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); 0 when unknown. */
  readonly memoryMb: number;
  /** UTF-8 bytes of the SQS message body, for the SQS request estimate (64 KB per request). */
  readonly messageBytes: number;
}

/** What the aggregator answers to the worker. */
export interface AggregateOutcome {
  /**
   * STORED: this delivery stored the chunk. DUPLICATE: the chunk was already stored, so
   * nothing was counted again. JOB_NOT_RUNNING: the job had ended (cancelled, failed),
   * so the result was dropped on purpose.
   */
  readonly outcome: 'STORED' | 'DUPLICATE' | 'JOB_NOT_RUNNING';
  readonly jobStatus: JobStatus;
}
