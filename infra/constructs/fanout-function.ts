/**
 * The one Lambda function construct of fanout. Every function of the stack is built here,
 * so the defaults live in one place: Node.js 24 on arm64, ESM bundles made by the local
 * esbuild (never Docker), source maps, X-Ray tracing, Powertools settings, its own log
 * group with a retention, and its own role that may only write to that log group.
 *
 * Resources are attached through bind methods, each of which sets the environment variable
 * the handler reads (functions/commons/config.ts) together with the least-privilege grant
 * it needs, so one cannot be added without the other.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  type CfnElement,
  type Duration,
  type RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type DestinationConfig,
  type IDestination,
  type IFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ALLOWED_INPUT_BUCKET_ARNS_ENV,
  INPUT_BUCKET_NAME_ENV,
  TABLE_NAME_ENV,
  WORK_QUEUE_URL_ENV,
} from '#commons/env.ts';

/** The repository root: the entries, package-lock.json and node_modules/.bin/esbuild live here. */
export const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/**
 * The bundles are ESM (`index.mjs`). Some dependencies still `require()` Node built-ins,
 * which ESM lacks, so each bundle starts by defining `require` (the alias avoids clashing
 * with a bundled `createRequire` import).
 */
export const ESM_REQUIRE_BANNER =
  'import { createRequire as __fanoutCreateRequire } from "node:module"; const require = __fanoutCreateRequire(import.meta.url);';

/** The Lambda runtime's Node.js major, used as esbuild's target for extra entries too. */
const RUNTIME = Runtime.NODEJS_24_X;
const ESBUILD_TARGET = 'node24';

/** DynamoDB actions a function may be granted on the table: exactly the ones it calls. */
export type TableAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:BatchGetItem'
  | 'dynamodb:Query'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:ConditionCheckItem';

/** An additional esbuild entry bundled beside `index.mjs` (e.g. a child process's script). */
export interface ExtraEntry {
  /** Path of the TypeScript entry, relative to the repository root. */
  readonly entry: string;
  /** File name of the bundle in the asset folder; it must end in `.mjs`. */
  readonly outFile: string;
}

export interface FanoutFunctionProps {
  /** Path of the handler file (exporting `handler`), relative to the repository root. */
  readonly entry: string;
  /** Short description shown in the Lambda console. */
  readonly description: string;
  /**
   * Memory in MB. CPU is proportional to it (1,769 MB = 1 vCPU).
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   */
  readonly memorySize: number;
  /** Function timeout. */
  readonly timeout: Duration;
  /** Powertools log level. */
  readonly logLevel: string;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Extra entries bundled by the local esbuild into the same asset folder, after the
   * handler's bundle, as ESM for the same Node.js target.
   * @default - none
   */
  readonly extraEntries?: readonly ExtraEntry[];
  /**
   * Environment variables beyond the ones the bind methods set.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/** The Powertools settings every function shares (service name, metrics namespace). */
export const POWERTOOLS_SERVICE_NAME = 'fanout';
export const POWERTOOLS_METRICS_NAMESPACE = 'fanout';

/** Builds the `afterBundling` commands that bundle each extra entry beside `index.mjs`. */
export function extraEntryCommands(
  extraEntries: readonly ExtraEntry[],
  inputDir: string,
  outputDir: string,
): string[] {
  const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;
  const esbuild = path.join(inputDir, 'node_modules', '.bin', 'esbuild');
  return extraEntries.map(({ entry, outFile }) =>
    [
      quote(esbuild),
      quote(path.join(inputDir, entry)),
      '--bundle',
      '--platform=node',
      '--format=esm',
      `--target=${ESBUILD_TARGET}`,
      '--main-fields=module,main',
      '--minify',
      '--keep-names',
      '--sourcemap',
      '--log-level=warning',
      quote(`--banner:js=${ESM_REQUIRE_BANNER}`),
      quote(`--outfile=${path.join(outputDir, outFile)}`),
    ].join(' '),
  );
}

function validateExtraEntry(scope: Construct, { entry, outFile }: ExtraEntry): void {
  if (!/^[\w.-]+\.mjs$/.test(outFile) || outFile === 'index.mjs') {
    throw new Error(
      `${scope.node.path}: extra entry outFile "${outFile}" must be a plain file name ending in .mjs, other than index.mjs.`,
    );
  }
  if (path.isAbsolute(entry) || entry.split(/[\\/]/).includes('..')) {
    throw new Error(
      `${scope.node.path}: extra entry "${entry}" must be a path relative to the repository root.`,
    );
  }
  // Fail here, with the path, rather than deep inside an afterBundling shell command.
  if (Stack.of(scope).bundlingRequired && !existsSync(path.join(PROJECT_ROOT, entry))) {
    throw new Error(`${scope.node.path}: cannot find extra entry file at ${entry}.`);
  }
}

/**
 * The bind methods grant no KMS actions: the table uses the AWS managed key, which needs
 * none. A customer managed key would need its own least-privilege grant, so fail loudly.
 */
function assertNoCustomerManagedKey(scope: Construct, table: ITable): void {
  if (table.encryptionKey !== undefined) {
    throw new Error(
      `${scope.node.path}: the table is encrypted with a customer managed KMS key, and bindTable grants no KMS actions.`,
    );
  }
}

/**
 * The cdk-nag finding id of an object wildcard on a bucket (`<bucket>/<pattern>`): the bucket's
 * ARN as cdk-nag prints it, `<LogicalId.Arn>` for a bucket of the stack or the literal ARN.
 */
function objectWildcardFinding(bucket: IBucket | string, pattern: string): string {
  if (typeof bucket === 'string') return `AwsSolutions-IAM5[Resource::${bucket}/${pattern}]`;
  const resource = bucket.node.defaultChild as CfnElement;
  return `AwsSolutions-IAM5[Resource::<${Stack.of(resource).getLogicalId(resource)}.Arn>/${pattern}]`;
}

/** The input bucket is S3-managed encrypted: a KMS key would need grants the binds lack. */
function assertNoBucketKey(scope: Construct, bucket: IBucket): void {
  if (bucket.encryptionKey !== undefined) {
    throw new Error(
      `${scope.node.path}: the input bucket is encrypted with a KMS key, and the input binds grant no KMS actions.`,
    );
  }
}

export class FanoutFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly logGroup: LogGroup;
  public readonly role: Role;
  /** cdk-nag findings acknowledged on the role by the bind methods, each once. */
  readonly #acknowledged = new Set<string>();

