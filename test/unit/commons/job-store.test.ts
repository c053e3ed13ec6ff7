import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { itemSizeBytes } from '../../../functions/commons/cost.ts';
import {
  InconsistentJobError,
  TransientTransactionError,
} from '../../../functions/commons/errors.ts';
import {
  addJobUsage,
  type ChunkToStore,
  cancelJob,
  chunkIndexOfSortKey,
  chunkSortKey,
  createJob,
  expiryAfterDays,
  finalizeJob,
  getJob,
  getJobStatus,
  jobIdOfPartitionKey,
  joinResultArrays,
  markJobFailed,
  readAllChunks,
  readChunkPage,
  storeChunk,
} from '../../../functions/commons/job-store.ts';
import {
  CREATED_AT,
  chunkItem,
  conditionalCheckFailed,
  EXPIRES_AT,
  JOB_ID,
  jobItem,
  TABLE_NAME,
  transactionCancelled,
} from '../../helpers/dynamodb.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
const NOW = new Date('2026-01-02T03:04:05.000Z');

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: chunkSortKey and expiryAfterDays', () => {
  it('zero-pads the chunk index to 8 digits so keys sort in index order', () => {
    expect(chunkSortKey(0)).toBe('CHUNK#00000000');
    expect(chunkSortKey(123)).toBe('CHUNK#00000123');
    expect(chunkSortKey(9) < chunkSortKey(10)).toBe(true);
  });

  it('adds whole days in epoch seconds', () => {
    expect(expiryAfterDays(new Date('2026-01-01T00:00:00.900Z'), 7)).toBe(
      1_767_225_600 + 7 * 86_400,
    );
  });
});

describe('Function: createJob', () => {
  it('puts a RUNNING job with zeroed counters, its deadline and usage, only if the id is new', async () => {
    ddbMock.on(PutCommand).resolves({});

    await createJob(table, {
      jobId: JOB_ID,
      numbersCount: 5,
      chunkCount: 3,
      now: NOW,
      expiresAt: 99,
      deadlineAt: 1_767_326_645_000,
      usage: { workerMbMs: 0, sqsRequests: 1, writeUnits: 2 },
    });

    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE_NAME,
      Item: {
        pk: `JOB#${JOB_ID}`,
        sk: 'JOB',
        jobId: JOB_ID,
        status: 'RUNNING',
        numbersCount: 5,
        chunkCount: 3,
        chunksDone: 0,
        numbersDone: 0,
        resultBytes: 0,
        createdAt: '2026-01-02T03:04:05.000Z',
        updatedAt: '2026-01-02T03:04:05.000Z',
        expiresAt: 99,
        // The sparse index's keys: in RunningByDeadline while RUNNING.
        runningPk: 'RUNNING',
        deadlineAt: 1_767_326_645_000,
        attempts: 0,
        chunkErrors: {},
        failedChunks: {},
        failedChunkCount: 0,
        workerMbMs: 0,
        sqsRequests: 1,
        // 2 given + 1 for this item (under 1 KB) + 1 for its index entry.
        writeUnits: 4,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });
});

describe('Function: getJob', () => {
  it('returns the job without asking for its results by default', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunksDone: 1 }) });

    const job = await getJob(table, JOB_ID, { consistentRead: true });

    expect(job).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      numbersCount: 5,
      chunkCount: 3,
      chunksDone: 1,
      numbersDone: 0,
      resultBytes: 0,
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
      expiresAt: EXPIRES_AT,
      // Attributes an older item lacks read as zero or empty.
      attempts: 0,
      chunkErrors: {},
      failedChunks: {},
      failedChunkCount: 0,
      usage: { workerMbMs: 0, sqsRequests: 0, writeUnits: 0 },
      itemBytes: itemSizeBytes(jobItem({ chunksDone: 1 })),
    });
    const input = ddbMock.commandCalls(GetCommand)[0]?.args[0].input;
    expect(input?.ConsistentRead).toBe(true);
    expect(Object.values(input?.ExpressionAttributeNames ?? {})).not.toContain('results');
  });

  it('returns the inline results when asked', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ status: 'SUCCEEDED', results: '[1,4]' }) });
    const job = await getJob(table, JOB_ID, { withResults: true });
    expect(job?.results).toBe('[1,4]');
    const input = ddbMock.commandCalls(GetCommand)[0]?.args[0].input;
    expect(Object.values(input?.ExpressionAttributeNames ?? {})).toContain('results');
  });

  it('returns undefined for an unknown job', async () => {
    ddbMock.on(GetCommand).resolves({});
    expect(await getJob(table, JOB_ID)).toBeUndefined();
  });

  it('reads the deadline, cancellation, attempts, failures and usage counters', async () => {
    ddbMock.on(GetCommand).resolves({
      Item: jobItem({
        status: 'FAILED',
        deadlineAt: 1_767_229_200_000,
        cancelledAt: undefined,
        attempts: 3,
        chunkErrors: { '2': { reason: 'Error: boom', at: CREATED_AT, receiveCount: 3 } },
        failedChunks: { '2': { reason: 'Error: boom', receiveCount: 3 }, x: 'junk' },
        failedChunkCount: 1,
        workerMbMs: 81_920,
        sqsRequests: 7,
        writeUnits: 12,
      }),
    });

    const job = await getJob(table, JOB_ID);

    expect(job).toMatchObject({
      deadlineAt: 1_767_229_200_000,
      attempts: 3,
      chunkErrors: { '2': { reason: 'Error: boom', at: CREATED_AT, receiveCount: 3 } },
      failedChunks: { '2': { reason: 'Error: boom', receiveCount: 3 } },
      failedChunkCount: 1,
      usage: { workerMbMs: 81_920, sqsRequests: 7, writeUnits: 12 },
    });
    expect(job?.failedChunks).not.toHaveProperty('x');
    expect(job).not.toHaveProperty('cancelledAt');
    const names = Object.values(
      ddbMock.commandCalls(GetCommand)[0]?.args[0].input.ExpressionAttributeNames ?? {},
    );
    expect(names).toEqual(
      expect.arrayContaining(['deadlineAt', 'chunkErrors', 'failedChunks', 'writeUnits']),
    );
  });

  it('throws InconsistentJobError for an item without its counters', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunkCount: undefined }) });
    await expect(getJob(table, JOB_ID)).rejects.toBeInstanceOf(InconsistentJobError);
  });
});

