import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_RECORDED_FAILED_CHUNKS } from '../../../functions/commons/limits.ts';
import {
  NOT_COMPLETED_REASON,
  type SweeperDeps,
  sweepExpiredJobs,
} from '../../../functions/sweeper/sweep-deadlines.ts';
import { chunkItem, JOB_ID, jobItem, TABLE_NAME } from '../../helpers/dynamodb.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-01-01T02:00:00.000Z');
const PAST = NOW.getTime() - 60_000;
const FUTURE = NOW.getTime() + 60_000;
const JOB_B = '22222222-2222-4222-8222-222222222222';
const JOB_C = '33333333-3333-4333-8333-333333333333';

function deps(overrides: Partial<SweeperDeps> = {}): SweeperDeps {
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    now: () => NOW,
    ...overrides,
  };
}

/** A fake table: job items by id, stored chunk indexes by id, index pages. */
interface FakeTable {
  jobs: Record<string, Record<string, unknown>>;
  chunks: Record<string, number[]>;
  indexPages: string[][];
  chunkPageSize?: number;
}

function jobIdOf(pk: unknown): string {
  return String(pk).slice('JOB#'.length);
}

function useTable(fake: FakeTable): void {
  ddbMock.on(QueryCommand).callsFake((input: QueryCommandInput) => {
    if (input.IndexName === 'RunningByDeadline') {
      const page = Number(input.ExclusiveStartKey?.page ?? 0);
      const ids = fake.indexPages[page] ?? [];
      return {
        Items: ids.map((id) => ({ pk: `JOB#${id}`, sk: 'JOB', runningPk: 'RUNNING' })),
        ...(page + 1 < fake.indexPages.length && { LastEvaluatedKey: { page: page + 1 } }),
      };
    }
    const jobId = jobIdOf(input.ExpressionAttributeValues?.[':pk']);
    const stored = fake.chunks[jobId] ?? [];
    const size = fake.chunkPageSize ?? stored.length;
    const from = Number(input.ExclusiveStartKey?.offset ?? 0);
    const slice = stored.slice(from, from + Math.max(1, size));
    const items =
      input.ProjectionExpression === 'sk'
        ? slice.map((index) => ({ sk: `CHUNK#${String(index).padStart(8, '0')}` }))
        : slice.map((index) => chunkItem(index, index, [index * index], jobId));
    return {
      Items: items,
      ...(from + slice.length < stored.length && {
        LastEvaluatedKey: { offset: from + slice.length },
      }),
    };
  });
  ddbMock.on(GetCommand).callsFake((input: GetCommandInput) => {
    const item = fake.jobs[jobIdOf(input.Key?.pk)];
    return item === undefined ? {} : { Item: item };
  });
  ddbMock.on(UpdateCommand).callsFake((input: UpdateCommandInput) => {
    const job = fake.jobs[jobIdOf(input.Key?.pk)];
    if (job !== undefined && input.ConditionExpression?.startsWith('#status = :running')) {
      job.status =
        input.ExpressionAttributeValues?.[':failed'] ??
        input.ExpressionAttributeValues?.[':succeeded'];
    }
    return {};
  });
}