  constructor(scope: Construct, id: string, props: FanoutFunctionProps) {
    super(scope, id);
    const extraEntries = props.extraEntries ?? [];
    for (const extra of extraEntries) validateExtraEntry(this, extra);

    // An explicit log group, so its retention and removal are part of the stack (no
    // log-retention custom resource), and so the role can be scoped to it.
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy,
    });

    // Its own role instead of AWSLambdaBasicExecutionRole, which may write to every log
    // group of the account: this one may only write to the function's own log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of fanout ${id}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      environment: {
        // Stack traces point into the TypeScript sources through the bundles' source maps.
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        // Responses (result pages up to 1 MB) would overflow X-Ray's 64 KB segment document.
        POWERTOOLS_TRACER_CAPTURE_RESPONSE: 'false',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        keepNames: true,
        sourceMap: true,
        // The SDK is bundled, so the deployed code runs the versions that were tested
        // rather than whatever the runtime ships.
        bundleAwsSDK: true,
        // esbuild is a devDependency: bundling runs locally and never needs Docker.
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) =>
            extraEntryCommands(extraEntries, inputDir, outputDir),
        },
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions; every other statement of this role names its resource.',
    });
  }

  /**
   * Gives the function `TABLE_NAME` and exactly `actions` on the table's own ARN: no index
   * (table.grant would add `<table>/index/*` as soon as the table has one) and no stream,
   * instead of the broad grantRead/WriteData sets.
   */
  public bindTable({
    table,
    actions,
  }: {
    readonly table: ITable;
    readonly actions: readonly [TableAction, ...TableAction[]];
  }): void {
    assertNoCustomerManagedKey(this, table);
    this.function.addEnvironment(TABLE_NAME_ENV, table.tableName);
    Grant.addToPrincipal({
      grantee: this.function,
      actions: [...actions],
      resourceArns: [table.tableArn],
    });
  }

  /**
   * Gives the function `TABLE_NAME` and `dynamodb:Query` on one index of the table
   * (`<table>/index/<name>`) only: not on the table's items, nor on its other indexes.
   * Throws if the table has no such index.
   */
  public bindIndexQuery({
    table,
    indexName,
  }: {
    readonly table: Table;
    readonly indexName: string;
  }): void {
    assertNoCustomerManagedKey(this, table);
    table.schemaV2(indexName); // throws "Cannot find schema for index: <name>" when absent
    this.function.addEnvironment(TABLE_NAME_ENV, table.tableName);
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ['dynamodb:Query'],
      resourceArns: [`${table.tableArn}/index/${indexName}`],
    });
  }

  /** Gives the function `WORK_QUEUE_URL` and `sqs:SendMessage` (which covers SendMessageBatch). */
  public bindWorkQueueProducer({ queue }: { readonly queue: IQueue }): void {
    this.function.addEnvironment(WORK_QUEUE_URL_ENV, queue.queueUrl);
    queue.grant(this.function, 'sqs:SendMessage');
  }

  /**
   * Gives the function `envVar` = the target's name and `lambda:InvokeFunction` on the
   * target's unqualified ARN only (grantInvoke would add every version and alias, `:*`).
   */
  public bindInvoke({ target, envVar }: { readonly target: IFunction; readonly envVar: string }) {
    this.function.addEnvironment(envVar, target.functionName);
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [target.functionArn],
    });
  }

  /**
   * Settings of asynchronous invocations (e.g. by a schedule): how often Lambda retries a
   * failed one, how long an event may wait, and the queue that receives the record of an
   * invocation that failed for good. The function may only `sqs:SendMessage` to that queue
   * (the stock SqsDestination would add GetQueueAttributes and GetQueueUrl).
   * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
   */
  public configureAsyncFailures({
    queue,
    retryAttempts,
    maxEventAge,
  }: {
    readonly queue: IQueue;
    readonly retryAttempts: number;
    readonly maxEventAge: Duration;
  }): void {
    const onFailure: IDestination = {
      bind: (_scope, fn): DestinationConfig => {
        Grant.addToPrincipal({
          grantee: fn,
          actions: ['sqs:SendMessage'],
          resourceArns: [queue.queueArn],
        });
        return { destination: queue.queueArn };
      },
    };
    this.function.configureAsyncInvoke({ retryAttempts, maxEventAge, onFailure });
  }

  /**
   * Gives the function `INPUT_BUCKET_NAME` and the right to upload under `prefix` of the input
   * bucket through the URLs it presigns: a presigned request acts with the signer's
   * permissions, so `s3:PutObject` (which covers CreateMultipartUpload, UploadPart and
   * CompleteMultipartUpload) and `s3:AbortMultipartUpload`, on `<bucket>/<prefix>*` only.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuAndPermissions.html
   */
  public bindInputUploads({
    bucket,
    prefix,
  }: {
    readonly bucket: IBucket;
    readonly prefix: string;
  }) {
    assertNoBucketKey(this, bucket);
    this.function.addEnvironment(INPUT_BUCKET_NAME_ENV, bucket.bucketName);
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [bucket.arnForObjects(`${prefix}*`)],
    });
    this.#acknowledgeOnRole(
      objectWildcardFinding(bucket, `${prefix}*`),
      `Each job's input is its own key under ${prefix}, created at run time; the grants are limited to that prefix of the stack's input bucket.`,
    );
  }

  /**
   * Gives the function `INPUT_BUCKET_NAME`, `ALLOWED_INPUT_BUCKET_ARNS` and `s3:GetObject` on
   * the input bucket's objects under `prefix` and on every object of the allowed buckets, and
   * nothing else of S3 (no listing, no writes). HeadObject needs `s3:GetObject` too: IAM has no
   * action that allows only the metadata.
   * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
   */
  public bindInputReader({
    bucket,
    prefix,
    allowedBucketArns,
  }: {
    readonly bucket: IBucket;
    readonly prefix: string;
    readonly allowedBucketArns: readonly string[];
  }) {
    assertNoBucketKey(this, bucket);
    this.function.addEnvironment(INPUT_BUCKET_NAME_ENV, bucket.bucketName);
    this.function.addEnvironment(ALLOWED_INPUT_BUCKET_ARNS_ENV, allowedBucketArns.join(','));
    Grant.addToPrincipal({
      grantee: this.function,
      actions: ['s3:GetObject'],
      resourceArns: [
        bucket.arnForObjects(`${prefix}*`),
        ...allowedBucketArns.map((arn) => `${arn}/*`),
      ],
    });
    this.#acknowledgeOnRole(
      objectWildcardFinding(bucket, `${prefix}*`),
      `Each job's input is its own key under ${prefix}, created at run time; the grants are limited to that prefix of the stack's input bucket.`,
    );
    for (const arn of allowedBucketArns) {
      this.#acknowledgeOnRole(
        objectWildcardFinding(arn, '*'),
        'The operator allowed this bucket for s3Uri inputs at deploy time (fanout:inputBucketArns), so a job may name any of its objects; only GetObject is granted.',
      );
    }
  }

  #acknowledgeOnRole(id: string, reason: string): void {
    if (this.#acknowledged.has(id)) return;
    this.#acknowledged.add(id);
    Validations.of(this.role).acknowledge({ id, reason });
  }

  /** Sets a plain configuration value the handler reads. */
  public setEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }
}