describe('Function: markJobFailed', () => {
  const failure = { code: 'DISPATCH_FAILED', message: '1 of 3 chunks could not be queued' };

  it('sets FAILED with the failure, only while RUNNING', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    expect(await markJobFailed(table, JOB_ID, failure, NOW)).toBe(true);

    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      UpdateExpression:
        'SET #status = :failed, failure = :failure, completedAt = :now, updatedAt = :now REMOVE runningPk ADD workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu',
      ConditionExpression: '#status = :running',
      ExpressionAttributeValues: {
        ':failed': 'FAILED',
        ':running': 'RUNNING',
        ':failure': failure,
        ':now': NOW.toISOString(),
        ':mbMs': 0,
        ':sqs': 0,
        ':wu': 2,
      },
    });
  });

  it('returns false when the job is no longer RUNNING', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    expect(await markJobFailed(table, JOB_ID, failure, NOW)).toBe(false);
  });
});

describe('Function: storeChunk', () => {
  const chunk: ChunkToStore = {
    jobId: JOB_ID,
    chunkIndex: 2,
    offset: 4,
    count: 1,
    resultsJson: '["9007199326062756"]',
    computeMs: 3,
    receiveCount: 1,
    expiresAt: EXPIRES_AT,
    usage: { workerMbMs: 2_048, sqsRequests: 2, writeUnits: 0 },
  };

  it('puts the chunk if absent and counts it on the RUNNING job in one transaction', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});

    expect(await storeChunk(table, chunk, NOW)).toEqual({ outcome: 'STORED' });

    const items = ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(2);
    expect(items[0]?.Put).toEqual({
      TableName: TABLE_NAME,
      Item: {
        pk: `JOB#${JOB_ID}`,
        sk: 'CHUNK#00000002',
        jobId: JOB_ID,
        chunkIndex: 2,
        offset: 4,
        count: 1,
        results: '["9007199326062756"]',
        resultBytes: 20,
        computeMs: 3,
        receiveCount: 1,
        storedAt: NOW.toISOString(),
        expiresAt: EXPIRES_AT,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(items[1]?.Update).toMatchObject({
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      UpdateExpression:
        'ADD chunksDone :one, numbersDone :count, resultBytes :bytes, workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu SET updatedAt = :now',
      ConditionExpression: '#status IN (:running, :failed) AND chunksDone < chunkCount',
      ExpressionAttributeValues: {
        ':one': 1,
        ':count': 1,
        ':bytes': 20,
        ':now': NOW.toISOString(),
        ':running': 'RUNNING',
        ':failed': 'FAILED',
        ':mbMs': 2_048,
        ':sqs': 2,
        // Transactional: 2 units per KB for the chunk item and the (assumed 1 KB) job item.
        ':wu': 4,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('counts the write units of a chunk item over 1 KB and of a larger job item', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    const big = { ...chunk, resultsJson: `[${'1,'.repeat(1_500)}1]`, jobItemBytes: 2_500 };

    await storeChunk(table, big, NOW);

    const update = ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[1];
    // Chunk item ~3.1 KB: 4 units x 2; job item 2.5 KB: 3 units x 2.
    expect(update?.Update?.ExpressionAttributeValues?.[':wu']).toBe(14);
  });

  it('returns DUPLICATE when the chunk condition cancelled the transaction', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['ConditionalCheckFailed', 'None']));
    expect(await storeChunk(table, chunk, NOW)).toEqual({ outcome: 'DUPLICATE' });
  });

  it.each(['CANCELLED', 'SUCCEEDED'] as const)(
    'returns JOB_NOT_RUNNING with the status when the job is %s',
    async (status) => {
      ddbMock
        .on(TransactWriteCommand)
        .rejects(transactionCancelled(['None', 'ConditionalCheckFailed'], status));
      expect(await storeChunk(table, chunk, NOW)).toEqual({
        outcome: 'JOB_NOT_RUNNING',
        jobStatus: status,
      });
    },
  );

  it('prefers JOB_NOT_RUNNING when both conditions failed', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(
        transactionCancelled(['ConditionalCheckFailed', 'ConditionalCheckFailed'], 'SUCCEEDED'),
      );
    expect(await storeChunk(table, chunk, NOW)).toEqual({
      outcome: 'JOB_NOT_RUNNING',
      jobStatus: 'SUCCEEDED',
    });
  });

  it('returns JOB_NOT_RUNNING without a status when the job item is gone', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['None', 'ConditionalCheckFailed']));
    expect(await storeChunk(table, chunk, NOW)).toEqual({
      outcome: 'JOB_NOT_RUNNING',
      jobStatus: undefined,
    });
  });

  it.each(['RUNNING', 'FAILED'] as const)(
    'throws InconsistentJobError when a %s job has every chunk counted already',
    async (status) => {
      ddbMock
        .on(TransactWriteCommand)
        .rejects(transactionCancelled(['None', 'ConditionalCheckFailed'], status));
      await expect(storeChunk(table, chunk, NOW)).rejects.toThrow(
        'chunksDone already equals chunkCount',
      );
    },
  );

  it.each(['RUNNING', 'FAILED'] as const)(
    'returns DUPLICATE when the last chunk of a %s job is redelivered before its finalize',
    async (status) => {
      ddbMock
        .on(TransactWriteCommand)
        .rejects(
          transactionCancelled(['ConditionalCheckFailed', 'ConditionalCheckFailed'], status),
        );
      expect(await storeChunk(table, chunk, NOW)).toEqual({ outcome: 'DUPLICATE' });
    },
  );

  it('throws TransientTransactionError for a conflict with a concurrent transaction', async () => {
    ddbMock.on(TransactWriteCommand).rejects(transactionCancelled(['None', 'TransactionConflict']));
    const error = await storeChunk(table, chunk, NOW).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientTransactionError);
    expect((error as TransientTransactionError).reasons).toEqual(['None', 'TransactionConflict']);
  });

  it('rethrows any other error as it is', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    ddbMock.on(TransactWriteCommand).rejects(denied);
    await expect(storeChunk(table, chunk, NOW)).rejects.toBe(denied);
  });
});

