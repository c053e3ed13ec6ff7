/**
 * Priming the SDK clients in an environment of provisioned concurrency: the table's first
 * read, the Lambda client's first Invoke (a dry run), before any request.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadPrimingConfig } from '#commons/config.ts';
import { LAMBDA_INITIALIZATION_TYPE_ENV } from '#commons/env.ts';
import { logger } from '#commons/powertools.ts';
import { primeClients, primeInvoke, primeTable } from '#commons/priming.ts';
import { PRIMING_KEY } from '#store/keys.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const lambdaMock = mockClient(LambdaClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: 'fanout-test-table',
};
const lambda = new LambdaClient({});

beforeEach(() => {
  ddbMock.reset();
  lambdaMock.reset();
  ddbMock.on(GetCommand).resolves({});
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 204 });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Function: loadPrimingConfig', () => {
  it.each([
    ['provisioned-concurrency', true],
    ['on-demand', false],
    ['snap-start', false],
    [undefined, false],
  ])('primes when the initialization type is %s: %s', (type, prime) => {
    const env = type === undefined ? {} : { [LAMBDA_INITIALIZATION_TYPE_ENV]: type };
    expect(loadPrimingConfig(env)).toEqual({ prime });
  });
});

describe('Function: primeClients', () => {
  it('reads the priming key and dry-runs the Invoke of the function named', async () => {
    // Act
    await primeClients(true, [primeTable(table), primeInvoke(lambda, 'aggregator-fn')]);

    // Assess
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: 'fanout-test-table',
      Key: PRIMING_KEY,
    });
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: 'aggregator-fn',
      InvocationType: 'DryRun',
    });
  });

  it('sends nothing when the environment is not primed', async () => {
    await primeClients(false, [primeTable(table), primeInvoke(lambda, 'aggregator-fn')]);

    expect(ddbMock).not.toHaveReceivedAnyCommand();
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });

  it('logs a client that could not be primed and primes the others', async () => {
    // Prepare
    ddbMock.on(GetCommand).rejects(new Error('AccessDeniedException: no GetItem'));
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);

    // Act
    await primeClients(true, [primeTable(table), primeInvoke(lambda, 'aggregator-fn')]);

    // Assess
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe('a client could not be primed');
    expect(warn.mock.calls[0]?.[1]).toEqual({
      error: new Error('AccessDeniedException: no GetItem'),
    });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('gives up on a request that outlasts the timeout, without failing', async () => {
    // Prepare: a request that ends only when its signal aborts.
    const warn = vi.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const hanging = (signal: AbortSignal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

    // Act
    await primeClients(true, [hanging], 5);

    // Assess
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toEqual({
      error: expect.objectContaining({ name: 'TimeoutError' }),
    });
  });
});
