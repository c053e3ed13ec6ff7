/**
 * What an operator sees of fanout: one CloudWatch dashboard and the alarms that say when
 * to look at it.
 *
 * The dashboard answers, top to bottom: how much work goes through (numbers squared, API
 * requests, job outcomes), what fails (function errors and throttles, API 4xx/5xx), whether
 * work waits (work queue depth, age of its oldest message), what was given up on (the
 * dead-letter queues) and how long a chunk takes.
 *
 * Alarms fire on:
 * - every function's errors and throttles (any in a minute);
 * - the age of the oldest work message above a threshold derived from the worker timeout
 *   (see oldestMessageAgeAlarmSeconds in ../config.ts);
 * - any message in a dead-letter queue (visible or in flight), and any chunk received by
 *   the DLQ consumer: the consumer empties the work DLQ within seconds, faster than SQS's
 *   one-minute depth samples, so depth alone could miss a dead-lettered chunk.
 * With an SNS topic given, every alarm notifies it on ALARM and on OK.
 *
 * Custom metrics are Powertools EMF metrics: namespace POWERTOOLS_METRICS_NAMESPACE, one
 * dimension `service` = POWERTOOLS_SERVICE_NAME (Powertools' default dimension).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  type MetricOptions,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_SERVICE_NAME } from './fanout-function.ts';

/** SQS and Lambda publish these metrics every minute; alarms look at one such period. */
const PERIOD = Duration.minutes(1);

export interface ObservedFunction {
  /** Short name used in alarm ids and legends, e.g. `Worker`. */
  readonly name: string;
  readonly function: IFunction;
}

export interface ObservedDeadLetterQueue {
  /** Short alphanumeric name used in alarm ids and legends, e.g. `DeadLetterQueue`. */
  readonly name: string;
  /** What a message in it means, for the alarm's description. */
  readonly meaning: string;
  readonly queue: IQueue;
}

export interface FanoutObservabilityProps {
  /** Every function of the stack: each gets an errors and a throttles alarm. */
  readonly functions: readonly ObservedFunction[];
  /** The queue of chunks to compute. */
  readonly workQueue: IQueue;
  /** Alarm when the oldest work message is older than this (seconds). */
  readonly oldestMessageAgeAlarmSeconds: number;
  /** The work queue's DLQ, consumed by the DLQ consumer. */
  readonly workDeadLetterQueue: IQueue;
  /** Every dead-letter queue, the work DLQ included: each gets a depth alarm. */
  readonly deadLetterQueues: readonly ObservedDeadLetterQueue[];
  /** The API's stage (request counts, 4xx and 5xx). */
  readonly apiStage: Stage;
  /**
   * Topic every alarm notifies, on ALARM and on OK.
   * @default - no notification
   */
  readonly alarmTopic?: ITopic;
}

/** A Powertools EMF metric of fanout. */
function fanoutMetric(metricName: string, statistic: string, label?: string): Metric {
  return new Metric({
    namespace: POWERTOOLS_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: POWERTOOLS_SERVICE_NAME },
    statistic,
    period: PERIOD,
    label: label ?? metricName,
  });
}

/**
 * Messages in a queue, waiting or being processed (received, not yet deleted). `name`
 * (alphanumeric) keeps the expression's metric ids apart from other queues' in one graph.
 */
function queueDepth(queue: IQueue, name: string): MathExpression {
  const visible = `visible${name}`;
  const inFlight = `inFlight${name}`;
  return new MathExpression({
    expression: `${visible} + ${inFlight}`,
    usingMetrics: {
      [visible]: queue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: PERIOD,
      }),
      [inFlight]: queue.metricApproximateNumberOfMessagesNotVisible({
        statistic: 'Maximum',
        period: PERIOD,
      }),
    },
    label: `${name} (messages)`,
    period: PERIOD,
  });
}

export class FanoutObservability extends Construct {
  public readonly dashboard: Dashboard;
  /** Every alarm, by id (e.g. `WorkerErrors`, `WorkQueueOldestMessageAge`). */
  public readonly alarms: Readonly<Record<string, Alarm>>;

