import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '#test/helpers/context.ts';
import { TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { createJobEvent } from '#test/helpers/events.ts';
import { type IdempotencyTable, useIdempotencyTable } from '#test/helpers/idempotency-table.ts';
import type { DispatcherDeps } from '../../../functions/dispatcher/deps.ts';
import { createIdempotentSubmitter } from '../../../functions/dispatcher/idempotent-submit.ts';
import { handleDispatcherRequest } from '../../../functions/dispatcher/routes.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work';
const KEY = 'order-2026-01-01:7f3a';
const docMock = mockClient(DynamoDBDocumentClient);
const ddbMock = mockClient(DynamoDBClient);
const sqsMock = mockClient(SQSClient);
const dynamodb = new DynamoDBClient({});
// One submitter for the file, as one per execution environment.
const idempotency = createIdempotentSubmitter({
  client: dynamodb,
  tableName: TABLE_NAME,
  expirySeconds: 3_600,
});
let store: IdempotencyTable;
let jobCount = 0;

function deps(overrides: Partial<DispatcherDeps> = {}): DispatcherDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(dynamodb), tableName: TABLE_NAME },
    sqs: new SQSClient({}),
    workQueueUrl: QUEUE_URL,
    numbersPerChunk: 2,
    jobRetentionDays: 7,
    idempotency,
    newJobId: () => `00000000-0000-4000-8000-${String(++jobCount).padStart(12, '0')}`,
    send: {
      sleep: async () => undefined,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    },
    ...overrides,
  };
}

function keyedEvent(
  body: string,
  key = KEY,
  userArn = 'arn:aws:iam::123456789012:user/tester',
): APIGatewayProxyEvent {
  const event = createJobEvent(body);
  return {
    ...event,
    headers: { 'Idempotency-Key': key, 'Content-Type': 'application/json' },
    requestContext: {
      ...event.requestContext,
      identity: { ...event.requestContext.identity, userArn },
    },
  };
}

function acceptAll(input: SendMessageBatchCommandInput) {
  return {
    Successful: (input.Entries ?? []).map((entry) => ({
      Id: entry.Id,
      MessageId: 'm',
      MD5OfMessageBody: '',
    })),
  };
}

async function submit(event: APIGatewayProxyEvent, overrides: Partial<DispatcherDeps> = {}) {
  const response = await handleDispatcherRequest(event, deps(overrides), lambdaContext());
  return { ...response, json: JSON.parse(response.body) };
}

function records(): Record<string, unknown>[] {
  return store.records();
}

