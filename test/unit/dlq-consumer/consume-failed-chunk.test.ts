import 'aws-sdk-client-mock-vitest/extend';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import { logger, metrics } from '#commons/powertools.ts';
import { CHUNKS_FAILED_FAILURE } from '#store/failed-chunks.ts';
import {
  EXPIRES_AT,
  JOB_ID,
  jobItem,
  pageItem,
  TABLE_NAME,
  transactionCancelled,
} from '#test/helpers/dynamodb.ts';
import { sqsEvent, sqsRecord } from '#test/helpers/events.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import {
  consumeDeadLetters,
  type DlqConsumerDeps,
  EXHAUSTED_REASON,
} from '../../../functions/dlq-consumer/consume-failed-chunk.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-01-01T01:00:00.000Z');
const sleeps: number[] = [];

function deps(overrides: Partial<DlqConsumerDeps> = {}): DlqConsumerDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
}

function body(chunkIndex: number): string {
  return JSON.stringify({
    jobId: JOB_ID,
    chunkIndex,
    chunkCount: 4,
    offset: chunkIndex,
    numbers: [chunkIndex + 1],
  });
}

/** The job as the consumer reads it, and whether each chunk's result is stored. */
function table(
  job: Record<string, unknown> | undefined,
  storedChunks: readonly number[] = [],
): void {
  ddbMock.on(GetCommand).callsFake((input: GetCommandInput) => {
    const pk = String(input.Key?.pk);
    if (pk.startsWith('PAGE#')) {
      return storedChunks.includes(Number(pk.slice(-8))) ? { Item: { count: 1 } } : {};
    }
    return job === undefined ? {} : { Item: job };
  });
}

/** A transaction fake that refuses a second FAILED# put for the same chunk, as the table would. */
function failedItemsTable(): Set<string> {
  const stored = new Set<string>();
  ddbMock.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
    const sk = String(input.TransactItems?.[0]?.Put?.Item?.sk);
    if (stored.has(sk)) throw transactionCancelled(['ConditionalCheckFailed', 'None']);
    stored.add(sk);
    return {};
  });
  return stored;
}

function transactions() {
  return ddbMock
    .commandCalls(TransactWriteCommand)
    .map((call) => call.args[0].input.TransactItems ?? []);
}

beforeEach(() => {
  ddbMock.reset();
  sleeps.length = 0;
});

