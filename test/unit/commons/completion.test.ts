/**
 * Where a page of an S3 input's range starts: the sum of the counts of the chunks before it,
 * from their shard markers and, for chunks stored but not marked yet, their pages' counts.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { chunkOffset } from '#commons/completion.ts';
import { InconsistentJobError } from '#commons/errors.ts';
import { toJobRecord } from '#store/jobs.ts';
import { pageKey, shardKey } from '#store/keys.ts';
import { EXPIRES_AT, JOB_ID, jobItem, pageItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
let fake: FakeTable;

/** A RUNNING S3 input job of 6 ranges on 2 shards (chunk i on shard i mod 2). */
const job = toJobRecord(
  JOB_ID,
  jobItem({
    numbersCount: 0,
    chunkCount: 6,
    shardCount: 2,
    input: {
      bucket: 'inputs',
      key: 'uploads/job/input.txt',
      format: 'lines',
      rangeBytes: 393_216,
      maxNumbers: 100_000_000,
      size: 2_000_000,
    },
  }),
);

/** A stored page of a range: no offset, its place follows from the counts before it. */
function rangePage(chunkIndex: number, results: readonly number[]): Record<string, unknown> {
  const { offset: _offset, ...page } = pageItem(chunkIndex, 0, results);
  return page;
}

function shard(shardIndex: number, markers: Record<string, number>): Record<string, unknown> {
  return { ...shardKey(JOB_ID, shardIndex), ...markers, expiresAt: EXPIRES_AT };
}

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Function: chunkOffset', () => {
  it('adds the marked counts and the unmarked pages read in one batch when some chunks before are not marked yet', async () => {
    // Prepare: chunks 0, 3 and 4 are marked; chunks 1 and 2 are stored but not marked yet.
    fake.put(shard(0, { c0: 3, c4: 4 }));
    fake.put(shard(1, { c3: 2 }));
    fake.put(rangePage(1, [1, 4]));
    fake.put(rangePage(2, [9]));
    fake.put(rangePage(3, [16, 25]));

    // Act
    const offset = await chunkOffset(table, job, 5);

    // Assess: 3 + 2 + 1 + 2 + 4.
    expect(offset).toBe(12);
    expect(ddbMock).not.toHaveReceivedCommand(GetCommand);
    expect(ddbMock).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddbMock).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: {
        [TABLE_NAME]: {
          Keys: [pageKey(JOB_ID, 1), pageKey(JOB_ID, 2)],
          ConsistentRead: true,
          ProjectionExpression: '#pk, #count',
          ExpressionAttributeNames: { '#pk': 'pk', '#count': 'count' },
        },
      },
    });
  });

  it('reads the shards only, strongly consistent, when every chunk before is marked', async () => {
    fake.put(shard(0, { c0: 3, c2: 1 }));
    fake.put(shard(1, { c1: 2 }));

    const offset = await chunkOffset(table, job, 3);

    expect(offset).toBe(6);
    expect(ddbMock).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(ddbMock).toHaveReceivedCommandWith(BatchGetCommand, {
      RequestItems: {
        [TABLE_NAME]: {
          Keys: [shardKey(JOB_ID, 0), shardKey(JOB_ID, 1)],
          ConsistentRead: true,
        },
      },
    });
  });

  it('throws InconsistentJobError naming the first chunk before that has neither a marker nor a page', async () => {
    fake.put(shard(0, { c0: 3 }));
    fake.put(rangePage(3, [16, 25]));

    await expect(chunkOffset(table, job, 4)).rejects.toThrow(InconsistentJobError);
    await expect(chunkOffset(table, job, 4)).rejects.toThrow('chunk 1 has no count before 4');
  });

  it('returns 0 for the first chunk without reading anything', async () => {
    expect(await chunkOffset(table, job, 0)).toBe(0);
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });
});