describe('Function: finalizeJob', () => {
  it('sets SUCCEEDED with the results only if RUNNING and complete', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    expect(await finalizeJob(table, JOB_ID, NOW, '[1,4,9]')).toBe(true);

    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      UpdateExpression:
        'SET #status = :succeeded, completedAt = :now, updatedAt = :now, #results = :results REMOVE runningPk ADD writeUnits :wu',
      ConditionExpression: '#status = :running AND chunksDone = chunkCount',
      ExpressionAttributeNames: { '#status': 'status', '#results': 'results' },
      ExpressionAttributeValues: {
        ':succeeded': 'SUCCEEDED',
        ':running': 'RUNNING',
        ':now': NOW.toISOString(),
        ':results': '[1,4,9]',
        // The item's size is not given: 1 KB assumed, plus the results: 2 units, plus the
        // index entry removed.
        ':wu': 3,
      },
    });
  });

  it('bills the write by the item size with its results', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    await finalizeJob(table, JOB_ID, NOW, `[${'1,'.repeat(2_000)}1]`, 600);
    // 600 + 7 + 4,003 bytes: 5 units, plus the index entry removed.
    expect(
      ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues,
    ).toMatchObject({
      ':wu': 6,
    });
  });

  it('leaves the results out for a large job', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    await finalizeJob(table, JOB_ID, NOW);
    const input = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toBe(
      'SET #status = :succeeded, completedAt = :now, updatedAt = :now REMOVE runningPk ADD writeUnits :wu',
    );
    expect(input?.ExpressionAttributeValues).not.toHaveProperty(':results');
  });

  it('returns false when another delivery finalized first', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    expect(await finalizeJob(table, JOB_ID, NOW, '[1]')).toBe(false);
  });
});

