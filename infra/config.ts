/**
 * The stack's configuration: read once from CDK context (`cdk.json`, `-c key=value`) or
 * from stack props, validated, and frozen. A bad value fails `cdk synth` with a sentence
 * that names the setting, long before CloudFormation would reject it (or accept it and
 * misbehave).
 *
 * Props win over context, context wins over the defaults below. Context values given on
 * the command line arrive as strings, so numbers are parsed here.
 */
import type { Node } from 'constructs';
import { parsePrincipalArns } from '#commons/caller.ts';
import { ConfigurationError } from '#commons/errors.ts';
import { parseBucketArns } from '#commons/input/buckets.ts';
import { DEFAULT_RANGE_BYTES, MAX_RANGE_BYTES, MIN_RANGE_BYTES } from '#commons/input/ranges.ts';
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
  MAX_NUMBERS_PER_CHUNK,
  MIN_IDEMPOTENCY_EXPIRY_SECONDS,
  MIN_JOB_DEADLINE_SECONDS,
} from '#commons/limits.ts';

/** How long the aggregator may run; the worker waits for it synchronously. */
export const AGGREGATOR_TIMEOUT_SECONDS = 30;

/**
 * Lambda's longest function timeout, 900 s (15 minutes).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * The SQS event source takes a batch size over 10 only with a batching window of at least
 * 1 second ("When you set BatchSize to a value greater than 10, you must set
 * MaximumBatchingWindowInSeconds to at least 1").
 * @see https://docs.aws.amazon.com/lambda/latest/dg/API_EventSourceMappingConfiguration.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
 */
export const MAX_BATCH_SIZE_WITHOUT_WINDOW = 10;

/**
 * A queue's visibility timeout is at most 43,200 s (12 hours).
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
 */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

const SECONDS_PER_DAY = 86_400;

/**
 * The work queue's visibility timeout is this many times the worker's timeout (plus the
 * batching window), so a batch that is retried after a throttle is not redelivered while
 * an earlier attempt may still run.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export const VISIBILITY_TIMEOUT_TO_FUNCTION_TIMEOUT_RATIO = 6;

/**
 * SQS accepts a `maxReceiveCount` from 1 to 1,000 in a redrive policy.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
 */
export const SQS_MAX_RECEIVE_COUNT = 1_000;

/**
 * The DLQ consumer's timeout. It only reads and writes a few DynamoDB items per record.
 */
export const DLQ_CONSUMER_TIMEOUT_SECONDS = 30;

/**
 * Deliveries the DLQ consumer gets for one dead letter before SQS parks it, on top of the
 * work queue's `maxReceiveCount`. SQS keeps a message's enqueue timestamp when it moves it
 * to a DLQ, and whether it keeps the receive count is not documented: counting the work
 * queue's receives in makes the consumer get at least this many tries either way.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
 */
export const DLQ_CONSUMER_ATTEMPTS = 5;

/**
 * The sweeper runs every minute; its timeout stays below that period so that two sweeps
 * do not normally overlap (they may: every update of the sweeper is conditional).
 */
export const SWEEP_INTERVAL_SECONDS = 60;
export const SWEEPER_TIMEOUT_SECONDS = 50;

/** An SNS topic's ARN, in any partition. */
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/;

