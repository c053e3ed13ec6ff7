/**
 * Every error the client library throws. Each sets `name`; each carries what a caller needs
 * to act on it (the status and code of an API answer, the bad elements, the failed chunks).
 */
import type {
  FailedChunk,
  InvalidElement,
  JobFailure,
  JobStatus,
  JobStatusBody,
} from './api-types.ts';

/** The base of every error of the library. */
export class FanoutError extends Error {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'FanoutError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ error: { code, message, details } }` of a fanout answer, or `{ message }` of the gateway's. */
function describeBody(body: unknown): { code?: string; message?: string; details?: unknown } {
  if (!isRecord(body)) {
    return typeof body === 'string' && body !== '' ? { message: body.slice(0, 300) } : {};
  }
  const error = body.error;
  if (isRecord(error)) {
    return {
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
      ...(error.details === undefined ? {} : { details: error.details }),
    };
  }
  return typeof body.message === 'string' ? { message: body.message } : {};
}

/** A non-2xx answer of the API: its status, the API's error code and details, the body. */
export class HttpError extends FanoutError {
  readonly status: number;
  /** The API's machine-readable code (`error.code`); undefined for the gateway's own answers. */
  readonly code: string | undefined;
  /** The API's `error.details`, when it sent some. */
  readonly details: unknown;
  /** The answer's message, as the API worded it. */
  readonly apiMessage: string | undefined;
  /** The parsed body (or its text when it is not JSON). */
  readonly body: unknown;

  /** `what`: the request that failed, e.g. "the job was not accepted". */
  constructor(status: number, body: unknown, what: string) {
    const { code, message, details } = describeBody(body);
    super(
      `${what}: HTTP ${status}${code === undefined ? '' : ` ${code}`}: ${message ?? 'no details'}`,
    );
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.apiMessage = message;
    this.body = body;
  }
}

/** One bad element of an input: its index in the job, and its line when it came from a file. */
export type InvalidInputElement = InvalidElement & { readonly line?: number };

/** The API refused the numbers (400 INVALID_NUMBERS): which elements, and why. */
export class InvalidInputError extends HttpError {
  /** The first bad elements (the API lists at most 1,000), in index order. */
  readonly errors: readonly InvalidInputElement[];
  /** How many elements are bad in all. */
  readonly invalidCount: number;

  constructor(status: number, body: unknown, what: string, lines?: readonly number[]) {
    super(status, body, what);
    this.name = 'InvalidInputError';
    const details = isRecord(this.details) ? this.details : {};
    const listed = Array.isArray(details.errors) ? details.errors.filter(isInvalidElement) : [];
    this.errors = listed.map((element) => {
      const line = lines?.[element.index];
      return line === undefined ? element : { ...element, line };
    });
    this.invalidCount =
      typeof details.invalidCount === 'number' ? details.invalidCount : this.errors.length;
    const first = this.errors[0];
    if (first !== undefined) {
      const where = first.line === undefined ? '' : ` (line ${first.line})`;
      this.message = `${this.message}; numbers[${first.index}]${where}: ${first.code}: ${first.message}`;
    }
  }
}

function isInvalidElement(value: unknown): value is InvalidElement {
  return (
    isRecord(value) &&
    Number.isSafeInteger(value.index) &&
    typeof value.code === 'string' &&
    typeof value.message === 'string'
  );
}

/** An input that is not numbers at all (a file that is neither JSON nor one number a line). */
export class InputFormatError extends FanoutError {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'InputFormatError';
  }
}

/** The job ended FAILED: why, and which chunks failed. */
export class JobFailedError extends FanoutError {
  readonly jobId: string;
  readonly failure: JobFailure | undefined;
  readonly failedChunks: readonly FailedChunk[];
  readonly job: JobStatusBody;

  constructor(job: JobStatusBody) {
    const failure = job.failure;
    super(
      `job ${job.jobId} FAILED${failure === undefined ? '' : `: ${failure.code}: ${failure.message}`}`,
    );
    this.name = 'JobFailedError';
    this.jobId = job.jobId;
    this.failure = failure;
    this.failedChunks = failure?.failedChunks ?? [];
    this.job = job;
  }
}

/** The job was cancelled (`job.terminate()`, `DELETE /jobs/{jobId}`) before it finished. */
export class JobCancelledError extends FanoutError {
  readonly jobId: string;
  readonly job: JobStatusBody;

  constructor(job: JobStatusBody) {
    super(
      `job ${job.jobId} was CANCELLED${job.cancelledAt === undefined ? '' : ` at ${job.cancelledAt}`}`,
    );
    this.name = 'JobCancelledError';
    this.jobId = job.jobId;
    this.job = job;
  }
}

/** The job did not end within the time given; it keeps running. */
export class TimeoutError extends FanoutError {
  readonly jobId: string;
  readonly timeoutMs: number;
  /** The status last seen. */
  readonly status: JobStatus | undefined;

  constructor(jobId: string, timeoutMs: number, status: JobStatus | undefined) {
    super(`job ${jobId} is still ${status ?? 'RUNNING'} after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
    this.status = status;
  }
}

/** The error of an unknown thrown value, narrowed. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
