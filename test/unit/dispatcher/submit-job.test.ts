import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { NumbersChunkMessage } from '#commons/types.ts';
import { JOB_ID, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { createJobEvent, gzipCreateJobEvent } from '#test/helpers/events.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import type { DispatcherDeps } from '../../../functions/dispatcher/deps.ts';
import { handleDispatcherRequest } from '../../../functions/dispatcher/routes.ts';
import { buildChunkEntries } from '../../../functions/dispatcher/submit-job.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work';
const NOW = new Date('2026-01-01T00:00:00.000Z');

const ddbMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);

function deps(overrides: Partial<DispatcherDeps> = {}): DispatcherDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    sqs: new SQSClient({}),
    workQueueUrl: QUEUE_URL,
    numbersPerChunk: 3,
    jobRetentionDays: 7,
    now: () => NOW,
    newJobId: () => JOB_ID,
    send: {
      sleep: async () => undefined,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 },
    },
    ...overrides,
  };
}

function acceptAll(input: SendMessageBatchCommandInput) {
  return {
    Successful: (input.Entries ?? []).map((entry) => ({
      Id: entry.Id,
      MessageId: `m-${entry.Id}`,
      MD5OfMessageBody: '',
    })),
    Failed: [],
  };
}

/** Every message body sent, parsed, in chunk order. */
function sentMessages(): NumbersChunkMessage[] {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => JSON.parse(entry.MessageBody ?? '') as NumbersChunkMessage)
    .sort((a, b) => a.chunkIndex - b.chunkIndex);
}