function updatesOf(jobId: string): UpdateCommandInput[] {
  return ddbMock
    .commandCalls(UpdateCommand)
    .map((call) => call.args[0].input)
    .filter((input) => input.Key?.pk === `JOB#${jobId}`);
}

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: sweepExpiredJobs', () => {
  it('fails only RUNNING jobs past their deadline, listing the chunks that never completed', async () => {
    useTable({
      jobs: {
        [JOB_ID]: jobItem({
          chunkCount: 5,
          chunksDone: 2,
          deadlineAt: PAST,
          chunkErrors: { '3': { reason: 'Error: boom', at: 'x', receiveCount: 2 } },
        }),
        // Ended a moment ago: the index is eventually consistent.
        [JOB_B]: jobItem({ status: 'SUCCEEDED', deadlineAt: PAST }),
        // Redriven a moment ago: a new deadline.
        [JOB_C]: jobItem({ deadlineAt: FUTURE }),
      },
      chunks: { [JOB_ID]: [0, 2] },
      indexPages: [[JOB_ID, JOB_B, JOB_C]],
    });

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
    expect(update?.ConditionExpression).toBe('#status = :running AND deadlineAt < :nowMs');
    expect(update?.ExpressionAttributeValues?.[':failure']).toEqual({
      code: 'DEADLINE_EXCEEDED',
      message: `the job did not complete by ${new Date(PAST).toISOString()}: 3 of 5 chunks never completed`,
      failedChunks: [
        { chunkIndex: 1, reason: NOT_COMPLETED_REASON },
        { chunkIndex: 3, reason: 'Error: boom', receiveCount: 2 },
        { chunkIndex: 4, reason: NOT_COMPLETED_REASON },
      ],
      failedChunkCount: 3,
    });
  });

  it('follows the index page by page', async () => {
    useTable({
      jobs: {
        [JOB_ID]: jobItem({ deadlineAt: PAST }),
        [JOB_B]: jobItem({ deadlineAt: PAST }),
      },
      chunks: {},
      indexPages: [[JOB_ID], [JOB_B]],
    });

    const summary = await sweepExpiredJobs(deps());

    expect(summary.failed).toBe(2);
    expect(
      ddbMock.commandCalls(QueryCommand).filter((call) => call.args[0].input.IndexName),
    ).toHaveLength(2);
  });

  it('reads the chunk keys page by page, and lists at most MAX_RECORDED_FAILED_CHUNKS', async () => {
    const chunkCount = MAX_RECORDED_FAILED_CHUNKS + 50;
    useTable({
      jobs: { [JOB_ID]: jobItem({ chunkCount, chunksDone: 2, deadlineAt: PAST }) },
      chunks: { [JOB_ID]: [0, 1] },
      indexPages: [[JOB_ID]],
      chunkPageSize: 1,
    });

    await sweepExpiredJobs(deps());

    const failure = updatesOf(JOB_ID)[0]?.ExpressionAttributeValues?.[':failure'];
    expect(failure.failedChunkCount).toBe(chunkCount - 2);
    expect(failure.failedChunks).toHaveLength(MAX_RECORDED_FAILED_CHUNKS);
    expect(failure.failedChunks[0].chunkIndex).toBe(2);
    // Two pages of one stored chunk key each; the missing ones follow from chunkCount.
    expect(
      ddbMock.commandCalls(QueryCommand).filter((call) => !call.args[0].input.IndexName),
    ).toHaveLength(2);
  });

  it('stops listing after maxChunkPages and says so, with the exact count', async () => {
    useTable({
      jobs: { [JOB_ID]: jobItem({ chunkCount: 10, chunksDone: 4, deadlineAt: PAST }) },
      chunks: { [JOB_ID]: [0, 2, 5, 6] },
      indexPages: [[JOB_ID]],
      chunkPageSize: 1,
    });

    await sweepExpiredJobs(deps({ maxChunkPages: 2 }));

    const failure = updatesOf(JOB_ID)[0]?.ExpressionAttributeValues?.[':failure'];
    expect(failure.failedChunks.map((chunk: { chunkIndex: number }) => chunk.chunkIndex)).toEqual([
      1,
    ]);
    expect(failure.failedChunkCount).toBe(6);
    expect(failure.message).toContain('(the first ones found are listed)');
  });

  it('examines at most maxJobs jobs per run', async () => {
    useTable({
      jobs: {
        [JOB_ID]: jobItem({ deadlineAt: PAST }),
        [JOB_B]: jobItem({ deadlineAt: PAST }),
      },
      chunks: {},
      indexPages: [[JOB_ID, JOB_B]],
    });

    const summary = await sweepExpiredJobs(deps({ maxJobs: 1 }));

    expect(summary.examined).toBe(1);
    expect(updatesOf(JOB_B)).toEqual([]);
  });

  it('stops before running out of time, leaving the rest to the next run', async () => {
    useTable({
      jobs: { [JOB_ID]: jobItem({ deadlineAt: PAST }) },
      chunks: {},
      indexPages: [[JOB_ID]],
    });

    const summary = await sweepExpiredJobs(deps(), { getRemainingTimeInMillis: () => 5_000 });

    expect(summary).toMatchObject({ examined: 0, stoppedEarly: true });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it('finalizes a job whose chunks are all stored instead of failing it', async () => {
    useTable({
      jobs: {
        [JOB_ID]: jobItem({
          numbersCount: 3,
          chunkCount: 3,
          chunksDone: 3,
          numbersDone: 3,
          resultBytes: 9,
          deadlineAt: PAST,
        }),
      },
      chunks: { [JOB_ID]: [0, 1, 2] },
      indexPages: [[JOB_ID]],
    });

    const summary = await sweepExpiredJobs(deps());

    expect(summary).toMatchObject({ finalized: 1, failed: 0 });
    const [update] = updatesOf(JOB_ID);
    expect(update?.ExpressionAttributeValues).toMatchObject({
      ':succeeded': 'SUCCEEDED',
      ':results': '[0,1,4]',
    });
  });

  it('keeps sweeping when one job fails, and counts the error', async () => {
    useTable({
      jobs: { [JOB_B]: jobItem({ deadlineAt: PAST }) },
      chunks: {},
      indexPages: [[JOB_ID, JOB_B]],
    });
    ddbMock
      .on(GetCommand, { Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' } })
      .rejects(new Error('throttled'));

    const summary = await sweepExpiredJobs(deps());

    expect(summary).toMatchObject({ examined: 2, failed: 1, errors: 1 });
  });
});