export type RemovalMode = 'retain' | 'destroy';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface FanoutConfig {
  /**
   * Worker memory in MB (128-10,240). Lambda gives 1 vCPU per 1,769 MB, and the worker's
   * child-process pool is sized from it.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   * @default 3538 (two full vCPUs)
   */
  readonly workerMemoryMb: number;
  /**
   * Worker timeout in seconds, 1 to 900 (Lambda's maximum). It must exceed the aggregator's
   * timeout (30 s): the worker waits for the aggregator on a synchronous Invoke.
   * @default 120
   */
  readonly workerTimeoutSeconds: number;
  /**
   * Most SQS messages (chunks) per worker invocation (1-10,000; over 10 needs a batching
   * window of at least 1 second, MAX_BATCH_SIZE_WITHOUT_WINDOW).
   * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html
   * @default 5
   */
  readonly batchSize: number;
  /**
   * Longest time, in seconds, the event source gathers messages before invoking (0-300).
   * @default 0 (invoke as soon as messages are there)
   */
  readonly maxBatchingWindowSeconds: number;
  /**
   * Most concurrent worker invocations the SQS event source starts (2-1,000). It bounds the
   * load on the aggregator and DynamoDB, and protects the account's concurrency.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
   * @default 50
   */
  readonly maxConcurrency: number;
  /**
   * Most numbers in one chunk (one SQS message), 1 to MAX_NUMBERS_PER_CHUNK (10,000). The
   * dispatcher also cuts chunks by estimated bytes, so large integers make smaller chunks.
   * @default DEFAULT_NUMBERS_PER_CHUNK (10,000)
   */
  readonly numbersPerChunk: number;
  /**
   * Days a job and its results are kept before DynamoDB's TTL removes them, 1 to
   * MAX_JOB_RETENTION_DAYS (3,650), the range the dispatcher accepts.
   * @default DEFAULT_JOB_RETENTION_DAYS (7)
   */
  readonly jobRetentionDays: number;
  /**
   * Deliveries of a chunk before SQS moves it to the dead-letter queue (1-1,000).
   * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
   * @default 3
   */
  readonly maxReceiveCount: number;
  /**
   * Steady-state requests per second the API stage accepts (more than 0, at most 10,000).
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html
   * @default 10
   */
  readonly apiRateLimit: number;
  /**
   * Requests the API stage accepts in a burst (1-5,000, and at least the rate limit).
   * @default 20
   */
  readonly apiBurstLimit: number;
  /**
   * Seconds a job may run (from submission) before the sweeper marks it FAILED with
   * `DEADLINE_EXCEEDED`, even if a message was lost somewhere (MIN_JOB_DEADLINE_SECONDS to
   * MAX_JOB_DEADLINE_SECONDS, 60-86,400, the range the dispatcher accepts). It must be at
   * least the time a chunk may spend in retries, `maxReceiveCount` x the visibility timeout
   * (chunkRetrySeconds), or a job with a failing chunk would fail on its deadline before
   * the chunk reaches the DLQ with its real reason: a value set below it fails the synth.
   * @default the larger of DEFAULT_JOB_DEADLINE_SECONDS (3,600) and chunkRetrySeconds
   */
  readonly jobDeadlineSeconds: number;
  /**
   * Seconds a `POST /jobs` with an `Idempotency-Key` header returns the same job for the
   * same key and body (MIN_IDEMPOTENCY_EXPIRY_SECONDS to MAX_IDEMPOTENCY_EXPIRY_SECONDS,
   * 60-604,800, the range the dispatcher accepts), and at most `jobRetentionDays`: a key
   * must not outlive the job it answers with. Powertools keeps the records in the table;
   * the TTL on `expiresAt` removes them.
   * @default DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS (3,600)
   */
  readonly idempotencyExpirySeconds: number;
  /**
   * ARN of an existing SNS topic, in the stack's account and region, that every alarm
   * notifies (on ALARM and back to OK). The stack creates no topic: an encrypted topic
   * that CloudWatch can publish to needs a customer managed KMS key, and operators usually
   * route alarms to a topic they already have.
   * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
   * @default - none: alarms show in the console and on the dashboard only
   */
  readonly alarmTopicArn: string | undefined;
  /**
   * ARNs of existing S3 buckets (`arn:aws:s3:::name`, no key) whose objects a job may name as
   * its input (`{"input": {"s3Uri": "s3://name/key"}}`). On the command line, a comma-separated
   * list: `-c fanout:inputBucketArns=arn:aws:s3:::a,arn:aws:s3:::b`. The worker may read (and
   * the dispatcher look up) objects in these buckets and in the stack's own input bucket only.
   * A bucket encrypted with a customer managed KMS key also needs the functions allowed to
   * decrypt with it, in the key's policy.
   * @default [] (uploads into the stack's own input bucket only)
   */
  readonly inputBucketArns: readonly string[];
  /**
   * IAM principal ARNs of the operators, who may see and cancel every job (anyone else sees
   * only their own: another principal's job is a 404). An IAM user, a role, or the account
   * root (`arn:aws:iam::<account>:root`); an assumed-role session ARN counts as its role. On
   * the command line, a comma-separated list:
   * `-c fanout:adminPrincipalArns=arn:aws:iam::123456789012:role/ops,arn:aws:iam::123456789012:user/alice`.
   * @default [] (no operators)
   */
  readonly adminPrincipalArns: readonly string[];
  /**
   * Most numbers of one job whose input is an S3 object (an upload or an `s3Uri`), 1 to
   * MAX_INPUT_OBJECT_BYTES; a job whose ranges report more ends FAILED (TOO_MANY_NUMBERS).
   * @default DEFAULT_MAX_NUMBERS_PER_INPUT_OBJECT (100,000,000)
   */
  readonly maxNumbersPerInputObject: number;
  /**
   * Bytes per range (one chunk) of a `lines` input, MIN_RANGE_BYTES to MAX_RANGE_BYTES.
   * @default DEFAULT_RANGE_BYTES (384 KiB)
   */
  readonly inputRangeBytes: number;
  /**
   * What happens to the table and the log groups when the stack is deleted: `retain` keeps
   * the data, `destroy` deletes it (for development stacks).
   * @default 'retain'
   */
  readonly removalPolicy: RemovalMode;
  /**
   * Powertools log level of every function.
   * @default 'INFO'
   */
  readonly logLevel: LogLevel;
}

