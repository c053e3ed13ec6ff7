/**
 * What an operator sees: the dashboard's widgets and the metrics they plot, and every
 * alarm's metric, threshold and comparison, read from the synthesized template.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '#infra/config.ts';
import type { FanoutStack } from '#infra/fanout-stack.ts';
import { dashboardBody, logicalId, testStack } from './support.ts';

type Json = Record<string, unknown>;

interface Widget {
  readonly type: string;
  readonly properties: {
    readonly title?: string;
    readonly metrics?: unknown[][];
    readonly alarms?: unknown[];
    readonly annotations?: { readonly horizontal?: Json[] };
  };
}

const FUNCTION_NAMES = [
  'Dispatcher',
  'Status',
  'Worker',
  'Aggregator',
  'DlqConsumer',
  'Sweeper',
] as const;

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:on-call';

let stack: FanoutStack;
let template: Template;
let resources: Record<string, { Type: string; Properties: Json }>;

beforeAll(() => {
  stack = testStack().stack;
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as typeof resources;
});

function functionIdOf(name: (typeof FUNCTION_NAMES)[number]): string {
  const construct = {
    Dispatcher: stack.dispatcher,
    Status: stack.status,
    Worker: stack.worker,
    Aggregator: stack.aggregator,
    DlqConsumer: stack.dlqConsumer,
    Sweeper: stack.sweeper,
  }[name];
  return logicalId(construct.function);
}

function widgets(): Widget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  return (dashboardBody(dashboards[0] ?? {}) as { widgets: Widget[] }).widgets;
}

function widget(title: string): Widget {
  const found = widgets().find((candidate) => candidate.properties.title === title);
  if (found === undefined) throw new Error(`no widget titled ${title}`);
  return found;
}

/** The metric lines of a graph, each without its trailing options object. */
function metricLines(title: string): string[] {
  return (widget(title).properties.metrics ?? []).map((line) =>
    line.filter((part) => typeof part === 'string').join(' '),
  );
}

/** The options (stat, label, yAxis, id...) of the metric lines that start with `prefix`. */
function optionsOf(title: string, prefix: string): Json[] {
  return (widget(title).properties.metrics ?? [])
    .filter((line) =>
      line
        .filter((part) => typeof part === 'string')
        .join(' ')
        .startsWith(prefix),
    )
    .map((line) => (line.find((part) => typeof part === 'object') ?? {}) as Json);
}

/** Alarm properties by alarm id (the part after `Fanout-` in its name). */
function alarms(): Record<string, Json> {
  const byId: Record<string, Json> = {};
  for (const resource of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
    const props = resource.Properties as Json;
    byId[String(props.AlarmName).replace(/^Fanout-/, '')] = props;
  }
  return byId;
}

function queueName(queueId: string) {
  return { 'Fn::GetAtt': [queueId, 'QueueName'] };
}

