import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { itemSizeBytes, writeUnits } from '#commons/cost.ts';
import { InconsistentJobError } from '#commons/errors.ts';
import {
  failedChunkKey,
  idempotencyKey,
  jobIdOfPartitionKey,
  pageKey,
  shardKey,
} from '#store/keys.ts';
import {
  buildPageItem,
  getPageCount,
  gzipResults,
  joinResultArrays,
  putPage,
  readPageRange,
} from '#store/pages.ts';
import {
  CHUNKS_PER_SHARD,
  chunkIndexesOfShard,
  chunksInShard,
  isShardComplete,
  markChunk,
  readShards,
  shardCountFor,
  shardItemBytesBound,
  shardOf,
} from '#store/shards.ts';
import { queryPages, UpdateBuilder } from '#store/table.ts';
import { EXPIRES_AT, JOB_ID, pageItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
let fake: FakeTable;

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Module: keys', () => {
  it('gives every page and shard a partition key of its own, and idempotency records too', () => {
    expect(pageKey(JOB_ID, 7)).toEqual({ pk: `PAGE#${JOB_ID}#00000007`, sk: 'PAGE' });
    expect(shardKey(JOB_ID, 3)).toEqual({ pk: `SHARD#${JOB_ID}#3`, sk: 'SHARD' });
    expect(failedChunkKey(JOB_ID, 4)).toEqual({ pk: `JOB#${JOB_ID}`, sk: 'FAILED#00000004' });
    expect(idempotencyKey('IDEMPOTENCY#submit#abc')).toEqual({
      pk: 'IDEMPOTENCY#submit#abc',
      sk: 'IDEMPOTENCY',
    });
    expect(jobIdOfPartitionKey(`JOB#${JOB_ID}`)).toBe(JOB_ID);
    expect(jobIdOfPartitionKey(`PAGE#${JOB_ID}#00000001`)).toBeUndefined();
  });
});

describe('Class: UpdateBuilder', () => {
  it('aliases every name and value, and joins conditions', () => {
    const built = new UpdateBuilder()
      .set('status', 'X')
      .set(['shards', '3'], { n: 1 })
      .add('writeUnits', 2)
      .remove('runningPk')
      .condition((name, value) => `${name('status')} = ${value('RUNNING')}`)
      .build();
    expect(built.UpdateExpression).toBe('SET #n0 = :v0, #n1.#n2 = :v1 REMOVE #n4 ADD #n3 :v2');
    expect(built.ConditionExpression).toBe('(#n0 = :v3)');
    expect(built.ExpressionAttributeNames).toEqual({
      '#n0': 'status',
      '#n1': 'shards',
      '#n2': '3',
      '#n3': 'writeUnits',
      '#n4': 'runningPk',
    });
  });
});

describe('Function: queryPages', () => {
  it('follows LastEvaluatedKey with the paginator until the last page', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ a: 1 }], LastEvaluatedKey: { pk: 'x', sk: 'y' } })
      .resolvesOnce({ Items: [{ a: 2 }] });
    const pages = [];
    for await (const page of queryPages(table, { KeyConditionExpression: 'k' })) pages.push(page);
    expect(pages).toEqual([[{ a: 1 }], [{ a: 2 }]]);
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
  });
});

describe('Function: putPage', () => {
  const page = {
    jobId: JOB_ID,
    chunkIndex: 2,
    offset: 20,
    count: 3,
    resultsGzip: gzipResults('[1,4,"81129638414606663681390495662081"]'),
    expiresAt: EXPIRES_AT,
  };

  it('stores the page once, billed by its compressed size, and bills a duplicate the same', async () => {
    const stored = await putPage(table, page);
    const duplicate = await putPage(table, page);

    const units = writeUnits(itemSizeBytes(buildPageItem(page)));
    expect(stored).toEqual({ outcome: 'STORED', writeUnits: units });
    expect(duplicate).toEqual({ outcome: 'DUPLICATE', writeUnits: units });
    expect(await getPageCount(table, JOB_ID, 2)).toBe(3);
    expect(await getPageCount(table, JOB_ID, 3)).toBeUndefined();
  });

  it('keeps 10,000 squares of the bench under 60 write units', () => {
    const squares = Array.from(
      { length: 10_000 },
      (_, i) => ((i * 7_919) % 2_000_001) - 1_000_000,
    ).map((n) => n * n);
    const item = buildPageItem({ ...page, resultsGzip: gzipResults(JSON.stringify(squares)) });
    expect(writeUnits(itemSizeBytes(item))).toBeLessThan(60);
  });
});

