import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type AggregatorDeps,
  aggregateChunk,
} from '../../../functions/aggregator/aggregate-chunk.ts';
import {
  InconsistentJobError,
  InvalidChunkResultError,
  JobNotFoundError,
  TransientTransactionError,
} from '../../../functions/commons/errors.ts';
import { MAX_INLINE_RESULT_BYTES } from '../../../functions/commons/limits.ts';
import type { ChunkResult } from '../../../functions/commons/types.ts';
import {
  chunkItem,
  conditionalCheckFailed,
  EXPIRES_AT,
  JOB_ID,
  jobItem,
  TABLE_NAME,
  transactionCancelled,
} from '../../helpers/dynamodb.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-01-01T00:10:00.000Z');
const sleeps: number[] = [];

function deps(overrides: Partial<AggregatorDeps> = {}): AggregatorDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
}

/** The job of these tests: 5 numbers in 3 chunks [1,2] [3,4] [5]. The last chunk is #2. */
const lastChunk: ChunkResult = {
  jobId: JOB_ID,
  chunkIndex: 2,
  offset: 4,
  results: ['9007199326062756'],
  computeMs: 12.5,
  receiveCount: 1,
  durationMs: 40,
  memoryMb: 2048,
  messageBytes: 100,
};

/** The UpdateCommand inputs whose expression adds usage only (a dropped or duplicate chunk). */
function usageUpdates() {
  return ddbMock
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter(
      (input) =>
        input.UpdateExpression === 'ADD workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu',
    );
}

/** Stored chunk results: 0 and 1 before, 2 being this delivery's. */
const storedChunks = [
  chunkItem(0, 0, [1, 0.010000000000000002]),
  chunkItem(1, 2, [16, '81129638414606663681390495662081']),
  chunkItem(2, 4, ['9007199326062756']),
];

/** Job item reads in order: the pre-read, then the completion check. */
function jobReads(...items: Record<string, unknown>[]): void {
  let get = ddbMock.on(GetCommand);
  for (const item of items) get = get.resolvesOnce({ Item: item });
}

const completeCounters = { chunksDone: 3, numbersDone: 5, resultBytes: 64 };

beforeEach(() => {
  ddbMock.reset();
  sleeps.length = 0;
  ddbMock.on(TransactWriteCommand).resolves({});
  ddbMock.on(UpdateCommand).resolves({});
});

