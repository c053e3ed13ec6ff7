/**
 * The contracts between the pipeline's stages: the SQS chunk message, the worker's
 * hand-off to the aggregator, and the job as stored in DynamoDB.
 */
import type { BadLine } from './input/lines.ts';
import type { NumberInput } from './numbers.ts';

/** The formats of an S3 input: one number per line, or a JSON array. */
export type InputFormat = 'lines' | 'json';

/**
 * AWAITING_INPUT: an upload job whose input is not uploaded (started) yet; it is in the
 * RunningByDeadline index with its upload deadline, so the sweeper fails it
 * (INPUT_NOT_UPLOADED) if it is never started.
 */
export type JobStatus = 'AWAITING_INPUT' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export const TERMINAL_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

const JOB_STATUSES: readonly string[] = [
  'AWAITING_INPUT',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
];

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
 * - REDRIVE_FAILED: a redrive could not re-queue every failed chunk (redrive again);
 * - INVALID_INPUT: lines of an S3 input are not numbers (`badLines` lists them);
 * - TOO_MANY_NUMBERS: an S3 input holds more numbers than a job may take;
 * - INPUT_NOT_UPLOADED: an upload job was not started by its deadline;
 * - INPUT_TOO_LARGE: an uploaded `json` object is larger than one worker reads.
 */
export type JobFailureCode =
  | 'INPUT_TOO_LARGE'
  | 'INVALID_INPUT'
  | 'TOO_MANY_NUMBERS'
  | 'INPUT_NOT_UPLOADED'
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
  /** INVALID_INPUT: the first MAX_REPORTED_BAD_LINES bad lines, 1-based in the whole input. */
  readonly badLines?: readonly BadLine[];
  /** INVALID_INPUT: how many lines are bad in all. */
  readonly badLineCount?: number;
}

/** The body of one work-queue message: a slice of a job's numbers, or a range of its S3 input. */
export type ChunkMessage = NumbersChunkMessage | RangeChunkMessage;

/** A chunk of an S3 input: where to read it, not its numbers. */
export interface InputRange {
  readonly bucket: string;
  readonly key: string;
  /** The ETag HeadObject gave: the worker's GET is pinned to it (IfMatch). */
  readonly etag?: string;
  /** Bytes of the whole object. */
  readonly size: number;
  /** The chunk's bytes [start, end) of the object (a `json` object is one range). */
  readonly start: number;
  readonly end: number;
  readonly format: InputFormat;
}

export interface RangeChunkMessage {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly range: InputRange;
}

/** The body of one work-queue message of numbers from a JSON body. */
export interface NumbersChunkMessage {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  /** Index in the job of `numbers[0]`. */
  readonly offset: number;
  readonly numbers: NumberInput[];
}

/** What the worker hands to the aggregator (Lambda Invoke payload) for one chunk. */
export interface ChunkResult extends ChunkResultFields {
  /**
   * The chunk's squares as their result page stores them: the gzip of their JSON array text
   * (results[i] the square of numbers[i]), base64. Compressed by the worker, so that the
   * payload is about half the JSON's size and the aggregator stores the bytes as given.
   */
  readonly resultsGzip: string;
  /** How many squares it holds. */
  readonly count: number;
  /** Characters of their JSON array text (a body chunk's is at most MAX_CHUNK_RESULT_BYTES). */
  readonly resultsJsonLength: number;
}

/** A ChunkResult as the aggregator uses it: its squares' base64 decoded. */
export interface ReceivedChunkResult extends ChunkResultFields {
  readonly count: number;
  readonly resultsJsonLength: number;
  /** The gzip of the squares' JSON array text. */
  readonly resultsGzip: Uint8Array;
}

/** What every chunk result carries besides its squares. */
export interface ChunkResultFields {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly offset: number;
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
  /**
   * Whether this delivery paid for the job's status read: false when another record of its
   * batch, of the same job, read it for both (the worker reads a job's status once a batch).
   * Absent: true.
   */
  readonly statusRead?: boolean;
  /**
   * Only for a chunk of an S3 input (then `offset` is 0: the chunk's place is known only from
   * the counts of the chunks before it): what its range held.
   */
  readonly lines?: RangeReport;
}

/** What a range of an S3 input held, as its worker read it. */
export interface RangeReport {
  /** Every line counted, good and bad (for global line numbers). */
  readonly lineCount: number;
  /** Its first MAX_REPORTED_BAD_LINES bad lines, numbered 1-based within the range. */
  readonly badLines: readonly BadLine[];
  readonly badLineCount: number;
  /** Bytes of the range (for the job's bytes done). */
  readonly bytes: number;
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
