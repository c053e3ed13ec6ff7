import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_RECORDED_FAILED_CHUNKS } from '#commons/limits.ts';
import { JOB_ID, jobItem, pageItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import {
  NOT_COMPLETED_REASON,
  type SweeperDeps,
  sweepExpiredJobs,
} from '../../../functions/sweeper/sweep-deadlines.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-01-01T02:00:00.000Z');
const PAST = NOW.getTime() - 60_000;
const FUTURE = NOW.getTime() + 60_000;
const JOB_B = '22222222-2222-4222-8222-222222222222';
const JOB_C = '33333333-3333-4333-8333-333333333333';
let fake: FakeTable;

function deps(overrides: Partial<SweeperDeps> = {}): SweeperDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    now: () => NOW,
    ...overrides,
  };
}

/** The index of running jobs, one page per array. */
function index(...pages: string[][]): void {
  ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    const page = Number(input.ExclusiveStartKey?.page ?? 0);
    return {
      Items: (pages[page] ?? []).map((id) => ({ pk: `JOB#${id}`, sk: 'JOB' })),
      ...(page + 1 < pages.length && { LastEvaluatedKey: { page: page + 1 } }),
    };
  });
}

function job(id: string, overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...jobItem(overrides), pk: `JOB#${id}`, jobId: id };
}

/** A shard item with the given chunks marked (1 number each). */
function shard(id: string, shardIndex: number, marked: readonly number[]) {
  return {
    pk: `SHARD#${id}#${shardIndex}`,
    sk: 'SHARD',
    ...Object.fromEntries(marked.map((chunkIndex) => [`c${chunkIndex}`, 1])),
  };
}

