import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DeleteCommand,
  type DeleteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChunkMessage } from '#commons/types.ts';
import { conditionalCheckFailed, JOB_ID, jobItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { redriveJobEvent } from '#test/helpers/events.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import type { DispatcherDeps } from '../../../functions/dispatcher/deps.ts';
import { handleDispatcherRequest } from '../../../functions/dispatcher/routes.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work';
const NOW = new Date('2026-01-01T03:00:00.000Z');
const ddbMock = mockClient(DynamoDBDocumentClient);
const sqsMock = mockClient(SQSClient);

function deps(overrides: Partial<DispatcherDeps> = {}): DispatcherDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    sqs: new SQSClient({}),
    workQueueUrl: QUEUE_URL,
    numbersPerChunk: 2,
    jobRetentionDays: 7,
    jobDeadlineSeconds: 900,
    now: () => NOW,
    send: {
      sleep: async () => undefined,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    },
    ...overrides,
  };
}

function message(chunkIndex: number): string {
  const body: ChunkMessage = {
    jobId: JOB_ID,
    chunkIndex,
    chunkCount: 6,
    offset: chunkIndex * 2,
    numbers: [chunkIndex * 2 + 1, chunkIndex * 2 + 2],
  };
  return JSON.stringify(body);
}

function failedItem(chunkIndex: number) {
  return { sk: `FAILED#${String(chunkIndex).padStart(8, '0')}`, body: message(chunkIndex) };
}

const failedJob = jobItem({
  status: 'FAILED',
  chunkCount: 6,
  numbersCount: 12,
  chunksDone: 3,
  failure: { code: 'CHUNKS_FAILED', message: 'chunks failed' },
});

/** What the handler did, in order: to check that sends follow the flip and deletes follow sends. */
let calls: string[];

/** A table holding the job and its stored failed inputs, `pageSize` per Query page. */
function table(job: Record<string, unknown> | undefined, failed: number[], pageSize = 10): void {
  const remaining = new Set(failed);
  ddbMock.on(GetCommand).resolves(job === undefined ? {} : { Item: job });
  ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const from = Number(input.ExclusiveStartKey?.offset ?? 0);
    const page = failed.slice(from, from + pageSize).filter((index) => remaining.has(index));
    calls.push('query');
    return {
      Items: page.map(failedItem),
      ...(from + pageSize < failed.length && { LastEvaluatedKey: { offset: from + pageSize } }),
    };
  });
  ddbMock.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    calls.push(decodeUpdate(input).set.status === 'RUNNING' ? 'reopen' : 'update');
    return {};
  });
  ddbMock.on(DeleteCommand).callsFake((input: DeleteCommandInput) => {
    calls.push(`delete ${String(input.Key?.sk)}`);
    remaining.delete(Number(String(input.Key?.sk).slice('FAILED#'.length)));
    return {};
  });
  sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
    calls.push(`send ${(input.Entries ?? []).map((entry) => entry.Id).join(',')}`);
    return {
      Successful: (input.Entries ?? []).map((entry) => ({
        Id: entry.Id,
        MessageId: 'm',
        MD5OfMessageBody: '',
      })),
    };
  });
}

async function redrive(overrides: Partial<DispatcherDeps> = {}) {
  const response = await handleDispatcherRequest(redriveJobEvent(JOB_ID), deps(overrides));
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}

function sentBodies(): string[] {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => entry.MessageBody ?? '');
}

beforeEach(() => {
  ddbMock.reset();
  sqsMock.reset();
  calls = [];
});