/** The context key of each setting, e.g. `cdk synth -c fanout:workerMemoryMb=5307`. */
export const CONTEXT_KEYS: { readonly [K in keyof FanoutConfig]: string } = {
  workerMemoryMb: 'fanout:workerMemoryMb',
  workerTimeoutSeconds: 'fanout:workerTimeoutSeconds',
  batchSize: 'fanout:batchSize',
  maxBatchingWindowSeconds: 'fanout:maxBatchingWindowSeconds',
  maxConcurrency: 'fanout:maxConcurrency',
  numbersPerChunk: 'fanout:numbersPerChunk',
  jobRetentionDays: 'fanout:jobRetentionDays',
  maxReceiveCount: 'fanout:maxReceiveCount',
  apiRateLimit: 'fanout:apiRateLimit',
  apiBurstLimit: 'fanout:apiBurstLimit',
  jobDeadlineSeconds: 'fanout:jobDeadlineSeconds',
  idempotencyExpirySeconds: 'fanout:idempotencyExpirySeconds',
  alarmTopicArn: 'fanout:alarmTopicArn',
  inputBucketArns: 'fanout:inputBucketArns',
  adminPrincipalArns: 'fanout:adminPrincipalArns',
  maxNumbersPerInputObject: 'fanout:maxNumbersPerInputObject',
  inputRangeBytes: 'fanout:inputRangeBytes',
  removalPolicy: 'fanout:removalPolicy',
  logLevel: 'fanout:logLevel',
};

export const DEFAULT_CONFIG: FanoutConfig = {
  workerMemoryMb: 3538,
  workerTimeoutSeconds: 120,
  batchSize: 5,
  maxBatchingWindowSeconds: 0,
  maxConcurrency: 50,
  numbersPerChunk: DEFAULT_NUMBERS_PER_CHUNK,
  jobRetentionDays: DEFAULT_JOB_RETENTION_DAYS,
  maxReceiveCount: 3,
  apiRateLimit: 10,
  apiBurstLimit: 20,
  jobDeadlineSeconds: DEFAULT_JOB_DEADLINE_SECONDS,
  idempotencyExpirySeconds: DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS,
  alarmTopicArn: undefined,
  inputBucketArns: [],
  adminPrincipalArns: [],
  maxNumbersPerInputObject: DEFAULT_MAX_NUMBERS_PER_INPUT_OBJECT,
  inputRangeBytes: DEFAULT_RANGE_BYTES,
  removalPolicy: 'retain',
  logLevel: 'INFO',
};

