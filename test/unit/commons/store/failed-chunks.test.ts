import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InconsistentJobError, TransientTransactionError } from '#commons/errors.ts';
import {
  CHUNKS_FAILED_FAILURE,
  deleteFailedChunk,
  type FailedChunkToStore,
  queryFailedChunkPages,
  readFailureContext,
  recordChunkFailure,
  storeFailedChunk,
} from '#store/failed-chunks.ts';
import {
  CREATED_AT,
  conditionalCheckFailed,
  EXPIRES_AT,
  JOB_ID,
  TABLE_NAME,
  transactionCancelled,
} from '#test/helpers/dynamodb.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
const NOW = new Date('2026-01-01T01:00:00.000Z');
const BODY = JSON.stringify({
  jobId: JOB_ID,
  chunkIndex: 4,
  chunkCount: 5,
  offset: 8,
  numbers: [1],
});

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: recordChunkFailure', () => {
  const failure = {
    jobId: JOB_ID,
    chunkIndex: 4,
    error: { reason: 'Error: boom', at: NOW.toISOString(), receiveCount: 1 },
    usage: { lambdaMbMs: 100, sqsRequests: 1 },
  };

  it('returns NO_JOB without creating an item when the job does not exist', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    expect(await recordChunkFailure(table, failure, NOW)).toBe('NO_JOB');
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
    for (const call of ddbMock.commandCalls(UpdateCommand)) {
      expect(decodeUpdate(call.args[0].input).condition).toContain('attribute_exists(pk)');
    }
  });

  it('records the error, counts the attempt and adds the usage with its own write', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    expect(await recordChunkFailure(table, failure, NOW)).toBe('RECORDED');
    const update = decodeUpdate(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input);
    expect(update.set).toEqual({ 'chunkErrors.4': failure.error, updatedAt: NOW.toISOString() });
    // Its own write and the job's OwnerJobs entry (updatedAt is projected).
    expect(update.add).toEqual({ attempts: 1, lambdaMbMs: 100, sqsRequests: 1, writeUnits: 2 });
    expect(update.condition).toBe(
      '(attribute_exists(pk) AND (size(chunkErrors) < 20 OR attribute_exists(chunkErrors.4)))',
    );
  });

  it('counts the attempt only once the error map is full', async () => {
    ddbMock.on(UpdateCommand).rejectsOnce(conditionalCheckFailed()).resolves({});
    expect(await recordChunkFailure(table, failure, NOW)).toBe('COUNTED');
    const update = decodeUpdate(ddbMock.commandCalls(UpdateCommand)[1]?.args[0].input);
    expect(update.set).toEqual({});
    // Both writes are billed: the failed conditional one too.
    expect(update.add).toEqual({ attempts: 1, lambdaMbMs: 100, sqsRequests: 1, writeUnits: 2 });
  });

  it('rethrows an error that is not a failed condition', async () => {
    const denied = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    ddbMock.on(UpdateCommand).rejects(denied);
    await expect(recordChunkFailure(table, failure, NOW)).rejects.toBe(denied);
  });
});

describe('Function: readFailureContext', () => {
  it('reads the status, expiry, count and only this chunk error', async () => {
    ddbMock.on(GetCommand).resolves({
      Item: {
        status: 'RUNNING',
        expiresAt: EXPIRES_AT,
        failedChunkCount: 2,
        chunkErrors: { '4': { reason: 'Error: boom', at: CREATED_AT, receiveCount: 3 } },
      },
    });

    expect(await readFailureContext(table, JOB_ID, 4)).toEqual({
      status: 'RUNNING',
      expiresAt: EXPIRES_AT,
      failedChunkCount: 2,
      chunkError: { reason: 'Error: boom', at: CREATED_AT, receiveCount: 3 },
    });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      ConsistentRead: true,
      ProjectionExpression: '#status, expiresAt, failedChunkCount, chunkErrors.#chunk',
      ExpressionAttributeNames: { '#status': 'status', '#chunk': '4' },
    });
  });

  it('leaves chunkError out when none was recorded, and is undefined for no job', async () => {
    ddbMock
      .on(GetCommand)
      .resolvesOnce({ Item: { status: 'FAILED', expiresAt: EXPIRES_AT } })
      .resolvesOnce({});
    expect(await readFailureContext(table, JOB_ID, 4)).toEqual({
      status: 'FAILED',
      expiresAt: EXPIRES_AT,
      failedChunkCount: 0,
    });
    expect(await readFailureContext(table, JOB_ID, 4)).toBeUndefined();
  });

  it('throws InconsistentJobError for an item without status', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { expiresAt: EXPIRES_AT } });
    await expect(readFailureContext(table, JOB_ID, 4)).rejects.toBeInstanceOf(InconsistentJobError);
  });
});

