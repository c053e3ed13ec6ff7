/**
 * The other quotas the local stack plays: Lambda's 6 MB synchronous Invoke payload (request
 * and response), API Gateway's integration timeout, SQS's message size (fauxqs enforces it)
 * and S3's request rate per prefix.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_DEFAULT_LIMITS } from '#local/cloud-limits/options.ts';
import { prefixOf, S3RateLimiter } from '#local/cloud-limits/s3-rate-limiter.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import { type FauxqsLocal, startFauxqsLocal } from '#local/emulators/sqs.ts';
import { RestApiGateway } from '#local/http-api.ts';
import { type LambdaApi, startLambdaApi } from '#local/lambda-api.ts';
import { MAX_SYNC_PAYLOAD_BYTES } from '#local/runtime/function-host.ts';
import type { InvocationOutcome } from '#local/runtime/protocol.ts';
import type { RestApiSpec } from '#local/template.ts';

describe('Function: startLambdaApi (the 6 MB synchronous payload)', () => {
  let api: LambdaApi;
  let lambda: LambdaClient;
  /** Answers `{"size": N}` with a payload of N bytes. */
  const sized = {
    invoke: async (payload: string): Promise<InvocationOutcome> => {
      const size = Number((JSON.parse(payload) as { size?: unknown }).size ?? 2);
      return { ok: true, payload: JSON.stringify('x'.repeat(Math.max(0, size - 2))) };
    },
  };

  beforeAll(async () => {
    api = await startLambdaApi(
      (name) => (name === 'sized' ? sized : undefined),
      () => undefined,
    );
    lambda = new LambdaClient({
      endpoint: api.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    lambda.destroy();
    await api.stop();
  });

  it('refuses a request payload over 6 MB with RequestTooLargeException (413)', async () => {
    // Prepare
    const payload = Buffer.from(JSON.stringify({ pad: 'x'.repeat(MAX_SYNC_PAYLOAD_BYTES) }));

    // Act
    const error = await lambda
      .send(new InvokeCommand({ FunctionName: 'sized', Payload: payload }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({
      name: 'RequestTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
  });

  it('answers a response over 6 MB as the function error Function.ResponseSizeTooLarge', async () => {
    // Act
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: 'sized',
        Payload: Buffer.from(JSON.stringify({ size: MAX_SYNC_PAYLOAD_BYTES + 1 })),
      }),
    );

    // Assess
    expect(answer.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(answer.Payload ?? []).toString('utf8'))).toMatchObject({
      errorType: 'Function.ResponseSizeTooLarge',
    });
  });

  it('returns a response of exactly 6 MB', async () => {
    // Act
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: 'sized',
        Payload: Buffer.from(JSON.stringify({ size: MAX_SYNC_PAYLOAD_BYTES })),
      }),
    );

    // Assess
    expect(answer.FunctionError).toBeUndefined();
    expect(answer.Payload?.length).toBe(MAX_SYNC_PAYLOAD_BYTES);
  });
});

describe('Class: RestApiGateway (the integration timeout)', () => {
  const api: RestApiSpec = {
    logicalId: 'Api',
    name: 'api',
    stageName: 'v1',
    binaryMediaTypes: [],
    minimumCompressionSize: undefined,
    routes: [
      {
        httpMethod: 'GET',
        resourcePath: '/slow',
        authorizationType: 'AWS_IAM',
        integrationType: 'AWS_PROXY',
        functionLogicalId: 'Slow',
        mockResponse: { statusCode: 200, headers: {} },
      },
    ],
  };
  const request = { method: 'GET', url: '/slow', rawHeaders: [], body: Buffer.alloc(0) };
  const endpoint = { host: '127.0.0.1', port: 3000 };
  const answeringAfter = (ms: number) => async (): Promise<InvocationOutcome> => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { ok: true, payload: JSON.stringify({ statusCode: 200, body: 'done' }) };
  };

  it('answers 504 "Endpoint request timed out" when the function takes longer', async () => {
    // Prepare
    const gateway = new RestApiGateway(api, '000000000000', { integrationTimeoutMs: 20 });

    // Act
    const answer = await gateway.handle(request, endpoint, answeringAfter(200));

    // Assess
    expect(answer.statusCode).toBe(504);
    expect(JSON.parse(answer.body.toString('utf8'))).toEqual({
      message: 'Endpoint request timed out',
    });
  });

  it("returns the function's answer when it comes in time", async () => {
    const gateway = new RestApiGateway(api, '000000000000', { integrationTimeoutMs: 5_000 });
    const answer = await gateway.handle(request, endpoint, answeringAfter(1));
    expect(answer.statusCode).toBe(200);
    expect(answer.body.toString('utf8')).toBe('done');
  });

  it("defaults the cloud-limits timeout to API Gateway's 29 s", () => {
    expect(AWS_DEFAULT_LIMITS.apiGateway.integrationTimeoutMs).toBe(29_000);
  });

  it('throws a RangeError on a timeout that is not positive', () => {
    expect(() => new RestApiGateway(api, '000000000000', { integrationTimeoutMs: 0 })).toThrow(
      'integrationTimeoutMs must be a positive number, got 0',
    );
  });
});