interface Setting {
  readonly key: keyof FanoutConfig;
  /** Where the value came from, so the message says what to change. */
  readonly source: string;
}

function describeSetting({ key, source }: Setting): string {
  return `fanout setting "${key}" (${source})`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

function toNumber(setting: Setting, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  throw new ConfigurationError(
    `The ${describeSetting(setting)} must be a number, got ${show(value)}.`,
  );
}

function integerIn(setting: Setting, value: unknown, min: number, max: number): number {
  const n = toNumber(setting, value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigurationError(
      `The ${describeSetting(setting)} must be an integer from ${min} to ${max}, got ${show(value)}.`,
    );
  }
  return n;
}

function oneOf<T extends string>(setting: Setting, value: unknown, allowed: readonly T[]): T {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    throw new ConfigurationError(
      `The ${describeSetting(setting)} must be one of ${allowed.map(show).join(', ')}, got ${show(value)}.`,
    );
  }
  return match;
}

/** An SNS topic ARN, or undefined when unset or empty (`-c fanout:alarmTopicArn=`). */
function optionalSnsTopicArn(setting: Setting, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !SNS_TOPIC_ARN.test(value)) {
    throw new ConfigurationError(
      `The ${describeSetting(setting)} must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got ${show(value)}.`,
    );
  }
  return value;
}

/** A resolved setting: where it came from, and its value. */
interface Resolved extends Setting {
  readonly value: number;
}

/** `"key" (source) = value`, for a sentence about two settings. */
function named(setting: Resolved): string {
  return `"${setting.key}" (${setting.source}) = ${setting.value}`;
}

interface Pairs {
  readonly workerTimeout: Resolved;
  readonly batchSize: Resolved;
  readonly batchingWindow: Resolved;
  readonly maxReceiveCount: Resolved;
  readonly jobDeadline: Resolved;
  readonly jobRetentionDays: Resolved;
  readonly idempotencyExpiry: Resolved;
}

/** A rule between settings: the sentence that rejects them, or undefined when they agree. */
type PairRule = (pairs: Pairs) => string | undefined;

/** The worker waits on a synchronous Invoke of the aggregator for each of its chunks. */
const workerOutlivesAggregator: PairRule = ({ workerTimeout }) =>
  workerTimeout.value > AGGREGATOR_TIMEOUT_SECONDS
    ? undefined
    : `The fanout setting ${named(workerTimeout)} must be more than the aggregator's timeout (AGGREGATOR_TIMEOUT_SECONDS = ${AGGREGATOR_TIMEOUT_SECONDS} s): the worker waits for the aggregator on a synchronous Invoke, so it must outlive one.`;

const batchHasWindow: PairRule = ({ batchSize, batchingWindow }) =>
  batchSize.value <= MAX_BATCH_SIZE_WITHOUT_WINDOW || batchingWindow.value >= 1
    ? undefined
    : `The fanout setting ${named(batchSize)} needs ${named(batchingWindow)} to be at least 1: Lambda's SQS event source takes a batch size over ${MAX_BATCH_SIZE_WITHOUT_WINDOW} only with a batching window.`;

/**
 * A job's deadline covers the retries of its chunks: otherwise a chunk that keeps failing
 * outlives its job, which fails as DEADLINE_EXCEEDED instead of with the chunk's reason.
 */