describe('Function: storeFailedChunk', () => {
  const chunk: FailedChunkToStore = {
    jobId: JOB_ID,
    chunkIndex: 4,
    body: BODY,
    reason: 'Error: boom',
    receiveCount: 3,
    expiresAt: EXPIRES_AT,
    listInJob: true,
    usage: { sqsRequests: 2 },
  };

  it('keeps the input and fails the job, counting the chunk, in one transaction', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});

    expect(await storeFailedChunk(table, chunk, NOW)).toEqual({ outcome: 'RECORDED' });

    const [put, update] =
      ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(put?.Put).toEqual({
      TableName: TABLE_NAME,
      Item: {
        pk: `JOB#${JOB_ID}`,
        sk: 'FAILED#00000004',
        jobId: JOB_ID,
        chunkIndex: 4,
        body: BODY,
        reason: 'Error: boom',
        receiveCount: 3,
        failedAt: NOW.toISOString(),
        expiresAt: EXPIRES_AT,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(update?.Update?.Key).toEqual({ pk: `JOB#${JOB_ID}`, sk: 'JOB' });
    const decoded = decodeUpdate(update?.Update);
    expect(decoded.set).toEqual({
      status: 'FAILED',
      updatedAt: NOW.toISOString(),
      'failedChunks.4': { reason: 'Error: boom', receiveCount: 3 },
    });
    expect(decoded.setIfAbsent).toEqual({
      completedAt: NOW.toISOString(),
      failure: CHUNKS_FAILED_FAILURE,
    });
    expect(decoded.remove).toEqual(['runningPk']);
    // 2 x 1 (failed item) + 2 x 1 (job item) + 1 (RunningByDeadline entry removed) + 1
    // (OwnerJobs entry rewritten)
    expect(decoded.add).toEqual({ failedChunkCount: 1, sqsRequests: 2, writeUnits: 6 });
    expect(decoded.condition).toBe('(status IN ("RUNNING", "FAILED"))');
  });

  it('counts the chunk without listing it once the list is full', async () => {
    ddbMock.on(TransactWriteCommand).resolves({});
    await storeFailedChunk(table, { ...chunk, listInJob: false }, NOW);
    const update = decodeUpdate(
      ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems?.[1]?.Update,
    );
    expect(Object.keys(update.set)).toEqual(['status', 'updatedAt']);
    expect(update.add.failedChunkCount).toBe(1);
  });

  it('returns DUPLICATE when the input was stored before', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['ConditionalCheckFailed', 'None']));
    expect(await storeFailedChunk(table, chunk, NOW)).toEqual({ outcome: 'DUPLICATE' });
  });

  it('returns JOB_ENDED when the job is neither RUNNING nor FAILED', async () => {
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['None', 'ConditionalCheckFailed']));
    expect(await storeFailedChunk(table, chunk, NOW)).toEqual({ outcome: 'JOB_ENDED' });
  });

  it('throws TransientTransactionError for a conflict', async () => {
    ddbMock.on(TransactWriteCommand).rejects(transactionCancelled(['None', 'TransactionConflict']));
    await expect(storeFailedChunk(table, chunk, NOW)).rejects.toBeInstanceOf(
      TransientTransactionError,
    );
  });
});

describe('Function: queryFailedChunkPages', () => {
  it('yields the stored inputs page by page, strongly consistent', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ sk: 'FAILED#00000001', body: 'a' }],
        LastEvaluatedKey: { pk: 'p', sk: 'FAILED#00000001' },
      })
      .resolvesOnce({ Items: [{ sk: 'FAILED#00000003', body: 'bb' }] });

    const pages = [];
    for await (const page of queryFailedChunkPages(table, JOB_ID)) pages.push(page);

    expect(pages).toEqual([
      [{ chunkIndex: 1, body: 'a', itemBytes: 2 + 15 + 4 + 1 }],
      [{ chunkIndex: 3, body: 'bb', itemBytes: 2 + 15 + 4 + 2 }],
    ]);
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE_NAME,
      ExpressionAttributeValues: { ':pk': `JOB#${JOB_ID}`, ':prefix': 'FAILED#' },
      ConsistentRead: true,
    });
  });

  it('throws InconsistentJobError for an item without its body', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [{ sk: 'FAILED#00000001' }] });
    const pages = queryFailedChunkPages(table, JOB_ID);
    await expect(pages.next()).rejects.toBeInstanceOf(InconsistentJobError);
  });
});

describe('Function: deleteFailedChunk', () => {
  it('deletes the stored input of one chunk', async () => {
    ddbMock.on(DeleteCommand).resolves({});
    await deleteFailedChunk(table, JOB_ID, 3);
    expect(ddbMock).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'FAILED#00000003' },
    });
  });
});