describe('Function: consumeDeadLetters', () => {
  it('keeps the input and marks the job FAILED with the reason a worker recorded', async () => {
    table({
      status: 'RUNNING',
      expiresAt: EXPIRES_AT,
      failedChunkCount: 0,
      chunkErrors: {
        '2': { reason: 'Error: child exited with signal SIGKILL', at: 'x', receiveCount: 3 },
      },
    });
    failedItemsTable();
    const addMetric = vi.spyOn(metrics, 'addMetric');

    const response = await consumeDeadLetters(
      sqsEvent([sqsRecord(body(2), { messageId: 'dead', receiveCount: 1 })]),
      deps(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    const [put, update] = transactions()[0] ?? [];
    expect(put?.Put).toMatchObject({
      Item: { sk: 'FAILED#00000002', body: body(2), expiresAt: EXPIRES_AT, receiveCount: 3 },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const decoded = decodeUpdate(update?.Update);
    expect(decoded.condition).toBe('(status IN ("RUNNING", "FAILED"))');
    expect(decoded.set).toMatchObject({
      status: 'FAILED',
      'failedChunks.2': { reason: 'Error: child exited with signal SIGKILL', receiveCount: 3 },
    });
    expect(decoded.setIfAbsent.failure).toEqual(CHUNKS_FAILED_FAILURE);
    expect(decoded.add.failedChunkCount).toBe(1);
    const emitted = addMetric.mock.calls.map(([name, , value]) => [name, value]);
    addMetric.mockRestore();
    expect(emitted).toContainEqual(['FailedChunks', 1]);
    expect(emitted).toContainEqual(['JobsFailed', 1]);
  });

  it('says the chunk exhausted its deliveries when no worker recorded why', async () => {
    table({ status: 'FAILED', expiresAt: EXPIRES_AT, failedChunkCount: 1 });
    failedItemsTable();
    const addMetric = vi.spyOn(metrics, 'addMetric');

    await consumeDeadLetters(sqsEvent([sqsRecord(body(1), { receiveCount: 4 })]), deps());

    const update = decodeUpdate(transactions()[0]?.[1]?.Update);
    expect(update.set['failedChunks.1']).toEqual({ reason: EXHAUSTED_REASON, receiveCount: 4 });
    const names = addMetric.mock.calls.map(([name]) => name);
    addMetric.mockRestore();
    // Already FAILED: one more failed chunk, not one more failed job.
    expect(names).toContain('FailedChunks');
    expect(names).not.toContain('JobsFailed');
  });

  it('counts a duplicate DLQ message once', async () => {
    table({ status: 'RUNNING', expiresAt: EXPIRES_AT, failedChunkCount: 0 });
    const stored = failedItemsTable();
    const addMetric = vi.spyOn(metrics, 'addMetric');

    const response = await consumeDeadLetters(
      sqsEvent([
        sqsRecord(body(3), { messageId: 'copy-1' }),
        sqsRecord(body(3), { messageId: 'copy-2' }),
      ]),
      deps(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(stored).toEqual(new Set(['FAILED#00000003']));
    // Two attempts, one of which wrote: the job's count went up by one.
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    const failedChunks = addMetric.mock.calls.filter(([name]) => name === 'FailedChunks');
    const duplicates = addMetric.mock.calls.filter(([name]) => name === 'DuplicateDeadLetters');
    addMetric.mockRestore();
    expect(failedChunks).toHaveLength(1);
    expect(duplicates).toHaveLength(1);
  });

  it.each(['CANCELLED', 'SUCCEEDED'])('leaves a %s job as it is', async (status) => {
    table({ status, expiresAt: EXPIRES_AT });

    const response = await consumeDeadLetters(sqsEvent([sqsRecord(body(0))]), deps());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('leaves the job alone when the status changed to an ended one before the write', async () => {
    table({ status: 'RUNNING', expiresAt: EXPIRES_AT });
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['None', 'ConditionalCheckFailed']));

    const response = await consumeDeadLetters(sqsEvent([sqsRecord(body(0))]), deps());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('fails nothing for a chunk whose result is stored after all, and counts it', async () => {
    const fake = new FakeTable();
    fake.attach(ddbMock);
    fake.put(jobItem({ numbersCount: 4, chunkCount: 4 }));
    fake.put(pageItem(2, 2, [9]));

    const response = await consumeDeadLetters(sqsEvent([sqsRecord(body(2))]), deps());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `PAGE#${JOB_ID}#00000002`, sk: 'PAGE' },
    });
    expect(fake.get(`SHARD#${JOB_ID}#0`, 'SHARD')).toMatchObject({ c2: 1 });
    expect(fake.get(`JOB#${JOB_ID}`, 'JOB')?.status).toBe('RUNNING');
  });

  it('counts a chunk whose page is stored but was never marked, completing its job', async () => {
    const fake = new FakeTable();
    fake.attach(ddbMock);
    // One chunk, stored, its aggregator crashed before the marker on every delivery.
    fake.put(jobItem({ numbersCount: 1, chunkCount: 1 }));
    fake.put(pageItem(0, 0, [4]));

    const response = await consumeDeadLetters(sqsEvent([sqsRecord(body(0))]), deps());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).not.toHaveReceivedCommand(TransactWriteCommand);
    expect(fake.get(`SHARD#${JOB_ID}#0`, 'SHARD')).toMatchObject({ c0: 1 });
    expect(fake.get(`JOB#${JOB_ID}`, 'JOB')).toMatchObject({ status: 'SUCCEEDED', results: '[4]' });
  });

  it('succeeds for a job that no longer exists', async () => {
    table(undefined);
    const response = await consumeDeadLetters(sqsEvent([sqsRecord(body(0))]), deps());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('logs an unparseable body with its message id and succeeds, marking nothing', async () => {
    table({ status: 'RUNNING', expiresAt: EXPIRES_AT });
    failedItemsTable();
    const logError = vi.spyOn(logger, 'error');

    const response = await consumeDeadLetters(
      sqsEvent([
        sqsRecord('not json {', { messageId: 'garbage' }),
        sqsRecord(body(1), { messageId: 'real' }),
      ]),
      deps(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(logError).toHaveBeenCalledWith(
      'unparseable dead letter dropped',
      expect.objectContaining({ messageId: 'garbage', body: 'not json {', bodyBytes: 10 }),
    );
    logError.mockRestore();
    // Only the real chunk was recorded.
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });

  it('stops listing chunks in the job once the list is full, but still counts them', async () => {
    table({
      status: 'FAILED',
      expiresAt: EXPIRES_AT,
      failedChunkCount: MAX_RECORDED_FAILED_CHUNKS,
    });
    failedItemsTable();

    await consumeDeadLetters(sqsEvent([sqsRecord(body(1))]), deps());

    const update = decodeUpdate(transactions()[0]?.[1]?.Update);
    expect(Object.keys(update.set)).toEqual(['status', 'updatedAt']);
    expect(update.add.failedChunkCount).toBe(1);
  });

  it('retries a conflicting transaction, then reports only that record for redelivery', async () => {
    table({ status: 'RUNNING', expiresAt: EXPIRES_AT });
    ddbMock.on(TransactWriteCommand).callsFake((input: TransactWriteCommandInput) => {
      if (input.TransactItems?.[0]?.Put?.Item?.chunkIndex === 0) {
        throw transactionCancelled(['None', 'TransactionConflict']);
      }
      return {};
    });

    const response = await consumeDeadLetters(
      sqsEvent([
        sqsRecord(body(0), { messageId: 'busy' }),
        sqsRecord(body(1), { messageId: 'ok' }),
      ]),
      deps({ transactionRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } }),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'busy' }] });
    expect(sleeps).toHaveLength(2);
  });

  it('throws when every record failed, so Lambda backs off', async () => {
    ddbMock.on(GetCommand).rejects(new Error('throttled'));
    await expect(consumeDeadLetters(sqsEvent([sqsRecord(body(0))]), deps())).rejects.toBeInstanceOf(
      FullBatchFailureError,
    );
  });
});