const deadlineCoversRetries: PairRule = (pairs) => {
  const { workerTimeout, batchingWindow, maxReceiveCount, jobDeadline } = pairs;
  const visibility = visibilityTimeoutSeconds({
    workerTimeoutSeconds: workerTimeout.value,
    maxBatchingWindowSeconds: batchingWindow.value,
  });
  const retries = maxReceiveCount.value * visibility;
  if (jobDeadline.source === 'default' && jobDeadline.value > MAX_JOB_DEADLINE_SECONDS) {
    return `The fanout settings ${named(maxReceiveCount)} and ${named(workerTimeout)} let a failing chunk retry for ${maxReceiveCount.value} x ${visibility} s (the visibility timeout) = ${retries} s, longer than the longest job deadline (${MAX_JOB_DEADLINE_SECONDS} s); lower one of them.`;
  }
  if (jobDeadline.value >= retries) return undefined;
  return `The fanout setting ${named(jobDeadline)} is shorter than the ${retries} s a failing chunk may spend in retries: ${named(maxReceiveCount)} deliveries x the work queue's visibility timeout of ${visibility} s (${VISIBILITY_TIMEOUT_TO_FUNCTION_TIMEOUT_RATIO} x ${named(workerTimeout)}, plus the batching window of ${batchingWindow.value} s). The job would fail on its deadline before its chunk reaches the DLQ; raise "jobDeadlineSeconds" to at least ${retries}, or lower the others.`;
};

/** An Idempotency-Key answers with its job: the job's data must outlive the key. */
const keyWithinRetention: PairRule = ({ jobRetentionDays, idempotencyExpiry }) => {
  const retentionSeconds = jobRetentionDays.value * SECONDS_PER_DAY;
  return idempotencyExpiry.value <= retentionSeconds
    ? undefined
    : `The fanout setting ${named(idempotencyExpiry)} is longer than ${named(jobRetentionDays)} (${retentionSeconds} s): an Idempotency-Key would answer with a job whose data has expired.`;
};

const PAIR_RULES: readonly PairRule[] = [
  workerOutlivesAggregator,
  batchHasWindow,
  deadlineCoversRetries,
  keyWithinRetention,
];

/**
 * Settings that are each valid alone but cannot work together fail the synth, with a
 * sentence that names both settings, their sources and their values.
 */
function rejectConflicts(pairs: Pairs): void {
  for (const rule of PAIR_RULES) {
    const conflict = rule(pairs);
    if (conflict !== undefined) throw new ConfigurationError(conflict);
  }
}

/** The result of one of the shared ARN-list parsers (principals, buckets). */
type ArnListParse =
  | { readonly ok: true; readonly arns: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/**
 * ARNs, from a comma-separated string (context) or a list (props or cdk.json), checked by
 * the parser the functions use too; `kind` names them in the error ("IAM principal ARNs").
 */
function arnList(
  [setting, value]: [Setting, unknown],
  kind: string,
  parse: (text: string) => ArnListParse,
): readonly string[] {
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value) && value.every((entry) => typeof entry === 'string')
        ? value.join(',')
        : undefined;
  if (text === undefined) {
    throw new ConfigurationError(
      `The ${describeSetting(setting)} must be a comma-separated list of ${kind}, got ${show(value)}.`,
    );
  }
  const parsed = parse(text);
  if (!parsed.ok) {
    throw new ConfigurationError(
      `The ${describeSetting(setting)} is not valid: ${parsed.problem}.`,
    );
  }
  return Object.freeze([...parsed.arns]);
}

/**
 * Resolves and validates the configuration. `node` is where context is read (the stack's
 * node sees the app's context); `overrides` come from stack props.
 */
