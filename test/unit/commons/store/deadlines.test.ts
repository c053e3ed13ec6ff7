import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { queryExpiredJobIds } from '#store/deadlines.ts';
import { JOB_ID, TABLE_NAME } from '#test/helpers/dynamodb.ts';

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

async function collect(ids: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of ids) out.push(id);
  return out;
}

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: queryExpiredJobIds', () => {
  it('queries RunningByDeadline for deadlines before now, following every page', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [indexEntry(JOB_ID, 1)],
        LastEvaluatedKey: indexEntry(JOB_ID, 1),
      })
      .resolvesOnce({ Items: [indexEntry(OTHER_JOB, 2), { pk: 'IDEMPOTENCY#submit#x' }] });

    expect(await collect(queryExpiredJobIds(table, NOW, 10))).toEqual([JOB_ID, OTHER_JOB]);

    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE_NAME,
      IndexName: 'RunningByDeadline',
      ExpressionAttributeNames: { '#running': 'runningPk', '#deadline': 'deadlineAt' },
      ExpressionAttributeValues: { ':running': 'RUNNING', ':now': NOW.getTime() },
      Limit: 10,
    });
  });

  it('stops at the limit without reading further pages', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [indexEntry(JOB_ID, 1), indexEntry(OTHER_JOB, 2)],
      LastEvaluatedKey: indexEntry(OTHER_JOB, 2),
    });
    expect(await collect(queryExpiredJobIds(table, NOW, 1))).toEqual([JOB_ID]);
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 1);
  });
});
