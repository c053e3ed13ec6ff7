/**
 * Function configuration, read once from the environment at cold start and validated, so a
 * bad deployment fails at init with an error that names the variable, not on the Nth request.
 *
 * The stack sets these variables (their names are the contract in `env.ts`); locally the
 * embedded runner sets the same ones.
 */
import { parsePrincipalArns } from './caller.ts';
import {
  ADMIN_PRINCIPAL_ARNS_ENV,
  AGGREGATOR_FUNCTION_NAME_ENV,
  ALLOWED_INPUT_BUCKET_ARNS_ENV,
  IDEMPOTENCY_EXPIRY_SECONDS_ENV,
  INPUT_BUCKET_NAME_ENV,
  INPUT_RANGE_BYTES_ENV,
  JOB_DEADLINE_SECONDS_ENV,
  JOB_RETENTION_DAYS_ENV,
  LAMBDA_INITIALIZATION_TYPE_ENV,
  LAMBDA_MEMORY_SIZE_ENV,
  type LambdaInitializationType,
  MAX_NUMBERS_PER_INPUT_OBJECT_ENV,
  NUMBERS_PER_CHUNK_ENV,
  POOL_SIZE_ENV,
  S3_ENDPOINT_URL_ENV,
  TABLE_NAME_ENV,
  WORK_QUEUE_URL_ENV,
} from './env.ts';
import { ConfigurationError } from './errors.ts';
import { parseBucketArns } from './input/buckets.ts';
import { DEFAULT_RANGE_BYTES, MAX_RANGE_BYTES, MIN_RANGE_BYTES } from './input/ranges.ts';
import {
  DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS,
  DEFAULT_JOB_DEADLINE_SECONDS,
  DEFAULT_JOB_RETENTION_DAYS,
  DEFAULT_MAX_NUMBERS_PER_INPUT_OBJECT,
  DEFAULT_NUMBERS_PER_CHUNK,
  MAX_IDEMPOTENCY_EXPIRY_SECONDS,
  MAX_INPUT_OBJECT_BYTES,
  MAX_JOB_DEADLINE_SECONDS,
  MAX_JOB_RETENTION_DAYS,
  MAX_LAMBDA_MEMORY_MB,
  MAX_NUMBERS_PER_CHUNK,
  MIN_IDEMPOTENCY_EXPIRY_SECONDS,
  MIN_JOB_DEADLINE_SECONDS,
} from './limits.ts';

export type Environment = Readonly<Record<string, string | undefined>>;

/** The value of a required variable; throws "X environment variable is not set" if missing. */
export function getStringFromEnv(name: string, env: Environment = process.env): string {
  const value = env[name]?.trim();
  if (value === undefined || value === '') {
    throw new ConfigurationError(`${name} environment variable is not set`);
  }
  return value;
}

/** The value of an optional variable, or undefined when unset or empty. */
export function getOptionalStringFromEnv(
  name: string,
  env: Environment = process.env,
): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export interface IntegerRange {
  readonly min: number;
  readonly max: number;
}

const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;