function updatesOf(id: string) {
  return ddbMock
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.Key?.pk === `JOB#${id}`)
    .map((input) => decodeUpdate(input));
}

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Function: sweepExpiredJobs', () => {
  it('fails only RUNNING jobs past their deadline, listing the chunks no shard has marked', async () => {
    fake.put(
      job(JOB_ID, {
        chunkCount: 5,
        shardCount: 2,
        deadlineAt: PAST,
        chunkErrors: { '3': { reason: 'Error: boom', at: 'x', receiveCount: 2 } },
      }),
    );
    fake.put(shard(JOB_ID, 0, [0, 2]));
    // Ended a moment ago: the index is eventually consistent.
    fake.put(job(JOB_B, { status: 'SUCCEEDED', deadlineAt: PAST }));
    // Redriven a moment ago: a new deadline.
    fake.put(job(JOB_C, { deadlineAt: FUTURE }));
    index([JOB_ID, JOB_B, JOB_C]);

    const summary = await sweepExpiredJobs(deps());

    expect(summary).toEqual({
      examined: 3,
      failed: 1,
      finalized: 0,
      skipped: 2,
      errors: 0,
      stoppedEarly: false,
    });
    expect(updatesOf(JOB_B)).toEqual([]);
    expect(updatesOf(JOB_C)).toEqual([]);
    const [update] = updatesOf(JOB_ID);
    expect(update?.condition).toBe(`(status IN ("RUNNING")) AND (deadlineAt < ${NOW.getTime()})`);
    expect(update?.set.failure).toEqual({
      code: 'DEADLINE_EXCEEDED',
      message: `the job did not complete by ${new Date(PAST).toISOString()}: 3 of 5 chunks never completed`,
      failedChunks: [
        { chunkIndex: 1, reason: NOT_COMPLETED_REASON },
        { chunkIndex: 3, reason: 'Error: boom', receiveCount: 2 },
        { chunkIndex: 4, reason: NOT_COMPLETED_REASON },
      ],
      failedChunkCount: 3,
    });
    expect(fake.get(`JOB#${JOB_ID}`, 'JOB')?.status).toBe('FAILED');
  });

  it('follows the index page by page', async () => {
    fake.put(job(JOB_ID, { deadlineAt: PAST }));
    fake.put(job(JOB_B, { deadlineAt: PAST }));
    index([JOB_ID], [JOB_B]);

    const summary = await sweepExpiredJobs(deps());

    expect(summary.failed).toBe(2);
    expect(ddbMock).toHaveReceivedCommandTimes(QueryCommand, 2);
  });

  it('lists at most MAX_RECORDED_FAILED_CHUNKS missing chunks, the lowest first, with the exact count', async () => {
    const chunkCount = MAX_RECORDED_FAILED_CHUNKS + 50;
    fake.put(job(JOB_ID, { chunkCount, shardCount: 3, deadlineAt: PAST }));
    fake.put(shard(JOB_ID, 0, [0]));
    fake.put(shard(JOB_ID, 1, [1]));
    index([JOB_ID]);

    await sweepExpiredJobs(deps());

    const failure = updatesOf(JOB_ID)[0]?.set.failure as {
      failedChunkCount: number;
      failedChunks: { chunkIndex: number }[];
      message: string;
    };
    expect(failure.failedChunkCount).toBe(chunkCount - 2);
    expect(failure.failedChunks).toHaveLength(MAX_RECORDED_FAILED_CHUNKS);
    expect(failure.failedChunks[0]?.chunkIndex).toBe(2);
    expect(failure.message).toContain('(the first ones are listed)');
  });

  it('examines at most maxJobs jobs per run', async () => {
    fake.put(job(JOB_ID, { deadlineAt: PAST }));
    fake.put(job(JOB_B, { deadlineAt: PAST }));
    index([JOB_ID, JOB_B]);

    const summary = await sweepExpiredJobs(deps({ maxJobs: 1 }));

    expect(summary.examined).toBe(1);
    expect(updatesOf(JOB_B)).toEqual([]);
  });

  it('stops before running out of time, leaving the rest to the next run', async () => {
    fake.put(job(JOB_ID, { deadlineAt: PAST }));
    index([JOB_ID]);

    const summary = await sweepExpiredJobs(deps(), { getRemainingTimeInMillis: () => 5_000 });

    expect(summary).toMatchObject({ examined: 0, stoppedEarly: true });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('completes a job whose chunks are all marked but whose last shard was never recorded', async () => {
    fake.put(job(JOB_ID, { numbersCount: 3, chunkCount: 3, deadlineAt: PAST }));
    fake.put(shard(JOB_ID, 0, [0, 1, 2]));
    for (const [chunkIndex, value] of [0, 1, 2].entries()) {
      fake.put(pageItem(chunkIndex, chunkIndex, [value * value]));
    }
    index([JOB_ID]);

    const summary = await sweepExpiredJobs(deps());

    expect(summary).toMatchObject({ finalized: 1, failed: 0 });
    expect(fake.get(`JOB#${JOB_ID}`, 'JOB')).toMatchObject({
      status: 'SUCCEEDED',
      results: '[0,1,4]',
      shards: { 0: 3 },
    });
  });

  it('finalizes a job whose shards are all recorded but that was never finalized', async () => {
    fake.put(
      job(JOB_ID, {
        numbersCount: 1,
        chunkCount: 1,
        deadlineAt: PAST,
        shards: { 0: 1 },
      }),
    );
    fake.put(pageItem(0, 0, [49]));
    index([JOB_ID]);

    const summary = await sweepExpiredJobs(deps());

    expect(summary).toMatchObject({ finalized: 1, failed: 0 });
    expect(fake.get(`JOB#${JOB_ID}`, 'JOB')?.results).toBe('[49]');
  });

  it('keeps sweeping when one job fails, and counts the error', async () => {
    fake.put(job(JOB_B, { deadlineAt: PAST }));
    index([JOB_ID, JOB_B]);
    ddbMock
      .on(GetCommand, { Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' } })
      .rejects(new Error('throttled'));

    const summary = await sweepExpiredJobs(deps());

    expect(summary).toMatchObject({ examined: 2, failed: 1, errors: 1 });
  });
});
