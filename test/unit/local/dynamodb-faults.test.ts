/**
 * The DynamoDB fault proxy in front of a stand-in upstream (the real AWS SDK client on the
 * other side), without emulators.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFaultProxy, faultResponse } from '#local/dynamodb-faults.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import { seededRandom } from '#local/seeded-random.ts';

describe('Class: DynamoDbFaultProxy', () => {
  let upstream: Server;
  let proxy: DynamoDbFaultProxy;
  const received: string[] = [];

  function client(name: string, maxAttempts = 3): DynamoDBClient {
    return new DynamoDBClient({
      endpoint: proxy.endpointFor(name),
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts,
    });
  }

  const getItem = new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } });

  beforeAll(async () => {
    // A stand-in DynamoDB: answers every operation with an empty JSON object.
    upstream = createServer((request, response) => {
      received.push(String(request.headers['x-amz-target']).split('.')[1] ?? '');
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    proxy = await DynamoDbFaultProxy.start(`http://127.0.0.1:${port}`, ['worker', 'aggregator']);
  });

  afterEach(() => {
    proxy.clear();
    received.length = 0;
  });

  afterAll(async () => {
    await proxy.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('forwards requests when no rule applies, and counts them by client', async () => {
    const before = proxy.requestCount('worker');
    await client('worker').send(getItem);
    expect(received).toEqual(['GetItem']);
    expect(proxy.requestCount('worker') - before).toBe(1);
    expect(proxy.requestCount('worker', ['PutItem'])).toBe(0);
  });

  it('answers throttling that the SDK retries, for the targeted client only', async () => {
    proxy.inject({ clients: ['aggregator'], fault: 'ThrottlingException', times: 2 });
    await client('worker').send(getItem);
    expect(proxy.count()).toBe(0);
    const answer = await client('aggregator').send(getItem);
    expect(answer.$metadata.attempts).toBe(3);
    expect(proxy.count('ThrottlingException')).toBe(2);
    expect(received).toEqual(['GetItem', 'GetItem']);
  });

  it('fails a call once the SDK has used its attempts', async () => {
    proxy.inject({ name: 'always', fault: 'ProvisionedThroughputExceededException' });
    await expect(client('worker', 2).send(getItem)).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(proxy.count('always')).toBe(2);
    expect(received).toEqual([]);
  });

  it('cancels a transaction with one reason per action, which the SDK does not retry', async () => {
    proxy.inject({ operations: ['TransactWriteItems'], fault: 'TransactionThrottled' });
    const transaction = new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: 't', Item: { pk: { S: 'a' }, sk: { S: 'b' } } } },
        { Put: { TableName: 't', Item: { pk: { S: 'a' }, sk: { S: 'c' } } } },
      ],
    });
    await expect(client('worker').send(transaction)).rejects.toMatchObject({
      name: 'TransactionCanceledException',
      CancellationReasons: [{ Code: 'ThrottlingError' }, { Code: 'None' }],
    });
    expect(proxy.count()).toBe(1);
  });

  it('lets a request through before failing it when afterForward is set', async () => {
    proxy.inject({ fault: 'InternalServerError', afterForward: true, times: 1 });
    const answer = await client('worker').send(getItem);
    // The first attempt reached DynamoDB and its answer was lost; the retry succeeded.
    expect(received).toEqual(['GetItem', 'GetItem']);
    expect(answer.$metadata.attempts).toBe(2);
    expect(proxy.injected).toEqual([
      {
        rule: 'InternalServerError',
        client: 'worker',
        operation: 'GetItem',
        fault: 'InternalServerError',
        forwarded: true,
      },
    ]);
  });

  it('applies a rule with a probability from a seeded sequence', async () => {
    proxy.clear(42);
    proxy.inject({ fault: 'ThrottlingException', probability: 0.5 });
    const random = seededRandom(42);
    const expected = Array.from({ length: 20 }, () => random() < 0.5).filter(Boolean).length;
    for (let index = 0; index < 20; index++) {
      await client('worker', 1)
        .send(getItem)
        .catch(() => undefined);
    }
    expect(proxy.count()).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(20);
  });

  it('refuses a rule with an impossible probability or count', () => {
    expect(() => proxy.inject({ fault: 'ThrottlingException', probability: 2 })).toThrow(
      'probability must be from 0 to 1, got 2',
    );
    expect(() => proxy.inject({ fault: 'ThrottlingException', times: -1 })).toThrow(
      'times must be a non-negative integer, got -1',
    );
    expect(() => proxy.endpointFor('nobody')).toThrow(
      'the DynamoDB fault proxy has no listener for nobody',
    );
  });

  it('describes each fault as DynamoDB does', () => {
    expect(faultResponse('ThrottlingException', {})).toEqual({
      status: 400,
      type: 'ThrottlingException',
      body: {
        __type: 'com.amazon.coral.availability#ThrottlingException',
        message: 'Rate of requests exceeds the allowed throughput.',
      },
    });
    expect(faultResponse('InternalServerError', {}).status).toBe(500);
  });
});
