/** Which of the template's functions are warmed, and how concurrent their mappings are locally. */
import { describe, expect, it } from 'vitest';
import { functionsToWarm, mappingConcurrency } from '#local/runtime/functions.ts';
import type { FunctionSpec, StackModel } from '#local/template.ts';

function fn(logicalId: string, environment: FunctionSpec['environment'] = {}): FunctionSpec {
  return {
    logicalId,
    name: logicalId,
    cdkPath: undefined,
    assetDir: undefined,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    timeoutSeconds: 3,
    memorySizeMb: 128,
    reservedConcurrency: undefined,
    environment,
  };
}

describe('Function: mappingConcurrency', () => {
  it('returns the MaximumConcurrency capped at the local cap, and at least 1', () => {
    expect(mappingConcurrency(2, 10)).toBe(2);
    expect(mappingConcurrency(8, 3)).toBe(3);
    expect(mappingConcurrency(4, undefined)).toBe(4);
    expect(mappingConcurrency(0, undefined)).toBe(1);
  });
});

describe('Function: functionsToWarm', () => {
  it('returns the functions a route, a queue or a schedule invokes, and those they name', () => {
    // Prepare
    const model: StackModel = {
      stackName: 'Fanout',
      cdkOutDir: '/cdk.out',
      templatePath: '/cdk.out/Fanout.template.json',
      template: { Resources: {} },
      queues: [],
      tables: [],
      functions: [
        fn('Dispatcher'),
        fn('Worker', { AGGREGATOR_FUNCTION_NAME: { Ref: 'Aggregator' } }),
        fn('Aggregator'),
        fn('Sweeper'),
        fn('CustomResourceHandler'),
      ],
      eventSourceMappings: [
        {
          logicalId: 'WorkerMapping',
          functionLogicalId: 'Worker',
          queueLogicalId: 'WorkQueue',
          batchSize: 1,
          maximumBatchingWindowSeconds: 0,
          maximumConcurrency: undefined,
          reportBatchItemFailures: true,
          enabled: true,
        },
      ],
      restApis: [
        {
          logicalId: 'Api',
          name: 'api',
          stageName: 'v1',
          binaryMediaTypes: [],
          minimumCompressionSize: undefined,
          routes: [
            {
              httpMethod: 'POST',
              resourcePath: '/jobs',
              authorizationType: 'AWS_IAM',
              integrationType: 'AWS_PROXY',
              functionLogicalId: 'Dispatcher',
              mockResponse: { statusCode: 200, headers: {} },
            },
          ],
        },
      ],
    };

    // Act
    const warmed = functionsToWarm(model, ['Sweeper']);

    // Assess
    expect(warmed.sort()).toEqual(['Aggregator', 'Dispatcher', 'Sweeper', 'Worker']);
  });
});
