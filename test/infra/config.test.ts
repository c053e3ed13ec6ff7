/**
 * The stack's configuration: defaults, parsing of context strings, precedence, and a
 * failing synth with a sentence naming the setting for every bad value.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_NUMBERS_PER_CHUNK } from '#commons/limits.ts';
import {
  CONTEXT_KEYS,
  chunkRetrySeconds,
  DEFAULT_CONFIG,
  DLQ_CONSUMER_ATTEMPTS,
  deadLetterMaxReceiveCount,
  type FanoutConfig,
  oldestMessageAgeAlarmSeconds,
  resolveConfig,
  visibilityTimeoutSeconds,
} from '#infra/config.ts';
import { FanoutStack } from '#infra/fanout-stack.ts';
import { logicalId, testStack } from './support.ts';

function configFromContext(context: Record<string, unknown>): FanoutConfig {
  return resolveConfig(new App({ context }).node);
}

describe('Function: resolveConfig', () => {
  it('returns the documented defaults when nothing is set', () => {
    expect(configFromContext({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({
      workerMemoryMb: 3538,
      workerTimeoutSeconds: 120,
      batchSize: 5,
      maxBatchingWindowSeconds: 0,
      maxConcurrency: 50,
      numbersPerChunk: 10_000,
      jobRetentionDays: 7,
      maxReceiveCount: 3,
      apiRateLimit: 10,
      apiBurstLimit: 20,
      jobDeadlineSeconds: 3600,
      idempotencyExpirySeconds: 3600,
      alarmTopicArn: undefined,
      inputBucketArns: [],
      adminPrincipalArns: [],
      removalPolicy: 'retain',
      logLevel: 'INFO',
    });
  });

  it('reads the allowed input buckets from a comma-separated context value or a list', () => {
    expect(
      configFromContext({
        'fanout:inputBucketArns':
          ' arn:aws:s3:::lab-inputs , arn:aws:s3:::archive,arn:aws:s3:::lab-inputs',
      }).inputBucketArns,
    ).toEqual(['arn:aws:s3:::lab-inputs', 'arn:aws:s3:::archive']);
    expect(
      configFromContext({ 'fanout:inputBucketArns': ['arn:aws-us-gov:s3:::gov-inputs'] })
        .inputBucketArns,
    ).toEqual(['arn:aws-us-gov:s3:::gov-inputs']);
    expect(configFromContext({ 'fanout:inputBucketArns': '' }).inputBucketArns).toEqual([]);
  });

  it('reads the operators from a comma-separated context value, an assumed-role session as its role', () => {
    expect(
      configFromContext({
        'fanout:adminPrincipalArns':
          'arn:aws:iam::123456789012:user/alice, arn:aws:sts::123456789012:assumed-role/ops/s1',
      }).adminPrincipalArns,
    ).toEqual(['arn:aws:iam::123456789012:user/alice', 'arn:aws:iam::123456789012:role/ops']);
    expect(configFromContext({ 'fanout:adminPrincipalArns': '' }).adminPrincipalArns).toEqual([]);
  });

  it('fails the synth with a sentence naming a bad operator ARN', () => {
    expect(() => configFromContext({ 'fanout:adminPrincipalArns': 'alice' })).toThrow(
      /fanout:adminPrincipalArns.* is not valid: "alice" is not an IAM principal ARN such as arn:aws:iam::123456789012:role\/operator\.$/,
    );
  });

  it('accepts an SNS topic ARN for the alarms, and treats an empty one as none', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:on-call';
    expect(configFromContext({ 'fanout:alarmTopicArn': arn }).alarmTopicArn).toBe(arn);
    expect(configFromContext({ 'fanout:alarmTopicArn': '' }).alarmTopicArn).toBeUndefined();
    expect(
      configFromContext({ 'fanout:alarmTopicArn': 'arn:aws-cn:sns:cn-north-1:123456789012:ops' })
        .alarmTopicArn,
    ).toBe('arn:aws-cn:sns:cn-north-1:123456789012:ops');
  });

  it('parses the deadline and the idempotency window from strings', () => {
    const config = configFromContext({
      'fanout:jobDeadlineSeconds': '7200',
      'fanout:idempotencyExpirySeconds': '120',
    });
    expect(config).toMatchObject({ jobDeadlineSeconds: 7200, idempotencyExpirySeconds: 120 });
  });

  it('parses numbers given as strings on the command line (-c key=value)', () => {
    const config = configFromContext({
      'fanout:workerMemoryMb': '5307',
      'fanout:apiRateLimit': '2.5',
    });
    expect(config.workerMemoryMb).toBe(5307);
    expect(config.apiRateLimit).toBe(2.5);
  });

  it('lets stack props win over context', () => {
    const app = new App({ context: { 'fanout:batchSize': 7 } });
    expect(resolveConfig(app.node, { batchSize: 2 }).batchSize).toBe(2);
    expect(resolveConfig(app.node).batchSize).toBe(7);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(configFromContext({}))).toBe(true);
  });

  it('has one fanout:* context key per setting', () => {
    for (const [key, contextKey] of Object.entries(CONTEXT_KEYS)) {
      expect(contextKey).toBe(`fanout:${key}`);
    }
    expect(Object.keys(CONTEXT_KEYS).sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
  });

  it.each([
    ['workerMemoryMb', 64, 'must be an integer from 128 to 10240, got 64.'],
    ['workerMemoryMb', 10_241, 'must be an integer from 128 to 10240, got 10241.'],
    ['workerMemoryMb', 'lots', 'must be a number, got "lots".'],
    ['workerTimeoutSeconds', 0, 'must be an integer from 1 to 900, got 0.'],
    ['workerTimeoutSeconds', 901, 'must be an integer from 1 to 900, got 901.'],
    ['batchSize', 0, 'must be an integer from 1 to 10000, got 0.'],
    ['batchSize', 2.5, 'must be an integer from 1 to 10000, got 2.5.'],
    ['maxBatchingWindowSeconds', 301, 'must be an integer from 0 to 300, got 301.'],
    ['maxConcurrency', 1, 'must be an integer from 2 to 1000, got 1.'],
    ['maxConcurrency', 1_001, 'must be an integer from 2 to 1000, got 1001.'],
    ['numbersPerChunk', 0, `must be an integer from 1 to ${MAX_NUMBERS_PER_CHUNK}, got 0.`],
    [
      'numbersPerChunk',
      MAX_NUMBERS_PER_CHUNK + 1,
      `must be an integer from 1 to ${MAX_NUMBERS_PER_CHUNK}, got ${MAX_NUMBERS_PER_CHUNK + 1}.`,
    ],
    ['jobRetentionDays', 0, 'must be an integer from 1 to 3650, got 0.'],
    ['maxReceiveCount', 0, 'must be an integer from 1 to 1000, got 0.'],
    ['apiRateLimit', 0, 'must be more than 0 and at most 10000 requests per second, got 0.'],
    ['apiBurstLimit', 5_001, 'must be an integer from 1 to 5000, got 5001.'],
    ['jobDeadlineSeconds', 59, 'must be an integer from 60 to 86400, got 59.'],
    ['jobDeadlineSeconds', 86_401, 'must be an integer from 60 to 86400, got 86401.'],
    ['jobDeadlineSeconds', '1h', 'must be a number, got "1h".'],
    ['idempotencyExpirySeconds', 59, 'must be an integer from 60 to 604800, got 59.'],
    ['idempotencyExpirySeconds', 604_801, 'must be an integer from 60 to 604800, got 604801.'],
    [
      'alarmTopicArn',
      'on-call',
      'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got "on-call".',
    ],
    [
      'alarmTopicArn',
      'arn:aws:sqs:eu-west-1:123456789012:on-call',
      'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got "arn:aws:sqs:eu-west-1:123456789012:on-call".',
    ],
    [
      'alarmTopicArn',
      42,
      'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got 42.',
    ],
    [
      'inputBucketArns',
      'arn:aws:s3:::lab-inputs,lab-archive',
      'is not valid: "lab-archive" is not an S3 bucket ARN such as arn:aws:s3:::my-bucket (no key, no wildcard).',
    ],
    [
      'inputBucketArns',
      'arn:aws:s3:::lab-inputs/*',
      'is not valid: "arn:aws:s3:::lab-inputs/*" is not an S3 bucket ARN such as arn:aws:s3:::my-bucket (no key, no wildcard).',
    ],
    [
      'inputBucketArns',
      'arn:aws:s3:::Lab_Inputs',
      'is not valid: "arn:aws:s3:::Lab_Inputs" is not an S3 bucket ARN such as arn:aws:s3:::my-bucket (no key, no wildcard).',
    ],
    ['inputBucketArns', 7, 'must be a comma-separated list of S3 bucket ARNs, got 7.'],
    ['removalPolicy', 'delete', 'must be one of "retain", "destroy", got "delete".'],
    ['logLevel', 'TRACE', 'must be one of "DEBUG", "INFO", "WARN", "ERROR", got "TRACE".'],
  ])('throws naming %s when it is %s', (key, value, expected) => {
    const contextKey = `fanout:${key}`;
    expect(() => configFromContext({ [contextKey]: value })).toThrow(
      `The fanout setting "${key}" (context ${contextKey}) ${expected}`,
    );
  });

  it('throws naming the prop when a stack prop is bad', () => {
    expect(() => resolveConfig(new App().node, { maxReceiveCount: -1 })).toThrow(
      'The fanout setting "maxReceiveCount" (stack prop maxReceiveCount) must be an integer from 1 to 1000, got -1.',
    );
  });

  it('throws naming both settings when a batch over 10 has no batching window', () => {
    expect(() => configFromContext({ 'fanout:batchSize': 11 })).toThrow(
      'The fanout setting "batchSize" (context fanout:batchSize) = 11 needs "maxBatchingWindowSeconds" (default) = 0 to be at least 1: Lambda\'s SQS event source takes a batch size over 10 only with a batching window.',
    );
    expect(
      configFromContext({ 'fanout:batchSize': 11, 'fanout:maxBatchingWindowSeconds': 1 }).batchSize,
    ).toBe(11);
  });

  it('throws naming the aggregator timeout when the worker would not outlive it', () => {
    expect(() => configFromContext({ 'fanout:workerTimeoutSeconds': 30 })).toThrow(
      'The fanout setting "workerTimeoutSeconds" (context fanout:workerTimeoutSeconds) = 30 must be more than the aggregator\'s timeout (AGGREGATOR_TIMEOUT_SECONDS = 30 s): the worker waits for the aggregator on a synchronous Invoke, so it must outlive one.',
    );
    expect(configFromContext({ 'fanout:workerTimeoutSeconds': 31 }).workerTimeoutSeconds).toBe(31);
  });

  it("throws naming both settings when the job deadline is shorter than a chunk's retries", () => {
    // 3 deliveries x (6 x 900 + 0) s = 16200 s > 3600 s.
    expect(() =>
      configFromContext({
        'fanout:workerTimeoutSeconds': '900',
        'fanout:jobDeadlineSeconds': '3600',
      }),
    ).toThrow(
      'The fanout setting "jobDeadlineSeconds" (context fanout:jobDeadlineSeconds) = 3600 is shorter than the 16200 s a failing chunk may spend in retries: "maxReceiveCount" (default) = 3 deliveries x the work queue\'s visibility timeout of 5400 s (6 x "workerTimeoutSeconds" (context fanout:workerTimeoutSeconds) = 900, plus the batching window of 0 s). The job would fail on its deadline before its chunk reaches the DLQ; raise "jobDeadlineSeconds" to at least 16200, or lower the others.',
    );
  });

  it("derives an unset job deadline from a chunk's retries when they take longer than 3600 s", () => {
    expect(configFromContext({ 'fanout:workerTimeoutSeconds': 900 }).jobDeadlineSeconds).toBe(
      16_200,
    );
    expect(
      configFromContext({ 'fanout:workerTimeoutSeconds': 900, 'fanout:jobDeadlineSeconds': 16_200 })
        .jobDeadlineSeconds,
    ).toBe(16_200);
  });

  it('throws naming both settings when the retries are longer than any job deadline', () => {
    // 30 deliveries x (6 x 900) s = 162000 s > 86400 s, the longest deadline.
    expect(() =>
      configFromContext({ 'fanout:workerTimeoutSeconds': 900, 'fanout:maxReceiveCount': 30 }),
    ).toThrow(
      'The fanout settings "maxReceiveCount" (context fanout:maxReceiveCount) = 30 and "workerTimeoutSeconds" (context fanout:workerTimeoutSeconds) = 900 let a failing chunk retry for 30 x 5400 s (the visibility timeout) = 162000 s, longer than the longest job deadline (86400 s); lower one of them.',
    );
  });

  it('throws naming both settings when an idempotency key would outlive its job', () => {
    expect(() =>
      configFromContext({
        'fanout:jobRetentionDays': 1,
        'fanout:idempotencyExpirySeconds': 86_401,
      }),
    ).toThrow(
      'The fanout setting "idempotencyExpirySeconds" (context fanout:idempotencyExpirySeconds) = 86401 is longer than "jobRetentionDays" (context fanout:jobRetentionDays) = 1 (86400 s): an Idempotency-Key would answer with a job whose data has expired.',
    );
    expect(
      configFromContext({ 'fanout:jobRetentionDays': 1, 'fanout:idempotencyExpirySeconds': 86_400 })
        .idempotencyExpirySeconds,
    ).toBe(86_400);
  });

  it('throws when the burst is below the rate', () => {
    expect(() =>
      configFromContext({ 'fanout:apiRateLimit': 50, 'fanout:apiBurstLimit': 40 }),
    ).toThrow(
      'The fanout setting "apiBurstLimit" (context fanout:apiBurstLimit) (40) must be at least "apiRateLimit" (50)',
    );
  });
});

describe('Function: visibilityTimeoutSeconds', () => {
  it('returns 6x the worker timeout plus the batching window', () => {
    expect(
      visibilityTimeoutSeconds({
        ...DEFAULT_CONFIG,
        workerTimeoutSeconds: 100,
        maxBatchingWindowSeconds: 7,
      }),
    ).toBe(607);
  });

  it('throws naming both settings when the result would pass the SQS maximum of 12 hours', () => {
    // Out of today's ranges (timeout <= 900 s): the guard for a change of those ranges.
    expect(() =>
      visibilityTimeoutSeconds({ workerTimeoutSeconds: 7_200, maxBatchingWindowSeconds: 1 }),
    ).toThrow(
      'The work queue\'s visibility timeout, 6 x "workerTimeoutSeconds" (7200) + "maxBatchingWindowSeconds" (1) = 43201 s, is above SQS\'s maximum of 43200 s (12 hours).',
    );
  });
});

describe('Function: chunkRetrySeconds', () => {
  it('returns maxReceiveCount x the visibility timeout', () => {
    // 3 x (6 x 120 + 0)
    expect(chunkRetrySeconds(DEFAULT_CONFIG)).toBe(2_160);
  });
});

describe('Function: oldestMessageAgeAlarmSeconds', () => {
  it('returns maxReceiveCount x the visibility timeout when that is below the deadline', () => {
    // 3 x (6 x 120 + 0) = 2160 < 3600
    expect(oldestMessageAgeAlarmSeconds(DEFAULT_CONFIG)).toBe(2160);
  });

  it('returns the job deadline when the deliveries may take longer', () => {
    expect(
      oldestMessageAgeAlarmSeconds({
        ...DEFAULT_CONFIG,
        maxReceiveCount: 10,
        jobDeadlineSeconds: 900,
      }),
    ).toBe(900);
  });
});

describe('Function: deadLetterMaxReceiveCount', () => {
  it('returns the work queue receives plus the DLQ consumer attempts', () => {
    expect(deadLetterMaxReceiveCount(DEFAULT_CONFIG)).toBe(3 + DLQ_CONSUMER_ATTEMPTS);
  });

  it('returns at most 1000, the SQS maximum', () => {
    expect(deadLetterMaxReceiveCount({ ...DEFAULT_CONFIG, maxReceiveCount: 999 })).toBe(1000);
  });
});

describe('Stack: Fanout (configured through context)', () => {
  let template: Template;
  let stack: FanoutStack;

  beforeAll(() => {
    ({ stack } = testStack({
      context: {
        'fanout:workerMemoryMb': '5307',
        'fanout:workerTimeoutSeconds': 300,
        'fanout:batchSize': 20,
        'fanout:maxBatchingWindowSeconds': 10,
        'fanout:maxConcurrency': 200,
        'fanout:numbersPerChunk': 2_500,
        'fanout:jobRetentionDays': 30,
        'fanout:maxReceiveCount': 5,
        'fanout:apiRateLimit': 100,
        'fanout:apiBurstLimit': 200,
        'fanout:jobDeadlineSeconds': 10_000,
        'fanout:idempotencyExpirySeconds': 600,
        'fanout:removalPolicy': 'destroy',
        'fanout:logLevel': 'DEBUG',
      },
    }));
    template = Template.fromStack(stack);
  });

  it('applies the worker, batching and queue settings, deriving the visibility timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 5307,
      Timeout: 300,
      Environment: { Variables: { POWERTOOLS_LOG_LEVEL: 'DEBUG' } },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 20,
      MaximumBatchingWindowInSeconds: 10,
      ScalingConfig: { MaximumConcurrency: 200 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 6 * 300 + 10,
      RedrivePolicy: { maxReceiveCount: 5 },
    });
    // The DLQ's own redrive follows: the work queue's receives plus the consumer's tries.
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 5 + DLQ_CONSUMER_ATTEMPTS },
    });
  });

  it('derives the oldest-message alarm from the deliveries, capped by the deadline', () => {
    // min(5 x 1810, 10000)
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'Fanout-WorkQueueOldestMessageAge',
      Threshold: 9050,
    });
  });

  it('passes the chunk size, retention, deadline and idempotency window to the dispatcher', () => {
    const dispatcher = template.toJSON().Resources[logicalId(stack.dispatcher.function)] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    expect(dispatcher.Properties.Environment.Variables).toMatchObject({
      NUMBERS_PER_CHUNK: '2500',
      JOB_RETENTION_DAYS: '30',
      JOB_DEADLINE_SECONDS: '10000',
      IDEMPOTENCY_EXPIRY_SECONDS: '600',
    });
  });

  it('throttles the stage at the configured rate and burst', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [{ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }],
    });
  });

  it('deletes the table and the log groups with the stack when removalPolicy is destroy', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup.DeletionPolicy).toBe('Delete');
    }
  });
});

describe('Stack: Fanout (bad configuration)', () => {
  it('fails the synth with a sentence naming both settings when they conflict', () => {
    const app = new App({
      context: { 'fanout:workerTimeoutSeconds': '900', 'fanout:jobDeadlineSeconds': '3600' },
    });
    expect(() => new FanoutStack(app, 'Fanout')).toThrow(
      /"jobDeadlineSeconds" \(context fanout:jobDeadlineSeconds\) = 3600 is shorter than .* "workerTimeoutSeconds" \(context fanout:workerTimeoutSeconds\) = 900/,
    );
  });

  it('fails the synth with a sentence naming the setting', () => {
    const app = new App({ context: { 'fanout:maxConcurrency': 5000 } });
    expect(() => new FanoutStack(app, 'Fanout')).toThrow(
      'The fanout setting "maxConcurrency" (context fanout:maxConcurrency) must be an integer from 2 to 1000, got 5000.',
    );
  });
});