describe('Dashboard', () => {
  it('has the throughput, errors, queue, dead-letter, latency and outcome widgets', () => {
    expect(widgets().map((w) => w.properties.title ?? `(${w.type})`)).toEqual([
      '(text)',
      'Throughput',
      'Job outcomes',
      'Errors',
      'Throttles',
      'Work queue depth',
      'Age of oldest work message',
      'Dead-letter queues',
      'Chunk latency',
      'Function duration (p99)',
      'Alarms',
    ]);
  });

  it('plots throughput: numbers squared (EMF, service dimension) and API requests', () => {
    const stage = logicalId(stack.api.deploymentStage);
    expect(metricLines('Throughput')).toEqual([
      'fanout NumbersSquared service fanout',
      `AWS/ApiGateway Count ApiName fanout Stage Ref:${stage}`,
    ]);
    expect(optionsOf('Throughput', 'fanout NumbersSquared')).toEqual([
      { label: 'numbers squared', period: 60, stat: 'Sum' },
    ]);
  });

  it('plots errors of every function, and the API 4xx and 5xx', () => {
    const stage = logicalId(stack.api.deploymentStage);
    expect(metricLines('Errors')).toEqual([
      ...FUNCTION_NAMES.map((name) => `AWS/Lambda Errors FunctionName Ref:${functionIdOf(name)}`),
      `AWS/ApiGateway 4XXError ApiName fanout Stage Ref:${stage}`,
      `AWS/ApiGateway 5XXError ApiName fanout Stage Ref:${stage}`,
    ]);
    expect(metricLines('Throttles')).toEqual(
      FUNCTION_NAMES.map((name) => `AWS/Lambda Throttles FunctionName Ref:${functionIdOf(name)}`),
    );
  });

  it('plots the work queue depth and the age of its oldest message against the alarm threshold', () => {
    const workQueue = `GetAtt:${logicalId(stack.workQueue)}.QueueName`;
    expect(metricLines('Work queue depth')).toEqual([
      `AWS/SQS ApproximateNumberOfMessagesVisible QueueName ${workQueue}`,
      `AWS/SQS ApproximateNumberOfMessagesNotVisible QueueName ${workQueue}`,
    ]);
    expect(metricLines('Age of oldest work message')).toEqual([
      `AWS/SQS ApproximateAgeOfOldestMessage QueueName ${workQueue}`,
    ]);
    expect(widget('Age of oldest work message').properties.annotations?.horizontal).toEqual([
      {
        value: alarms().WorkQueueOldestMessageAge?.Threshold,
        label: 'alarm threshold',
        yAxis: 'left',
      },
    ]);
  });

  it('plots the depth of every dead-letter queue and the dead letters received', () => {
    const lines = metricLines('Dead-letter queues');
    for (const queue of [stack.deadLetterQueue, stack.parkingQueue, stack.sweeperDeadLetterQueue]) {
      const name = `GetAtt:${logicalId(queue)}.QueueName`;
      expect(lines).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName ${name}`);
      expect(lines).toContain(`AWS/SQS ApproximateNumberOfMessagesNotVisible QueueName ${name}`);
    }
    expect(lines).toContain(
      `AWS/SQS NumberOfMessagesReceived QueueName GetAtt:${logicalId(stack.deadLetterQueue)}.QueueName`,
    );
  });

  it('plots the chunk latency percentiles (EMF, milliseconds)', () => {
    expect(metricLines('Chunk latency')).toEqual([
      'fanout ChunkLatency service fanout',
      'fanout ChunkLatency service fanout',
      'fanout ChunkLatency service fanout',
    ]);
    expect(optionsOf('Chunk latency', 'fanout ChunkLatency').map((o) => o.stat)).toEqual([
      'p50',
      'p90',
      'p99',
    ]);
  });

  it('plots the job outcomes, retries and failed chunks (EMF)', () => {
    expect(metricLines('Job outcomes')).toEqual(
      [
        'JobsSubmitted',
        'JobsSucceeded',
        'JobsFailed',
        'JobsCancelled',
        'ChunkRetries',
        'FailedChunks',
      ].map((metric) => `fanout ${metric} service fanout`),
    );
  });

  it('shows the state of every alarm', () => {
    const shown = (widget('Alarms').properties.alarms ?? []).map(String).sort();
    const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    expect(shown).toEqual(alarmIds.map((id) => `GetAtt:${id}.Arn`).sort());
  });
});

describe('Alarms', () => {
  /** The single metric of an alarm (namespace, name, dimensions, stat, period). */
  function metricOf(alarm: Json | undefined): Json {
    const metrics = (alarm?.Metrics ?? []) as Array<{ MetricStat?: Json; ReturnData?: boolean }>;
    expect(metrics).toHaveLength(1);
    const stat = metrics[0]?.MetricStat ?? {};
    const metric = stat.Metric as Json;
    return { ...metric, Stat: stat.Stat, Period: stat.Period };
  }

  const greaterThan = (threshold: number) => ({
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanThreshold',
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  });

  it('are exactly: errors and throttles per function, oldest message age, DLQ depths, dead letters', () => {
    expect(Object.keys(alarms()).sort()).toEqual(
      [
        ...FUNCTION_NAMES.flatMap((name) => [`${name}Errors`, `${name}Throttles`]),
        'WorkQueueOldestMessageAge',
        'DeadLetterQueueDepth',
        'ParkingQueueDepth',
        'SweeperDeadLetterQueueDepth',
        'ChunksDeadLettered',
      ].sort(),
    );
  });

  it.each(FUNCTION_NAMES)('fire on any error or throttle of the %s in a minute', (name) => {
    const all = alarms();
    for (const metricName of ['Errors', 'Throttles']) {
      const alarm = all[`${name}${metricName}`];
      expect(alarm).toMatchObject(greaterThan(0));
      expect(metricOf(alarm)).toEqual({
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionIdOf(name) } }],
        Stat: 'Sum',
        Period: 60,
      });
    }
  });

  it('fire when the oldest work message outlives all its deliveries (maxReceiveCount x visibility)', () => {
    const alarm = alarms().WorkQueueOldestMessageAge;
    const visibility = resources[logicalId(stack.workQueue)]?.Properties.VisibilityTimeout;
    expect(visibility).toBe(720);
    // min(3 x 720, jobDeadlineSeconds 3600): derived from the worker timeout, not a literal.
    expect(alarm).toMatchObject(greaterThan(DEFAULT_CONFIG.maxReceiveCount * 720));
    expect(alarm?.Threshold).toBeLessThanOrEqual(DEFAULT_CONFIG.jobDeadlineSeconds);
    expect(metricOf(alarm)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName(logicalId(stack.workQueue)) }],
      Stat: 'Maximum',
      Period: 60,
    });
  });

  it.each([
    ['DeadLetterQueueDepth', 'deadLetterQueue'],
    ['ParkingQueueDepth', 'parkingQueue'],
    ['SweeperDeadLetterQueueDepth', 'sweeperDeadLetterQueue'],
  ] as const)('%s fires on any message in the queue, visible or in flight', (alarmId, queue) => {
    const alarm = alarms()[alarmId];
    expect(alarm).toMatchObject(greaterThan(0));
    const metrics = alarm?.Metrics as Array<
      Json & { MetricStat?: { Metric: Json; Stat: string; Period: number } }
    >;
    const expression = metrics.find((m) => m.Expression !== undefined);
    expect(expression).toMatchObject({ ReturnData: true });
    const inputs = metrics.filter((m) => m.MetricStat !== undefined);
    expect(
      inputs.map((m) => ({
        id: m.Id,
        name: m.MetricStat?.Metric.MetricName,
        stat: m.MetricStat?.Stat,
        period: m.MetricStat?.Period,
      })),
    ).toEqual([
      {
        id: expect.any(String),
        name: 'ApproximateNumberOfMessagesVisible',
        stat: 'Maximum',
        period: 60,
      },
      {
        id: expect.any(String),
        name: 'ApproximateNumberOfMessagesNotVisible',
        stat: 'Maximum',
        period: 60,
      },
    ]);
    expect(expression?.Expression).toBe(`${String(inputs[0]?.Id)} + ${String(inputs[1]?.Id)}`);
    for (const input of inputs) {
      expect(input.MetricStat?.Metric).toMatchObject({
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: queueName(logicalId(stack[queue])) }],
      });
    }
  });

  it('fires when the DLQ consumer receives any dead letter, even one it handles at once', () => {
    const alarm = alarms().ChunksDeadLettered;
    expect(alarm).toMatchObject(greaterThan(0));
    expect(metricOf(alarm)).toEqual({
      Namespace: 'AWS/SQS',
      MetricName: 'NumberOfMessagesReceived',
      Dimensions: [{ Name: 'QueueName', Value: queueName(logicalId(stack.deadLetterQueue)) }],
      Stat: 'Sum',
      Period: 60,
    });
  });

  it('notify nobody when no alarm topic is configured', () => {
    for (const alarm of Object.values(alarms())) {
      expect(alarm.AlarmActions).toBeUndefined();
      expect(alarm.OKActions).toBeUndefined();
    }
    expect(template.findResources('AWS::SNS::Topic')).toEqual({});
  });

  it('notify the configured topic on ALARM and on OK, every one of them', () => {
    const configured = Template.fromStack(
      testStack({ context: { 'fanout:alarmTopicArn': TOPIC_ARN } }).stack,
    );
    const configuredAlarms = Object.values(configured.findResources('AWS::CloudWatch::Alarm'));
    expect(configuredAlarms).toHaveLength(Object.keys(alarms()).length);
    for (const alarm of configuredAlarms) {
      expect(alarm.Properties).toMatchObject({ AlarmActions: [TOPIC_ARN], OKActions: [TOPIC_ARN] });
    }
    // The topic is the operator's: the stack creates none.
    expect(configured.findResources('AWS::SNS::Topic')).toEqual({});
  });
});
