/**
 * The fanout stack: a signed request fans out into chunks on a queue, a fleet of workers
 * squares them in parallel, and an aggregator stores each chunk exactly once.
 *
 *   client --SigV4--> API Gateway (REST) --> dispatcher --> SQS work queue --> worker(s)
 *                          |                     |              |                |
 *                          +--> status           +--> DynamoDB  +--> DLQ         | Invoke
 *                                (reads)                                         v
 *                                                                DynamoDB <-- aggregator
 *
 * Sections below follow the request: storage, queues, functions, the API, outputs.
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
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SQS_MAX_MESSAGE_BYTES } from '../functions/commons/limits.ts';
import {
  AGGREGATOR_TIMEOUT_SECONDS,
  type FanoutConfig,
  resolveConfig,
  visibilityTimeoutSeconds,
} from './config.ts';
import { FanoutFunction } from './constructs/fanout-function.ts';

/**
 * API Gateway gives a Lambda proxy integration at most 29 s (REST API default), so the
 * dispatcher is given no more: past it, the client already got a 504.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 */
const DISPATCHER_TIMEOUT_SECONDS = 29;

/** A DLQ keeps failed chunks as long as SQS allows, for inspection and redrive. */
const DLQ_RETENTION = Duration.days(14);

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
  public readonly workQueue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly dispatcher: FanoutFunction;
  public readonly status: FanoutFunction;
  public readonly worker: FanoutFunction;
  public readonly aggregator: FanoutFunction;
  public readonly api: RestApi;

  constructor(scope: Construct, id: string, props: FanoutStackProps = {}) {
    super(scope, id, props);
    const config = resolveConfig(this.node, props.config);
    this.config = config;
    const dataRemovalPolicy =
      config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // ---------------------------------------------------------------------------------
    // Storage: one table holds jobs (pk JOB#<id>, sk JOB) and their chunk results
    // (sk CHUNK#<index>), which are also the ordered result pages. On-demand, because load
    // comes in bursts; point-in-time recovery; encrypted with the AWS managed KMS key; and
    // a TTL on `expiresAt`, which the dispatcher sets from the job retention.
    // ---------------------------------------------------------------------------------
    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: dataRemovalPolicy,
    });

    // ---------------------------------------------------------------------------------
    // Queues: one message per chunk. A chunk that fails maxReceiveCount deliveries moves
    // to the dead-letter queue instead of blocking or vanishing. Both queues are
    // encrypted (SSE-SQS) and refuse requests without TLS.
    // ---------------------------------------------------------------------------------
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
    });

    this.workQueue = new Queue(this, 'WorkQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
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
    // Functions: four handlers from one construct. Each gets exactly the table actions
    // and resources it uses, and nothing of the others'.
    // ---------------------------------------------------------------------------------
    const common = { logLevel: config.logLevel, logRemovalPolicy: dataRemovalPolicy };

    // dispatcher (POST /jobs): validates the numbers, writes the job (PutItem), marks it
    // FAILED if enqueueing fails (UpdateItem), and sends one message per chunk.
    this.dispatcher = new FanoutFunction(this, 'Dispatcher', {
      ...common,
      entry: 'functions/dispatcher/handler.ts',
      description: 'fanout: POST /jobs, validates a job and enqueues its chunks',
      memorySize: 1769, // one full vCPU: parsing and validating up to a million numbers
      timeout: Duration.seconds(DISPATCHER_TIMEOUT_SECONDS),
    });
    this.dispatcher.bindTable({
      table: this.table,
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    });
    this.dispatcher.bindWorkQueueProducer({ queue: this.workQueue });
    this.dispatcher.setEnvironment('NUMBERS_PER_CHUNK', String(config.numbersPerChunk));
    this.dispatcher.setEnvironment('JOB_RETENTION_DAYS', String(config.jobRetentionDays));

    // status (GET /jobs/{jobId}, GET /jobs/{jobId}/results): read-only.
    this.status = new FanoutFunction(this, 'Status', {
      ...common,
      entry: 'functions/status/handler.ts',
      description: 'fanout: GET /jobs/{jobId} and its result pages',
      memorySize: 512,
      timeout: Duration.seconds(10),
    });
    this.status.bindTable({ table: this.table, actions: ['dynamodb:GetItem', 'dynamodb:Query'] });

    // aggregator (invoked by the worker): stores each chunk once in a transaction
    // (conditional Put + counter Update + job ConditionCheck), and on the last chunk reads
    // the chunks (Query, GetItem) and marks the job SUCCEEDED (UpdateItem).
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
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:ConditionCheckItem',
      ],
    });

    // worker (SQS): squares its chunks on a pool of child processes, one per vCPU. The
    // pool's child script is a second bundle, pool-child.mjs, beside index.mjs (esbuild
    // does not follow fork() paths). It reads the job (GetItem) only to skip cancelled
    // jobs, and hands each result to the aggregator with a synchronous Invoke.
    this.worker = new FanoutFunction(this, 'Worker', {
      ...common,
      entry: 'functions/worker/handler.ts',
      description: 'fanout: squares chunks from the work queue on a child-process pool',
      memorySize: config.workerMemoryMb,
      timeout: Duration.seconds(config.workerTimeoutSeconds),
      extraEntries: [{ entry: 'functions/worker/pool/child.ts', outFile: 'pool-child.mjs' }],
    });
    this.worker.bindTable({ table: this.table, actions: ['dynamodb:GetItem'] });
    this.worker.bindInvoke({
      target: this.aggregator.function,
      envVar: 'AGGREGATOR_FUNCTION_NAME',
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

    const jobs = this.api.root.addResource('jobs');
    const submitJob = jobs.addMethod(
      'POST',
      new LambdaIntegration(this.dispatcher.function, { allowTestInvoke: false }),
    );

    const statusIntegration = new LambdaIntegration(this.status.function, {
      allowTestInvoke: false,
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
    for (const method of [submitJob, getJob, getResults]) {
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
    // Outputs: what a client (bin/fanout.ts, the README) needs after `cdk deploy`.
    // ---------------------------------------------------------------------------------
    new StackOutput(this, 'ApiUrl', {
      value: this.api.url,
      description:
        'Base URL of the API (POST jobs, GET jobs/{jobId}); requests must be SigV4-signed',
    });
    new StackOutput(this, 'TableName', { value: this.table.tableName });
    new StackOutput(this, 'WorkQueueUrl', { value: this.workQueue.queueUrl });
    new StackOutput(this, 'DeadLetterQueueUrl', { value: this.deadLetterQueue.queueUrl });
  }
}