function parseIntegerInRange(name: string, raw: string, { min, max }: IntegerRange): number {
  const value = DECIMAL_INTEGER.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${name} environment variable must be an integer from ${min} to ${max}, got "${raw}"`,
    );
  }
  return value;
}

/** A required integer variable within `range`. */
export function getIntegerFromEnv(
  name: string,
  range: IntegerRange,
  env: Environment = process.env,
): number {
  return parseIntegerInRange(name, getStringFromEnv(name, env), range);
}

/** An optional integer variable within `range`, or undefined when unset. */
export function getOptionalIntegerFromEnv(
  name: string,
  range: IntegerRange,
  env: Environment = process.env,
): number | undefined {
  const raw = getOptionalStringFromEnv(name, env);
  return raw === undefined ? undefined : parseIntegerInRange(name, raw, range);
}

export interface DispatcherConfig {
  readonly tableName: string;
  readonly workQueueUrl: string;
  /** Most numbers in one chunk (one SQS message); bytes bound it further. */
  readonly numbersPerChunk: number;
  /** Days until a job's items expire (DynamoDB TTL). */
  readonly jobRetentionDays: number;
  /** Seconds a job may run before the sweeper marks it FAILED (DEADLINE_EXCEEDED). */
  readonly jobDeadlineSeconds: number;
  /** Seconds an `Idempotency-Key` keeps answering with the job it created. */
  readonly idempotencyExpirySeconds: number;
  /** The operators' principal ARNs, normalised (commons/caller.ts). */
  readonly admins: ReadonlySet<string>;
}

export function loadDispatcherConfig(env: Environment = process.env): DispatcherConfig {
  return {
    tableName: getStringFromEnv(TABLE_NAME_ENV, env),
    workQueueUrl: getStringFromEnv(WORK_QUEUE_URL_ENV, env),
    numbersPerChunk:
      getOptionalIntegerFromEnv(
        NUMBERS_PER_CHUNK_ENV,
        { min: 1, max: MAX_NUMBERS_PER_CHUNK },
        env,
      ) ?? DEFAULT_NUMBERS_PER_CHUNK,
    jobRetentionDays:
      getOptionalIntegerFromEnv(
        JOB_RETENTION_DAYS_ENV,
        { min: 1, max: MAX_JOB_RETENTION_DAYS },
        env,
      ) ?? DEFAULT_JOB_RETENTION_DAYS,
    jobDeadlineSeconds:
      getOptionalIntegerFromEnv(
        JOB_DEADLINE_SECONDS_ENV,
        { min: MIN_JOB_DEADLINE_SECONDS, max: MAX_JOB_DEADLINE_SECONDS },
        env,
      ) ?? DEFAULT_JOB_DEADLINE_SECONDS,
    idempotencyExpirySeconds:
      getOptionalIntegerFromEnv(
        IDEMPOTENCY_EXPIRY_SECONDS_ENV,
        { min: MIN_IDEMPOTENCY_EXPIRY_SECONDS, max: MAX_IDEMPOTENCY_EXPIRY_SECONDS },
        env,
      ) ?? DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS,
    admins: loadAdminPrincipals(env),
  };
}

/** Where job inputs may be read from S3 (the dispatcher and the worker). */
export interface InputBucketsConfig {
  /** The stack's own input bucket (uploads). */
  readonly inputBucketName: string;
  /** Names of the buckets the operator allowed for `s3Uri` inputs (may be empty). */
  readonly allowedBucketNames: readonly string[];
}

export function loadInputBucketsConfig(env: Environment = process.env): InputBucketsConfig {
  const inputBucketName = getStringFromEnv(INPUT_BUCKET_NAME_ENV, env);
  const parsed = parseBucketArns(
    getOptionalStringFromEnv(ALLOWED_INPUT_BUCKET_ARNS_ENV, env) ?? '',
  );
  if (!parsed.ok) {
    throw new ConfigurationError(
      `${ALLOWED_INPUT_BUCKET_ARNS_ENV} environment variable: ${parsed.problem}`,
    );
  }
  return {
    inputBucketName,
    allowedBucketNames: parsed.names,
  };
}

/** How the dispatcher splits and bounds S3 input jobs. */
export interface InputJobConfig {
  readonly rangeBytes: number;
  readonly maxNumbersPerInputObject: number;
}

export function loadInputJobConfig(env: Environment = process.env): InputJobConfig {
  return {
    rangeBytes:
      getOptionalIntegerFromEnv(
        INPUT_RANGE_BYTES_ENV,
        { min: MIN_RANGE_BYTES, max: MAX_RANGE_BYTES },
        env,
      ) ?? DEFAULT_RANGE_BYTES,
    maxNumbersPerInputObject:
      getOptionalIntegerFromEnv(
        MAX_NUMBERS_PER_INPUT_OBJECT_ENV,
        { min: 1, max: MAX_INPUT_OBJECT_BYTES },
        env,
      ) ?? DEFAULT_MAX_NUMBERS_PER_INPUT_OBJECT,
  };
}

/** Where the S3 clients (the dispatcher's and the worker's) send their requests. */
export interface S3ClientConfig {
  /** An endpoint other than AWS's (the local emulator), or undefined: AWS's own. */
  readonly endpointUrl: string | undefined;
}

/**
 * The S3 endpoint (S3_ENDPOINT_URL_ENV; unset: AWS's).
 * @throws ConfigurationError naming the variable when it is not an http or https URL
 */
export function loadS3ClientConfig(env: Environment = process.env): S3ClientConfig {
  const endpointUrl = getOptionalStringFromEnv(S3_ENDPOINT_URL_ENV, env);
  if (endpointUrl === undefined) return { endpointUrl };
  const protocol = URL.canParse(endpointUrl) ? new URL(endpointUrl).protocol : undefined;
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new ConfigurationError(
      `${S3_ENDPOINT_URL_ENV} environment variable must be an http or https URL, got "${endpointUrl}"`,
    );
  }
  return { endpointUrl };
}

export interface StatusConfig {
  readonly tableName: string;
  /** The operators' principal ARNs, normalised (commons/caller.ts). */
  readonly admins: ReadonlySet<string>;
}

/**
 * The operators' principal ARNs (ADMIN_PRINCIPAL_ARNS_ENV, comma-separated; unset: none).
 * @throws ConfigurationError naming the entry that is not a principal ARN
 */
export function loadAdminPrincipals(env: Environment = process.env): ReadonlySet<string> {
  const parsed = parsePrincipalArns(getOptionalStringFromEnv(ADMIN_PRINCIPAL_ARNS_ENV, env) ?? '');
  if (!parsed.ok) {
    throw new ConfigurationError(
      `${ADMIN_PRINCIPAL_ARNS_ENV} environment variable: ${parsed.problem}`,
    );
  }
  return new Set(parsed.arns);
}

export function loadStatusConfig(env: Environment = process.env): StatusConfig {
  return { tableName: getStringFromEnv(TABLE_NAME_ENV, env), admins: loadAdminPrincipals(env) };
}

export interface WorkerConfig {
  readonly aggregatorFunctionName: string;
  /** The job table: the cancel check before computing, and failure recording. */
  readonly tableName: string;
  /** Child processes in the compute pool; undefined lets the pool size itself. */
  readonly poolSize: number | undefined;
  /** AWS_LAMBDA_FUNCTION_MEMORY_SIZE (set by Lambda), for the cost estimate. */
  readonly memoryMb: number | undefined;
}

/**
 * The most child processes one compute pool may have, whether from POOL_SIZE or from the
 * pool's `size` option: the one bound, imported by the worker's pool (pool/options.ts).
 * Lambda's largest function has 6 vCPUs (10,240 MB), and a pool sized from the function's
 * memory never has more; the bound is higher so that a pool can match a larger machine off
 * Lambda (the local runner, the bench), and low enough that a typo (POOL_SIZE=1000) fails at
 * start instead of forking hundreds of processes of ~80 MB each.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
 */
export const MAX_POOL_SIZE = 64;

export function loadWorkerConfig(env: Environment = process.env): WorkerConfig {
  return {
    aggregatorFunctionName: getStringFromEnv(AGGREGATOR_FUNCTION_NAME_ENV, env),
    tableName: getStringFromEnv(TABLE_NAME_ENV, env),
    poolSize: getOptionalIntegerFromEnv(POOL_SIZE_ENV, { min: 1, max: MAX_POOL_SIZE }, env),
    memoryMb: getOptionalIntegerFromEnv(
      LAMBDA_MEMORY_SIZE_ENV,
      { min: 1, max: MAX_LAMBDA_MEMORY_MB },
      env,
    ),
  };
}

export interface AggregatorConfig {
  readonly tableName: string;
  /** AWS_LAMBDA_FUNCTION_MEMORY_SIZE (set by Lambda), for the cost estimate. */
  readonly memoryMb: number | undefined;
}

export function loadAggregatorConfig(env: Environment = process.env): AggregatorConfig {
  return {
    tableName: getStringFromEnv(TABLE_NAME_ENV, env),
    memoryMb: getOptionalIntegerFromEnv(
      LAMBDA_MEMORY_SIZE_ENV,
      { min: 1, max: MAX_LAMBDA_MEMORY_MB },
      env,
    ),
  };
}

/**
 * Whether this environment primes its SDK clients in its init: only one of provisioned
 * concurrency, whose init runs before any request (an on-demand init is on its first
 * request's path, so priming there would only move the same wait).
 */
export function loadPrimingConfig(env: Environment = process.env): { readonly prime: boolean } {
  const provisioned: LambdaInitializationType = 'provisioned-concurrency';
  return { prime: env[LAMBDA_INITIALIZATION_TYPE_ENV] === provisioned };
}

export interface DlqConsumerConfig {
  readonly tableName: string;
}

export function loadDlqConsumerConfig(env: Environment = process.env): DlqConsumerConfig {
  return { tableName: getStringFromEnv(TABLE_NAME_ENV, env) };
}

export interface SweeperConfig {
  readonly tableName: string;
}

export function loadSweeperConfig(env: Environment = process.env): SweeperConfig {
  return { tableName: getStringFromEnv(TABLE_NAME_ENV, env) };
}
