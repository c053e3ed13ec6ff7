/**
 * The local runner alone, on a stand-in cloud assembly (test/e2e/fixtures/assembly) shaped
 * like `cdk synth` output: resources come from the template, the event source mapping keeps
 * Lambda's semantics, the Invoke API and the REST API behave as in AWS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestStack } from '#local/harness/index.ts';
import { waitFor } from './helpers.ts';

const ASSEMBLY = join(import.meta.dirname, 'fixtures', 'assembly');

/** Alive and not a zombie (a killed child nobody has reaped yet is dead for our purpose). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('Class: EmbeddedStack (stand-in template)', () => {
  // This file is about the stack's parts and the proxy mapping; SigV4 has local-auth.test.ts.
  const stack = new TestStack({
    cdkOutDir: ASSEMBLY,
    synth: false,
    logSink: null,
    logLevel: 'WARN',
    auth: false,
  });
  let javaPid = 0;
  let forkerChild = 0;

  beforeAll(async () => {
    await stack.start();
    javaPid = stack.dynamoDbPid;
  });

  afterAll(async () => {
    await stack.stop();
  });

  async function deliveries(id: string): Promise<number> {
    const item = await stack.clients.dynamodb.send(
      new GetItemCommand({
        TableName: stack.tableName,
        Key: { pk: { S: `DELIVERY#${id}` }, sk: { S: 'COUNT' } },
        ConsistentRead: true,
      }),
    );
    return Number(item.Item?.deliveries?.N ?? 0);
  }

  async function storedItem(id: string): Promise<Record<string, string> | undefined> {
    const item = await stack.clients.dynamodb.send(
      new GetItemCommand({
        TableName: stack.tableName,
        Key: { pk: { S: `ITEM#${id}` }, sk: { S: 'ITEM' } },
        ConsistentRead: true,
      }),
    );
    if (item.Item === undefined) return undefined;
    return { answer: item.Item.answer?.S ?? '', env: item.Item.env?.S ?? '' };
  }

  describe('Method: start', () => {
    it('creates the queues with the template attributes and the redrive to the local DLQ', async () => {
      const { Attributes } = await stack.clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.workQueue.url, AttributeNames: ['All'] }),
      );
      expect(Attributes?.MaximumMessageSize).toBe('1048576');
      expect(Attributes?.VisibilityTimeout).toBe('1');
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}')).toEqual({
        deadLetterTargetArn: stack.deadLetterQueue.arn,
        maxReceiveCount: 2,
      });
      expect(stack.workQueue.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/WorkQueue$/);
    });

    it('creates the table with its TTL attribute', async () => {
      const ttl = await stack.clients.dynamodb.send(
        new DescribeTimeToLiveCommand({ TableName: stack.tableName }),
      );
      expect(ttl.TimeToLiveDescription).toEqual({
        AttributeName: 'expiresAt',
        TimeToLiveStatus: 'ENABLED',
      });
    });

    it('binds the emulators to 127.0.0.1 only', () => {
      const listening = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
      for (const endpoint of Object.values(stack.endpoints)) {
        const port = new URL(endpoint).port;
        const lines = listening.split('\n').filter((line) => line.includes(`:${port} `));
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines)
          expect(line).toMatch(/^LISTEN\s+\d+\s+\d+\s+(\[::ffff:)?127\.0\.0\.1\]?:\d+\s/);
      }
    });
  });

  describe('Feature: the Lambda Invoke API', () => {
    it('returns the function result with the template environment resolved', async () => {
      const response = await stack.clients.lambda.send(
        new InvokeCommand({
          FunctionName: stack.fn('target').name,
          Payload: JSON.stringify({ n: 7 }),
        }),
      );
      expect(response.FunctionError).toBeUndefined();
      expect(JSON.parse(new TextDecoder().decode(response.Payload))).toEqual({
        echo: { n: 7 },
        greeting: 'hello',
        ownName: 'Mini-target',
        functionName: 'Mini-Target',
        memory: '256',
      });
    });

    it('reports a thrown error as an Unhandled function error with the error document', async () => {
      const response = await stack.clients.lambda.send(
        new InvokeCommand({
          FunctionName: stack.fn('target').arn,
          Payload: JSON.stringify({ fail: 'please' }),
        }),
      );
      expect(response.FunctionError).toBe('Unhandled');
      const error = JSON.parse(new TextDecoder().decode(response.Payload)) as Record<
        string,
        unknown
      >;
      expect(error.errorType).toBe('TypeError');
      expect(error.errorMessage).toBe('asked to fail: please');
    });

    it('answers ResourceNotFoundException for an unknown function', async () => {
      await expect(
        stack.clients.lambda.send(new InvokeCommand({ FunctionName: 'nope', Payload: '{}' })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });
  });

  describe('Feature: the SQS event source mapping', () => {
    it('invokes the consumer with an SQSEvent and deletes what succeeded', async () => {
      await stack.sendRawMessage(JSON.stringify({ id: 'ok-1', action: 'ok' }));
      await waitFor(async () => (await storedItem('ok-1')) !== undefined, 10_000);
      const item = await stack.clients.dynamodb.send(
        new GetItemCommand({
          TableName: stack.tableName,
          Key: { pk: { S: 'DELIVERY#ok-1' }, sk: { S: 'COUNT' } },
        }),
      );
      const record = JSON.parse(item.Item?.lastRecord?.S ?? '{}') as Record<string, unknown>;
      expect(record).toMatchObject({
        body: JSON.stringify({ id: 'ok-1', action: 'ok' }),
        eventSource: 'aws:sqs',
        eventSourceARN: stack.workQueue.arn,
        awsRegion: 'us-east-1',
        attributes: expect.objectContaining({
          ApproximateReceiveCount: '1',
          SenderId: '000000000000',
        }),
        messageAttributes: {},
      });
      expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
      const env = JSON.parse((await storedItem('ok-1'))?.env ?? '{}') as Record<string, string>;
      expect(env).toEqual({
        joined: 'us-east-1|WorkQueue',
        queue: stack.workQueue.url,
        arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/Table',
        logLevel: 'WARN',
      });
      await waitFor(async () => (await stack.queueDepth(stack.workQueue)).inFlight === 0, 5_000);
      expect(await deliveries('ok-1')).toBe(1);
    });

    it('retries only the record named in batchItemFailures, until the DLQ takes it', async () => {
      await Promise.all([
        stack.sendRawMessage(JSON.stringify({ id: 'partial-ok', action: 'ok' })),
        stack.sendRawMessage(JSON.stringify({ id: 'partial-fail', action: 'fail' })),
      ]);
      // maxReceiveCount 2 and a 1 s visibility timeout: two deliveries, then the DLQ.
      const moved = await waitForDlqMessage(stack, 'partial-fail', 15_000);
      expect(moved).toBe(true);
      expect(await deliveries('partial-fail')).toBe(2);
      expect(await deliveries('partial-ok')).toBe(1);
    });

    it('fails the whole batch when the function throws', async () => {
      const mapping = stack.mappingFor('consumer');
      const errorsBefore = mapping.stats.functionErrors;
      await stack.sendRawMessage(JSON.stringify({ id: 'thrower', action: 'throw' }));
      expect(await waitForDlqMessage(stack, 'thrower', 15_000)).toBe(true);
      expect(await deliveries('thrower')).toBe(2);
      expect(mapping.stats.functionErrors - errorsBefore).toBeGreaterThanOrEqual(2);
    });

    it('lets a function invoke another through the Invoke API, errors included', async () => {
      await stack.sendRawMessage(
        JSON.stringify({ id: 'inv-ok', action: 'invoke', payload: { x: 1 } }),
      );
      await stack.sendRawMessage(
        JSON.stringify({ id: 'inv-err', action: 'invoke', payload: { fail: 'on purpose' } }),
      );
      await waitFor(
        async () =>
          (await storedItem('inv-ok')) !== undefined && (await storedItem('inv-err')) !== undefined,
        10_000,
      );
      expect(JSON.parse((await storedItem('inv-ok'))?.answer ?? 'null')).toMatchObject({
        functionError: null,
        payload: { echo: { x: 1 }, greeting: 'hello' },
      });
      expect(JSON.parse((await storedItem('inv-err'))?.answer ?? 'null')).toMatchObject({
        functionError: 'Unhandled',
        payload: { errorType: 'TypeError', errorMessage: 'asked to fail: on purpose' },
      });
    });

    it('runs an interceptor around the function (fault injection)', async () => {
      stack.intercept('consumer', async () => {
        throw new Error('injected');
      });
      try {
        await stack.sendRawMessage(JSON.stringify({ id: 'intercepted', action: 'ok' }));
        expect(await waitForDlqMessage(stack, 'intercepted', 15_000)).toBe(true);
        expect(await deliveries('intercepted')).toBe(0);
      } finally {
        stack.intercept('consumer', undefined);
      }
    });
  });

  describe('Feature: EventBridge schedules', () => {
    it('invokes the rule targets with a Scheduled Event', async () => {
      const [outcome] = await stack.fireSchedule('tick');
      expect(outcome?.ok).toBe(true);
      const answer = JSON.parse(outcome?.ok === true ? outcome.payload : 'null') as {
        echo: Record<string, unknown>;
      };
      expect(answer.echo).toMatchObject({
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        resources: ['arn:aws:events:us-east-1:000000000000:rule/TickRule'],
        detail: {},
      });
    });
  });

  describe('Feature: EventBridge Scheduler schedules', () => {
    it("invokes the schedule's target with its Input", async () => {
      const [outcome] = await stack.fireSchedule('sweep');
      expect(outcome?.ok).toBe(true);
      const answer = JSON.parse(outcome?.ok === true ? outcome.payload : 'null') as {
        echo: unknown;
      };
      expect(answer.echo).toEqual({ sweep: true });
    });
  });

  describe('Feature: the REST API', () => {
    it('builds the proxy event as API Gateway does', async () => {
      const response = await fetch(`${stack.apiUrl}/items/abc%20d?x=1&x=2&y=3`, {
        headers: { 'X-Custom': 'v' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-function')).toBe('Mini-ApiFn');
      const { event, remainingMs } = (await response.json()) as {
        event: Record<string, unknown> & { requestContext: Record<string, unknown> };
        remainingMs: number;
      };
      expect(event).toMatchObject({
        resource: '/items/{itemId}',
        path: '/items/abc%20d',
        httpMethod: 'GET',
        pathParameters: { itemId: 'abc d' },
        queryStringParameters: { x: '2', y: '3' },
        multiValueQueryStringParameters: { x: ['1', '2'], y: ['3'] },
        body: null,
        isBase64Encoded: false,
        stageVariables: null,
      });
      expect(event.headers).toMatchObject({ 'X-Custom': 'v', 'X-Forwarded-Proto': 'http' });
      expect(event.requestContext).toMatchObject({
        stage: 'v1',
        path: '/v1/items/abc%20d',
        resourcePath: '/items/{itemId}',
        httpMethod: 'GET',
        accountId: '000000000000',
      });
      expect(typeof event.requestContext.requestId).toBe('string');
      expect(remainingMs).toBeGreaterThan(0);
      expect(remainingMs).toBeLessThanOrEqual(1_000);
    });

    it('passes an application/gzip body base64-encoded, and inflates Content-Encoding: gzip', async () => {
      const json = JSON.stringify({ numbers: [1, 2, 3] });
      const binary = await fetch(`${stack.apiUrl}/v1/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/gzip' },
        body: gzipSync(json),
      });
      expect(binary.status).toBe(201);
      const binaryBody = (await binary.json()) as {
        event: { isBase64Encoded: boolean };
        decoded: string;
      };
      expect(binaryBody.event.isBase64Encoded).toBe(true);
      expect(binaryBody.decoded).toBe(json);

      const encoded = await fetch(`${stack.apiUrl}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(json),
      });
      const encodedBody = (await encoded.json()) as {
        event: { isBase64Encoded: boolean; body: string };
      };
      expect(encodedBody.event).toMatchObject({ isBase64Encoded: false, body: json });

      const broken = await fetch(`${stack.apiUrl}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: 'not gzip',
      });
      expect(broken.status).toBe(415);
    });

    it('answers 404 and 405 as JSON for unknown routes and methods', async () => {
      const missing = await fetch(`${stack.apiUrl}/nothing/here`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ message: expect.stringContaining('Not Found') });
      const wrongMethod = await fetch(`${stack.apiUrl}/items/1`, { method: 'DELETE' });
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.headers.get('allow')).toBe('GET');
    });

    it('answers 502 for a thrown error or a malformed result, 504 on timeout', async () => {
      expect((await fetch(`${stack.apiUrl}/items/throw`)).status).toBe(502);
      expect((await fetch(`${stack.apiUrl}/items/malformed`)).status).toBe(502);
      const slow = await fetch(`${stack.apiUrl}/items/slow`);
      expect(slow.status).toBe(504);
      // A fresh environment serves the next request.
      expect((await fetch(`${stack.apiUrl}/items/after-timeout`)).status).toBe(200);
    });

    it('rejects a body over the 6 MB Lambda payload with 413 and stays up', async () => {
      const response = await fetch(`${stack.apiUrl}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: 'x'.repeat(6 * 1024 * 1024),
      });
      expect(response.status).toBe(413);
      expect((await fetch(`${stack.apiUrl}/items/still-up`)).status).toBe(200);
    });

    it('serves a MOCK integration from its integration response', async () => {
      const response = await fetch(`${stack.apiUrl}/items`, { method: 'OPTIONS' });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    });
  });

  describe('Feature: execution environments', () => {
    it('ends the processes a function started when its environment times out', async () => {
      const forker = stack.fn('forker');
      const first = await forker.invoke('{}');
      const { childPid } = JSON.parse(first.ok ? first.payload : '{}') as { childPid: number };
      expect(isRunning(childPid)).toBe(true);
      const timedOut = await forker.invoke('{"hang":true}');
      expect(timedOut.ok ? undefined : timedOut.error.errorType).toBe('Sandbox.Timedout');
      await waitFor(() => !isRunning(childPid), 5_000, 'the child to end');
      const next = await forker.invoke('{}');
      expect(next.ok).toBe(true);
      forkerChild = (JSON.parse(next.ok ? next.payload : '{}') as { childPid: number }).childPid;
      expect(forkerChild).not.toBe(childPid);
    });
  });

  describe('Method: stop', () => {
    it("ends the DynamoDB Local JVM and the functions' processes", async () => {
      expect(isRunning(javaPid)).toBe(true);
      expect(isRunning(forkerChild)).toBe(true);
      await stack.stop();
      expect(isRunning(javaPid)).toBe(false);
      await waitFor(() => !isRunning(forkerChild), 5_000, 'the function child to end');
    });
  });
});

async function waitForDlqMessage(
  stack: TestStack,
  id: string,
  timeoutMs: number,
): Promise<boolean> {
  const seen = new Set<string>();
  try {
    await waitFor(async () => {
      const response = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.deadLetterQueue.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
        }),
      );
      for (const message of response.Messages ?? []) {
        const body = JSON.parse(message.Body ?? '{}') as { id?: string };
        if (body.id !== undefined) seen.add(body.id);
      }
      return seen.has(id);
    }, timeoutMs);
    return true;
  } catch {
    return false;
  }
}