describe('Function: readAllChunks', () => {
  it('reads every Query page, in order', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [chunkItem(0, 0, [1, 4])],
        LastEvaluatedKey: { pk: 'p', sk: 'CHUNK#00000000' },
      })
      .resolvesOnce({ Items: [chunkItem(1, 2, ['9007199326062756']), chunkItem(2, 3, [0.25, 9])] });

    const chunks = await readAllChunks(table, { jobId: JOB_ID, chunkCount: 3, numbersCount: 5 });

    expect(joinResultArrays(chunks)).toBe('[1,4,"9007199326062756",0.25,9]');
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddbMock).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': `JOB#${JOB_ID}`,
        ':from': 'CHUNK#00000000',
        ':to': 'CHUNK#99999999',
      },
      ConsistentRead: true,
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(QueryCommand, 2, {
      ExclusiveStartKey: { pk: 'p', sk: 'CHUNK#00000000' },
    });
  });

  it('throws InconsistentJobError when a chunk is missing', async () => {
    ddbMock
      .on(QueryCommand)
      .resolves({ Items: [chunkItem(0, 0, [1, 4]), chunkItem(2, 3, [0.25, 9])] });
    await expect(
      readAllChunks(table, { jobId: JOB_ID, chunkCount: 3, numbersCount: 5 }),
    ).rejects.toThrow('chunk 2 at offset 3 found where chunk 1 at offset 2 was expected');
  });

  it('throws InconsistentJobError when chunks are fewer than the job has', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [chunkItem(0, 0, [1, 4])] });
    await expect(
      readAllChunks(table, { jobId: JOB_ID, chunkCount: 3, numbersCount: 5 }),
    ).rejects.toThrow('found 1 chunks holding 2 numbers, expected 3 holding 5');
  });
});

describe('Function: readChunkPage', () => {
  const items = [chunkItem(0, 0, [1, 4, 9]), chunkItem(1, 3, [16, 25]), chunkItem(2, 5, [36])];

  it('returns whole chunks while they fit and points at the next one', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items });
    // "[1,4,9]" is 7 bytes, "[16,25]" 7 more: 14 fit in 15, "[36]" would not.
    const page = await readChunkPage(table, { jobId: JOB_ID, chunkCount: 3 }, 0, 15);
    expect(page.chunks.map((chunk) => chunk.chunkIndex)).toEqual([0, 1]);
    expect(page.nextChunkIndex).toBe(2);
  });

  it('always returns at least one chunk', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items });
    const page = await readChunkPage(table, { jobId: JOB_ID, chunkCount: 3 }, 0, 1);
    expect(page.chunks.map((chunk) => chunk.chunkIndex)).toEqual([0]);
    expect(page.nextChunkIndex).toBe(1);
  });

  it('starts the Query at the requested chunk and ends after the last one', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items.slice(2) });
    const page = await readChunkPage(table, { jobId: JOB_ID, chunkCount: 3 }, 2, 1_000);
    expect(page).toEqual({
      chunks: [{ chunkIndex: 2, offset: 5, count: 1, resultsJson: '[36]' }],
      nextChunkIndex: undefined,
    });
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: {
        ':pk': `JOB#${JOB_ID}`,
        ':from': 'CHUNK#00000002',
        ':to': 'CHUNK#99999999',
      },
    });
  });

  it('throws InconsistentJobError when the last chunks are missing', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items.slice(0, 2) });
    await expect(readChunkPage(table, { jobId: JOB_ID, chunkCount: 3 }, 0, 1_000)).rejects.toThrow(
      'chunk 2 is missing',
    );
  });
});

