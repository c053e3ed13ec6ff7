/**
 * Every error class of fanout. Each sets `name`, so logs and tests can tell them apart
 * without `instanceof` across bundles.
 *
 * HttpError and its subclasses are the only errors whose message reaches an API client;
 * anything else is logged in full and answered with a generic 500.
 */

/** Machine-readable codes of the API's error responses (`{ "error": { "code" } }`). */
export type ApiErrorCode =
  // 400: the request is malformed
  | 'EMPTY_BODY'
  | 'INVALID_ENCODING'
  | 'INVALID_GZIP'
  | 'INVALID_JSON'
  | 'BODY_NOT_OBJECT'
  | 'UNKNOWN_FIELD'
  | 'NUMBERS_MISSING'
  | 'NUMBERS_NOT_ARRAY'
  | 'NUMBERS_EMPTY'
  | 'INVALID_NUMBERS'
  | 'INVALID_JOB_ID'
  | 'INVALID_CURSOR'
  | 'INVALID_PAGE'
  | 'CURSOR_AND_PAGE'
  | 'INVALID_LIMIT'
  | 'INVALID_QUERY'
  | 'INVALID_IDEMPOTENCY_KEY'
  | 'INVALID_INPUT_SOURCE'
  | 'INVALID_S3_URI'
  | 'INVALID_UPLOAD_PARTS'
  | 'INPUT_EMPTY'
  // 403: a bucket the stack may not read
  | 'INPUT_BUCKET_NOT_ALLOWED'
  | 'INPUT_NOT_READABLE'
  // 403: no caller identity on the request
  | 'NO_CALLER_IDENTITY'
  // 404, 405, 409, 422
  | 'INPUT_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'ROUTE_NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'JOB_NOT_SUCCEEDED'
  | 'RESULTS_NOT_STORED'
  | 'JOB_NOT_RUNNING'
  | 'JOB_NOT_FAILED'
  | 'JOB_NOT_AWAITING_INPUT'
  | 'IDEMPOTENCY_NOT_SUPPORTED'
  | 'NOTHING_TO_REDRIVE'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'IDEMPOTENCY_KEY_REUSED'
  // 413: over a documented limit
  | 'BODY_TOO_LARGE'
  | 'DECODED_BODY_TOO_LARGE'
  | 'TOO_MANY_NUMBERS'
  | 'INPUT_TOO_LARGE'
  // 5xx
  | 'DISPATCH_FAILED'
  | 'REDRIVE_FAILED'
  | 'IDEMPOTENCY_UNAVAILABLE'
  | 'INTERNAL_ERROR';

export type ErrorDetails = Readonly<Record<string, unknown>>;

interface HttpErrorOptions {
  readonly details?: ErrorDetails;
  readonly cause?: unknown;
}

/** An error meant for the API client: its status, code, message and details are public. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(statusCode: number, code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(message, { cause: options?.cause });
    this.name = 'HttpError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = options?.details;
  }
}

/** 400: the request is malformed or breaks a validation rule. */
export class BadRequestError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(400, code, message, options);
    this.name = 'BadRequestError';
  }
}

/** 403: the request names something the stack may not touch (a bucket outside the allowed list). */
export class ForbiddenError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(403, code, message, options);
    this.name = 'ForbiddenError';
  }
}

/** 404: no such job or route. */
export class NotFoundError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(404, code, message, options);
    this.name = 'NotFoundError';
  }
}

/** 405: the route exists, the method does not. */
export class MethodNotAllowedError extends HttpError {
  constructor(message: string, options?: HttpErrorOptions) {
    super(405, 'METHOD_NOT_ALLOWED', message, options);
    this.name = 'MethodNotAllowedError';
  }
}

/** 409: the job is not in a state that allows the request. */
export class ConflictError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(409, code, message, options);
    this.name = 'ConflictError';
  }
}

/** 422: the request is well formed but contradicts an earlier one (an idempotency key reused). */
export class UnprocessableEntityError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(422, code, message, options);
    this.name = 'UnprocessableEntityError';
  }
}

/** 413: the request is over a documented size or count limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(413, code, message, options);
    this.name = 'PayloadTooLargeError';
  }
}

/** 503: a dependency failed after retries; the client may try again. */
export class ServiceUnavailableError extends HttpError {
  constructor(code: ApiErrorCode, message: string, options?: HttpErrorOptions) {
    super(503, code, message, options);
    this.name = 'ServiceUnavailableError';
  }
}

/**
 * A setting that cannot work: a missing or invalid environment variable (the function cannot
 * start), or a CDK context value or pair of values (the synth fails). The message names it.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * An SQS work message that is not a valid ChunkMessage. Redelivery cannot fix it, so the
 * worker lets it fail until it lands in the DLQ, where it can be inspected.
 */
export class InvalidChunkMessageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidChunkMessageError';
  }
}

/** An aggregator payload that is not a valid ChunkResult, or that does not fit its job. */
export class InvalidChunkResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidChunkResultError';
  }
}

/** The worker's chunk computer returned a result that does not match its input. */
export class ChunkComputationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkComputationError';
  }
}

/** The aggregator answered with a function error or an unreadable payload. */
export class AggregatorInvocationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AggregatorInvocationError';
  }
}

/** A chunk arrived for a job that does not exist (never created, or expired by TTL). */
export class JobNotFoundError extends Error {
  readonly jobId: string;

  constructor(jobId: string) {
    super(`job ${jobId} does not exist`);
    this.name = 'JobNotFoundError';
    this.jobId = jobId;
  }
}

/**
 * Stored items contradict each other (a counter past its total, a missing chunk of a
 * complete job, an item without its required attributes). Never expected; it stops the
 * operation instead of writing a wrong result.
 */
export class InconsistentJobError extends Error {
  readonly jobId: string;

  constructor(jobId: string, message: string) {
    super(`job ${jobId}: ${message}`);
    this.name = 'InconsistentJobError';
    this.jobId = jobId;
  }
}

/**
 * A DynamoDB transaction was cancelled for a transient reason (a concurrent transaction on
 * the same job item, throttling); the same write may simply be tried again.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
export class TransientTransactionError extends Error {
  readonly reasons: readonly string[];

  constructor(reasons: readonly string[], options?: { cause?: unknown }) {
    super(`transaction cancelled for a transient reason: ${reasons.join(', ')}`, options);
    this.name = 'TransientTransactionError';
    this.reasons = reasons;
  }
}

/** Whether a failure is a transiently cancelled transaction, worth trying again. */
export function isTransientTransactionError(error: unknown): error is TransientTransactionError {
  return error instanceof TransientTransactionError;
}

/** The name of an error-like value, or undefined. Tells SDK service errors apart by `name`. */
export function errorName(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'name' in error) {
    const { name } = error;
    return typeof name === 'string' ? name : undefined;
  }
  return undefined;
}

/** A caught value as the logger takes it: the Error itself (with its stack), or its text. */
export function loggableError(error: unknown): Error | string {
  return error instanceof Error ? error : String(error);
}

/** The message of a caught value, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