beforeEach(() => {
  ddbMock.reset();
  sqsMock.reset();
  ddbMock.on(PutCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({});
});

describe('Function: buildChunkEntries', () => {
  it('makes one message per chunk with its index, offset and numbers', () => {
    const entries = buildChunkEntries(JOB_ID, [1, 2, 3, 4, 5, 6, 7], 3);
    expect(entries.map((entry) => entry.id)).toEqual(['0', '1', '2']);
    expect(entries.map((entry) => JSON.parse(entry.body))).toEqual([
      { jobId: JOB_ID, chunkIndex: 0, chunkCount: 3, offset: 0, numbers: [1, 2, 3] },
      { jobId: JOB_ID, chunkIndex: 1, chunkCount: 3, offset: 3, numbers: [4, 5, 6] },
      { jobId: JOB_ID, chunkIndex: 2, chunkCount: 3, offset: 6, numbers: [7] },
    ]);
  });
});

describe('Function: handleCreateJob', () => {
  it('creates the job, queues its chunks and answers 202 with the job and its Location', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const numbers = [1, -2, '3', 0.5, '123456789012345678901234567890', 6, 7];

    const response = await handleDispatcherRequest(
      createJobEvent(JSON.stringify({ numbers })),
      deps(),
    );

    expect(response.statusCode).toBe(202);
    expect(response.headers).toMatchObject({
      location: `/prod/jobs/${JOB_ID}`,
      'content-type': 'application/json; charset=utf-8',
    });
    expect(JSON.parse(response.body)).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      numbersCount: 7,
      chunkCount: 3,
      statusUrl: `/jobs/${JOB_ID}`,
      resultsUrl: `/jobs/${JOB_ID}/results`,
    });
    expect(ddbMock).toHaveReceivedCommandExactlyOnceWith(PutCommand, {
      TableName: TABLE_NAME,
      Item: {
        pk: `JOB#${JOB_ID}`,
        sk: 'JOB',
        jobId: JOB_ID,
        status: 'RUNNING',
        numbersCount: 7,
        chunkCount: 3,
        // Its chunks are counted on one shard (at most 64 chunks a shard).
        shardCount: 1,
        shards: {},
        numbersDone: 0,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        expiresAt: 1_767_225_600 + 7 * 86_400,
        // Owned by the caller, listed first under its key in OwnerJobs.
        ownerArn: 'arn:aws:iam::123456789012:user/tester',
        ownerPk: 'OWNER#arn:aws:iam::123456789012:user/tester',
        ownerSk: `2026-01-01T00:00:00.000Z#${JOB_ID}`,
        // RUNNING in RunningByDeadline until the default deadline, an hour from now.
        runningPk: 'RUNNING',
        deadlineAt: NOW.getTime() + 3_600_000,
        attempts: 0,
        chunkErrors: {},
        failedChunks: {},
        failedChunkCount: 0,
        lambdaMbMs: 0,
        // This invocation.
        lambdaRequests: 1,
        // One SendMessageBatch of under 64 KB.
        sqsRequests: 1,
        readUnits: 0,
        // The job item (under 1 KB) and its entries in RunningByDeadline and OwnerJobs.
        writeUnits: 3,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 1);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE_URL });
    expect(sentMessages()).toEqual([
      { jobId: JOB_ID, chunkIndex: 0, chunkCount: 3, offset: 0, numbers: [1, -2, '3'] },
      {
        jobId: JOB_ID,
        chunkIndex: 1,
        chunkCount: 3,
        offset: 3,
        numbers: [0.5, '123456789012345678901234567890', 6],
      },
      { jobId: JOB_ID, chunkIndex: 2, chunkCount: 3, offset: 6, numbers: [7] },
    ]);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('sets the deadline from jobDeadlineSeconds and counts billed SQS requests per 64 KB', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const huge = '9'.repeat(10_000);
    const numbers = Array.from({ length: 300 }, () => huge);

    await handleDispatcherRequest(
      createJobEvent(JSON.stringify({ numbers })),
      deps({ numbersPerChunk: 10_000, jobDeadlineSeconds: 600 }),
    );

    const item = ddbMock.commandCalls(PutCommand)[0]?.args[0].input.Item ?? {};
    expect(item.deadlineAt).toBe(NOW.getTime() + 600_000);
    // 22 messages of ~140 KB in batches under 1 MiB: each batch billed per 64 KB.
    const billed = sqsMock.commandCalls(SendMessageBatchCommand).reduce((sum, call) => {
      const bytes = (call.args[0].input.Entries ?? []).reduce(
        (total, entry) => total + Buffer.byteLength(entry.MessageBody ?? ''),
        0,
      );
      return sum + Math.ceil(bytes / 65_536);
    }, 0);
    expect(item.sqsRequests).toBe(billed);
    expect(billed).toBeGreaterThan(22 * 2);
  });

  it('sends at most 10 entries per SendMessageBatch', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const numbers = Array.from({ length: 25 }, (_, index) => index);

    const response = await handleDispatcherRequest(
      createJobEvent(JSON.stringify({ numbers })),
      deps({ numbersPerChunk: 1 }),
    );

    expect(response.statusCode).toBe(202);
    const sizes = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .map((call) => call.args[0].input.Entries?.length);
    expect(sizes.sort()).toEqual([10, 10, 5]);
    expect(sentMessages().map((message) => message.offset)).toEqual(numbers);
  });

  it('keeps each SendMessageBatch within 1 MiB when numbers are huge', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const huge = '9'.repeat(10_000);
    const numbers = Array.from({ length: 300 }, () => huge);

    const response = await handleDispatcherRequest(
      createJobEvent(JSON.stringify({ numbers })),
      deps({ numbersPerChunk: 10_000 }),
    );

    expect(response.statusCode).toBe(202);
    const calls = sqsMock.commandCalls(SendMessageBatchCommand);
    for (const call of calls) {
      const bytes = (call.args[0].input.Entries ?? []).reduce(
        (sum, entry) => sum + Buffer.byteLength(entry.MessageBody ?? ''),
        0,
      );
      expect(bytes).toBeLessThanOrEqual(1_048_576);
    }
    const messages = sentMessages();
    // 14 numbers of 10,000 digits keep a chunk's estimated results within 300,000 bytes.
    expect(messages.map((message) => message.numbers.length)).toEqual([...Array(21).fill(14), 6]);
    expect(messages.flatMap((message) => message.numbers)).toEqual(numbers);
    expect(JSON.parse(response.body).chunkCount).toBe(22);
  });

  it('retries the entries reported in Failed and answers 202 once they are sent', async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [
          { Id: '0', MessageId: 'm0', MD5OfMessageBody: '' },
          { Id: '2', MessageId: 'm2', MD5OfMessageBody: '' },
        ],
        Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError', Message: 'retry me' }],
      })
      .callsFake(acceptAll);

    const response = await handleDispatcherRequest(
      createJobEvent('{"numbers":[1,2,3,4,5,6,7]}'),
      deps(),
    );

    expect(response.statusCode).toBe(202);
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 2);
    const retried = sqsMock.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries ?? [];
    expect(retried.map((entry) => entry.Id)).toEqual(['1']);
    expect(JSON.parse(retried[0]?.MessageBody ?? '')).toEqual({
      jobId: JOB_ID,
      chunkIndex: 1,
      chunkCount: 3,
      offset: 3,
      numbers: [4, 5, 6],
    });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('marks the job FAILED with the failed chunks and answers 503 when chunks cannot be sent', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
      Failed: [
        { Id: '1', SenderFault: false, Code: 'InternalError', Message: 'down' },
        { Id: '2', SenderFault: true, Code: 'InvalidParameterValue', Message: 'refused' },
      ],
    });

    const response = await handleDispatcherRequest(
      createJobEvent('{"numbers":[1,2,3,4,5,6,7]}'),
      deps(),
    );

    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({
      error: {
        code: 'DISPATCH_FAILED',
        message: 'the job could not be queued and was marked FAILED; submit it again later',
        details: { jobId: JOB_ID, failedChunkCount: 2, chunkCount: 3 },
      },
    });
    // Attempt 1 sends 3, then only chunk 1 is retried (chunk 2 is a sender fault): 3 calls.
    expect(sqsMock).toHaveReceivedCommandTimes(SendMessageBatchCommand, 3);
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    const update = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.Key).toEqual({ pk: `JOB#${JOB_ID}`, sk: 'JOB' });
    const decoded = decodeUpdate(update);
    expect(decoded.condition).toBe('(status IN ("RUNNING"))');
    // Leaving RUNNING removes the job from the deadline index.
    expect(decoded.remove).toEqual(['runningPk']);
    // The job item (1 KB assumed) and its index entry.
    expect(decoded.add).toEqual({ writeUnits: 3 });
    expect(decoded.set).toEqual({
      status: 'FAILED',
      updatedAt: '2026-01-01T00:00:00.000Z',
      failure: {
        code: 'DISPATCH_FAILED',
        message: '2 of 3 chunks could not be queued',
        failedChunks: [
          { chunkIndex: 1, reason: 'InternalError: down' },
          { chunkIndex: 2, reason: 'InvalidParameterValue: refused' },
        ],
        failedChunkCount: 2,
      },
    });
  });

  it('still answers 503 when the job cannot be marked FAILED either', async () => {
    sqsMock.on(SendMessageBatchCommand).rejects(new Error('network down'));
    ddbMock.on(UpdateCommand).rejects(new Error('dynamodb down'));

    const response = await handleDispatcherRequest(createJobEvent('{"numbers":[1]}'), deps());

    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body).error.code).toBe('DISPATCH_FAILED');
  });

  it('answers a generic 500 and sends nothing when the job item cannot be written', async () => {
    ddbMock.on(PutCommand).rejects(new Error('ProvisionedThroughputExceeded on table secret'));

    const response = await handleDispatcherRequest(createJobEvent('{"numbers":[1]}'), deps());

    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'INTERNAL_ERROR', message: 'an internal error occurred' },
    });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
  });

  it('does not touch DynamoDB or SQS for a bad request', async () => {
    const response = await handleDispatcherRequest(createJobEvent('{"numbers":[1,"x"]}'), deps());
    expect(response.statusCode).toBe(400);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('dispatches a million numbers (gzip body) in 100 contiguous chunks of 10,000', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake(acceptAll);
    const numbers = Array.from({ length: 1_000_000 }, (_, index) =>
      index % 3 === 0 ? String(index * 1_000_003) : index % 3 === 1 ? -index : index + 0.5,
    );
    // 10.5 MB of JSON: over the raw body limit, so it is sent gzip-compressed (4.7 MB base64).
    const event = gzipCreateJobEvent(JSON.stringify({ numbers }));

    const response = await handleDispatcherRequest(event, deps({ numbersPerChunk: 10_000 }));

    expect(response.statusCode).toBe(202);
    const { chunkCount } = JSON.parse(response.body);
    // The count binds first: 10,000 such squares are estimated well under the byte bound.
    expect(chunkCount).toBe(100);
    const messages = sentMessages();
    expect(messages).toHaveLength(chunkCount);
    let offset = 0;
    for (const message of messages) {
      expect(message.offset).toBe(offset);
      offset += message.numbers.length;
    }
    expect(offset).toBe(1_000_000);
    expect(messages.flatMap((message) => message.numbers)).toEqual(numbers);
  });
});
