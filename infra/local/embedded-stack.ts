/**
 * The whole fanout stack on one machine, from the synthesized CDK template: fauxqs (SQS)
 * in-process and DynamoDB Local (Java) as a child process, both on 127.0.0.1. This class is
 * the composition and the lifecycle; each part is a module of its own:
 * - template.ts (through assembly.ts) reads the cloud assembly into a model;
 * - provision/ creates the template's resources on the emulators, one module per type;
 * - runtime/ runs its functions from their bundled assets in cdk.out (their Lambda
 *   environment, their execution environments) and its SQS event source mappings;
 * - schedule-runner.ts plays its schedules; dynamodb-proxy.ts puts the fault and
 *   cloud-limits proxy in front of DynamoDB; lambda-api.ts and http-api.ts serve the Lambda
 *   Invoke API and the REST API on 127.0.0.1.
 * Handlers use the real AWS SDK clients, pointed at the emulators by the SDK's standard
 * AWS_ENDPOINT_URL_<SERVICE> variables. The tests' tooling is harness/ (`TestStack`).
 */

import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDbLimiter } from './cloud-limits/dynamodb-limiter.ts';
import {
  CLOUD_LIMITS_LOCAL_CONCURRENCY,
  type CloudLimits,
  resolveCloudLimits,
} from './cloud-limits/options.ts';
import { type DynamoDbUsage, usageSince } from './cloud-limits/report.ts';
import { S3RateLimiter } from './cloud-limits/s3-rate-limiter.ts';
import type { DynamoDbFaultProxy } from './dynamodb-faults.ts';
import { EXTERNAL_DYNAMODB_CLIENT, startDynamoDbProxy } from './dynamodb-proxy.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from './emulators/common.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from './emulators/dynamodb.ts';
import { type FauxqsLocal, startFauxqsLocal } from './emulators/sqs.ts';
import { emulatorVersionWarning } from './emulators/versions.ts';
import type { SqsEventSourceMapping } from './event-source-mapping.ts';
import { type HttpApi, RestApiGateway, startHttpApi } from './http-api.ts';
import { isJsonObject } from './json.ts';
import { type LambdaApi, startLambdaApi } from './lambda-api.ts';
import {
  type LocalQueue,
  type Provisioners,
  physicalResources,
  provision,
  provisionersFor,
} from './provision/index.ts';
import { redriveChain, workQueueSpec } from './provision/queues.ts';
import { type S3Gateway, startS3Gateway } from './provision/s3.ts';
import type { LocalFunction } from './runtime/function-host.ts';
import { functionsToWarm, localFunctions } from './runtime/functions.ts';
import { localMappings } from './runtime/mappings.ts';
import type { InvocationOutcome } from './runtime/protocol.ts';
import { notLoaded, ScheduleRunner } from './schedule-runner.ts';
import { scheduleSpecs } from './schedules.ts';
import { type GatewayAuth, localGatewayAuth } from './sigv4/gateway-auth.ts';
import {
  DEFAULT_LOCAL_PRINCIPAL,
  type LocalPrincipal,
  PrincipalRegistry,
} from './sigv4/principals.ts';
import type {
  CloudLimitsReport,
  EmbeddedStackOptions,
  LocalEndpoints,
  StackDescription,
} from './stack-options.ts';
import { ensureSynthesized } from './synth.ts';
import { loadStackModel, type StackModel, TemplateResolver } from './template.ts';

export { EXTERNAL_DYNAMODB_CLIENT } from './dynamodb-proxy.ts';
export type { LocalQueue } from './provision/index.ts';
export type {
  CloudLimitsReport,
  EmbeddedStackOptions,
  LocalEndpoints,
  StackDescription,
} from './stack-options.ts';

