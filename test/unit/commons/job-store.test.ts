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
import {
  InconsistentJobError,
  TransientTransactionError,
} from '../../../functions/commons/errors.ts';
import {
  type ChunkToStore,
  chunkSortKey,
  createJob,
  expiryAfterDays,
  finalizeJob,
  getJob,
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
  it('puts a RUNNING job with zeroed counters, only if the id is new', async () => {
    ddbMock.on(PutCommand).resolves({});

    await createJob(table, {
      jobId: JOB_ID,
      numbersCount: 5,
      chunkCount: 3,
      now: NOW,
      expiresAt: 99,
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
      ConditionExpression: '#status = :running',
      ExpressionAttributeValues: {
        ':failed': 'FAILED',
        ':running': 'RUNNING',
        ':failure': failure,
        ':now': NOW.toISOString(),
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
        'ADD chunksDone :one, numbersDone :count, resultBytes :bytes SET updatedAt = :now',
      ConditionExpression: '#status = :running AND chunksDone < chunkCount',
      ExpressionAttributeValues: {
        ':one': 1,
        ':count': 1,
        ':bytes': 20,
        ':now': NOW.toISOString(),
        ':running': 'RUNNING',
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('returns DUPLICATE when the chunk condition cancelled the transaction', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['ConditionalCheckFailed', 'None']));
    expect(await storeChunk(table, chunk, NOW)).toEqual({ outcome: 'DUPLICATE' });
  });

  it.each(['CANCELLED', 'FAILED', 'SUCCEEDED'] as const)(
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

  it('throws InconsistentJobError when a RUNNING job has every chunk counted already', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['None', 'ConditionalCheckFailed'], 'RUNNING'));
    await expect(storeChunk(table, chunk, NOW)).rejects.toThrow(
      'chunksDone already equals chunkCount',
    );
  });

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
        'SET #status = :succeeded, completedAt = :now, updatedAt = :now, #results = :results',
      ConditionExpression: '#status = :running AND chunksDone = chunkCount',
      ExpressionAttributeNames: { '#status': 'status', '#results': 'results' },
      ExpressionAttributeValues: {
        ':succeeded': 'SUCCEEDED',
        ':running': 'RUNNING',
        ':now': NOW.toISOString(),
        ':results': '[1,4,9]',
      },
    });
  });

  it('leaves the results out for a large job', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    await finalizeJob(table, JOB_ID, NOW);
    const input = ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(input?.UpdateExpression).toBe(
      'SET #status = :succeeded, completedAt = :now, updatedAt = :now',
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
