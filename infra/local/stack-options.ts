/** The options of the embedded stack and what it tells about itself (endpoints, description, report). */
import type { Writable } from 'node:stream';
import type { CloudLimitsOptions } from './cloud-limits/options.ts';
import type { DynamoDbUsage } from './cloud-limits/report.ts';
import type { QueueAttributesOverride } from './provision/index.ts';
import type { LocalPrincipal } from './sigv4/principals.ts';

export interface EmbeddedStackOptions {
  /** @default the repository this file is in */
  readonly projectDir?: string;
  /** @default `<projectDir>/cdk.out` */
  readonly cdkOutDir?: string;
  /** Synthesize first when cdk.out is missing or older than the sources. @default true */
  readonly synth?: boolean;
  /** Which stack of the cloud assembly. @default the only one */
  readonly stackName?: string;
  /** Port of the local REST API on 127.0.0.1. @default a free one */
  readonly apiPort?: number;
  /** POWERTOOLS_LOG_LEVEL for every function. @default $POWERTOOLS_LOG_LEVEL or WARN */
  readonly logLevel?: string;
  /** Where function logs go. null discards them. @default process.stderr */
  readonly logSink?: Writable | null;
  /**
   * Local cap on each event source mapping's concurrency (the template's
   * MaximumConcurrency still applies when lower). Measured on 2 cores: more concurrent
   * batches than cores only adds cold starts and contention. @default available cores, or
   * with cloudLimits CLOUD_LIMITS_LOCAL_CONCURRENCY
   */
  readonly maxConcurrency?: number;
  /**
   * Most execution environments of a function not fed by a queue. @default max(2, cores),
   * or with cloudLimits CLOUD_LIMITS_LOCAL_CONCURRENCY
   */
  readonly maxEnvironmentsPerFunction?: number;
  /**
   * Queue attributes to change after reading them from the template, e.g. a short
   * VisibilityTimeout so that a test sees a retry in seconds rather than in 6 × the worker
   * timeout. Returns the attributes to override. Test use only.
   */
  readonly overrideQueueAttributes?: QueueAttributesOverride;
  /**
   * Extra environment variables by function logical id (e.g. POOL_SIZE), or by its start (a
   * construct id such as `Dispatcher`, before the hash CDK appends).
   */
  readonly environmentOverrides?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Cap each environment's heap at the function's MemorySize. @default true */
  readonly enforceMemoryLimit?: boolean;
  /** JVM flags of DynamoDB Local. @default DEFAULT_JVM_FLAGS (small heap, fast start) */
  readonly dynamoDbJvmFlags?: readonly string[];
  /**
   * Start the first environment of every function the API, a queue or a schedule invokes
   * (and of the functions those name in their environment) during start(); `'all'` starts
   * every environment those functions may have (their local concurrency), as provisioned
   * concurrency would, so that a first job at full concurrency meets no cold start.
   * @default true
   */
  readonly warm?: boolean | 'all';
  /**
   * `timed`: EventBridge rate() schedules invoke their functions every period, as in AWS.
   * `manual`: only `TestStack.fireSchedule()` does (tests). @default 'timed'
   */
  readonly schedules?: 'timed' | 'manual';
  /**
   * Put a fault-injecting proxy (dynamodb-faults.ts) between the functions and DynamoDB
   * Local, one listener per function; `TestStack.injectDynamoDbFault()` then adds faults. `seed` makes
   * probabilistic faults repeatable. Test use only. @default false
   */
  readonly dynamoDbFaults?: boolean | { readonly seed?: number };
  /**
   * Enforce AWS's quotas locally (docs/CLOUD-LIMITS.md): DynamoDB capacity units, partitions
   * and transaction conflicts on every request to the DynamoDB endpoint (the functions' and
   * `endpoints.dynamodb`, for any client), and API Gateway's integration timeout. `true` is
   * AWS's defaults; an object overrides some of them. `cloudLimitsReport()` then tells what
   * was consumed and throttled. @default false
   */
  readonly cloudLimits?: boolean | CloudLimitsOptions;
  /**
   * SigV4 checks on the local API's AWS_IAM methods, as API Gateway makes them: `false`
   * serves them unsigned (`fanout serve --no-auth`). The default principal
   * (sigv4/principals.ts) is always accepted; `principals` adds more.
   * `TestStack.apiRequest()` (harness/) plays requests in-process without these checks.
   * @default true
   */
  readonly auth?: boolean | { readonly principals?: readonly LocalPrincipal[] };
  /** Progress notes (synth). @default writes to stderr */
  readonly note?: (message: string) => void;
  /** Errors outside any function (SQS polling, the local servers). @default stderr */
  readonly onError?: (error: unknown) => void;
}

export interface LocalEndpoints {
  readonly sqs: string;
  /** The DynamoDB endpoint for any client: with cloud limits, the limiting proxy. */
  readonly dynamodb: string;
  readonly lambda: string;
  /** fauxqs serves S3 (path-style) on its SQS endpoint. */
  readonly s3: string;
}

/** What `fanout serve --json` prints: where everything is, for the AWS CLI or an SDK. */
export interface StackDescription {
  readonly api: string;
  readonly region: string;
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string; readonly s3: string };
  /** Table names by construct id (e.g. `Table`). */
  readonly tables: Readonly<Record<string, string>>;
  /** Queue URLs by construct id (e.g. `WorkQueue`). */
  readonly queues: Readonly<Record<string, string>>;
  /** Whether the DynamoDB endpoint enforces AWS's limits. */
  readonly cloudLimits: boolean;
}

/** What a run in the cloud-limits mode consumed and hit, since the stack started. */
export interface CloudLimitsReport {
  readonly cloudLimits: true;
  readonly dynamodb: {
    readonly readUnits: number;
    readonly writeUnits: number;
    readonly throttledRequests: number;
    readonly transactionConflicts: number;
    readonly hottestPartitionPeakWcuPerSecond: number;
    readonly hottestPartitionPeakRcuPerSecond: number;
    /** The same counts by function (its construct id, e.g. `Worker`), and `external`. */
    readonly byFunction: Readonly<Record<string, DynamoDbUsage>>;
  };
  /** Work-queue records received again (ApproximateReceiveCount > 1). */
  readonly redeliveries: number;
  /** Messages moved to the work queue's dead-letter queue. */
  readonly deadLetters: number;
}
