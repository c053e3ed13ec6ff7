/**
 * Hard limits of the fanout API and the AWS quotas they are derived from.
 *
 * Every number here is either an AWS quota (linked) or a product limit chosen to stay
 * safely inside one. Change a product limit only together with its documentation in
 * README.md ("Limits").
 */

/**
 * Lambda's synchronous invocation payload is 6 MB, and API Gateway proxies the request as
 * a synchronous invoke, so an encoded request body must stay below it (the event envelope
 * takes the rest).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const MAX_REQUEST_BODY_BYTES = 5_500_000;

/**
 * Upper bound of a request body after `Content-Encoding: gzip` is undone. It bounds the
 * dispatcher's memory and protects it from compression bombs.
 */
export const MAX_DECODED_BODY_BYTES = 32 * 1024 * 1024;

/** Most numbers one job may hold. */
export const MAX_NUMBERS_PER_JOB = 1_000_000;

/** Most digits (sign excluded) of one integer given as a decimal string. */
export const MAX_INTEGER_DIGITS = 10_000;

/** How many bad elements one 400 response lists; `invalidCount` always gives the total. */
export const MAX_REPORTED_ERRORS = 1_000;

/**
 * A DynamoDB item holds at most 400 KB, attribute names and values together. A chunk's
 * results are stored as one item, so a chunk's estimated result JSON is bounded well below
 * it, leaving room for the key and bookkeeping attributes.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
export const MAX_CHUNK_RESULT_BYTES = 300_000;

/**
 * An SQS message is at most 1 MiB (1,048,576 bytes). A chunk message is bounded by
 * MAX_CHUNK_RESULT_BYTES (which also bounds its input), far below this.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * SendMessageBatch takes at most 10 entries, 1 MiB in total.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = 1_048_576;

/** Default and largest count of numbers in one chunk (one SQS message, one result item). */
export const DEFAULT_NUMBERS_PER_CHUNK = 10_000;
export const MAX_NUMBERS_PER_CHUNK = 10_000;

/**
 * A job whose joined results are at most this many bytes of JSON gets them inline in the
 * job item (and in `GET /jobs/{jobId}`); larger ones are read page by page.
 */
export const MAX_INLINE_RESULT_BYTES = 128_000;

/** Most result bytes one `GET /jobs/{jobId}/results` page returns (API responses: 6 MB). */
export const MAX_RESULT_PAGE_BYTES = 1_000_000;

/**
 * How long a job and its chunk results are kept (DynamoDB TTL on `expiresAt`). DynamoDB
 * deletes expired items in the background, typically within a few days of expiry.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
export const DEFAULT_JOB_RETENTION_DAYS = 7;
export const MAX_JOB_RETENTION_DAYS = 3_650;

/**
 * Most failed chunks recorded by index in a FAILED job item (`failure.failedChunks`);
 * `failure.failedChunkCount` always gives the total. Keeps the job item far below 400 KB.
 */
export const MAX_RECORDED_FAILED_CHUNKS = 100;
