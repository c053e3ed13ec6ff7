/**
 * The synthesized template of the fanout stack, with the default configuration: the
 * properties the pipeline's correctness and security rest on.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../infra/config.ts';
import type { FanoutStack } from '../../infra/fanout-stack.ts';
import { describeRef, grantsOfRole, logicalId, testStack } from './support.ts';

type Json = Record<string, unknown>;

let stack: FanoutStack;
let template: Template;
let ids: {
  table: string;
  workQueue: string;
  deadLetterQueue: string;
  api: string;
  dispatcher: string;
  status: string;
  worker: string;
  aggregator: string;
};

beforeAll(() => {
  stack = testStack().stack;
  template = Template.fromStack(stack);
  ids = {
    table: logicalId(stack.table),
    workQueue: logicalId(stack.workQueue),
    deadLetterQueue: logicalId(stack.deadLetterQueue),
    api: logicalId(stack.api),
    dispatcher: logicalId(stack.dispatcher.function),
    status: logicalId(stack.status.function),
    worker: logicalId(stack.worker.function),
    aggregator: logicalId(stack.aggregator.function),
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

function roleIdOf(name: 'dispatcher' | 'status' | 'worker' | 'aggregator'): string {
  const role = functionProperties(name).Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

describe('Stack: Fanout (default configuration)', () => {
  describe('Lambda functions', () => {
    it('are exactly the four handlers, none added by a helper construct', () => {
      expect(Object.keys(template.findResources('AWS::Lambda::Function')).sort()).toEqual(
        [ids.dispatcher, ids.status, ids.worker, ids.aggregator].sort(),
      );
    });

    it('run nodejs24.x on arm64 with active tracing, every one of them', () => {
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
        });
      }
    });

    it('log to their own log group kept one month', () => {
      for (const name of ['dispatcher', 'status', 'worker', 'aggregator'] as const) {
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
        JOB_RETENTION_DAYS: String(DEFAULT_CONFIG.jobRetentionDays),
      });
      expect(env('status')).toEqual({ ...common, TABLE_NAME: { Ref: ids.table } });
      expect(env('worker')).toEqual({
        ...common,
        TABLE_NAME: { Ref: ids.table },
        AGGREGATOR_FUNCTION_NAME: { Ref: ids.aggregator },
      });
      expect(env('aggregator')).toEqual({ ...common, TABLE_NAME: { Ref: ids.table } });
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
  });

  describe('IAM (least privilege)', () => {
    const xray = { 'xray:PutTelemetryRecords': ['*'], 'xray:PutTraceSegments': ['*'] };
    const logsOf = (name: 'dispatcher' | 'status' | 'worker' | 'aggregator') => {
      const logGroupId = describeRef((functionProperties(name).LoggingConfig as Json).LogGroup);
      const arn = `GetAtt:${logGroupId.replace('Ref:', '')}.Arn`;
      return { 'logs:CreateLogStream': [arn], 'logs:PutLogEvents': [arn] };
    };

    it('lets the dispatcher write jobs and send chunks, nothing more', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('dispatcher'))).toEqual({
        ...logsOf('dispatcher'),
        ...xray,
        'dynamodb:PutItem': [table],
        'dynamodb:UpdateItem': [table],
        'sqs:SendMessage': [`GetAtt:${ids.workQueue}.Arn`],
      });
    });

    it('lets the status function only read the table', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('status'))).toEqual({
        ...logsOf('status'),
        ...xray,
        'dynamodb:GetItem': [table],
        'dynamodb:Query': [table],
      });
    });

    it('lets the worker consume the work queue, read a job and invoke only the aggregator', () => {
      const queue = `GetAtt:${ids.workQueue}.Arn`;
      expect(grantsOfRole(template, roleIdOf('worker'))).toEqual({
        ...logsOf('worker'),
        ...xray,
        'dynamodb:GetItem': [`GetAtt:${ids.table}.Arn`],
        // The unqualified ARN only: no version or alias wildcard (":*").
        'lambda:InvokeFunction': [`GetAtt:${ids.aggregator}.Arn`],
        'sqs:ChangeMessageVisibility': [queue],
        'sqs:DeleteMessage': [queue],
        'sqs:GetQueueAttributes': [queue],
        'sqs:GetQueueUrl': [queue],
        'sqs:ReceiveMessage': [queue],
      });
    });

    it('lets the aggregator run its transaction and complete the job, on the table only', () => {
      const table = `GetAtt:${ids.table}.Arn`;
      expect(grantsOfRole(template, roleIdOf('aggregator'))).toEqual({
        ...logsOf('aggregator'),
        ...xray,
        'dynamodb:ConditionCheckItem': [table],
        'dynamodb:GetItem': [table],
        'dynamodb:PutItem': [table],
        'dynamodb:Query': [table],
        'dynamodb:UpdateItem': [table],
      });
    });

    it('gives the roles no managed policy (not even AWSLambdaBasicExecutionRole)', () => {
      for (const name of ['dispatcher', 'status', 'worker', 'aggregator'] as const) {
        expect(properties(roleIdOf(name)).ManagedPolicyArns).toBeUndefined();
      }
    });

    it('lets only the API invoke the HTTP functions, and nobody invoke the others', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions) {
        const props = permission.Properties as Json;
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

    it('accept 1 MiB messages, explicitly, on both queues', () => {
      expect(properties(ids.workQueue).MaximumMessageSize).toBe(1_048_576);
      expect(properties(ids.deadLetterQueue).MaximumMessageSize).toBe(1_048_576);
    });

    it('are encrypted at rest, the DLQ too', () => {
      expect(properties(ids.workQueue).SqsManagedSseEnabled).toBe(true);
      expect(properties(ids.deadLetterQueue).SqsManagedSseEnabled).toBe(true);
    });

    it('keep dead letters 14 days', () => {
      expect(properties(ids.deadLetterQueue).MessageRetentionPeriod).toBe(14 * 24 * 3600);
    });

    it('deny every request made without TLS, on both queues', () => {
      for (const queueId of [ids.workQueue, ids.deadLetterQueue]) {
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

  describe('Worker event source', () => {
    it('reports batch item failures and applies the configured batch and concurrency', () => {
      const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
      expect(mappings.map((m) => m.Properties)).toEqual([
        {
          EventSourceArn: { 'Fn::GetAtt': [ids.workQueue, 'Arn'] },
          FunctionName: { Ref: ids.worker },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          BatchSize: DEFAULT_CONFIG.batchSize,
          ScalingConfig: { MaximumConcurrency: DEFAULT_CONFIG.maxConcurrency },
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
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        // SSEEnabled with no key: the AWS managed KMS key (aws/dynamodb).
        SSESpecification: { SSEEnabled: true },
      });
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
        const target = ['dispatcher', 'status', 'worker', 'aggregator'].find((name) =>
          uri.includes(ids[name as keyof typeof ids]),
        );
        result[`${String(props.HttpMethod)} ${pathOf(props.ResourceId)}`] = {
          authorization: props.AuthorizationType,
          target: target ?? uri,
        };
      }
      return result;
    }

    it('routes POST /jobs to the dispatcher and the GETs to the status function, all with AWS_IAM', () => {
      expect(routes()).toEqual({
        'POST /jobs': { authorization: 'AWS_IAM', target: 'dispatcher' },
        'GET /jobs/{jobId}': { authorization: 'AWS_IAM', target: 'status' },
        'GET /jobs/{jobId}/results': { authorization: 'AWS_IAM', target: 'status' },
      });
    });

    it('requires AWS_IAM on every method, so an unsigned request is rejected', () => {
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
      expect(methods.length).toBeGreaterThan(0);
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

  describe('Outputs', () => {
    it('give the API URL, the table name and the queue URLs', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
      const byName = Object.fromEntries(
        Object.entries(outputs).map(([name, output]) => [name, output.Value]),
      );
      expect(byName).toMatchObject({
        TableName: { Ref: ids.table },
        WorkQueueUrl: { Ref: ids.workQueue },
        DeadLetterQueueUrl: { Ref: ids.deadLetterQueue },
      });
      expect(JSON.stringify(byName.ApiUrl)).toContain(ids.api);
      expect(JSON.stringify(byName.ApiUrl)).toContain(logicalId(stack.api.deploymentStage));
    });
  });
});