export function resolveConfig(node: Node, overrides: Partial<FanoutConfig> = {}): FanoutConfig {
  const pick = (key: keyof FanoutConfig): [Setting, unknown] => {
    const fromProps = overrides[key];
    if (fromProps !== undefined) return [{ key, source: `stack prop ${key}` }, fromProps];
    const contextKey = CONTEXT_KEYS[key];
    const fromContext: unknown = node.tryGetContext(contextKey);
    if (fromContext !== undefined) return [{ key, source: `context ${contextKey}` }, fromContext];
    return [{ key, source: `default` }, DEFAULT_CONFIG[key]];
  };

  const workerMemoryMb = integerIn(...pick('workerMemoryMb'), 128, 10_240);
  const timeout = pick('workerTimeoutSeconds');
  const workerTimeoutSeconds = integerIn(...timeout, 1, LAMBDA_MAX_TIMEOUT_SECONDS);
  const batch = pick('batchSize');
  const batchSize = integerIn(...batch, 1, 10_000);
  const window = pick('maxBatchingWindowSeconds');
  const maxBatchingWindowSeconds = integerIn(...window, 0, 300);
  const maxConcurrency = integerIn(...pick('maxConcurrency'), 2, 1_000);
  const numbersPerChunk = integerIn(...pick('numbersPerChunk'), 1, MAX_NUMBERS_PER_CHUNK);
  const retention = pick('jobRetentionDays');
  const jobRetentionDays = integerIn(...retention, 1, MAX_JOB_RETENTION_DAYS);
  const receives = pick('maxReceiveCount');
  const maxReceiveCount = integerIn(...receives, 1, SQS_MAX_RECEIVE_COUNT);

  const rateSetting = pick('apiRateLimit');
  const apiRateLimit = toNumber(rateSetting[0], rateSetting[1]);
  if (!(apiRateLimit > 0 && apiRateLimit <= 10_000)) {
    throw new ConfigurationError(
      `The ${describeSetting(rateSetting[0])} must be more than 0 and at most 10000 requests per second, got ${show(rateSetting[1])}.`,
    );
  }
  const burstSetting = pick('apiBurstLimit');
  const apiBurstLimit = integerIn(...burstSetting, 1, 5_000);
  if (apiBurstLimit < apiRateLimit) {
    throw new ConfigurationError(
      `The ${describeSetting(burstSetting[0])} (${apiBurstLimit}) must be at least "apiRateLimit" (${apiRateLimit}), or bursts would be throttled below the steady rate.`,
    );
  }

  const deadline = pick('jobDeadlineSeconds');
  const retrySeconds = chunkRetrySeconds({
    workerTimeoutSeconds,
    maxBatchingWindowSeconds,
    maxReceiveCount,
  });
  // Unset, the deadline is derived: never shorter than a failing chunk's retries.
  const jobDeadlineSeconds =
    deadline[0].source === 'default'
      ? Math.max(DEFAULT_JOB_DEADLINE_SECONDS, retrySeconds)
      : integerIn(...deadline, MIN_JOB_DEADLINE_SECONDS, MAX_JOB_DEADLINE_SECONDS);
  const expiry = pick('idempotencyExpirySeconds');
  const idempotencyExpirySeconds = integerIn(
    ...expiry,
    MIN_IDEMPOTENCY_EXPIRY_SECONDS,
    MAX_IDEMPOTENCY_EXPIRY_SECONDS,
  );

  rejectConflicts({
    workerTimeout: { ...timeout[0], value: workerTimeoutSeconds },
    batchSize: { ...batch[0], value: batchSize },
    batchingWindow: { ...window[0], value: maxBatchingWindowSeconds },
    maxReceiveCount: { ...receives[0], value: maxReceiveCount },
    jobDeadline: { ...deadline[0], value: jobDeadlineSeconds },
    jobRetentionDays: { ...retention[0], value: jobRetentionDays },
    idempotencyExpiry: { ...expiry[0], value: idempotencyExpirySeconds },
  });

  const alarmTopicArn = optionalSnsTopicArn(...pick('alarmTopicArn'));
  const inputBucketArns = arnList(pick('inputBucketArns'), 'S3 bucket ARNs', parseBucketArns);
  const adminPrincipalArns = arnList(
    pick('adminPrincipalArns'),
    'IAM principal ARNs',
    parsePrincipalArns,
  );
  const maxNumbersPerInputObject = integerIn(
    ...pick('maxNumbersPerInputObject'),
    1,
    MAX_INPUT_OBJECT_BYTES,
  );
  const inputRangeBytes = integerIn(...pick('inputRangeBytes'), MIN_RANGE_BYTES, MAX_RANGE_BYTES);

  const removalPolicy = oneOf(...pick('removalPolicy'), ['retain', 'destroy'] as const);
  const logLevel = oneOf(...pick('logLevel'), ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const);

  return Object.freeze({
    workerMemoryMb,
    workerTimeoutSeconds,
    batchSize,
    maxBatchingWindowSeconds,
    maxConcurrency,
    numbersPerChunk,
    jobRetentionDays,
    maxReceiveCount,
    apiRateLimit,
    apiBurstLimit,
    jobDeadlineSeconds,
    idempotencyExpirySeconds,
    alarmTopicArn,
    inputBucketArns,
    adminPrincipalArns,
    maxNumbersPerInputObject,
    inputRangeBytes,
    removalPolicy,
    logLevel,
  });
}

