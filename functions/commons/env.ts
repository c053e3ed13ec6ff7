/**
 * The names of the environment variables the stack sets and the functions read: the one
 * contract between `infra/` (which writes them) and `functions/commons/config.ts` (which
 * reads and validates them). Locally the embedded runner plays the same template, so it
 * sets the same names, and the one SDK variable the functions read themselves.
 */

/** The jobs table (every stage). */
export const TABLE_NAME_ENV = 'TABLE_NAME';
/** The work queue the dispatcher sends chunks to. */
export const WORK_QUEUE_URL_ENV = 'WORK_QUEUE_URL';
/** The aggregator the worker invokes synchronously. */
export const AGGREGATOR_FUNCTION_NAME_ENV = 'AGGREGATOR_FUNCTION_NAME';
/** The dispatcher's numbers per chunk. */
export const NUMBERS_PER_CHUNK_ENV = 'NUMBERS_PER_CHUNK';
/** How long a finished job's items are kept. */
export const JOB_RETENTION_DAYS_ENV = 'JOB_RETENTION_DAYS';
/** How long a job may run before the sweeper fails it. */
export const JOB_DEADLINE_SECONDS_ENV = 'JOB_DEADLINE_SECONDS';
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_EXPIRY_SECONDS_ENV = 'IDEMPOTENCY_EXPIRY_SECONDS';
/** The worker's pool size (optional; derived from the memory when unset). */
export const POOL_SIZE_ENV = 'POOL_SIZE';
/** The operators' principal ARNs, comma-separated. */
export const ADMIN_PRINCIPAL_ARNS_ENV = 'ADMIN_PRINCIPAL_ARNS';
/** The bucket uploads go to and inputs are read from. */
export const INPUT_BUCKET_NAME_ENV = 'INPUT_BUCKET_NAME';
/** Further buckets an `s3Uri` input may name, as comma-separated ARNs. */
export const ALLOWED_INPUT_BUCKET_ARNS_ENV = 'ALLOWED_INPUT_BUCKET_ARNS';

/** Bytes per range of a `lines` input (the dispatcher); DEFAULT_RANGE_BYTES when unset. */
export const INPUT_RANGE_BYTES_ENV = 'INPUT_RANGE_BYTES';
/** Most numbers of one S3 input job (the dispatcher); DEFAULT_MAX_NUMBERS_PER_INPUT_OBJECT if unset. */
export const MAX_NUMBERS_PER_INPUT_OBJECT_ENV = 'MAX_NUMBERS_PER_INPUT_OBJECT';

/**
 * The S3 endpoint, by the SDK's standard per-service variable: set only locally (the
 * emulator, which has no per-bucket host names, so it is addressed by path); unset on AWS.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
export const S3_ENDPOINT_URL_ENV = 'AWS_ENDPOINT_URL_S3';

/**
 * Set by Lambda itself in every execution environment: how it was initialized. An
 * environment of provisioned concurrency runs its init before any request reaches it.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
export const LAMBDA_INITIALIZATION_TYPE_ENV = 'AWS_LAMBDA_INITIALIZATION_TYPE';
export type LambdaInitializationType = 'on-demand' | 'provisioned-concurrency' | 'snap-start';

/**
 * Set by Lambda itself: the function's memory in MB, which also sets its vCPUs.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
export const LAMBDA_MEMORY_SIZE_ENV = 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE';