describe('Feature: the SQS message size, as fauxqs enforces it', () => {
  let fauxqs: FauxqsLocal;
  let sqs: SQSClient;

  beforeAll(async () => {
    fauxqs = await startFauxqsLocal();
    sqs = new SQSClient({
      endpoint: fauxqs.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    sqs.destroy();
    await fauxqs.stop();
  });

  it('takes a 1 MiB message and refuses one byte more with InvalidParameterValue', async () => {
    // Prepare: the queue's MaximumMessageSize at SQS's maximum, 1 MiB.
    await sqs.send(
      new CreateQueueCommand({ QueueName: 'sized', Attributes: { MaximumMessageSize: '1048576' } }),
    );
    const QueueUrl = fauxqs.queueUrl('sized');

    // Act
    const fits = await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(1_048_576) }),
    );
    const tooLong = await sqs
      .send(new SendMessageCommand({ QueueUrl, MessageBody: 'x'.repeat(1_048_577) }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(fits.MessageId).toBeDefined();
    // The SDK names it with the query protocol's prefix: AWS.SimpleQueueService.InvalidParameterValue.
    expect(tooLong).toMatchObject({
      name: expect.stringMatching(/InvalidParameterValue$/),
      message:
        'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes.',
    });
  });
});

describe('Class: S3RateLimiter', () => {
  it('answers 503 SlowDown past 3,500 writes in a second on one prefix, not on another', () => {
    // Prepare
    let now = 0;
    const limiter = new S3RateLimiter(AWS_DEFAULT_LIMITS.s3, () => now);

    // Act: 4,000 PUTs within 1 ms, then one on another prefix and one a second later.
    const answers = Array.from({ length: 4000 }, () => limiter.admit('PUT', 'b', 'in/job-1/x'));
    const otherPrefix = limiter.admit('PUT', 'b', 'in/job-2/x');
    now = 1000;
    const later = limiter.admit('PUT', 'b', 'in/job-1/y');

    // Assess
    expect(answers.filter((answer) => answer === undefined)).toHaveLength(3500);
    expect(answers[3500]).toMatchObject({ status: 503, code: 'SlowDown' });
    expect(answers[3500]?.body).toContain('<Code>SlowDown</Code>');
    expect(otherPrefix).toBeUndefined();
    expect(later).toBeUndefined();
  });

  it('counts reads (GET, HEAD) apart from writes, at 5,500 a second', () => {
    const limiter = new S3RateLimiter(AWS_DEFAULT_LIMITS.s3, () => 0);
    const reads = Array.from({ length: 5501 }, (_, index) =>
      limiter.admit(index % 2 === 0 ? 'GET' : 'HEAD', 'b', 'k'),
    );
    expect(reads.filter((answer) => answer === undefined)).toHaveLength(5500);
    expect(limiter.admit('PUT', 'b', 'k')).toBeUndefined();
  });

  it('takes the key up to its last slash as the prefix', () => {
    expect(prefixOf('b', 'in/job-1/part-3')).toBe('b/in/job-1/');
    expect(prefixOf('b', 'flat')).toBe('b/');
  });
});
