/**
 * The environment variables of one function's execution environments: Lambda's reserved
 * variables, the local region and credentials, the SDK's standard per-service endpoint
 * variables pointing at the emulators, the template's variables (intrinsics resolved), then
 * the local settings (quiet, offline) and the caller's overrides.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import { LAMBDA_MEMORY_SIZE_ENV, S3_ENDPOINT_URL_ENV } from '#commons/env.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../emulators/common.ts';
import type { FunctionSpec, TemplateResolver } from '../template.ts';

/** Where a function's SDK clients go. */
export interface FunctionEndpoints {
  readonly sqs: string;
  /** This function's DynamoDB endpoint (its own listener of the proxy, when there is one). */
  readonly dynamodb: string;
  readonly lambda: string;
  /** fauxqs's S3, or the S3 rate limiter in front of it under the cloud limits. */
  readonly s3: string;
}

export interface LambdaEnvironmentOptions {
  readonly endpoints: FunctionEndpoints;
  readonly resolver: TemplateResolver;
  /** POWERTOOLS_LOG_LEVEL. */
  readonly logLevel: string;
  /** Set last, over everything else (e.g. POOL_SIZE). */
  readonly overrides?: Readonly<Record<string, string>> | undefined;
}

/** The template's environment variables of a function, intrinsics resolved. */
export function templateEnvironment(
  spec: FunctionSpec,
  resolver: TemplateResolver,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.environment)) {
    environment[key] = resolver.resolveString(value);
  }
  return environment;
}

/** The complete environment of a function: nothing else from our process leaks in. */
export function lambdaEnvironment(
  spec: FunctionSpec,
  options: LambdaEnvironmentOptions,
): Record<string, string> {
  const { endpoints } = options;
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda,
    [S3_ENDPOINT_URL_ENV]: endpoints.s3,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: spec.name,
    [LAMBDA_MEMORY_SIZE_ENV]: String(spec.memorySizeMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: 'local',
    _HANDLER: spec.handler,
    ...templateEnvironment(spec, options.resolver),
    // Quiet and offline: no EMF metrics on stdout, no X-Ray daemon to reach.
    POWERTOOLS_LOG_LEVEL: options.logLevel,
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    ...(options.overrides ?? {}),
  };
}