describe('Function: POST /jobs/{jobId}/redrive', () => {
  it('re-sends exactly the stored failed chunks, after reopening the job, and deletes them once sent', async () => {
    table(failedJob, [1, 4]);

    const { statusCode, body } = await redrive();

    expect(statusCode).toBe(202);
    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      redrivenChunks: 2,
      deadlineAt: new Date(NOW.getTime() + 900_000).toISOString(),
      statusUrl: `/jobs/${JOB_ID}`,
    });
    expect(sentBodies()).toEqual([message(1), message(4)]);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE_URL });
    expect(calls.slice(0, 4)).toEqual(['query', 'reopen', 'send 1,4', expect.any(String)]);
    expect(calls.filter((call) => call.startsWith('delete')).sort()).toEqual([
      'delete FAILED#00000001',
      'delete FAILED#00000004',
    ]);
    // The flip: FAILED to RUNNING with a new deadline, back in the deadline index.
    const reopen = ddbMock
      .commandCalls(UpdateCommand)
      .map((call) => decodeUpdate(call.args[0].input))
      .find((update) => update.set.status === 'RUNNING');
    expect(reopen?.condition).toBe('(status IN ("FAILED"))');
    expect(reopen?.set).toMatchObject({
      runningPk: 'RUNNING',
      deadlineAt: NOW.getTime() + 900_000,
    });
  });

  it('follows the stored inputs page by page', async () => {
    table(failedJob, [0, 2, 5], 2);

    const { statusCode, body } = await redrive();

    expect(statusCode).toBe(202);
    expect(body.redrivenChunks).toBe(3);
    expect(sentBodies()).toEqual([message(0), message(2), message(5)]);
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteCommand, 3);
  });

  it('adds what the redrive used to the job: the sends and the deletes', async () => {
    table(failedJob, [1, 4]);

    await redrive();

    const usage = ddbMock
      .commandCalls(UpdateCommand)
      .map((call) => decodeUpdate(call.args[0].input))
      .find((update) => update.condition === '(attribute_exists(pk))');
    // One batch under 64 KB; two deletes of items under 1 KB, and this update.
    expect(usage?.add).toEqual({ sqsRequests: 1, writeUnits: 3 });
  });

  it.each(['RUNNING', 'SUCCEEDED', 'CANCELLED'])(
    'answers 409 for a %s job, sending nothing',
    async (status) => {
      table(jobItem({ status }), [1]);

      const { statusCode, body } = await redrive();

      expect(statusCode).toBe(409);
      expect(body.error).toEqual({
        code: 'JOB_NOT_FAILED',
        message: `the job is ${status}; only a FAILED job can be redriven`,
        details: { status },
      });
      expect(sqsMock).not.toHaveReceivedAnyCommand();
      expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    },
  );

  it('answers 409 with what to do when nothing is stored to redrive (deadline, lost messages)', async () => {
    table(
      jobItem({
        status: 'FAILED',
        failure: { code: 'DEADLINE_EXCEEDED', message: 'late' },
      }),
      [],
    );

    const { statusCode, body } = await redrive();

    expect(statusCode).toBe(409);
    expect(body.error.code).toBe('NOTHING_TO_REDRIVE');
    expect(body.error.message).toContain('DEADLINE_EXCEEDED');
    expect(body.error.message).toContain('submit the job again');
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('answers 409 for a job whose chunks were never all queued', async () => {
    table(jobItem({ status: 'FAILED', failure: { code: 'DISPATCH_FAILED', message: 'x' } }), [1]);
    const { statusCode, body } = await redrive();
    expect(statusCode).toBe(409);
    expect(body.error.code).toBe('NOTHING_TO_REDRIVE');
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('answers 409 when another redrive reopened the job first', async () => {
    table(failedJob, [1]);
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());

    const { statusCode, body } = await redrive();

    expect(statusCode).toBe(409);
    expect(body.error.code).toBe('JOB_NOT_FAILED');
    expect(sqsMock).not.toHaveReceivedAnyCommand();
  });

  it('answers 404 for an unknown job', async () => {
    table(undefined, []);
    const { statusCode, body } = await redrive();
    expect(statusCode).toBe(404);
    expect(body.error.code).toBe('JOB_NOT_FOUND');
  });

  it('keeps the inputs it could not send, fails the job again and answers 503', async () => {
    table(failedJob, [1, 4]);
    sqsMock.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: [{ Id: '1', MessageId: 'm', MD5OfMessageBody: '' }],
      Failed: (input.Entries ?? [])
        .filter((entry) => entry.Id === '4')
        .map((entry) => ({
          Id: entry.Id,
          SenderFault: false,
          Code: 'InternalError',
          Message: 'down',
        })),
    }));

    const { statusCode, body } = await redrive();

    expect(statusCode).toBe(503);
    expect(body.error).toMatchObject({
      code: 'REDRIVE_FAILED',
      details: { jobId: JOB_ID, redrivenChunks: 1, unsentChunks: 1 },
    });
    // Only the sent chunk's input was deleted: the other waits for the next redrive.
    expect(ddbMock).toHaveReceivedCommandTimes(DeleteCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { pk: `JOB#${JOB_ID}`, sk: 'FAILED#00000001' },
    });
    const failing = ddbMock
      .commandCalls(UpdateCommand)
      .map((call) => decodeUpdate(call.args[0].input))
      .find((update) => update.set.status === 'FAILED');
    expect(failing?.condition).toBe('(status IN ("RUNNING"))');
    expect(failing?.set.failure).toEqual({
      code: 'REDRIVE_FAILED',
      message: '1 of 2 failed chunks could not be queued again; redrive the job again',
      failedChunks: [{ chunkIndex: 4, reason: 'InternalError: down' }],
      failedChunkCount: 1,
    });
  });

  it('still answers 202 when a sent input cannot be deleted (a later redrive would only repeat it)', async () => {
    table(failedJob, [1]);
    ddbMock.on(DeleteCommand).rejects(new Error('throttled'));

    const { statusCode, body } = await redrive();

    expect(statusCode).toBe(202);
    expect(body.redrivenChunks).toBe(1);
  });
});
