/**
 * The fanout stack: a signed request fans out into chunks on a queue, a fleet of workers
 * squares them in parallel, and an aggregator stores each chunk exactly once. Every job
 * ends: a chunk that exhausts its deliveries is dead-lettered and its job marked FAILED by
 * the DLQ consumer, and a sweeper fails every job still running past its deadline.
 *
 *   client --SigV4--> API Gateway (REST) --> dispatcher --> SQS work queue --> worker(s)
 *                          |                     |              |                |
 *                          +--> status           +--> DynamoDB  +--> DLQ         | Invoke
 *                                (reads)                            |            v
 *                                              DLQ consumer <-------+   DynamoDB <-- aggregator
 *                                                   |  (after its own retries)
 *                                                   +--> parking queue
 *   EventBridge Scheduler (every minute) --> sweeper --> DynamoDB (RunningByDeadline index)
 *
 * Sections below follow the request: storage, queues, functions, failure handling, the
 * API, observability, outputs.
 */
import {
  Duration,
  RemovalPolicy,
  Size,
  Stack,
  CfnOutput as StackOutput,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  ADMIN_PRINCIPAL_ARNS_ENV,
  AGGREGATOR_FUNCTION_NAME_ENV,
  IDEMPOTENCY_EXPIRY_SECONDS_ENV,
  INPUT_RANGE_BYTES_ENV,
  JOB_DEADLINE_SECONDS_ENV,
  JOB_RETENTION_DAYS_ENV,
  MAX_NUMBERS_PER_INPUT_OBJECT_ENV,
  NUMBERS_PER_CHUNK_ENV,
} from '#commons/env.ts';
import { INPUT_UPLOAD_PREFIX } from '#commons/input/buckets.ts';
import { SQS_MAX_MESSAGE_BYTES } from '#commons/limits.ts';
import {
  OWNER_INDEX_ATTRIBUTES,
  OWNER_INDEX_PARTITION_KEY,
  OWNER_INDEX_SORT_KEY,
  OWNER_JOBS_INDEX,
  PARTITION_KEY,
  RUNNING_BY_DEADLINE_INDEX,
  RUNNING_INDEX_PARTITION_KEY,
  RUNNING_INDEX_SORT_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '#store/keys.ts';
import {
  AGGREGATOR_TIMEOUT_SECONDS,
  DLQ_CONSUMER_TIMEOUT_SECONDS,
  deadLetterMaxReceiveCount,
  type FanoutConfig,
  oldestMessageAgeAlarmSeconds,
  resolveConfig,
  SWEEP_INTERVAL_SECONDS,
  SWEEPER_TIMEOUT_SECONDS,
  VISIBILITY_TIMEOUT_TO_FUNCTION_TIMEOUT_RATIO,
  visibilityTimeoutSeconds,
} from './config.ts';
import { FanoutFunction } from './constructs/fanout-function.ts';
import { FanoutObservability } from './constructs/observability.ts';
import { UnqualifiedLambdaInvoke } from './constructs/unqualified-lambda-invoke.ts';

/**
 * API Gateway gives a Lambda proxy integration at most 29 s (REST API default), so the
 * dispatcher is given no more: past it, the client already got a 504.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 */
const DISPATCHER_TIMEOUT_SECONDS = 29;

/**
 * Dead-letter queues keep messages as long as SQS allows (14 days), longer than the work
 * queue's 4-day default: SQS keeps a message's original enqueue time when it moves it to a
 * DLQ, so a shorter DLQ retention would expire dead letters early.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
 */
const DLQ_RETENTION = Duration.days(14);

/**
 * An upload that never completes leaves parts that are billed until they are aborted. The
 * lifecycle rule aborts them one day after they start (its smallest unit), past the longest
 * job deadline (MAX_JOB_DEADLINE_SECONDS, one day).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpu-abort-incomplete-mpu-lifecycle-config.html
 */
const ABORT_INCOMPLETE_UPLOADS_AFTER = Duration.days(1);

/** How long the input bucket's server access logs are kept. */
const ACCESS_LOG_RETENTION = Duration.days(90);

/** Every bucket: encrypted at rest, never public, TLS only, no ACLs. */
const PRIVATE_BUCKET = {
  encryption: BucketEncryption.S3_MANAGED,
  blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
  enforceSSL: true,
  objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
} as const;

/** Every queue: encrypted at rest (SQS-managed keys), TLS only. */
const PRIVATE_QUEUE = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;

/** Dead letters per DLQ consumer invocation, and most concurrent invocations (SQS minimum 2). */
const DLQ_CONSUMER_BATCH_SIZE = 5;
const DLQ_CONSUMER_MAX_CONCURRENCY = 2;

/**
 * A failed or undeliverable sweep is not retried: the next one, a minute later, does the
 * same work. Lambda and Scheduler accept no shorter event age than 60 s.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
const SWEEP_MAX_EVENT_AGE = Duration.seconds(SWEEP_INTERVAL_SECONDS);
/** Scheduler retries a failed delivery (Invoke API error) this often within that minute. */
const SWEEP_DELIVERY_RETRIES = 2;

export interface FanoutStackProps extends StackProps {
  /**
   * Settings that win over CDK context (`fanout:*` keys) and the defaults.
   * @default - context, then the defaults documented in infra/config.ts
   */
  readonly config?: Partial<FanoutConfig>;
}

export class FanoutStack extends Stack {
  public readonly config: FanoutConfig;
  public readonly table: Table;
  /** Uploaded job inputs (presigned PUTs), expired with the job retention. */
  public readonly inputBucket: Bucket;
  /** Server access logs of the input bucket. */
  public readonly accessLogBucket: Bucket;
  public readonly workQueue: Queue;
  public readonly deadLetterQueue: Queue;
  /** Dead letters the DLQ consumer could not record, after its own retries. */
  public readonly parkingQueue: Queue;
  /** Sweeps that failed for good (function error or undeliverable schedule event). */
  public readonly sweeperDeadLetterQueue: Queue;
  public readonly dispatcher: FanoutFunction;
  public readonly status: FanoutFunction;
  public readonly worker: FanoutFunction;
  public readonly aggregator: FanoutFunction;
  public readonly dlqConsumer: FanoutFunction;
  public readonly sweeper: FanoutFunction;
  public readonly sweepSchedule: Schedule;
  public readonly api: RestApi;
  public readonly observability: FanoutObservability;

  constructor(scope: Construct, id: string, props: FanoutStackProps = {}) {
    super(scope, id, props);
    const config = resolveConfig(this.node, props.config);
    this.config = config;
    const dataRemovalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // ---------------------------------------------------------------------------------
    // Storage: one table holds jobs (pk JOB#<id>, sk JOB), the inputs of failed chunks
    // kept for a redrive (sk FAILED#<index>), each chunk's compressed result page and the
    // shards its chunks are counted in (each under a partition key of its own, so a job's
    // writes spread over the table's partitions) and Powertools idempotency records; the
    // key design is functions/commons/store/keys.ts. On-demand, because load comes in
    // bursts; point-in-time recovery; encrypted with the AWS managed KMS key; a TTL on
    // `expiresAt`, which the dispatcher sets from the job retention (and Powertools from the
    // idempotency window); and the sparse index of running jobs by deadline (keys only: the
    // sweeper re-checks each job on the table), for the sweeper; and the index of each
    // owner's jobs, newest first (partition key per owner: no hot key however many
    // principals submit at once; it projects what a listing shows), for GET /jobs.
    // ---------------------------------------------------------------------------------
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: SORT_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: dataRemovalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: RUNNING_BY_DEADLINE_INDEX,
      partitionKey: { name: RUNNING_INDEX_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: RUNNING_INDEX_SORT_KEY, type: AttributeType.NUMBER },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: OWNER_JOBS_INDEX,
      partitionKey: { name: OWNER_INDEX_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: OWNER_INDEX_SORT_KEY, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...OWNER_INDEX_ATTRIBUTES],
    });

    // ---------------------------------------------------------------------------------
    // Inputs: a bucket for uploaded job inputs (presigned PUT or multipart URLs from the
    // dispatcher, keys under uploads/). S3-managed encryption (SSE-S3) rather than KMS, so
    // a presigned upload needs no KMS grant; no public access; TLS required; objects expire
    // with the job retention, and unfinished multipart uploads are aborted. Its server access
    // logs go to a bucket of their own.
    // ---------------------------------------------------------------------------------
    this.accessLogBucket = new Bucket(this, 'AccessLogBucket', {
      // Server access logging delivers only to an SSE-S3 bucket.
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
      ...PRIVATE_BUCKET,
      lifecycleRules: [{ expiration: ACCESS_LOG_RETENTION }],
      removalPolicy: dataRemovalPolicy,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "This bucket is the input bucket's server access log target; logging its own accesses would log every log delivery.",
    });

    this.inputBucket = new Bucket(this, 'InputBucket', {
      ...PRIVATE_BUCKET,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'input-bucket/',
      lifecycleRules: [
        {
          expiration: Duration.days(config.jobRetentionDays),
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_UPLOADS_AFTER,
        },
      ],
      removalPolicy: dataRemovalPolicy,
    });

    // ---------------------------------------------------------------------------------
    // Queues: one message per chunk. A chunk that fails maxReceiveCount deliveries moves
    // to the dead-letter queue instead of blocking or vanishing. The DLQ is consumed (the
    // DLQ consumer marks the job FAILED), so it has a redrive of its own: a dead letter
    // the consumer cannot record after its tries is parked, never lost, and alarmed on.
    // Every queue is encrypted (SSE-SQS) and refuses requests without TLS.
    // ---------------------------------------------------------------------------------
    this.parkingQueue = new Queue(this, 'ParkingQueue', {
      ...PRIVATE_QUEUE,
      retentionPeriod: DLQ_RETENTION,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...PRIVATE_QUEUE,
      retentionPeriod: DLQ_RETENTION,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      // Derived from the consumer's timeout like the work queue's, same 6x rule.
      visibilityTimeout: Duration.seconds(
        VISIBILITY_TIMEOUT_TO_FUNCTION_TIMEOUT_RATIO * DLQ_CONSUMER_TIMEOUT_SECONDS,
      ),
      deadLetterQueue: {
        queue: this.parkingQueue,
        maxReceiveCount: deadLetterMaxReceiveCount(config),
      },
    });

    this.workQueue = new Queue(this, 'WorkQueue', {
      ...PRIVATE_QUEUE,
      // The attribute may still default to 256 KiB; the dispatcher's chunks are bounded
      // far below 1 MiB, the SQS maximum, which is set explicitly.
      // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      // Derived from the worker's timeout (6x, plus the batching window), never set apart:
      // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(config)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: config.maxReceiveCount },
    });

    // ---------------------------------------------------------------------------------
    // Functions: six handlers from one construct. Each gets exactly the table actions
    // and resources it uses, and nothing of the others'.
    // ---------------------------------------------------------------------------------
    const common = { logLevel: config.logLevel, logRemovalPolicy: dataRemovalPolicy };

    // dispatcher (every command route: POST /jobs, DELETE /jobs/{jobId}, POST
    // /jobs/{jobId}/redrive): writes the job (PutItem), marks it FAILED or CANCELLED
    // (UpdateItem), reads it (GetItem) and its failed chunks (Query) for a redrive, and
    // sends chunks. Powertools idempotency keeps its records in the same table (GetItem,
    // PutItem, UpdateItem, and DeleteItem of the record of a failed request).
    this.dispatcher = new FanoutFunction(this, 'Dispatcher', {
      ...common,
      entry: 'functions/dispatcher/handler.ts',
      description:
        'fanout: POST /jobs, cancel and redrive; validates a job and enqueues its chunks',
      memorySize: 1769, // one full vCPU: parsing and validating up to a million numbers
      timeout: Duration.seconds(DISPATCHER_TIMEOUT_SECONDS),
    });
    this.dispatcher.bindTable({
      table: this.table,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
    });
    this.dispatcher.bindWorkQueueProducer({ queue: this.workQueue });
    // Uploads: it presigns PUT and multipart URLs into the input bucket, and looks up (HEAD)
    // the object of an upload or of an allowed s3Uri to plan its byte ranges.
    this.dispatcher.bindInputUploads({ bucket: this.inputBucket, prefix: INPUT_UPLOAD_PREFIX });
    this.dispatcher.bindInputReader({
      bucket: this.inputBucket,
      prefix: INPUT_UPLOAD_PREFIX,
      allowedBucketArns: config.inputBucketArns,
    });
    this.dispatcher.setEnvironment(INPUT_RANGE_BYTES_ENV, String(config.inputRangeBytes));
    this.dispatcher.setEnvironment(
      MAX_NUMBERS_PER_INPUT_OBJECT_ENV,
      String(config.maxNumbersPerInputObject),
    );
    this.dispatcher.setEnvironment(NUMBERS_PER_CHUNK_ENV, String(config.numbersPerChunk));
    this.dispatcher.setEnvironment(JOB_RETENTION_DAYS_ENV, String(config.jobRetentionDays));
    this.dispatcher.setEnvironment(JOB_DEADLINE_SECONDS_ENV, String(config.jobDeadlineSeconds));
    this.dispatcher.setEnvironment(
      IDEMPOTENCY_EXPIRY_SECONDS_ENV,
      String(config.idempotencyExpirySeconds),
    );
    this.dispatcher.setEnvironment(ADMIN_PRINCIPAL_ARNS_ENV, config.adminPrincipalArns.join(','));

    // status (GET /jobs, GET /jobs/{jobId}, GET /jobs/{jobId}/results): read-only; it lists
    // a caller's jobs with a Query of the owner index, and of that index only.
    this.status = new FanoutFunction(this, 'Status', {
      ...common,
      entry: 'functions/status/handler.ts',
      description: 'fanout: GET /jobs, GET /jobs/{jobId} and its result pages',
      memorySize: 512,
      timeout: Duration.seconds(10),
    });
    this.status.bindTable({
      table: this.table,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
    });
    this.status.bindIndexQuery({ table: this.table, indexName: OWNER_JOBS_INDEX });
    this.status.setEnvironment(ADMIN_PRINCIPAL_ARNS_ENV, config.adminPrincipalArns.join(','));

    // aggregator (invoked by the worker): stores each chunk once in a transaction
    // (conditional Put of the chunk + conditional counter Update of the job), and on the
    // last chunk reads the job and the chunks (GetItem, Query) and marks the job SUCCEEDED
    // (UpdateItem). The transaction has no ConditionCheck item, so no ConditionCheckItem.
    // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
    this.aggregator = new FanoutFunction(this, 'Aggregator', {
      ...common,
      entry: 'functions/aggregator/handler.ts',
      description: 'fanout: stores each chunk result exactly once and completes the job',
      memorySize: 1024,
      timeout: Duration.seconds(AGGREGATOR_TIMEOUT_SECONDS),
    });
    this.aggregator.bindTable({
      table: this.table,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
    });

    // worker (SQS): squares its chunks on a pool of child processes, one per vCPU. The
    // pool's child script is a second bundle, pool-child.mjs, beside index.mjs (esbuild
    // does not follow fork() paths). It reads the job (GetItem) to skip cancelled jobs,
    // records a chunk's failures, retries and cost counters (UpdateItem), and hands each
    // result to the aggregator with a synchronous Invoke.
    this.worker = new FanoutFunction(this, 'Worker', {
      ...common,
      entry: 'functions/worker/handler.ts',
      description: 'fanout: squares chunks from the work queue on a child-process pool',
      memorySize: config.workerMemoryMb,
      timeout: Duration.seconds(config.workerTimeoutSeconds),
      extraEntries: [{ entry: 'functions/worker/pool/child.ts', outFile: 'pool-child.mjs' }],
    });
    this.worker.bindTable({
      table: this.table,
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    });
    this.worker.bindInvoke({
      target: this.aggregator.function,
      envVar: AGGREGATOR_FUNCTION_NAME_ENV,
    });
    // It reads its byte range of an S3 input (ranged GetObject), from the input bucket or
    // an allowed bucket, and nothing else of S3.
    this.worker.bindInputReader({
      bucket: this.inputBucket,
      prefix: INPUT_UPLOAD_PREFIX,
      allowedBucketArns: config.inputBucketArns,
    });
    // Partial batch responses: only the failed chunks return to the queue.
    // https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    this.worker.function.addEventSource(
      new SqsEventSource(this.workQueue, {
        batchSize: config.batchSize,
        maxBatchingWindow:
          config.maxBatchingWindowSeconds > 0
            ? Duration.seconds(config.maxBatchingWindowSeconds)
            : undefined,
        maxConcurrency: config.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );

    // ---------------------------------------------------------------------------------
    // Failure handling: every job reaches a terminal state.
    // - The DLQ consumer reads each dead-lettered chunk, keeps its message for a redrive
    //   (PutItem of FAILED#<index>) and marks the job FAILED with the chunk (GetItem,
    //   UpdateItem). Partial batch responses again; what it cannot record is retried, then
    //   parked (see the queues above).
    // - The sweeper runs every minute and fails the RUNNING jobs past their deadline: it
    //   finds the overdue ones in the sparse index (Query on that index), reads each job
    //   (GetItem) and lists its missing chunks (Query on the table) for the failure, and
    //   fails it conditionally (UpdateItem). That catches a job whose message was lost.
    // ---------------------------------------------------------------------------------
    this.dlqConsumer = new FanoutFunction(this, 'DlqConsumer', {
      ...common,
      entry: 'functions/dlq-consumer/handler.ts',
      description: 'fanout: marks the job of each dead-lettered chunk FAILED, keeps it for redrive',
      memorySize: 256,
      timeout: Duration.seconds(DLQ_CONSUMER_TIMEOUT_SECONDS),
    });
    this.dlqConsumer.bindTable({
      table: this.table,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
    });
    this.dlqConsumer.function.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: DLQ_CONSUMER_BATCH_SIZE,
        maxConcurrency: DLQ_CONSUMER_MAX_CONCURRENCY,
        reportBatchItemFailures: true,
      }),
    );

    this.sweeperDeadLetterQueue = new Queue(this, 'SweeperDeadLetterQueue', {
      ...PRIVATE_QUEUE,
      retentionPeriod: DLQ_RETENTION,
      // An async invocation record carries the event (up to 1 MB).
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    });
    Validations.of(this.sweeperDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself a dead-letter queue: the sweeper's on-failure destination and its schedule's DLQ, which cdk-nag only recognizes in an SQS redrive policy. Nothing consumes it, so it needs no DLQ; its depth is alarmed on.",
    });

    this.sweeper = new FanoutFunction(this, 'Sweeper', {
      ...common,
      entry: 'functions/sweeper/handler.ts',
      description: 'fanout: marks RUNNING jobs past their deadline FAILED (DEADLINE_EXCEEDED)',
      memorySize: 256,
      timeout: Duration.seconds(SWEEPER_TIMEOUT_SECONDS),
    });
    this.sweeper.bindIndexQuery({ table: this.table, indexName: RUNNING_BY_DEADLINE_INDEX });
    this.sweeper.bindTable({
      table: this.table,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
    });
    // A sweep that fails is not retried (the next one redoes it); its record goes to the
    // sweeper's DLQ, which is alarmed on like the others.
    this.sweeper.configureAsyncFailures({
      queue: this.sweeperDeadLetterQueue,
      retryAttempts: 0,
      maxEventAge: SWEEP_MAX_EVENT_AGE,
    });

    // EventBridge Scheduler rather than a rule: it invokes through a role (here limited to
    // the sweeper's unqualified ARN) instead of a resource policy on the function, and has
    // its own retry policy and DLQ for events it cannot deliver.
    this.sweepSchedule = new Schedule(this, 'SweepSchedule', {
      description: 'fanout: run the sweeper (fail RUNNING jobs past their deadline)',
      schedule: ScheduleExpression.rate(Duration.seconds(SWEEP_INTERVAL_SECONDS)),
      target: new UnqualifiedLambdaInvoke(this.sweeper.function, {
        retryAttempts: SWEEP_DELIVERY_RETRIES,
        maxEventAge: SWEEP_MAX_EVENT_AGE,
        deadLetterQueue: this.sweeperDeadLetterQueue,
      }),
    });

    // ---------------------------------------------------------------------------------
    // API: a REST API (API Gateway v1), not an HTTP API, because it has X-Ray tracing,
    // usage plans with per-client quotas, request validation and AWS WAF, which HTTP APIs
    // lack. Its 29 s integration timeout is why the dispatcher only enqueues and answers
    // 202. Every method requires AWS_IAM (SigV4): the API is never an anonymous compute
    // endpoint. The stage is throttled, traced and access-logged.
    // ---------------------------------------------------------------------------------
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: dataRemovalPolicy,
    });

    this.api = new RestApi(this, 'Api', {
      restApiName: 'fanout',
      description: 'fanout: submit jobs of numbers to square, read their status and results',
      endpointTypes: [EndpointType.REGIONAL],
      // Execution logging would need the account-wide API Gateway CloudWatch role, a
      // regional singleton this stack must not take over; access logs and X-Ray cover it.
      cloudWatchRole: false,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      // Request bodies: API Gateway decompresses a `Content-Encoding: gzip` body itself
      // before the Lambda sees it (and answers 415 to a body that is not valid gzip), so
      // the dispatcher gets JSON text, bounded by Lambda's 6 MB payload. A body sent as
      // `Content-Type: application/gzip` (no Content-Encoding) is a binary media type: it
      // reaches the dispatcher still compressed, base64-encoded (isBase64Encoded), and the
      // dispatcher inflates it up to MAX_DECODED_BODY_BYTES.
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-gzip-compression-decompression.html
      binaryMediaTypes: ['application/gzip'],
      // Compression is on for every size, so decompression of requests applies whatever
      // their size, and responses (result pages up to 1 MB) are gzipped for clients that
      // send Accept-Encoding.
      minCompressionSize: Size.bytes(0),
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: config.apiRateLimit,
        throttlingBurstLimit: config.apiBurstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.OFF,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            requestTime: AccessLogField.contextRequestTime(),
            caller: AccessLogField.contextIdentityCaller(),
            userArn: AccessLogField.contextIdentityUserArn(),
            sourceIp: AccessLogField.contextIdentitySourceIp(),
            httpMethod: AccessLogField.contextHttpMethod(),
            resourcePath: AccessLogField.contextResourcePath(),
            status: AccessLogField.contextStatus(),
            responseLength: AccessLogField.contextResponseLength(),
            responseLatency: AccessLogField.contextResponseLatency(),
            integrationStatus: AccessLogField.contextIntegrationStatus(),
            integrationLatency: AccessLogField.contextIntegrationLatency(),
            integrationError: AccessLogField.contextIntegrationErrorMessage(),
            errorMessage: AccessLogField.contextErrorMessage(),
            xrayTraceId: AccessLogField.contextXrayTraceId(),
          }),
        ),
      },
    });

    // The GET methods' parameters are checked by API Gateway (their bodies have no model,
    // so the body flag checks nothing there). POST /jobs gets no validator: the dispatcher
    // checks every element and answers with the index and reason of each bad one, which a
    // JSON Schema model could not do (nor could it see inside an application/gzip body).
    const requestValidator = this.api.addRequestValidator('RequestValidator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    // Commands (create, cancel, redrive) go to the dispatcher, reads (the caller's jobs, a
    // job, its results) to the status function.
    const dispatcherIntegration = new LambdaIntegration(this.dispatcher.function, {
      allowTestInvoke: false,
    });
    const jobs = this.api.root.addResource('jobs');
    const submitJob = jobs.addMethod('POST', dispatcherIntegration);

    const statusIntegration = new LambdaIntegration(this.status.function, {
      allowTestInvoke: false,
    });
    const listJobs = jobs.addMethod('GET', statusIntegration, {
      requestValidator,
      requestParameters: {
        'method.request.querystring.cursor': false,
        'method.request.querystring.limit': false,
        'method.request.querystring.owner': false,
      },
    });
    const job = jobs.addResource('{jobId}');
    const getJob = job.addMethod('GET', statusIntegration, {
      requestValidator,
      requestParameters: { 'method.request.path.jobId': true },
    });
    const getResults = job.addResource('results').addMethod('GET', statusIntegration, {
      requestValidator,
      requestParameters: {
        'method.request.path.jobId': true,
        'method.request.querystring.cursor': false,
      },
    });
    const cancelJob = job.addMethod('DELETE', dispatcherIntegration, {
      requestValidator,
      requestParameters: { 'method.request.path.jobId': true },
    });
    const redriveJob = job.addResource('redrive').addMethod('POST', dispatcherIntegration, {
      requestValidator,
      requestParameters: { 'method.request.path.jobId': true },
    });
    // An upload job starts once its input is uploaded (completing a multipart upload).
    const startJob = job.addResource('start').addMethod('POST', dispatcherIntegration, {
      requestValidator,
      requestParameters: { 'method.request.path.jobId': true },
    });
    for (const method of [
      submitJob,
      listJobs,
      getJob,
      getResults,
      cancelJob,
      redriveJob,
      startJob,
    ]) {
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'The method uses AWS_IAM (SigV4) authorization: callers are IAM principals, not Cognito users.',
      });
    }

    Validations.of(this.api.deploymentStage).acknowledge(
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is left to the operator (a web ACL costs per month): every method already requires SigV4 and the stage is throttled.',
      },
      {
        id: 'AwsSolutions-APIG6',
        reason:
          'Execution logging needs the account-wide API Gateway CloudWatch role (AWS::ApiGateway::Account), a regional singleton this stack must not take over; JSON access logs with integration errors, and X-Ray tracing, are on.',
      },
    );

    // ---------------------------------------------------------------------------------
    // Observability: a dashboard and alarms (see constructs/observability.ts). Alarms
    // notify an existing SNS topic when `alarmTopicArn` is set; the stack creates none.
    // X-Ray tracing is on for the stage and every function (FanoutFunction).
    // ---------------------------------------------------------------------------------
    this.observability = new FanoutObservability(this, 'Observability', {
      functions: [
        { name: 'Dispatcher', function: this.dispatcher.function },
        { name: 'Status', function: this.status.function },
        { name: 'Worker', function: this.worker.function },
        { name: 'Aggregator', function: this.aggregator.function },
        { name: 'DlqConsumer', function: this.dlqConsumer.function },
        { name: 'Sweeper', function: this.sweeper.function },
      ],
      workQueue: this.workQueue,
      oldestMessageAgeAlarmSeconds: oldestMessageAgeAlarmSeconds(config),
      workDeadLetterQueue: this.deadLetterQueue,
      deadLetterQueues: [
        {
          name: 'DeadLetterQueue',
          meaning:
            'These are chunks that exhausted their deliveries. The DLQ consumer normally empties the queue within seconds: if this alarm stays on, the consumer is failing or throttled (see its errors and log group).',
          queue: this.deadLetterQueue,
        },
        {
          name: 'ParkingQueue',
          meaning:
            'The DLQ consumer could not record these dead letters after its retries; their jobs end FAILED at their deadline. Inspect them, fix the cause, and move them back to the DLQ (SQS redrive).',
          queue: this.parkingQueue,
        },
        {
          name: 'SweeperDeadLetterQueue',
          meaning:
            'A sweep failed or could not be delivered; overdue jobs stay RUNNING until a sweep succeeds. Read the sweeper log group.',
          queue: this.sweeperDeadLetterQueue,
        },
      ],
      apiStage: this.api.deploymentStage,
      alarmTopic:
        config.alarmTopicArn === undefined
          ? undefined
          : Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn),
    });

    // ---------------------------------------------------------------------------------
    // Outputs: what a client (bin/fanout.ts, the README) needs after `cdk deploy`.
    // ---------------------------------------------------------------------------------
    new StackOutput(this, 'ApiUrl', {
      value: this.api.url,
      description:
        'Base URL of the API (POST jobs, GET jobs/{jobId}); requests must be SigV4-signed',
    });
    new StackOutput(this, 'TableName', { value: this.table.tableName });
    new StackOutput(this, 'InputBucketName', { value: this.inputBucket.bucketName });
    new StackOutput(this, 'WorkQueueUrl', { value: this.workQueue.queueUrl });
    new StackOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
    new StackOutput(this, 'ParkingQueueUrl', { value: this.parkingQueue.queueUrl });
    new StackOutput(this, 'DashboardName', {
      value: this.observability.dashboard.dashboardName,
      description: 'CloudWatch dashboard of fanout (throughput, errors, queues, dead letters)',
    });
  }
}
