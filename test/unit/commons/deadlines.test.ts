import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  listMissingChunks,
  markJobDeadlineExceeded,
  queryExpiredJobIds,
  readExpiredJob,
} from '../../../functions/commons/deadlines.ts';
import { conditionalCheckFailed, JOB_ID, TABLE_NAME } from '../../helpers/dynamodb.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
const NOW = new Date('2026-01-01T02:00:00.000Z');
const OTHER_JOB = '11111111-2222-4333-8444-555555555555';

function indexEntry(jobId: string, deadlineAt: number) {
  return { pk: `JOB#${jobId}`, sk: 'JOB', runningPk: 'RUNNING', deadlineAt };
}

function chunkKeys(...indexes: number[]) {
  return indexes.map((index) => ({ sk: `CHUNK#${String(index).padStart(8, '0')}` }));
}

async function collect(ids: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of ids) out.push(id);
  return out;
}

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: queryExpiredJobIds', () => {
  it('queries RunningByDeadline for deadlines before now, page by page', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [indexEntry(JOB_ID, 1)],
        LastEvaluatedKey: indexEntry(JOB_ID, 1),
      })
      .resolvesOnce({ Items: [indexEntry(OTHER_JOB, 2), { pk: 'IDEMPOTENCY#submit' }] });

    expect(await collect(queryExpiredJobIds(table, NOW, 10))).toEqual([JOB_ID, OTHER_JOB]);

    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddbMock).toHaveReceivedNthCommandWith(QueryCommand, 1, {
      TableName: TABLE_NAME,
      IndexName: 'RunningByDeadline',
      KeyConditionExpression: 'runningPk = :running AND deadlineAt < :now',
      ExpressionAttributeValues: { ':running': 'RUNNING', ':now': NOW.getTime() },
      Limit: 10,
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(QueryCommand, 2, {
      ExclusiveStartKey: indexEntry(JOB_ID, 1),
    });
  });

  it('stops at the limit without reading further pages', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [indexEntry(JOB_ID, 1), indexEntry(OTHER_JOB, 2)],
      LastEvaluatedKey: indexEntry(OTHER_JOB, 2),
    });
    expect(await collect(queryExpiredJobIds(table, NOW, 1))).toEqual([JOB_ID]);
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, { Limit: 1 });
  });
});

describe('Function: readExpiredJob', () => {
  it('reads the status, counters, deadline and chunk errors, strongly consistent', async () => {
    ddbMock.on(GetCommand).resolves({
      Item: { status: 'RUNNING', chunkCount: 4, chunksDone: 1, deadlineAt: 5, chunkErrors: {} },
    });
    expect(await readExpiredJob(table, JOB_ID)).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      chunkCount: 4,
      chunksDone: 1,
      deadlineAt: 5,
      chunkErrors: {},
    });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      ConsistentRead: true,
      ProjectionExpression: '#status, chunkCount, chunksDone, deadlineAt, chunkErrors',
    });
  });
});

describe('Function: listMissingChunks', () => {
  it('lists the chunks without a stored result, across pages, reading keys only', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: chunkKeys(0, 2), LastEvaluatedKey: { pk: 'p', sk: 'CHUNK#00000002' } })
      .resolvesOnce({ Items: chunkKeys(3, 6) });

    expect(await listMissingChunks(table, JOB_ID, 8, { maxPages: 5, maxListed: 100 })).toEqual({
      indexes: [1, 4, 5, 7],
      complete: true,
    });
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': `JOB#${JOB_ID}`,
        ':from': 'CHUNK#00000000',
        ':to': 'CHUNK#99999999',
      },
      ProjectionExpression: 'sk',
    });
  });

  it('lists every chunk when none is stored', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    expect(await listMissingChunks(table, JOB_ID, 3, { maxPages: 1, maxListed: 100 })).toEqual({
      indexes: [0, 1, 2],
      complete: true,
    });
  });

  it('stops at the list cap, the lowest indexes first', async () => {
    ddbMock
      .on(QueryCommand)
      .resolves({ Items: chunkKeys(5), LastEvaluatedKey: { pk: 'p', sk: 'CHUNK#00000005' } });
    expect(await listMissingChunks(table, JOB_ID, 1_000, { maxPages: 5, maxListed: 3 })).toEqual({
      indexes: [0, 1, 2],
      complete: true,
    });
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 1);
  });

  it('reads at most maxPages pages and says the list may be short', async () => {
    ddbMock
      .on(QueryCommand)
      .resolves({ Items: chunkKeys(0, 2), LastEvaluatedKey: { pk: 'p', sk: 'CHUNK#00000002' } });
    expect(await listMissingChunks(table, JOB_ID, 10, { maxPages: 2, maxListed: 100 })).toEqual({
      indexes: [1],
      complete: false,
    });
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
  });
});

describe('Function: markJobDeadlineExceeded', () => {
  const failure = { code: 'DEADLINE_EXCEEDED', message: 'late' };

  it('fails the job only if still RUNNING past its deadline, leaving the index', async () => {
    ddbMock.on(UpdateCommand).resolves({});
    expect(await markJobDeadlineExceeded(table, JOB_ID, failure, NOW)).toBe(true);
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      UpdateExpression:
        'SET #status = :failed, failure = :failure, completedAt = :now, updatedAt = :now REMOVE runningPk ADD writeUnits :wu',
      ConditionExpression: '#status = :running AND deadlineAt < :nowMs',
      ExpressionAttributeValues: {
        ':failed': 'FAILED',
        ':running': 'RUNNING',
        ':failure': failure,
        ':now': NOW.toISOString(),
        ':nowMs': NOW.getTime(),
        ':wu': 2,
      },
    });
  });

  it('returns false when the job ended or got a new deadline', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    expect(await markJobDeadlineExceeded(table, JOB_ID, failure, NOW)).toBe(false);
  });
});
