/**
 * The synthesized template of the fanout stack, with the default configuration: the
 * properties the pipeline's correctness and security rest on.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  DLQ_CONSUMER_ATTEMPTS,
  DLQ_CONSUMER_TIMEOUT_SECONDS,
} from '#infra/config.ts';
import type { FanoutStack } from '#infra/fanout-stack.ts';
import { describeRef, grantsOfRole, logicalId, testStack } from './support.ts';

type Json = Record<string, unknown>;

let stack: FanoutStack;
let template: Template;
let ids: {
  table: string;
  inputBucket: string;
  accessLogBucket: string;
  workQueue: string;
  deadLetterQueue: string;
  parkingQueue: string;
  sweeperDeadLetterQueue: string;
  api: string;
  dispatcher: string;
  status: string;
  worker: string;
  aggregator: string;
  dlqConsumer: string;
  sweeper: string;
};

const FUNCTIONS = [
  'dispatcher',
  'status',
  'worker',
  'aggregator',
  'dlqConsumer',
  'sweeper',
] as const;
type FunctionName = (typeof FUNCTIONS)[number];

beforeAll(() => {
  stack = testStack().stack;
  template = Template.fromStack(stack);
  ids = {
    table: logicalId(stack.table),
    inputBucket: logicalId(stack.inputBucket),
    accessLogBucket: logicalId(stack.accessLogBucket),
    workQueue: logicalId(stack.workQueue),
    deadLetterQueue: logicalId(stack.deadLetterQueue),
    parkingQueue: logicalId(stack.parkingQueue),
    sweeperDeadLetterQueue: logicalId(stack.sweeperDeadLetterQueue),
    api: logicalId(stack.api),
    dispatcher: logicalId(stack.dispatcher.function),
    status: logicalId(stack.status.function),
    worker: logicalId(stack.worker.function),
    aggregator: logicalId(stack.aggregator.function),
    dlqConsumer: logicalId(stack.dlqConsumer.function),
    sweeper: logicalId(stack.sweeper.function),
  };
});

function properties(logicalIdOf: string): Json {
  const resource = template.toJSON().Resources[logicalIdOf] as { Properties: Json } | undefined;
  if (resource === undefined) throw new Error(`no resource ${logicalIdOf}`);
  return resource.Properties;
}

function functionProperties(name: keyof typeof ids): Json {
  return properties(ids[name]);
}

/** The logical ID of the role the sweeper's schedule invokes it with. */
function scheduleRoleId(): string {
  const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
  const target = (schedules[0]?.Properties as { Target?: { RoleArn?: unknown } } | undefined)
    ?.Target;
  if (schedules.length !== 1 || target === undefined) throw new Error('expected one schedule');
  return describeRef(target.RoleArn)
    .replace(/^GetAtt:/, '')
    .replace(/\.Arn$/, '');
}