describe('Function: jobIdOfPartitionKey and chunkIndexOfSortKey', () => {
  it('reads the job id and chunk index back from keys', () => {
    expect(jobIdOfPartitionKey(`JOB#${JOB_ID}`)).toBe(JOB_ID);
    expect(jobIdOfPartitionKey('IDEMPOTENCY#submit')).toBeUndefined();
    expect(jobIdOfPartitionKey(7)).toBeUndefined();
    expect(chunkIndexOfSortKey('CHUNK#00000042')).toBe(42);
    expect(chunkIndexOfSortKey('FAILED#00000007')).toBe(7);
    expect(chunkIndexOfSortKey('JOB')).toBeUndefined();
  });
});

describe('Function: getJobStatus', () => {
  it('reads only the status, strongly consistent', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { status: 'CANCELLED' } });

    expect(await getJobStatus(table, JOB_ID)).toBe('CANCELLED');

    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      ConsistentRead: true,
      ProjectionExpression: '#status',
      ExpressionAttributeNames: { '#status': 'status' },
    });
  });

  it('returns undefined for a job that does not exist', async () => {
    ddbMock.on(GetCommand).resolves({});
    expect(await getJobStatus(table, JOB_ID)).toBeUndefined();
  });

  it('throws InconsistentJobError for an item without a status', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { status: 'PAUSED' } });
    await expect(getJobStatus(table, JOB_ID)).rejects.toBeInstanceOf(InconsistentJobError);
  });
});

describe('Function: addJobUsage', () => {
  it('adds the counters to an existing job only', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    expect(
      await addJobUsage(table, JOB_ID, { workerMbMs: 10, sqsRequests: 2, writeUnits: 3 }),
    ).toBe(true);

    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      UpdateExpression: 'ADD workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeValues: { ':mbMs': 10, ':sqs': 2, ':wu': 3 },
    });
  });

  it('returns false for a job that does not exist, creating nothing', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    expect(await addJobUsage(table, JOB_ID, { workerMbMs: 0, sqsRequests: 1, writeUnits: 1 })).toBe(
      false,
    );
  });
});

describe('Function: cancelJob', () => {
  it('sets CANCELLED with cancelledAt and leaves the deadline index, only while RUNNING', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    expect(await cancelJob(table, JOB_ID, NOW)).toEqual({
      outcome: 'CANCELLED',
      cancelledAt: NOW.toISOString(),
    });

    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      UpdateExpression:
        'SET #status = :cancelled, cancelledAt = :now, completedAt = :now, updatedAt = :now REMOVE runningPk ADD writeUnits :wu',
      ConditionExpression: '#status = :running',
      ExpressionAttributeValues: {
        ':cancelled': 'CANCELLED',
        ':running': 'RUNNING',
        ':now': NOW.toISOString(),
        ':wu': 2,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('returns the status of a job that has ended, from the old item', async () => {
    ddbMock
      .on(UpdateCommand)
      .rejects(Object.assign(conditionalCheckFailed(), { Item: { status: { S: 'SUCCEEDED' } } }));
    expect(await cancelJob(table, JOB_ID, NOW)).toEqual({
      outcome: 'NOT_RUNNING',
      status: 'SUCCEEDED',
    });
  });

  it('returns NOT_FOUND when the condition failed without an item', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    expect(await cancelJob(table, JOB_ID, NOW)).toEqual({ outcome: 'NOT_FOUND' });
  });
});