describe('Function: aggregateChunk', () => {
  it('stores a chunk that is not the last one and leaves the job RUNNING', async () => {
    jobReads(jobItem({ chunksDone: 0 }), jobItem({ chunksDone: 1, numbersDone: 2 }));

    const outcome = await aggregateChunk(
      { ...lastChunk, chunkIndex: 0, offset: 0, results: [1, 4] },
      deps(),
    );

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    const [put, update] =
      ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(put?.Put?.Item).toMatchObject({
      sk: 'CHUNK#00000000',
      offset: 0,
      count: 2,
      results: '[1,4]',
      expiresAt: EXPIRES_AT,
    });
    expect(update?.Update?.ExpressionAttributeValues).toMatchObject({ ':count': 2, ':bytes': 5 });
    // The delivery's usage rides in the same transaction: 40 ms x 2048 MB, one receive and
    // one delete, and the transaction's own writes (two items under 1 KB, twice each).
    expect(update?.Update?.ExpressionAttributeValues).toMatchObject({
      ':mbMs': 81_920,
      ':sqs': 2,
      ':wu': 4,
    });
    expect(update?.Update?.ConditionExpression).toBe(
      '#status IN (:running, :failed) AND chunksDone < chunkCount',
    );
    expect(ddbMock).not.toHaveReceivedCommand(QueryCommand);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('stores a chunk of a FAILED job (it may be redriven) without finalizing it', async () => {
    jobReads(
      jobItem({ status: 'FAILED', chunksDone: 2, numbersDone: 4 }),
      jobItem({ status: 'FAILED', ...completeCounters }),
    );

    const outcome = await aggregateChunk(lastChunk, deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'FAILED' });
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    expect(ddbMock).not.toHaveReceivedCommand(QueryCommand);
  });

  it('completes the job on the last chunk with the joined results in order, exactly', async () => {
    jobReads(jobItem({ chunksDone: 2, numbersDone: 4 }), jobItem(completeCounters));
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: storedChunks.slice(0, 2),
        LastEvaluatedKey: { pk: 'p', sk: 'CHUNK#00000001' },
      })
      .resolvesOnce({ Items: storedChunks.slice(2) });

    const outcome = await aggregateChunk(lastChunk, deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'SUCCEEDED' });
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddbMock).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      ConditionExpression: '#status = :running AND chunksDone = chunkCount',
      ExpressionAttributeValues: {
        ':succeeded': 'SUCCEEDED',
        ':running': 'RUNNING',
        ':now': '2026-01-01T00:10:00.000Z',
        ':results':
          '[1,0.010000000000000002,16,"81129638414606663681390495662081","9007199326062756"]',
        // The job item with its results is under 1 KB, plus its index entry removed.
        ':wu': 2,
      },
    });
  });

  it('completes a large job without inlining its results', async () => {
    jobReads(
      jobItem({ chunksDone: 2, numbersDone: 4 }),
      jobItem({ ...completeCounters, resultBytes: MAX_INLINE_RESULT_BYTES + 1 }),
    );

    const outcome = await aggregateChunk(lastChunk, deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'SUCCEEDED' });
    expect(ddbMock).not.toHaveReceivedCommand(QueryCommand);
    const update = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toBe(
      'SET #status = :succeeded, completedAt = :now, updatedAt = :now REMOVE runningPk ADD writeUnits :wu',
    );
    expect(update?.ExpressionAttributeValues).not.toHaveProperty(':results');
  });

  it('answers DUPLICATE and counts nothing when the chunk was already stored', async () => {
    jobReads(
      jobItem({ chunksDone: 2, numbersDone: 4 }),
      jobItem({ chunksDone: 2, numbersDone: 4 }),
    );
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['ConditionalCheckFailed', 'None']));

    const outcome = await aggregateChunk(
      { ...lastChunk, chunkIndex: 0, offset: 0, results: [1, 4] },
      deps(),
    );

    expect(outcome).toEqual({ outcome: 'DUPLICATE', jobStatus: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    // Nothing is counted: the only update adds the duplicate's usage, which is as real:
    // its delivery, its cancelled transaction (4 units) and this update (1 unit).
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(usageUpdates()).toEqual([
      {
        TableName: TABLE_NAME,
        Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
        UpdateExpression: 'ADD workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':mbMs': 81_920, ':sqs': 2, ':wu': 5 },
      },
    ]);
    expect(sleeps).toEqual([]);
  });

  it('finalizes on a duplicate of the last chunk, recovering a crash before the finalize', async () => {
    jobReads(jobItem(completeCounters), jobItem(completeCounters));
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['ConditionalCheckFailed', 'None']));
    ddbMock.on(QueryCommand).resolves({ Items: storedChunks });

    const outcome = await aggregateChunk({ ...lastChunk, receiveCount: 2 }, deps());

    expect(outcome).toEqual({ outcome: 'DUPLICATE', jobStatus: 'SUCCEEDED' });
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      ExpressionAttributeValues: expect.objectContaining({
        ':results':
          '[1,0.010000000000000002,16,"81129638414606663681390495662081","9007199326062756"]',
      }),
    });
  });

  it.each(['CANCELLED', 'SUCCEEDED'])(
    'answers JOB_NOT_RUNNING without storing when the job is %s',
    async (status) => {
      jobReads(jobItem({ status }));

      const outcome = await aggregateChunk(lastChunk, deps());

      expect(outcome).toEqual({ outcome: 'JOB_NOT_RUNNING', jobStatus: status });
      expect(ddbMock).not.toHaveReceivedCommand(TransactWriteCommand);
      // Only the dropped delivery's usage is added, to the job as it is.
      expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
      expect(usageUpdates()[0]?.ExpressionAttributeValues).toEqual({
        ':mbMs': 81_920,
        ':sqs': 2,
        ':wu': 1,
      });
    },
  );

  it('drops a result arriving after a cancellation between the read and the transaction, so the job stays CANCELLED', async () => {
    jobReads(jobItem({ chunksDone: 2, numbersDone: 4 }));
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['None', 'ConditionalCheckFailed'], 'CANCELLED'));

    const outcome = await aggregateChunk(lastChunk, deps());

    expect(outcome).toEqual({ outcome: 'JOB_NOT_RUNNING', jobStatus: 'CANCELLED' });
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    // No finalize: the only update adds the dropped chunk's usage.
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(usageUpdates()).toHaveLength(1);
  });

  it('still answers the outcome when the usage of a dropped chunk cannot be added', async () => {
    jobReads(jobItem({ status: 'CANCELLED' }));
    ddbMock.on(UpdateCommand).rejects(new Error('throttled'));

    expect(await aggregateChunk(lastChunk, deps())).toEqual({
      outcome: 'JOB_NOT_RUNNING',
      jobStatus: 'CANCELLED',
    });
  });

  it('reports SUCCEEDED when another delivery finalized first', async () => {
    jobReads(
      jobItem({ chunksDone: 2, numbersDone: 4 }),
      jobItem(completeCounters),
      jobItem({ ...completeCounters, status: 'SUCCEEDED' }),
    );
    ddbMock.on(QueryCommand).resolves({ Items: storedChunks });
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());

    expect(await aggregateChunk(lastChunk, deps())).toEqual({
      outcome: 'STORED',
      jobStatus: 'SUCCEEDED',
    });
  });

  it('retries a transaction cancelled by a conflict on the job item', async () => {
    jobReads(jobItem({ chunksDone: 0 }), jobItem({ chunksDone: 1, numbersDone: 1 }));
    ddbMock
      .on(TransactWriteCommand)
      .rejectsOnce(transactionCancelled(['None', 'TransactionConflict']))
      .rejectsOnce(transactionCancelled(['None', 'TransactionConflict']))
      .resolves({});

    const outcome = await aggregateChunk(lastChunk, deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
    expect(sleeps).toHaveLength(2);
  });

  it('gives up after the retry budget, so the worker redelivers', async () => {
    jobReads(jobItem());
    ddbMock.on(TransactWriteCommand).rejects(transactionCancelled(['None', 'ThrottlingError']));

    await expect(
      aggregateChunk(
        lastChunk,
        deps({ transactionRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } }),
      ),
    ).rejects.toBeInstanceOf(TransientTransactionError);
    expect(ddbMock).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
  });

  it('rejects an invalid payload without touching the table', async () => {
    await expect(aggregateChunk({ ...lastChunk, results: [-4] }, deps())).rejects.toBeInstanceOf(
      InvalidChunkResultError,
    );
    await expect(aggregateChunk('hello', deps())).rejects.toThrow(
      'invalid chunk result: not an object',
    );
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('rejects a chunk index past the job chunk count', async () => {
    jobReads(jobItem());
    await expect(aggregateChunk({ ...lastChunk, chunkIndex: 3 }, deps())).rejects.toThrow(
      'chunk 3 is out of range: the job has 3 chunks',
    );
    expect(ddbMock).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('rejects results that run past the job numbers', async () => {
    jobReads(jobItem());
    await expect(aggregateChunk({ ...lastChunk, results: [1, 4] }, deps())).rejects.toThrow(
      "chunk 2 ends at 6, past the job's 5 numbers",
    );
  });

  it('throws JobNotFoundError for an unknown job', async () => {
    ddbMock.on(GetCommand).resolves({});
    await expect(aggregateChunk(lastChunk, deps())).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('refuses to finalize when the counted numbers do not add up', async () => {
    jobReads(
      jobItem({ chunksDone: 2, numbersDone: 4 }),
      jobItem({ ...completeCounters, numbersDone: 4 }),
    );

    await expect(aggregateChunk(lastChunk, deps())).rejects.toBeInstanceOf(InconsistentJobError);
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });
});