describe('Function: readPageRange', () => {
  it('reads consecutive pages in order, eventually consistent, inflated exactly', async () => {
    fake.put(pageItem(0, 0, [1, 4]));
    fake.put(pageItem(1, 2, ['81129638414606663681390495662081']));

    const read = await readPageRange(table, { jobId: JOB_ID }, 0, 2);

    expect(joinResultArrays(read.pages)).toBe('[1,4,"81129638414606663681390495662081"]');
    expect(ddbMock).toHaveReceivedCommandWith(BatchGetCommand, {
      RequestItems: { [TABLE_NAME]: expect.objectContaining({ ConsistentRead: false }) },
    });
    // Each item rounds up to 4 KB: half a unit each, eventually consistent.
    expect(read.readUnits).toBe(1);
  });

  it('re-reads a page the first read missed strongly consistent, and retries unprocessed keys', async () => {
    fake.put(pageItem(0, 0, [1]));
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE_NAME]: [] },
        UnprocessedKeys: { [TABLE_NAME]: { Keys: [pageKey(JOB_ID, 0)] } },
      })
      .resolvesOnce({ Responses: { [TABLE_NAME]: [] } })
      .resolvesOnce({ Responses: { [TABLE_NAME]: [pageItem(0, 0, [1])] } });

    const read = await readPageRange(table, { jobId: JOB_ID }, 0, 1, async () => {});

    expect(read.pages.map((page) => page.resultsJson)).toEqual(['[1]']);
    expect(ddbMock).toHaveReceivedNthCommandWith(BatchGetCommand, 3, {
      RequestItems: { [TABLE_NAME]: expect.objectContaining({ ConsistentRead: true }) },
    });
  });

  it('throws InconsistentJobError for a missing page or one out of place', async () => {
    fake.put(pageItem(0, 0, [1]));
    await expect(readPageRange(table, { jobId: JOB_ID }, 0, 2)).rejects.toBeInstanceOf(
      InconsistentJobError,
    );
    fake.put(pageItem(1, 5, [1]));
    await expect(readPageRange(table, { jobId: JOB_ID }, 0, 2)).rejects.toThrow(
      'page 1 starts at 5, expected 1',
    );
  });
});

describe('Module: shards', () => {
  it('spreads consecutive chunks over the shards and counts each shard’s chunks', () => {
    expect(shardCountFor(1)).toBe(1);
    expect(shardCountFor(CHUNKS_PER_SHARD)).toBe(1);
    expect(shardCountFor(CHUNKS_PER_SHARD + 1)).toBe(2);
    expect([0, 1, 2, 3, 4].map((index) => shardOf(index, 3))).toEqual([0, 1, 2, 0, 1]);
    expect([0, 1, 2].map((shard) => chunksInShard(shard, 100, 3))).toEqual([34, 33, 33]);
    expect(chunkIndexesOfShard(1, 7, 3)).toEqual([1, 4]);
    expect(chunksInShard(5, 3, 8)).toBe(0);
  });

  it('keeps a full shard of a 10,000-chunk job under 1 KB: 1 write unit per marker', () => {
    const shape = { chunkCount: 10_000, shardCount: shardCountFor(10_000) };
    expect(shardItemBytesBound(JOB_ID, shape)).toBeLessThanOrEqual(1_024);
  });

  it('marks a chunk idempotently and sees the shard complete once every chunk is marked', async () => {
    const shape = { jobId: JOB_ID, chunkCount: 5, shardCount: 2, expiresAt: EXPIRES_AT };

    const first = await markChunk(table, {
      ...shape,
      chunkIndex: 0,
      count: 2,
      usage: { sqsRequests: 2 },
    });
    const again = await markChunk(table, {
      ...shape,
      chunkIndex: 0,
      count: 2,
      usage: { sqsRequests: 2 },
    });
    const second = await markChunk(table, { ...shape, chunkIndex: 2, count: 2, usage: {} });
    const third = await markChunk(table, { ...shape, chunkIndex: 4, count: 1, usage: {} });

    expect([first, again, second].map((shard) => isShardComplete(shard, shape))).toEqual([
      false,
      false,
      false,
    ]);
    expect(isShardComplete(third, shape)).toBe(true);
    expect([...third.markers]).toEqual([
      [0, 2],
      [2, 2],
      [4, 1],
    ]);
    // Usage adds per delivery, the duplicate's too: 2 + 2 SQS requests, 4 marker writes.
    expect(third.usage).toMatchObject({ sqsRequests: 4, writeUnits: 4 });
    const { shards } = await readShards(table, JOB_ID, [0, 1], shape);
    expect(shards.map((shard) => shard.markers.size)).toEqual([3, 0]);
  });
});
