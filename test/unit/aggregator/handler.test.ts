import 'aws-sdk-client-mock-vitest/extend';
import { gzipSync } from 'node:zlib';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#test/helpers/context.ts';
import { JOB_ID, jobItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-test-table';
});

const { handler } = await import('../../../functions/aggregator/handler.ts');
const ddbMock = mockClient(DynamoDBDocumentClient);

const chunk = {
  jobId: JOB_ID,
  chunkIndex: 1,
  offset: 2,
  // The squares as the worker hands them over: the gzip of their JSON text, base64.
  resultsGzip: gzipSync('[9,16]').toString('base64'),
  count: 2,
  resultsJsonLength: '[9,16]'.length,
  computeMs: 2,
  receiveCount: 1,
  durationMs: 3,
  memoryMb: 1024,
  messageBytes: 120,
};

let table: FakeTable;

beforeEach(() => {
  ddbMock.reset();
  table = new FakeTable();
  table.attach(ddbMock);
  table.put(jobItem({ shardCount: 2 }));
});

describe('Function: aggregator handler', () => {
  it('stores the chunk in the configured table and answers the outcome', async () => {
    const outcome = await handler(chunk, lambdaContext());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE_NAME,
      Item: expect.objectContaining({ pk: `PAGE#${JOB_ID}#00000001`, count: 2 }),
    });
    expect(table.get(`SHARD#${JOB_ID}#1`, 'SHARD')).toMatchObject({ c1: 2 });
  });

  it('answers DUPLICATE for a chunk stored before', async () => {
    await handler(chunk, lambdaContext());

    expect(await handler(chunk, lambdaContext())).toEqual({
      outcome: 'DUPLICATE',
      jobStatus: 'RUNNING',
    });
    expect(table.withPrefix(`PAGE#${JOB_ID}`)).toHaveLength(1);
  });

  it('throws for a payload that is not a chunk result, so the Invoke reports a FunctionError', async () => {
    await expect(handler({ jobId: JOB_ID }, lambdaContext())).rejects.toThrow(
      'invalid chunk result: chunkIndex is not a valid index',
    );
  });
});