/** The repository root (this file is infra/local/embedded-stack.ts). */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
  #provisioners: Provisioners | undefined;
  readonly #functions = new Map<string, LocalFunction>();
  readonly #functionsByName = new Map<string, LocalFunction>();
  readonly #mappings = new Map<string, SqsEventSourceMapping>();
  #schedules: ScheduleRunner | undefined;
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
    const path = isJsonObject(metadata) ? metadata['aws:cdk:path'] : undefined;
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
   * With `since` (a report taken earlier), the counts are those after it, such as a job's
   * apart from the environments' init (commons/priming.ts); the peaks stay the whole run's.
   */
  async cloudLimitsReport(
    options: { readonly since?: CloudLimitsReport } = {},
  ): Promise<CloudLimitsReport> {
    const limiter = this.#dynamoLimiter;
    if (limiter === undefined) {
      throw new Error(
        this.#started
          ? 'this stack was started without the cloudLimits option'
          : 'EmbeddedStack.cloudLimitsReport is not available before start()',
      );
    }
    const {
      byClient,
      hottestPartitionPeakWcuPerSecond,
      hottestPartitionPeakRcuPerSecond,
      ...totals
    } = limiter.report();
    const before = options.since;
    const byFunction: Record<string, DynamoDbUsage> = {};
    for (const [client, usage] of Object.entries(byClient)) {
      const name = client === EXTERNAL_DYNAMODB_CLIENT ? client : this.constructIdOf(client);
      byFunction[name] = usageSince(usage, before?.dynamodb.byFunction[name]);
    }
    const work = this.#mappingOn(this.workQueue);
    return {
      cloudLimits: true,
      dynamodb: {
        ...usageSince(totals, before?.dynamodb),
        hottestPartitionPeakWcuPerSecond,
        hottestPartitionPeakRcuPerSecond,
        byFunction,
      },
      redeliveries: (work?.stats.redeliveries ?? 0) - (before?.redeliveries ?? 0),
      deadLetters: (await this.#deadLetters()) - (before?.deadLetters ?? 0),
    };
  }

  /**
   * Messages moved to the work queue's DLQ: those still in it (visible or in flight), those
   * its consumer deleted, and those moved on down its own redrive chain (the parking queue).
   */
  async #deadLetters(): Promise<number> {
    let total = 0;
    for (const spec of redriveChain(this.model.queues, this.workQueue.logicalId)) {
      const queue = this.#queues.get(spec.logicalId);
      if (queue === undefined) break;
      const depth = await this.queueDepth(queue);
      total += depth.visible + depth.inFlight + (this.#mappingOn(queue)?.stats.deleted ?? 0);
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
    return this.#required(
      this.#provisioners === undefined ? undefined : this.model.tables[0]?.name,
      'tableName',
    );
  }

  get queues(): ReadonlyMap<string, LocalQueue> {
    return this.#queues;
  }

  get #queues(): ReadonlyMap<string, LocalQueue> {
    return this.#provisioners?.queues.queues ?? new Map();
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
    return this.#required(this.#queues.get(workQueueSpec(this.model).logicalId), 'workQueue');
  }

  /** The work queue's dead-letter queue. */
  get deadLetterQueue(): LocalQueue {
    const [dlq] = redriveChain(this.model.queues, this.workQueue.logicalId);
    return this.#required(
      dlq === undefined ? undefined : this.#queues.get(dlq.logicalId),
      'deadLetterQueue',
    );
  }

  // ------------------------------------------------------- for the harness (harness/test-stack.ts)

  protected get started(): boolean {
    return this.#started;
  }

  /** The proxy in front of DynamoDB Local, when faults or cloud limits need one. */
  protected get dynamoDbProxy(): DynamoDbFaultProxy | undefined {
    return this.#dynamoFaults;
  }

  protected get gateway(): RestApiGateway {
    return this.#required(this.#gateway, 'gateway');
  }

  protected get apiPort(): number | undefined {
    return this.#httpApi?.port;
  }

  protected get schedules(): ScheduleRunner {
    return this.#required(this.#schedules, 'schedules');
  }

  /** Invokes a function by its logical id, as an API route's integration does. */
  protected invokeFunction(logicalId: string, payload: string): Promise<InvocationOutcome> {
    const target = this.#functions.get(logicalId);
    if (target === undefined)
      return Promise.resolve(notLoaded(`function ${logicalId} is not loaded`));
    return target.invoke(payload);
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
    this.#schedules?.stop();
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
    const versionWarning = emulatorVersionWarning();
    if (versionWarning !== undefined) this.#note(versionWarning);
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
      model = await loadStackModel(cdkOutDir, this.options.stackName);
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

    const provisioners = provisionersFor(model, {
      sqs: this.#clients.sqs,
      dynamodb: this.#clients.dynamodb,
      queueUrl: (name) => sqsEmulator.queueUrl(name),
      overrideQueueAttributes: this.options.overrideQueueAttributes,
      s3Endpoint: sqsEmulator.endpoint,
      clientConfig,
    });
    this.#provisioners = provisioners;
    const resolver = new TemplateResolver(
      physicalResources(model, provisioners.all),
      { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, stackName: model.stackName },
      model.template.Parameters,
    );
    const proxy = await startDynamoDbProxy({
      model,
      resolver,
      target: dynamo.endpoint,
      faults: this.options.dynamoDbFaults,
      limits: this.#limits,
    });
    this.#dynamoFaults = proxy?.proxy;
    this.#dynamoLimiter = proxy?.limiter;
    if (this.#limits !== undefined) {
      this.#s3Gateway = await startS3Gateway(
        sqsEmulator.endpoint,
        new S3RateLimiter(this.#limits.s3),
      );
    }
    this.#createFunctions(model, resolver);
    const schedules = new ScheduleRunner(
      scheduleSpecs(model.template),
      (logicalId) => this.#functions.get(logicalId),
      this.#onError,
    );
    this.#schedules = schedules;
    const warm = () =>
      this.options.warm === false
        ? Promise.resolve()
        : Promise.all(
            functionsToWarm(model, schedules.targetLogicalIds).map((logicalId) =>
              this.#functions
                .get(logicalId)
                ?.warm(
                  this.options.warm === 'all' ? Number.POSITIVE_INFINITY : 1,
                  // 'all' is the stack's provisioned concurrency (stack-options.ts).
                  this.options.warm === 'all' ? 'provisioned-concurrency' : 'on-demand',
                )
                .catch(() => undefined),
            ),
          );
    if (this.options.warm === 'all') {
      // Provisioned environments prime their clients in their init, on the provisioned table.
      await provision(provisioners.all, resolver);
      await warm();
    } else {
      await Promise.all([provision(provisioners.all, resolver), warm()]);
    }
    this.#startMappings(model);
    if (this.options.schedules !== 'manual') schedules.start();
    const api = model.restApis[0];
    if (api !== undefined) {
      const timeout = this.#limits?.apiGateway.integrationTimeoutMs;
      const timeouts = timeout === undefined ? {} : { integrationTimeoutMs: timeout };
      // Unchecked requests (--no-auth, apiRequest) play as the default local principal.
      const unsignedIdentity = new PrincipalRegistry(
        [DEFAULT_LOCAL_PRINCIPAL],
        LOCAL_ACCOUNT_ID,
      ).identityOf(DEFAULT_LOCAL_PRINCIPAL);
      this.#gateway = new RestApiGateway(api, LOCAL_ACCOUNT_ID, { ...timeouts, unsignedIdentity });
      const auth = this.#gatewayAuth();
      this.#httpApi = await startHttpApi({
        api,
        accountId: LOCAL_ACCOUNT_ID,
        ...timeouts,
        unsignedIdentity,
        ...(this.options.apiPort === undefined ? {} : { port: this.options.apiPort }),
        invoke: (logicalId, payload) => this.invokeFunction(logicalId, payload),
        onError: this.#onError,
        ...(auth === undefined ? {} : { auth }),
      });
    }
  }

  #gatewayAuth(): GatewayAuth | undefined {
    const auth = this.options.auth ?? true;
    if (auth === false) return undefined;
    return localGatewayAuth(auth === true ? [] : (auth.principals ?? []));
  }

  /**
   * A local cap on concurrency: as given, or under the cloud limits at least
   * CLOUD_LIMITS_LOCAL_CONCURRENCY. There the functions spend their time waiting on AWS's
   * quotas (a throttled write backs off), not on this machine's cores, and a cap of the cores
   * would hold the job to as many writes in flight as the machine has cores, where AWS runs
   * up to the template's MaximumConcurrency (50) batches and an environment per Invoke.
   */
  #localConcurrency(given: number | undefined): number | undefined {
    if (given !== undefined || this.#limits === undefined) return given;
    return Math.max(CLOUD_LIMITS_LOCAL_CONCURRENCY, availableParallelism());
  }

  #createFunctions(model: StackModel, resolver: TemplateResolver): void {
    const endpoints = this.endpoints;
    const functions = localFunctions(model, {
      resolver,
      endpointsOf: (logicalId) => ({
        sqs: endpoints.sqs,
        dynamodb: this.#dynamoFaults?.endpointFor(logicalId) ?? endpoints.dynamodb,
        lambda: endpoints.lambda,
        s3: endpoints.s3,
      }),
      logLevel: this.options.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      environmentOverrides: this.options.environmentOverrides,
      maxConcurrency: this.#localConcurrency(this.options.maxConcurrency),
      maxEnvironmentsPerFunction: this.#localConcurrency(this.options.maxEnvironmentsPerFunction),
      logSink: this.options.logSink === null ? undefined : (this.options.logSink ?? process.stderr),
      enforceMemoryLimit: this.options.enforceMemoryLimit ?? true,
    });
    for (const [logicalId, fn] of functions) {
      this.#functions.set(logicalId, fn);
      this.#functionsByName.set(fn.options.name, fn);
    }
  }

  #startMappings(model: StackModel): void {
    const mappings = localMappings(model, {
      sqs: this.clients.sqs,
      functions: this.#functions,
      queues: this.#queues,
      maxConcurrency: this.#localConcurrency(this.options.maxConcurrency),
      onError: this.#onError,
    });
    for (const [logicalId, mapping] of mappings) {
      mapping.start();
      this.#mappings.set(logicalId, mapping);
    }
  }
}