function roleIdOf(name: FunctionName): string {
  const role = functionProperties(name).Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

describe('Stack: Fanout (default configuration)', () => {
  describe('Lambda functions', () => {
    it('are exactly the six handlers, none added by a helper construct', () => {
      expect(Object.keys(template.findResources('AWS::Lambda::Function')).sort()).toEqual(
        FUNCTIONS.map((name) => ids[name]).sort(),
      );
    });

    it('run nodejs24.x on arm64 with active tracing, every one of them', () => {
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(FUNCTIONS.length);
      for (const fn of functions) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
        });
      }
    });

    it('log to their own log group kept one month', () => {
      for (const name of FUNCTIONS) {
        const logGroup = (functionProperties(name).LoggingConfig as Json).LogGroup;
        const logGroupId = describeRef(logGroup).replace('Ref:', '');
        expect(properties(logGroupId)).toMatchObject({ RetentionInDays: 30 });
        expect(logGroupId).toMatch(new RegExp(`^${name}LogGroup`, 'i'));
      }
    });

    it('get the environment of the shared contract, and nothing else', () => {
      const common = {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'fanout',
        POWERTOOLS_METRICS_NAMESPACE: 'fanout',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
      };
      const env = (name: keyof typeof ids) =>
        (functionProperties(name).Environment as { Variables: Json }).Variables;

      expect(env('dispatcher')).toEqual({
        ...common,
        TABLE_NAME: { Ref: ids.table },
        WORK_QUEUE_URL: { Ref: ids.workQueue },
        NUMBERS_PER_CHUNK: String(DEFAULT_CONFIG.numbersPerChunk),
        INPUT_RANGE_BYTES: String(DEFAULT_CONFIG.inputRangeBytes),
        MAX_NUMBERS_PER_INPUT_OBJECT: String(DEFAULT_CONFIG.maxNumbersPerInputObject),
        JOB_RETENTION_DAYS: String(DEFAULT_CONFIG.jobRetentionDays),
        JOB_DEADLINE_SECONDS: '3600',
        IDEMPOTENCY_EXPIRY_SECONDS: '3600',
        INPUT_BUCKET_NAME: { Ref: ids.inputBucket },
        ALLOWED_INPUT_BUCKET_ARNS: '',
        ADMIN_PRINCIPAL_ARNS: '',
      });
      expect(env('status')).toEqual({
        ...common,
        TABLE_NAME: { Ref: ids.table },
        ADMIN_PRINCIPAL_ARNS: '',
      });
      expect(env('worker')).toEqual({
        ...common,
        TABLE_NAME: { Ref: ids.table },
        AGGREGATOR_FUNCTION_NAME: { Ref: ids.aggregator },
        INPUT_BUCKET_NAME: { Ref: ids.inputBucket },
        ALLOWED_INPUT_BUCKET_ARNS: '',
      });
      expect(env('aggregator')).toEqual({ ...common, TABLE_NAME: { Ref: ids.table } });
      expect(env('dlqConsumer')).toEqual({ ...common, TABLE_NAME: { Ref: ids.table } });
      expect(env('sweeper')).toEqual({ ...common, TABLE_NAME: { Ref: ids.table } });
    });

    it('give the worker the configured memory and timeout, and the dispatcher the API timeout', () => {
      expect(functionProperties('worker')).toMatchObject({
        MemorySize: DEFAULT_CONFIG.workerMemoryMb,
        Timeout: DEFAULT_CONFIG.workerTimeoutSeconds,
      });
      expect(functionProperties('dispatcher')).toMatchObject({ Timeout: 29 });
      expect(functionProperties('aggregator').Timeout as number).toBeLessThan(
        functionProperties('worker').Timeout as number,
      );
    });

    it('stops a sweep before the next one starts a minute later', () => {
      expect(functionProperties('sweeper').Timeout as number).toBeLessThan(60);
      expect(functionProperties('dlqConsumer')).toMatchObject({
        Timeout: DLQ_CONSUMER_TIMEOUT_SECONDS,
      });
    });
  });

  describe('IAM (least privilege)', () => {
    /** The input bucket's objects under uploads/, as grantsOfRole prints the Fn::Join. */
    const uploads = () =>
      JSON.stringify({
        'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.inputBucket, 'Arn'] }, '/uploads/*']],
      });
    const xray = { 'xray:PutTelemetryRecords': ['*'], 'xray:PutTraceSegments': ['*'] };
    const logsOf = (name: FunctionName) => {
      const logGroupId = describeRef((functionProperties(name).LoggingConfig as Json).LogGroup);
      const arn = `GetAtt:${logGroupId.replace('Ref:', '')}.Arn`;
      return { 'logs:CreateLogStream': [arn], 'logs:PutLogEvents': [arn] };
    };

    it('lets the dispatcher write, cancel and redrive jobs and send chunks, nothing more', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('dispatcher'))).toEqual({
        ...logsOf('dispatcher'),
        ...xray,
        // Job items, failed-chunk items (Query) and Powertools idempotency records; the
        // table's ARN only, no index.
        'dynamodb:DeleteItem': [table],
        'dynamodb:GetItem': [table],
        'dynamodb:PutItem': [table],
        'dynamodb:Query': [table],
        'dynamodb:UpdateItem': [table],
        'sqs:SendMessage': [`GetAtt:${ids.workQueue}.Arn`],
        // Presigned uploads act with these (PutObject covers the multipart calls), and
        // HeadObject needs GetObject: under uploads/ of the input bucket only.
        's3:AbortMultipartUpload': [uploads()],
        's3:GetObject': [uploads()],
        's3:PutObject': [uploads()],
      });
    });

    it('lets the status function only read the table (the job, its shards and pages) and query the owner index', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('status'))).toEqual({
        ...logsOf('status'),
        ...xray,
        'dynamodb:BatchGetItem': [table],
        'dynamodb:GetItem': [table],
        // GET /jobs: the owner index only; no other index (`index/*`), never a Scan.
        'dynamodb:Query': [
          JSON.stringify({
            'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, '/index/OwnerJobs']],
          }),
        ],
      });
    });

    it('lets the worker consume the work queue, read and update a job, and invoke only the aggregator', () => {
      const queue = `GetAtt:${ids.workQueue}.Arn`;
      expect(grantsOfRole(template, roleIdOf('worker'))).toEqual({
        ...logsOf('worker'),
        ...xray,
        'dynamodb:GetItem': [`GetAtt:${ids.table}.Arn`],
        'dynamodb:UpdateItem': [`GetAtt:${ids.table}.Arn`],
        // The unqualified ARN only: no version or alias wildcard (":*").
        'lambda:InvokeFunction': [`GetAtt:${ids.aggregator}.Arn`],
        'sqs:ChangeMessageVisibility': [queue],
        'sqs:DeleteMessage': [queue],
        'sqs:GetQueueAttributes': [queue],
        'sqs:GetQueueUrl': [queue],
        'sqs:ReceiveMessage': [queue],
        's3:GetObject': [uploads()],
      });
    });

    it('lets the aggregator put pages, mark shards and complete the job, on the table only', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('aggregator'))).toEqual({
        ...logsOf('aggregator'),
        ...xray,
        'dynamodb:BatchGetItem': [table],
        'dynamodb:GetItem': [table],
        'dynamodb:PutItem': [table],
        'dynamodb:UpdateItem': [table],
      });
    });

    it('lets the DLQ consumer consume the DLQ only, and record failed chunks on the table', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      const dlq = `GetAtt:${ids.deadLetterQueue}.Arn`;
      expect(grantsOfRole(template, roleIdOf('dlqConsumer'))).toEqual({
        ...logsOf('dlqConsumer'),
        ...xray,
        // Counting a chunk whose page is stored may complete its job (BatchGetItem of pages).
        'dynamodb:BatchGetItem': [table],
        'dynamodb:GetItem': [table],
        'dynamodb:PutItem': [table],
        'dynamodb:UpdateItem': [table],
        'sqs:ChangeMessageVisibility': [dlq],
        'sqs:DeleteMessage': [dlq],
        'sqs:GetQueueAttributes': [dlq],
        'sqs:GetQueueUrl': [dlq],
        'sqs:ReceiveMessage': [dlq],
      });
    });

    it('lets the sweeper query the running-jobs index (not index/*), read and fail jobs, and report its failures', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('sweeper'))).toEqual({
        ...logsOf('sweeper'),
        ...xray,
        // A job's open shards (its missing chunks) and, to complete it, its pages.
        'dynamodb:BatchGetItem': [table],
        'dynamodb:GetItem': [table],
        // The sparse index (overdue jobs) only; no other index (`index/*`), not the table.
        'dynamodb:Query': [
          JSON.stringify({
            'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.table, 'Arn'] }, '/index/RunningByDeadline']],
          }),
        ],
        'dynamodb:UpdateItem': [table],
        // Its on-failure destination.
        'sqs:SendMessage': [`GetAtt:${ids.sweeperDeadLetterQueue}.Arn`],
      });
    });

    it('lets the schedule invoke the sweeper (unqualified ARN) and dead-letter to its DLQ, nothing else', () => {
      const roleId = scheduleRoleId();
      expect(grantsOfRole(template, roleId)).toEqual({
        'lambda:InvokeFunction': [`GetAtt:${ids.sweeper}.Arn`],
        'sqs:SendMessage': [`GetAtt:${ids.sweeperDeadLetterQueue}.Arn`],
      });
      // Only EventBridge Scheduler, for this account's default schedule group, may assume it.
      expect(properties(roleId).AssumeRolePolicyDocument).toMatchObject({
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': expect.anything(),
              },
            },
          },
        ],
      });
    });

    it("has no policy on any role but the six functions' and the schedule's", () => {
      const known = [
        ...FUNCTIONS.map((name) => `Ref:${roleIdOf(name)}`),
        `Ref:${scheduleRoleId()}`,
      ];
      const policies = Object.values(template.findResources('AWS::IAM::Policy'));
      expect(policies).toHaveLength(known.length);
      for (const policy of policies) {
        const roles = ((policy.Properties as Json).Roles as unknown[]).map(describeRef);
        expect(roles).toHaveLength(1);
        expect(known).toContain(roles[0]);
      }
      expect(template.findResources('AWS::IAM::ManagedPolicy')).toEqual({});
    });

    it('gives no role access to the parking queue: only SQS moves dead letters there', () => {
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        expect(JSON.stringify(policy.Properties)).not.toContain(ids.parkingQueue);
      }
    });

    it('gives the roles no managed policy (not even AWSLambdaBasicExecutionRole)', () => {
      for (const name of FUNCTIONS) {
        expect(properties(roleIdOf(name)).ManagedPolicyArns).toBeUndefined();
      }
    });

    it('lets only the API invoke the HTTP functions, and nobody invoke the others', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions) {
        const props = permission.Properties as Json;
        // The schedule invokes the sweeper through its role, not a resource policy.
        expect(props.Principal).toBe('apigateway.amazonaws.com');
        expect([`GetAtt:${ids.dispatcher}.Arn`, `GetAtt:${ids.status}.Arn`]).toContain(
          describeRef(props.FunctionName),
        );
        // Scoped to this API's execute-api ARN.
        expect(JSON.stringify(props.SourceArn)).toContain(ids.api);
      }
    });
  });

  describe('Queues', () => {
    it('redrive a chunk to the DLQ after maxReceiveCount deliveries', () => {
      expect(properties(ids.workQueue).RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] },
        maxReceiveCount: DEFAULT_CONFIG.maxReceiveCount,
      });
    });

    it('hide a message at least 6x the worker timeout (read from the template)', () => {
      const visibility = properties(ids.workQueue).VisibilityTimeout as number;
      const workerTimeout = functionProperties('worker').Timeout as number;
      expect(workerTimeout).toBeGreaterThan(0);
      expect(visibility).toBeGreaterThanOrEqual(6 * workerTimeout);
    });

    it('park a dead letter the DLQ consumer failed on, after the work receives plus its own tries', () => {
      expect(properties(ids.deadLetterQueue).RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [ids.parkingQueue, 'Arn'] },
        maxReceiveCount: DEFAULT_CONFIG.maxReceiveCount + DLQ_CONSUMER_ATTEMPTS,
      });
    });

    it('hide a dead letter at least 6x the DLQ consumer timeout (read from the template)', () => {
      const visibility = properties(ids.deadLetterQueue).VisibilityTimeout as number;
      const consumerTimeout = functionProperties('dlqConsumer').Timeout as number;
      expect(consumerTimeout).toBeGreaterThan(0);
      expect(visibility).toBeGreaterThanOrEqual(6 * consumerTimeout);
    });

    it('are exactly the work queue and three dead-letter queues', () => {
      expect(Object.keys(template.findResources('AWS::SQS::Queue')).sort()).toEqual(
        [ids.workQueue, ids.deadLetterQueue, ids.parkingQueue, ids.sweeperDeadLetterQueue].sort(),
      );
    });

    it('accept 1 MiB messages, explicitly, on every queue', () => {
      for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
        expect((queue.Properties as Json).MaximumMessageSize).toBe(1_048_576);
      }
    });

    it('are encrypted at rest, every DLQ too', () => {
      const queues = Object.values(template.findResources('AWS::SQS::Queue'));
      expect(queues).toHaveLength(4);
      for (const queue of queues) {
        expect((queue.Properties as Json).SqsManagedSseEnabled).toBe(true);
      }
      for (const dlq of [ids.deadLetterQueue, ids.parkingQueue, ids.sweeperDeadLetterQueue]) {
        expect(properties(dlq).SqsManagedSseEnabled).toBe(true);
      }
    });

    it('keep dead letters 14 days, longer than the work queue keeps messages (4 days)', () => {
      // SQS keeps a message's first enqueue time in a DLQ: a shorter retention would expire it.
      expect(properties(ids.workQueue).MessageRetentionPeriod).toBeUndefined(); // 345,600 s
      for (const dlq of [ids.deadLetterQueue, ids.parkingQueue, ids.sweeperDeadLetterQueue]) {
        expect(properties(dlq).MessageRetentionPeriod).toBe(14 * 24 * 3600);
      }
    });

    it('deny every request made without TLS, on every queue', () => {
      for (const queueId of [
        ids.workQueue,
        ids.deadLetterQueue,
        ids.parkingQueue,
        ids.sweeperDeadLetterQueue,
      ]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: queueId }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Principal: { AWS: '*' },
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('Event sources', () => {
    const mappingOf = (functionId: string): Json | undefined =>
      Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))
        .map((m) => m.Properties as Json)
        .find((props) => describeRef(props.FunctionName) === `Ref:${functionId}`);

    it('are exactly two: the work queue to the worker, the DLQ to the DLQ consumer', () => {
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
      expect(
        mappings
          .map((m) => {
            const props = m.Properties as Json;
            return `${describeRef(props.EventSourceArn)} -> ${describeRef(props.FunctionName)}`;
          })
          .sort(),
      ).toEqual(
        [
          `GetAtt:${ids.workQueue}.Arn -> Ref:${ids.worker}`,
          `GetAtt:${ids.deadLetterQueue}.Arn -> Ref:${ids.dlqConsumer}`,
        ].sort(),
      );
    });

    it('report batch item failures from the worker, with the configured batch and concurrency', () => {
      expect(mappingOf(ids.worker)).toEqual({
        EventSourceArn: { 'Fn::GetAtt': [ids.workQueue, 'Arn'] },
        FunctionName: { Ref: ids.worker },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: DEFAULT_CONFIG.batchSize,
        ScalingConfig: { MaximumConcurrency: DEFAULT_CONFIG.maxConcurrency },
      });
    });

    it('feed the DLQ to the DLQ consumer in small batches, reporting batch item failures', () => {
      expect(mappingOf(ids.dlqConsumer)).toEqual({
        EventSourceArn: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] },
        FunctionName: { Ref: ids.dlqConsumer },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    });
  });

  describe('Sweeper schedule', () => {
    function schedule(): Json {
      const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
      expect(schedules).toHaveLength(1);
      return schedules[0]?.Properties as Json;
    }

    it('invokes the sweeper every minute, on time (no flexible window)', () => {
      expect(schedule()).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: { 'Fn::GetAtt': [ids.sweeper, 'Arn'] } },
      });
      expect(template.findResources('AWS::Events::Rule')).toEqual({});
    });

    it('retries an undeliverable sweep within its minute, then dead-letters it', () => {
      expect(schedule()).toMatchObject({
        Target: {
          RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ids.sweeperDeadLetterQueue, 'Arn'] } },
        },
      });
    });

    it('does not retry a failed sweep (the next one redoes it) and records it in the sweeper DLQ', () => {
      const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig'));
      expect(configs.map((c) => c.Properties)).toEqual([
        {
          FunctionName: { Ref: ids.sweeper },
          Qualifier: '$LATEST',
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: 60,
          DestinationConfig: {
            OnFailure: { Destination: { 'Fn::GetAtt': [ids.sweeperDeadLetterQueue, 'Arn'] } },
          },
        },
      ]);
    });
  });

  describe('Table', () => {
    it('has pk/sk string keys, on-demand billing, PITR, TTL on expiresAt and encryption', () => {
      expect(properties(ids.table)).toMatchObject({
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'runningPk', AttributeType: 'S' },
          { AttributeName: 'deadlineAt', AttributeType: 'N' },
          { AttributeName: 'ownerPk', AttributeType: 'S' },
          { AttributeName: 'ownerSk', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        // SSEEnabled with no key: the AWS managed KMS key (aws/dynamodb).
        SSESpecification: { SSEEnabled: true },
      });
    });

    it('has the sparse RunningByDeadline index and the OwnerJobs index projecting the listing, and no other', () => {
      expect(properties(ids.table).GlobalSecondaryIndexes).toEqual([
        {
          IndexName: 'RunningByDeadline',
          KeySchema: [
            { AttributeName: 'runningPk', KeyType: 'HASH' },
            { AttributeName: 'deadlineAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: 'OwnerJobs',
          KeySchema: [
            { AttributeName: 'ownerPk', KeyType: 'HASH' },
            { AttributeName: 'ownerSk', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: [
              'jobId',
              'status',
              'numbersCount',
              'chunkCount',
              'shardCount',
              'shards',
              'numbersDone',
              'createdAt',
              'updatedAt',
              'completedAt',
            ],
          },
        },
      ]);
      expect(properties(ids.table).LocalSecondaryIndexes).toBeUndefined();
    });

    it('is retained when the stack is deleted, by default', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('API', () => {
    /** `METHOD /path` -> integration target, from the template's resources and methods. */
    function routes(): Record<string, { authorization: unknown; target: string }> {
      const resources = template.findResources('AWS::ApiGateway::Resource');
      const pathOf = (parent: unknown): string => {
        const ref = describeRef(parent);
        if (ref.startsWith('GetAtt:') && ref.endsWith('.RootResourceId')) return '';
        const id = ref.replace('Ref:', '');
        const resource = resources[id]?.Properties as Json | undefined;
        if (resource === undefined) throw new Error(`unknown API resource ${ref}`);
        return `${pathOf(resource.ParentId)}/${String(resource.PathPart)}`;
      };
      const result: Record<string, { authorization: unknown; target: string }> = {};
      for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
        const props = method.Properties as Json;
        const uri = JSON.stringify((props.Integration as Json).Uri);
        const target = FUNCTIONS.find((name) => uri.includes(ids[name]));
        result[`${String(props.HttpMethod)} ${pathOf(props.ResourceId)}`] = {
          authorization: props.AuthorizationType,
          target: target ?? uri,
        };
      }
      return result;
    }

    it('routes the commands to the dispatcher and the GETs to the status function, all with AWS_IAM', () => {
      expect(routes()).toEqual({
        'POST /jobs': { authorization: 'AWS_IAM', target: 'dispatcher' },
        'GET /jobs': { authorization: 'AWS_IAM', target: 'status' },
        'DELETE /jobs/{jobId}': { authorization: 'AWS_IAM', target: 'dispatcher' },
        'POST /jobs/{jobId}/redrive': { authorization: 'AWS_IAM', target: 'dispatcher' },
        'POST /jobs/{jobId}/start': { authorization: 'AWS_IAM', target: 'dispatcher' },
        'GET /jobs/{jobId}': { authorization: 'AWS_IAM', target: 'status' },
        'GET /jobs/{jobId}/results': { authorization: 'AWS_IAM', target: 'status' },
      });
    });

    it('requires the jobId path parameter on cancel, redrive and start', () => {
      for (const [method, count] of [
        ['DELETE', 1],
        ['POST', 2],
      ] as const) {
        const matches = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
          (m) => {
            const props = m.Properties as Json;
            return (
              props.HttpMethod === method &&
              (props.RequestParameters as Json | undefined)?.['method.request.path.jobId'] === true
            );
          },
        );
        expect(matches).toHaveLength(count);
        for (const match of matches) {
          expect((match.Properties ?? {}) as Json).toHaveProperty('RequestValidatorId');
        }
      }
    });

    it('requires AWS_IAM on every method, so an unsigned request is rejected', () => {
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
      expect(methods).toHaveLength(7);
      for (const method of methods) {
        const props = method.Properties as Json;
        if (props.HttpMethod === 'OPTIONS') continue; // CORS preflight carries no credentials
        expect(props.AuthorizationType).toBe('AWS_IAM');
      }
    });

    it('uses Lambda proxy integrations', () => {
      for (const method of Object.values(template.findResources('AWS::ApiGateway::Method'))) {
        expect((method.Properties as Json).Integration).toMatchObject({
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
        });
      }
    });

    it('throttles, traces and access-logs the stage', () => {
      const stages = Object.values(template.findResources('AWS::ApiGateway::Stage'));
      expect(stages).toHaveLength(1);
      const stage = (stages[0]?.Properties ?? {}) as { AccessLogSetting?: Json };
      expect(stage).toMatchObject({
        StageName: 'v1',
        TracingEnabled: true,
        AccessLogSetting: { DestinationArn: expect.anything(), Format: expect.any(String) },
        MethodSettings: [
          expect.objectContaining({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: DEFAULT_CONFIG.apiRateLimit,
            ThrottlingBurstLimit: DEFAULT_CONFIG.apiBurstLimit,
          }),
        ],
      });
      const format = JSON.parse(String(stage.AccessLogSetting?.Format)) as Json;
      expect(format).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
        integrationError: '$context.integrationErrorMessage',
        xrayTraceId: '$context.xrayTraceId',
      });
    });

    it('keeps gzip bodies working: decompression on, application/gzip passed through as binary', () => {
      expect(properties(ids.api)).toMatchObject({
        MinimumCompressionSize: 0,
        BinaryMediaTypes: ['application/gzip'],
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    });

    it('does not take over the account-wide API Gateway CloudWatch role', () => {
      expect(template.findResources('AWS::ApiGateway::Account')).toEqual({});
    });
  });

  describe('Input bucket', () => {
    /** The statements of the bucket policy of a bucket. */
    function policyStatements(bucketId: string): Json[] {
      const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter(
        (policy) => describeRef((policy.Properties as Json).Bucket) === `Ref:${bucketId}`,
      );
      const [policy] = policies;
      if (policy === undefined || policies.length !== 1) {
        throw new Error(`expected one policy on ${bucketId}`);
      }
      return ((policy.Properties as Json).PolicyDocument as { Statement: Json[] }).Statement;
    }

    it('is S3-managed encrypted, blocks every public access and enforces bucket ownership', () => {
      expect(properties(ids.inputBucket)).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      });
    });

    it('expires objects with the job retention and aborts unfinished multipart uploads after a day', () => {
      expect(properties(ids.inputBucket).LifecycleConfiguration).toEqual({
        Rules: [
          {
            ExpirationInDays: DEFAULT_CONFIG.jobRetentionDays,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      });
    });

    it('denies every request without TLS, on the bucket and its objects', () => {
      const bucketArn = { 'Fn::GetAtt': [ids.inputBucket, 'Arn'] };
      expect(policyStatements(ids.inputBucket)).toContainEqual({
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
      });
    });

    it('logs its accesses to an encrypted, private, TLS-only log bucket that expires them', () => {
      expect(properties(ids.inputBucket).LoggingConfiguration).toEqual({
        DestinationBucketName: { Ref: ids.accessLogBucket },
        LogFilePrefix: 'input-bucket/',
      });
      expect(properties(ids.accessLogBucket)).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 90, Status: 'Enabled' }] },
      });
      expect(policyStatements(ids.accessLogBucket)).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      );
    });

    it('is retained when the stack is deleted, by default', () => {
      expect(template.toJSON().Resources[ids.inputBucket]).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('Outputs', () => {
    it('give the API URL, the table name, the queue URLs and the dashboard', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
      const byName = Object.fromEntries(
        Object.entries(outputs).map(([name, output]) => [name, output.Value]),
      );
      expect(byName).toMatchObject({
        TableName: { Ref: ids.table },
        InputBucketName: { Ref: ids.inputBucket },
        WorkQueueUrl: { Ref: ids.workQueue },
        DeadLetterQueueUrl: { Ref: ids.deadLetterQueue },
        ParkingQueueUrl: { Ref: ids.parkingQueue },
        DashboardName: { Ref: logicalId(stack.observability.dashboard) },
      });
      expect(JSON.stringify(byName.ApiUrl)).toContain(ids.api);
      expect(JSON.stringify(byName.ApiUrl)).toContain(logicalId(stack.api.deploymentStage));
    });
  });
});

