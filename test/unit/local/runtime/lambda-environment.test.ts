/** The environment of a local function's execution environments. */
import { describe, expect, it } from 'vitest';
import { lambdaEnvironment, templateEnvironment } from '#local/runtime/lambda-environment.ts';
import { type FunctionSpec, TemplateResolver } from '#local/template.ts';

const spec: FunctionSpec = {
  logicalId: 'Worker',
  name: 'Fanout-Worker',
  cdkPath: 'Fanout/Worker/Resource',
  assetDir: '/assets/worker',
  handler: 'index.handler',
  runtime: 'nodejs22.x',
  timeoutSeconds: 60,
  memorySizeMb: 1024,
  reservedConcurrency: undefined,
  environment: { TABLE_NAME: { Ref: 'Table' }, POWERTOOLS_LOG_LEVEL: 'DEBUG', POOL_SIZE: '4' },
};
const resolver = new TemplateResolver(
  new Map([['Table', { ref: 'Fanout-Table', attributes: {} }]]),
  { region: 'us-east-1', accountId: '000000000000', stackName: 'Fanout' },
);
const endpoints = {
  sqs: 'http://127.0.0.1:1',
  dynamodb: 'http://127.0.0.1:2',
  lambda: 'http://127.0.0.1:3',
  s3: 'http://127.0.0.1:4',
};

describe('Function: templateEnvironment', () => {
  it("returns the template's variables with intrinsics resolved", () => {
    expect(templateEnvironment(spec, resolver)).toEqual({
      TABLE_NAME: 'Fanout-Table',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POOL_SIZE: '4',
    });
  });
});

describe('Function: lambdaEnvironment', () => {
  it("returns Lambda's reserved variables, the emulators' endpoints and the local credentials", () => {
    // Act
    const environment = lambdaEnvironment(spec, { endpoints, resolver, logLevel: 'WARN' });

    // Assess
    expect(environment).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:1',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:2',
      AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:3',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4',
      AWS_LAMBDA_FUNCTION_NAME: 'Fanout-Worker',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/Fanout-Worker',
      _HANDLER: 'index.handler',
      TABLE_NAME: 'Fanout-Table',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    });
    expect(environment.AWS_ACCESS_KEY_ID).toBeTypeOf('string');
  });

  it("sets the local log level over the template's, and the overrides over everything", () => {
    // Act
    const environment = lambdaEnvironment(spec, {
      endpoints,
      resolver,
      logLevel: 'ERROR',
      overrides: { POOL_SIZE: '1', AWS_REGION: 'eu-west-1' },
    });

    // Assess
    expect(environment.POWERTOOLS_LOG_LEVEL).toBe('ERROR');
    expect(environment.POOL_SIZE).toBe('1');
    expect(environment.AWS_REGION).toBe('eu-west-1');
  });
});
