import 'aws-sdk-client-mock-vitest/extend';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_NUMBERS_PER_JOB } from '#commons/limits.ts';
import { lambdaContext } from '#test/helpers/context.ts';
import { conditionalCheckFailed, JOB_ID, jobItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import {
  apiGatewayEvent,
  cancelJobEvent,
  createJobEvent,
  gzipCreateJobEvent,
  jobStatusEvent,
  redriveJobEvent,
} from '#test/helpers/events.ts';
import { type IdempotencyTable, useIdempotencyTable } from '#test/helpers/idempotency-table.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-test-table';
  process.env.WORK_QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work';
  process.env.NUMBERS_PER_CHUNK = '2';
  process.env.JOB_RETENTION_DAYS = '3';
  process.env.JOB_DEADLINE_SECONDS = '120';
  process.env.IDEMPOTENCY_EXPIRY_SECONDS = '600';
  process.env.INPUT_BUCKET_NAME = 'fanout-input-test';
});

const { handler } = await import('../../../functions/dispatcher/handler.ts');

const ddbMock = mockClient(DynamoDBDocumentClient);
const rawDdbMock = mockClient(DynamoDBClient);
const sqsMock = mockClient(SQSClient);
let idempotencyStore: IdempotencyTable;

async function invoke(event: APIGatewayProxyEvent) {
  const response = await handler(event, lambdaContext());
  return {
    statusCode: response.statusCode,
    headers: response.headers,
    body: JSON.parse(response.body),
  };
}

beforeEach(() => {
  ddbMock.reset();
  rawDdbMock.reset();
  sqsMock.reset();
  idempotencyStore = useIdempotencyTable(rawDdbMock);
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(GetCommand).resolves({ Item: jobItem() });
  sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
    Successful: (input.Entries ?? []).map((entry) => ({
      Id: entry.Id,
      MessageId: 'm',
      MD5OfMessageBody: '',
    })),
  }));
});