  constructor(scope: Construct, id: string, props: FanoutObservabilityProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    const alarms: Record<string, Alarm> = {};

    const addAlarm = (
      alarmId: string,
      metric: IMetric,
      threshold: number,
      description: string,
    ): Alarm => {
      const alarm = new Alarm(this, alarmId, {
        alarmName: `${stackName}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        // No data means nothing happened (an idle queue, a function not invoked).
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic !== undefined) {
        alarm.addAlarmAction(new SnsAction(props.alarmTopic));
        alarm.addOkAction(new SnsAction(props.alarmTopic));
      }
      alarms[alarmId] = alarm;
      return alarm;
    };

    // ---------------------------------------------------------------------------------
    // Alarms
    // ---------------------------------------------------------------------------------
    for (const { name, function: fn } of props.functions) {
      addAlarm(
        `${name}Errors`,
        fn.metricErrors({ statistic: 'Sum', period: PERIOD, label: name }),
        0,
        `fanout ${name}: invocations failed (a crash, a timeout or an out-of-memory) in the last minute. Read its log group.`,
      );
      addAlarm(
        `${name}Throttles`,
        fn.metricThrottles({ statistic: 'Sum', period: PERIOD, label: name }),
        0,
        `fanout ${name}: invocations were throttled in the last minute (account or reserved concurrency exhausted).`,
      );
    }

    const oldestMessageAge = props.workQueue.metricApproximateAgeOfOldestMessage({
      statistic: 'Maximum',
      period: PERIOD,
      label: 'oldest work message (s)',
    });
    addAlarm(
      'WorkQueueOldestMessageAge',
      oldestMessageAge,
      props.oldestMessageAgeAlarmSeconds,
      `fanout work queue: a chunk has waited more than ${props.oldestMessageAgeAlarmSeconds} s, longer than all its deliveries may take (maxReceiveCount x visibility timeout) or than the job deadline. Workers are not taking messages: check the worker's event source mapping, throttles and errors.`,
    );

    for (const { name, meaning, queue } of props.deadLetterQueues) {
      addAlarm(
        `${name}Depth`,
        queueDepth(queue, name),
        0,
        `fanout ${name}: holds messages. ${meaning}`,
      );
    }

    const deadLetteredChunks = props.workDeadLetterQueue.metricNumberOfMessagesReceived({
      statistic: 'Sum',
      period: PERIOD,
      label: 'dead letters received by the DLQ consumer',
    });
    addAlarm(
      'ChunksDeadLettered',
      deadLetteredChunks,
      0,
      'fanout: a chunk exhausted its deliveries and reached the work DLQ; the DLQ consumer marks its job FAILED with the failing chunks. Fix the cause, then POST /jobs/{jobId}/redrive.',
    );
    this.alarms = alarms;

    // ---------------------------------------------------------------------------------
    // Dashboard
    // ---------------------------------------------------------------------------------
    /** One line per function: `metric` of it, with `statistic` over PERIOD, labelled by name. */
    const perFunction = (
      statistic: string,
      metric: (fn: IFunction, options: MetricOptions) => IMetric,
    ): IMetric[] =>
      props.functions.map(({ name, function: fn }) =>
        metric(fn, { statistic, period: PERIOD, label: name }),
      );
    const stage = props.apiStage;
    const half = { width: 12, height: 6 };

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new TextWidget({
            markdown: [
              `# fanout (${stackName})`,
              'Throughput and outcomes, then failures, then waiting work and dead letters. A job that cannot finish ends FAILED (DLQ consumer, or the sweeper at its deadline); redrive it with POST /jobs/{jobId}/redrive.',
            ].join('\n\n'),
            width: 24,
            height: 2,
          }),
        ],
        [
          new GraphWidget({
            ...half,
            title: 'Throughput',
            left: [fanoutMetric('NumbersSquared', 'Sum', 'numbers squared')],
            right: [stage.metricCount({ statistic: 'Sum', period: PERIOD, label: 'API requests' })],
          }),
          new GraphWidget({
            ...half,
            title: 'Job outcomes',
            left: [
              fanoutMetric('JobsSubmitted', 'Sum', 'submitted'),
              fanoutMetric('JobsSucceeded', 'Sum', 'succeeded'),
              fanoutMetric('JobsFailed', 'Sum', 'failed'),
              fanoutMetric('JobsCancelled', 'Sum', 'cancelled'),
            ],
            right: [
              fanoutMetric('ChunkRetries', 'Sum', 'chunk retries'),
              fanoutMetric('FailedChunks', 'Sum', 'failed chunks'),
            ],
          }),
        ],
        [
          new GraphWidget({
            ...half,
            title: 'Errors',
            left: perFunction('Sum', (fn, options) => fn.metricErrors(options)),
            right: [
              stage.metricClientError({ statistic: 'Sum', period: PERIOD, label: 'API 4xx' }),
              stage.metricServerError({ statistic: 'Sum', period: PERIOD, label: 'API 5xx' }),
            ],
          }),
          new GraphWidget({
            ...half,
            title: 'Throttles',
            left: perFunction('Sum', (fn, options) => fn.metricThrottles(options)),
          }),
        ],
        [
          new GraphWidget({
            ...half,
            title: 'Work queue depth',
            left: [
              props.workQueue.metricApproximateNumberOfMessagesVisible({
                statistic: 'Maximum',
                period: PERIOD,
                label: 'waiting',
              }),
              props.workQueue.metricApproximateNumberOfMessagesNotVisible({
                statistic: 'Maximum',
                period: PERIOD,
                label: 'in flight',
              }),
            ],
          }),
          new GraphWidget({
            ...half,
            title: 'Age of oldest work message',
            left: [oldestMessageAge],
            leftAnnotations: [
              { value: props.oldestMessageAgeAlarmSeconds, label: 'alarm threshold' },
            ],
          }),
        ],
        [
          new GraphWidget({
            ...half,
            title: 'Dead-letter queues',
            left: props.deadLetterQueues.map(({ name, queue }) => queueDepth(queue, name)),
            right: [deadLetteredChunks],
          }),
          new GraphWidget({
            ...half,
            title: 'Chunk latency',
            left: ['p50', 'p90', 'p99'].map((statistic) =>
              fanoutMetric('ChunkLatency', statistic, `chunk latency ${statistic} (ms)`),
            ),
          }),
        ],
        [
          new GraphWidget({
            ...half,
            title: 'Function duration (p99)',
            left: perFunction('p99', (fn, options) => fn.metricDuration(options)),
          }),
          new AlarmStatusWidget({
            ...half,
            title: 'Alarms',
            alarms: Object.values(alarms),
          }),
        ],
      ],
    });
  }
}
