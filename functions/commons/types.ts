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
}

/** Why a job ended FAILED, as stored in the job item and shown by `GET /jobs/{jobId}`. */
export interface JobFailure {
  /** A stable machine-readable reason, e.g. DISPATCH_FAILED. */
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
