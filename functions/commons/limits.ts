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
 * The most bytes of a binary body (`application/gzip`): API Gateway hands it to the function
 * as base64 text, 4 characters for every 3 bytes, and the text is what MAX_REQUEST_BODY_BYTES
 * bounds.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
 */
export const MAX_BINARY_REQUEST_BODY_BYTES = Math.floor(MAX_REQUEST_BODY_BYTES / 4) * 3;

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
/** The 400 KB item limit itself (a range's compressed page must fit it: it is never split). */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

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

/**
 * The largest memory a Lambda function can have, in MB.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
 */
export const MAX_LAMBDA_MEMORY_MB = 10_240;

/** Default and largest count of numbers in one chunk (one SQS message, one result item). */
export const DEFAULT_NUMBERS_PER_CHUNK = 10_000;
export const MAX_NUMBERS_PER_CHUNK = 10_000;

/**
 * A job whose joined results are at most this many bytes of JSON gets them inline in the
 * job item (and in `GET /jobs/{jobId}`); larger ones are read page by page.
 */
export const MAX_INLINE_RESULT_BYTES = 128_000;

/**
 * Chunk result pages joined into one `GET /jobs/{jobId}/results` response. A chunk's results
 * are at most MAX_CHUNK_RESULT_BYTES of JSON, so a response stays under 8 x 300 KB = 2.4 MB,
 * inside Lambda's 6 MB synchronous response (typically 8 x 125 KB = 1 MB). A fixed count
 * makes every cursor computable (the first chunk of response p is p x 8), so a client may
 * fetch responses in parallel.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const RESULT_PAGES_PER_RESPONSE = 8;

/**
 * Chunk pages per results response of a job whose input is an S3 object: one. A range's
 * results are not bounded by MAX_CHUNK_RESULT_BYTES but by its bytes: a line of 3 bytes
 * (`.1` and its newline) squares to 21 bytes of JSON (`0.010000000000000002,`), so a range of
 * 384 KiB may answer 2.7 MB of JSON, and two of them could pass Lambda's 6 MB response.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const INPUT_RESULT_PAGES_PER_RESPONSE = 1;

/**
 * How long a job and its chunk results are kept (DynamoDB TTL on `expiresAt`). DynamoDB
 * deletes expired items in the background, typically within a few days of expiry.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
 */
export const DEFAULT_JOB_RETENTION_DAYS = 7;
export const MAX_JOB_RETENTION_DAYS = 3_650;

/**
 * Most failed chunks recorded by index in a FAILED job item (the `failedChunks` map, and
 * `failure.failedChunks` in responses); `failedChunkCount` always gives the total. Keeps the
 * job item far below 400 KB.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
export const MAX_RECORDED_FAILED_CHUNKS = 100;

/**
 * Most chunks whose last worker failure is kept in the job item (`chunkErrors`), and the
 * longest reason kept. Every write to the job item is billed by its whole size (1 write unit
 * per KB), so the map stays small: 20 entries of at most 200 characters, about 5 KB.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export const MAX_RECORDED_CHUNK_ERRORS = 20;
export const MAX_FAILURE_REASON_LENGTH = 200;

/**
 * How long a job may run before the sweeper marks it FAILED (DEADLINE_EXCEEDED), even if a
 * message was lost: the dispatcher's JOB_DEADLINE_SECONDS, within these bounds.
 */
export const DEFAULT_JOB_DEADLINE_SECONDS = 3_600;
export const MIN_JOB_DEADLINE_SECONDS = 60;
export const MAX_JOB_DEADLINE_SECONDS = 86_400;

/**
 * How long an `Idempotency-Key` answers with the job it created (IDEMPOTENCY_EXPIRY_SECONDS);
 * the record's `expiresAt` lets DynamoDB TTL delete it afterwards.
 */
export const DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS = 3_600;
export const MIN_IDEMPOTENCY_EXPIRY_SECONDS = 60;
export const MAX_IDEMPOTENCY_EXPIRY_SECONDS = 7 * 86_400;

/** The longest `Idempotency-Key` header accepted (characters of `[A-Za-z0-9_.:-]`). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128;

/**
 * Bound of one sweeper run (every minute): expired jobs examined. A run that reaches it
 * leaves the rest to the next.
 */
export const MAX_JOBS_PER_SWEEP = 200;
/**
 * Most numbers of one job whose input is an S3 object (an upload or an allowed `s3Uri`); the
 * count is known as the ranges report their lines.
 */
export const DEFAULT_MAX_NUMBERS_PER_INPUT_OBJECT = 100_000_000;
/**
 * Most chunks of one job: a JSON body has at most MAX_NUMBERS_PER_JOB chunks, an S3 input one
 * per range (16 GiB in ranges of at least MIN_RANGE_BYTES stays far below).
 */
export const MAX_CHUNKS_PER_JOB = 10_000_000;

/**
 * Most bytes of one input object. A single PUT carries up to 5 GB, and a multipart upload up to
 * 10,000 parts of 5 MiB to 5 GiB; fanout takes up to 16 GiB (100,000,000 lines of up to about
 * 170 bytes), uploaded in parts beyond UPLOAD_MULTIPART_THRESHOLD_BYTES.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
 */
export const MAX_INPUT_OBJECT_BYTES = 16 * 1024 ** 3;
export const S3_MAX_PARTS = 10_000;
export const S3_MIN_PART_BYTES = 5 * 1024 ** 2;

/**
 * An upload above this many bytes gets multipart part URLs instead of one PUT URL, in parts of
 * UPLOAD_PART_BYTES (larger when 10,000 parts would not hold the object). 8 MiB for both is
 * the AWS CLI's own default (`multipart_threshold`, `multipart_chunksize`): parts that small
 * upload in parallel and are retried cheaply, and 10,000 of them still hold 78 GiB. It also
 * keeps every request under the 11 MiB body that the local stack's S3 emulator accepts.
 * @see https://docs.aws.amazon.com/cli/latest/topic/s3-config.html
 */
export const UPLOAD_MULTIPART_THRESHOLD_BYTES = 8 * 1024 ** 2;
export const UPLOAD_PART_BYTES = 8 * 1024 ** 2;

/**
 * How long a presigned upload URL stays valid. SigV4 allows up to 7 days, but a URL signed with
 * a Lambda role's temporary credentials also ends with them, so it is kept short.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html
 */
export const UPLOAD_URL_EXPIRY_SECONDS = 3_600;

/**
 * The longest S3 object key, in UTF-8 bytes.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
 */
export const S3_MAX_KEY_BYTES = 1_024;