describe('Function: dispatcher handler', () => {
  it('answers 202 and queues chunks of NUMBERS_PER_CHUNK from the environment', async () => {
    const { statusCode, headers, body } = await invoke(createJobEvent('{"numbers":[3,"4",5]}'));

    expect(statusCode).toBe(202);
    expect(body).toMatchObject({ status: 'RUNNING', numbersCount: 3, chunkCount: 2 });
    expect(body.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(headers?.location).toBe(`/prod/jobs/${body.jobId}`);
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, { TableName: TABLE_NAME });
    const putItem = ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item ?? {};
    const createdSeconds = Date.parse(String(putItem.createdAt)) / 1000;
    expect(putItem.expiresAt).toBe(Math.floor(createdSeconds) + 3 * 86_400);
    // JOB_DEADLINE_SECONDS from the environment.
    expect(putItem.deadlineAt).toBe(Date.parse(String(putItem.createdAt)) + 120_000);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE_URL });
    const bodies = (
      sqsMock.commandCalls(SendMessageBatchCommand)[0]?.args[0].input.Entries ?? []
    ).map((entry) => JSON.parse(entry.MessageBody ?? ''));
    expect(bodies).toEqual([
      { jobId: body.jobId, chunkIndex: 0, chunkCount: 2, offset: 0, numbers: [3, '4'] },
      { jobId: body.jobId, chunkIndex: 1, chunkCount: 2, offset: 2, numbers: [5] },
    ]);
  });

  it('accepts a gzip-compressed, base64-encoded body', async () => {
    const { statusCode, body } = await invoke(
      gzipCreateJobEvent('{"numbers":["123456789012345678901234567890"]}'),
    );
    expect(statusCode).toBe(202);
    expect(body).toMatchObject({ numbersCount: 1, chunkCount: 1 });
  });

  it.each([
    ['a missing body', createJobEvent(null), 400, 'EMPTY_BODY'],
    ['an empty body', createJobEvent(''), 400, 'EMPTY_BODY'],
    ['a body that is not JSON', createJobEvent('numbers=1,2,3'), 400, 'INVALID_JSON'],
    ['a JSON array', createJobEvent('[1,2,3]'), 400, 'BODY_NOT_OBJECT'],
    ['a JSON string', createJobEvent('"hello"'), 400, 'BODY_NOT_OBJECT'],
    ['an unknown field', createJobEvent('{"numbers":[1],"priority":9}'), 400, 'UNKNOWN_FIELD'],
    ['no numbers', createJobEvent('{}'), 400, 'NUMBERS_MISSING'],
    ['numbers that are not an array', createJobEvent('{"numbers":42}'), 400, 'NUMBERS_NOT_ARRAY'],
    ['empty numbers', createJobEvent('{"numbers":[]}'), 400, 'NUMBERS_EMPTY'],
    [
      'too many numbers',
      gzipCreateJobEvent(`{"numbers":[${'0,'.repeat(MAX_NUMBERS_PER_JOB)}0]}`),
      413,
      'TOO_MANY_NUMBERS',
    ],
    [
      'an oversized body',
      createJobEvent(`{"numbers":[${'1,'.repeat(3_000_000)}1]}`),
      413,
      'BODY_TOO_LARGE',
    ],
    [
      'a gzip bomb',
      {
        ...createJobEvent(gzipSync(Buffer.alloc(40 * 1024 * 1024, 0x20)).toString('base64')),
        isBase64Encoded: true,
      },
      413,
      'DECODED_BODY_TOO_LARGE',
    ],
    [
      'corrupt gzip',
      {
        ...createJobEvent(Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3]).toString('base64')),
        isBase64Encoded: true,
      },
      400,
      'INVALID_GZIP',
    ],
  ])('rejects %s with %i %s as JSON, touching nothing', async (_, event, status, code) => {
    const { statusCode, headers, body } = await invoke(event);

    expect(statusCode).toBe(status);
    expect(headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it.each([
    ['1e400', 'NOT_FINITE'],
    ['1e200', 'SQUARE_OVERFLOWS'],
    [`1${'0'.repeat(10_000)}`, 'TOO_MANY_DIGITS'],
    ['"1.5"', 'INVALID_INTEGER_STRING'],
    [`"${'7'.repeat(10_001)}"`, 'TOO_MANY_DIGITS'],
    ['[1]', 'NESTED_ARRAY'],
    ['null', 'NOT_A_NUMBER'],
    ['false', 'NOT_A_NUMBER'],
    ['{}', 'NOT_A_NUMBER'],
  ])('rejects the element %s with its index and code %s', async (element, code) => {
    const { statusCode, body } = await invoke(createJobEvent(`{"numbers":[1,2,${element},4]}`));

    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_NUMBERS');
    expect(body.error.details.invalidCount).toBe(1);
    expect(body.error.details.errors).toEqual([{ index: 2, code, message: expect.any(String) }]);
  });

  it('sets Location with the base path the client called through', async () => {
    const event = apiGatewayEvent({
      httpMethod: 'POST',
      resource: '/jobs',
      path: '/jobs',
      body: '{"numbers":[1]}',
    });
    const { statusCode, headers } = await invoke({
      ...event,
      requestContext: { ...event.requestContext, path: '/v1/jobs' },
    });
    expect(statusCode).toBe(202);
    expect(headers?.location).toMatch(/^\/v1\/jobs\/[0-9a-f-]{36}$/);
  });

  it('answers a repeat with the same Idempotency-Key with the same job, expiring after IDEMPOTENCY_EXPIRY_SECONDS', async () => {
    const event = {
      ...createJobEvent('{"numbers":[1,2,3]}'),
      headers: { 'Idempotency-Key': 'retry-me' },
    };

    const first = await invoke(event);
    const again = await invoke(event);

    expect(first.statusCode).toBe(202);
    expect(again).toEqual(first);
    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    const [record] = idempotencyStore.records();
    expect(record).toMatchObject({ sk: 'IDEMPOTENCY', status: 'COMPLETED' });
    expect(String(record?.pk)).toMatch(/^IDEMPOTENCY#submit#/);
    const expiresIn = Number(record?.expiresAt) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(590);
    expect(expiresIn).toBeLessThanOrEqual(601);
  });

  it('routes DELETE /jobs/{jobId} to cancel', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    const { statusCode, body } = await invoke(cancelJobEvent(JOB_ID));
    expect(statusCode).toBe(200);
    expect(body).toMatchObject({ jobId: JOB_ID, status: 'CANCELLED' });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, { TableName: TABLE_NAME });
  });

  it('answers another principal the 404 of a missing job on cancel and redrive, writing nothing', async () => {
    // Prepare: the job is someone else's.
    ddbMock.on(GetCommand).resolves({
      Item: jobItem({ ownerArn: 'arn:aws:iam::123456789012:user/someone-else' }),
    });
    const expected = {
      error: { code: 'JOB_NOT_FOUND', message: `no job ${JOB_ID} (it may have expired)` },
    };

    // Act
    const cancelled = await invoke(cancelJobEvent(JOB_ID));
    const redriven = await invoke(redriveJobEvent(JOB_ID));

    // Assess
    expect(cancelled).toMatchObject({ statusCode: 404, body: expected });
    expect(redriven).toMatchObject({ statusCode: 404, body: expected });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('routes by path when the event has no resource', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    const event = { ...cancelJobEvent(JOB_ID), resource: undefined, pathParameters: null };
    const { statusCode, body } = await invoke(event as unknown as APIGatewayProxyEvent);
    expect(statusCode).toBe(404);
    expect(body.error.code).toBe('JOB_NOT_FOUND');
  });

  it.each([
    [
      'GET /jobs/{jobId} (served by the status function)',
      jobStatusEvent(JOB_ID),
      405,
      'METHOD_NOT_ALLOWED',
    ],
    [
      'PUT /jobs',
      apiGatewayEvent({ httpMethod: 'PUT', resource: '/jobs', path: '/jobs' }),
      405,
      'METHOD_NOT_ALLOWED',
    ],
    [
      'an unknown resource',
      apiGatewayEvent({ httpMethod: 'POST', resource: '/admin', path: '/admin' }),
      404,
      'ROUTE_NOT_FOUND',
    ],
  ])('answers %s with %i', async (_, event, status, code) => {
    const { statusCode, body } = await invoke(event);
    expect(statusCode).toBe(status);
    expect(body.error.code).toBe(code);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });
});