/**
 * The work queue's visibility timeout, derived from the worker's settings (never set apart).
 * Throws a ConfigurationError naming both settings if it would pass SQS's maximum (12 hours): the
 * ranges of the two keep it below 5,700 s today, and this guards a change of those ranges.
 */
export function visibilityTimeoutSeconds(
  config: Pick<FanoutConfig, 'workerTimeoutSeconds' | 'maxBatchingWindowSeconds'>,
): number {
  const seconds =
    VISIBILITY_TIMEOUT_TO_FUNCTION_TIMEOUT_RATIO * config.workerTimeoutSeconds +
    config.maxBatchingWindowSeconds;
  if (seconds > SQS_MAX_VISIBILITY_TIMEOUT_SECONDS) {
    throw new ConfigurationError(
      `The work queue's visibility timeout, ${VISIBILITY_TIMEOUT_TO_FUNCTION_TIMEOUT_RATIO} x "workerTimeoutSeconds" (${config.workerTimeoutSeconds}) + "maxBatchingWindowSeconds" (${config.maxBatchingWindowSeconds}) = ${seconds} s, is above SQS's maximum of ${SQS_MAX_VISIBILITY_TIMEOUT_SECONDS} s (12 hours).`,
    );
  }
  return seconds;
}

/**
 * The longest a chunk that keeps failing stays on the work queue: `maxReceiveCount`
 * deliveries, one visibility timeout apart, before SQS moves it to the DLQ. The job deadline
 * is never shorter (resolveConfig).
 */
export function chunkRetrySeconds(
  config: Pick<
    FanoutConfig,
    'workerTimeoutSeconds' | 'maxBatchingWindowSeconds' | 'maxReceiveCount'
  >,
): number {
  return config.maxReceiveCount * visibilityTimeoutSeconds(config);
}

/**
 * The age of the oldest work message above which work is stuck, in seconds. A chunk that
 * keeps failing is delivered at most `maxReceiveCount` times, one visibility timeout apart,
 * before SQS moves it to the DLQ, so no healthy message (first try or retry) gets older than
 * `maxReceiveCount` x the visibility timeout; an older one waits because no worker takes
 * it. Past the job deadline the message's job has already been failed by the sweeper, so
 * the threshold is never above the deadline (resolveConfig keeps the deadline at least
 * chunkRetrySeconds, so with a resolved config the threshold is chunkRetrySeconds).
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
export function oldestMessageAgeAlarmSeconds(config: FanoutConfig): number {
  return Math.min(chunkRetrySeconds(config), config.jobDeadlineSeconds);
}

/**
 * Deliveries of a dead letter before SQS moves it from the DLQ to the parking queue: the
 * work queue's receives (in case SQS carries the count over) plus the consumer's own tries,
 * within SQS's limit.
 */
export function deadLetterMaxReceiveCount(config: FanoutConfig): number {
  return Math.min(config.maxReceiveCount + DLQ_CONSUMER_ATTEMPTS, SQS_MAX_RECEIVE_COUNT);
}