describe('Stack: Fanout (operator-allowed input buckets, 30-day retention)', () => {
  const allowed = ['arn:aws:s3:::lab-inputs', 'arn:aws-cn:s3:::archive.example'];
  let configured: FanoutStack;
  let configuredTemplate: Template;

  beforeAll(() => {
    configured = testStack({
      context: { 'fanout:inputBucketArns': allowed.join(','), 'fanout:jobRetentionDays': '30' },
    }).stack;
    configuredTemplate = Template.fromStack(configured);
  });

  function roleOf(fn: { readonly function: { readonly role?: unknown } }): string {
    return logicalId(fn.function.role as { node: { defaultChild?: unknown } });
  }

  it('lets the worker GetObject on the input uploads and every object of the allowed buckets, only', () => {
    const grants = grantsOfRole(configuredTemplate, roleOf(configured.worker));
    const s3 = Object.fromEntries(
      Object.entries(grants).filter(([action]) => action.startsWith('s3:')),
    );
    const uploads = JSON.stringify({
      'Fn::Join': [
        '',
        [{ 'Fn::GetAtt': [logicalId(configured.inputBucket), 'Arn'] }, '/uploads/*'],
      ],
    });
    expect(s3).toEqual({
      's3:GetObject': [...allowed.map((arn) => `${arn}/*`), uploads].sort(),
    });
  });

  it('lets the dispatcher look up objects of the allowed buckets but upload only into its own', () => {
    const grants = grantsOfRole(configuredTemplate, roleOf(configured.dispatcher));
    expect(grants['s3:GetObject']).toEqual(
      expect.arrayContaining(allowed.map((arn) => `${arn}/*`)),
    );
    for (const action of ['s3:PutObject', 's3:AbortMultipartUpload']) {
      expect(grants[action]).toHaveLength(1);
      expect(grants[action]?.[0]).toContain('/uploads/*');
    }
  });

  it('gives the readers the allowed ARNs in ALLOWED_INPUT_BUCKET_ARNS', () => {
    for (const fn of [configured.worker, configured.dispatcher]) {
      const resource = configuredTemplate.toJSON().Resources[logicalId(fn.function)] as {
        Properties: { Environment: { Variables: Json } };
      };
      expect(resource.Properties.Environment.Variables.ALLOWED_INPUT_BUCKET_ARNS).toBe(
        allowed.join(','),
      );
    }
  });

  it('expires uploaded inputs with the configured retention', () => {
    const bucket = configuredTemplate.toJSON().Resources[logicalId(configured.inputBucket)] as {
      Properties: Json;
    };
    expect(bucket.Properties.LifecycleConfiguration).toMatchObject({
      Rules: [{ ExpirationInDays: 30 }],
    });
  });
});