beforeEach(() => {
  docMock.reset();
  ddbMock.reset();
  sqsMock.reset();
  store = useIdempotencyTable(ddbMock);
  docMock.on(PutCommand).resolves({});
  docMock.on(UpdateCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
});

describe('Function: handleCreateJob with an Idempotency-Key', () => {
  it('answers the same key and body with the same job, identically, creating it once', async () => {
    const first = await submit(keyedEvent('{"numbers":[1,2,3]}'));
    const second = await submit(keyedEvent('{"numbers":[1,2,3]}'));

    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.body).toBe(first.body);
    expect(second.headers).toEqual(first.headers);
    expect(second.json.jobId).toBe(first.json.jobId);
    expect(docMock).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('keeps a COMPLETED record in the job table, keyed and expiring as the table expects', async () => {
    const started = Date.now();
    const { json } = await submit(keyedEvent('{"numbers":[1,2,3]}'));

    const [record] = records();
    expect(records()).toHaveLength(1);
    expect(record).toMatchObject({ sk: 'IDEMPOTENCY', status: 'COMPLETED', data: json });
    // Each record under a partition key of its own: no one partition caps keyed submits.
    expect(String(record?.pk)).toMatch(/^IDEMPOTENCY#submit#[A-Za-z0-9+/=]+$/);
    expect(typeof record?.validation).toBe('string');
    // The TTL attribute, an hour from now in epoch seconds.
    expect(Number(record?.expiresAt)).toBeGreaterThanOrEqual(Math.floor(started / 1000) + 3_599);
    expect(Number(record?.expiresAt)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3_601);
    // The in-progress lock was tied to the Lambda's remaining time (30 s in the test context).
    const put = ddbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {};
    const lockedUntil = Number(put.in_progress_expiration?.N);
    expect(lockedUntil).toBeGreaterThanOrEqual(started + 30_000);
    expect(lockedUntil).toBeLessThanOrEqual(Date.now() + 30_000);
    expect(put.status?.S).toBe('INPROGRESS');
    // Its two writes are counted in the job's write units (job item 1 + index 1 + 2).
    expect(docMock.commandCalls(PutCommand)[0]?.args[0].input.Item?.writeUnits).toBe(5);
  });

  it('refuses the same key with another body with 422, creating nothing', async () => {
    await submit(keyedEvent('{"numbers":[1,2,3]}'));

    const other = await submit(keyedEvent('{"numbers":[4]}'));

    expect(other.statusCode).toBe(422);
    expect(other.json.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(docMock).toHaveReceivedCommandTimes(PutCommand, 1);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
  });

  it('answers 409 while a request with the same key is in progress', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    sqsMock.on(SendMessageBatchCommand).callsFake(async (input: SendMessageBatchCommandInput) => {
      await gate;
      return acceptAll(input);
    });

    const firstPending = submit(keyedEvent('{"numbers":[1,2,3]}'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await submit(keyedEvent('{"numbers":[1,2,3]}'));
    release();
    const first = await firstPending;

    expect(second.statusCode).toBe(409);
    expect(second.json.error.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    expect(first.statusCode).toBe(202);
    expect(docMock).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it('lets a retry through once the lock of a request that died has expired', async () => {
    // A request that died mid-way: its record stays INPROGRESS (the test keeps it pending).
    sqsMock.on(SendMessageBatchCommand).callsFake(() => new Promise(() => undefined));
    void submit(keyedEvent('{"numbers":[1]}'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const [record] = records();
    // Its Lambda's time is up: the lock expires (powertools-lambda-python#1038).
    store.set(String(record?.sk), 'in_progress_expiration', { N: String(Date.now() - 1) });
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);

    const retry = await submit(keyedEvent('{"numbers":[1]}'));

    expect(retry.statusCode).toBe(202);
    expect(records()[0]).toMatchObject({ status: 'COMPLETED', data: retry.json });
  });

  it('never stores a bad request, so the key stays free for the corrected one', async () => {
    const bad = await submit(keyedEvent('{"numbers":[1,"x"]}'));
    expect(bad.statusCode).toBe(400);
    expect(ddbMock).not.toHaveReceivedAnyCommand();

    const good = await submit(keyedEvent('{"numbers":[1]}'));
    expect(good.statusCode).toBe(202);
    expect(records()).toHaveLength(1);
  });

  it('frees the key when the submission fails, so a retry creates the job', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('network down'));
    const failed = await submit(keyedEvent('{"numbers":[1]}'));
    expect(failed.statusCode).toBe(503);
    expect(failed.json.error.code).toBe('DISPATCH_FAILED');
    expect(ddbMock).toHaveReceivedCommand(DeleteItemCommand);
    expect(records()).toEqual([]);

    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const retry = await submit(keyedEvent('{"numbers":[1]}'));
    expect(retry.statusCode).toBe(202);
    expect(retry.json.jobId).not.toBe(failed.json.error.details.jobId);
  });

  it('answers the submission error when the key cannot be freed either', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('network down'));
    ddbMock.on(DeleteItemCommand).rejects(new Error('dynamodb down'));

    const failed = await submit(keyedEvent('{"numbers":[1]}'));

    expect(failed.statusCode).toBe(503);
    expect(failed.json.error.code).toBe('DISPATCH_FAILED');
  });

  it('keeps the keys of different principals apart, in one account too', async () => {
    const mine = await submit(
      keyedEvent('{"numbers":[1]}', KEY, 'arn:aws:iam::111111111111:user/a'),
    );
    const theirs = await submit(
      keyedEvent('{"numbers":[1]}', KEY, 'arn:aws:iam::111111111111:user/b'),
    );
    expect(theirs.json.jobId).not.toBe(mine.json.jobId);
    expect(records()).toHaveLength(2);
  });

  it('answers the same job to two sessions of one role (the role owns the key)', async () => {
    const session = (name: string) => `arn:aws:sts::111111111111:assumed-role/ops/${name}`;
    const first = await submit(keyedEvent('{"numbers":[1]}', KEY, session('one')));
    const second = await submit(keyedEvent('{"numbers":[1]}', KEY, session('two')));
    expect(second.statusCode).toBe(202);
    expect(second.json.jobId).toBe(first.json.jobId);
    expect(records()).toHaveLength(1);
  });

  it('answers 503 without creating a job when the idempotency store is down', async () => {
    ddbMock.on(PutItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));

    const response = await submit(keyedEvent('{"numbers":[1]}'));

    expect(response.statusCode).toBe(503);
    expect(response.json.error.code).toBe('IDEMPOTENCY_UNAVAILABLE');
    expect(docMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('answers the created job when only its completed record could not be saved', async () => {
    ddbMock.on(UpdateItemCommand).rejects(new Error('dynamodb down'));

    const response = await submit(keyedEvent('{"numbers":[1]}'));

    expect(response.statusCode).toBe(202);
    expect(docMock).toHaveReceivedCommandTimes(PutCommand, 1);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(129)],
    ['with a space', 'my key'],
    ['with a slash', 'a/b'],
  ])('rejects a key that is %s with 400, touching nothing', async (_, key) => {
    const response = await submit(keyedEvent('{"numbers":[1]}', key));
    expect(response.statusCode).toBe(400);
    expect(response.json.error.code).toBe('INVALID_IDEMPOTENCY_KEY');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
    expect(docMock).not.toHaveReceivedAnyCommand();
  });

  it('accepts a 128-character key and any header case', async () => {
    const event = keyedEvent('{"numbers":[1]}');
    const response = await submit({
      ...event,
      headers: { 'idempotency-key': 'K'.repeat(128) },
    });
    expect(response.statusCode).toBe(202);
    expect(records()).toHaveLength(1);
  });

  it('does not use the idempotency store without the header', async () => {
    const response = await submit(createJobEvent('{"numbers":[1]}'));
    expect(response.statusCode).toBe(202);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });
});
