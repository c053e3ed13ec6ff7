import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InconsistentJobError } from '#commons/errors.ts';
import {
  addJobUsage,
  cancelJob,
  createJob,
  expiryAfterDays,
  finalizeJob,
  getJob,
  getJobStatus,
  markJobDeadlineExceeded,
  markJobFailed,
  recordShard,
  reopenJobForRedrive,
  transitionJob,
} from '#store/jobs.ts';
import { CREATED_AT, EXPIRES_AT, JOB_ID, jobItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
const NOW = new Date('2026-01-01T01:00:00.000Z');
const DEADLINE = 1_767_232_800_000;
let fake: FakeTable;

function job() {
  return fake.get(`JOB#${JOB_ID}`, 'JOB');
}

function lastUpdate() {
  return decodeUpdate(ddbMock.commandCalls(UpdateCommand).at(-1)?.args[0].input);
}

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Function: expiryAfterDays', () => {
  it('adds whole days in epoch seconds', () => {
    expect(expiryAfterDays(new Date(CREATED_AT), 7)).toBe(1_767_225_600 + 7 * 86_400);
  });
});

describe('Function: createJob', () => {
  it('puts a RUNNING job with its shard count, an empty shard map, its deadline and usage, only if new', async () => {
    await createJob(table, {
      jobId: JOB_ID,
      ownerArn: 'arn:aws:iam::123456789012:user/tester',
      numbersCount: 5,
      chunkCount: 3,
      shardCount: 1,
      now: new Date(CREATED_AT),
      expiresAt: EXPIRES_AT,
      deadlineAt: DEADLINE,
      usage: { sqsRequests: 1, writeUnits: 2 },
    });

    expect(ddbMock).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(job()).toMatchObject({
      pk: `JOB#${JOB_ID}`,
      sk: 'JOB',
      status: 'RUNNING',
      numbersCount: 5,
      chunkCount: 3,
      shardCount: 1,
      shards: {},
      runningPk: 'RUNNING',
      deadlineAt: DEADLINE,
      expiresAt: EXPIRES_AT,
      ownerArn: 'arn:aws:iam::123456789012:user/tester',
      ownerPk: 'OWNER#arn:aws:iam::123456789012:user/tester',
      ownerSk: `${CREATED_AT}#${JOB_ID}`,
      sqsRequests: 1,
      // 2 (idempotency record) + 1 (this item, under 1 KB) + 2 (its entries in
      // RunningByDeadline and OwnerJobs)
      writeUnits: 5,
    });
  });
});

describe('Function: getJob', () => {
  it('reads the job with its shards, counters and usage, without its results by default', async () => {
    fake.put(
      jobItem({
        shardCount: 2,
        shards: { 1: 2 },
        attempts: 2,
        chunkErrors: { 4: { reason: 'boom', at: CREATED_AT, receiveCount: 1 } },
        writeUnits: 7,
        results: '[1]',
      }),
    );

    const record = await getJob(table, JOB_ID);

    expect(record).toMatchObject({
      jobId: JOB_ID,
      status: 'RUNNING',
      shardCount: 2,
      shards: { 1: 2 },
      attempts: 2,
      chunkErrors: { 4: { reason: 'boom', at: CREATED_AT, receiveCount: 1 } },
      usage: expect.objectContaining({ writeUnits: 7 }),
    });
    const projection = ddbMock.commandCalls(GetCommand)[0]?.args[0].input.ExpressionAttributeNames;
    expect(Object.values(projection ?? {})).not.toContain('results');
  });

  it('returns undefined for an unknown job, and throws for an item without its shard count', async () => {
    expect(await getJob(table, JOB_ID)).toBeUndefined();
    fake.put({ ...jobItem(), shardCount: undefined });
    await expect(getJob(table, JOB_ID)).rejects.toBeInstanceOf(InconsistentJobError);
  });
});

describe('Function: getJobStatus', () => {
  it('reads only the status, strongly consistent', async () => {
    fake.put(jobItem({ status: 'CANCELLED' }));
    expect(await getJobStatus(table, JOB_ID)).toBe('CANCELLED');
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { ConsistentRead: true });
    expect(await getJobStatus(table, 'nope')).toBeUndefined();
  });
});

describe('Function: transitionJob', () => {
  it('writes the status, the timestamps and the index key of the new status, from the given ones only', async () => {
    fake.put(jobItem({ runningPk: 'RUNNING', deadlineAt: DEADLINE }));

    const outcome = await transitionJob(
      table,
      JOB_ID,
      { from: ['RUNNING'], to: 'FAILED', set: [['failure', { code: 'X', message: 'm' }]] },
      NOW,
    );

    expect(outcome).toEqual({ changed: true });
    expect(lastUpdate().condition).toBe('(status IN ("RUNNING"))');
    expect(job()).toMatchObject({
      status: 'FAILED',
      updatedAt: NOW.toISOString(),
      completedAt: NOW.toISOString(),
      failure: { code: 'X', message: 'm' },
    });
    expect(job()).not.toHaveProperty('runningPk');
    // The job item (1 KB assumed), its RunningByDeadline entry removed, its OwnerJobs entry.
    expect(lastUpdate().add).toEqual({ writeUnits: 3 });
  });

  it('returns the current status when the job is in none of the from statuses', async () => {
    fake.put(jobItem({ status: 'SUCCEEDED' }));
    expect(await transitionJob(table, JOB_ID, { from: ['RUNNING'], to: 'CANCELLED' }, NOW)).toEqual(
      { changed: false, status: 'SUCCEEDED' },
    );
    expect(job()?.status).toBe('SUCCEEDED');
  });

  it('refuses a transition into RUNNING without a deadline', async () => {
    await expect(
      transitionJob(table, JOB_ID, { from: ['FAILED'], to: 'RUNNING' }, NOW),
    ).rejects.toBeInstanceOf(RangeError);
  });
});

describe('Function: cancelJob', () => {
  it('cancels a RUNNING job with cancelledAt, out of the deadline index', async () => {
    fake.put(jobItem({ runningPk: 'RUNNING', deadlineAt: DEADLINE }));
    expect(await cancelJob(table, JOB_ID, NOW)).toEqual({
      outcome: 'CANCELLED',
      cancelledAt: NOW.toISOString(),
    });
    expect(job()).toMatchObject({ status: 'CANCELLED', cancelledAt: NOW.toISOString() });
    expect(job()).not.toHaveProperty('runningPk');
  });

  it('tells a job that has ended from one that does not exist', async () => {
    fake.put(jobItem({ status: 'SUCCEEDED' }));
    expect(await cancelJob(table, JOB_ID, NOW)).toEqual({
      outcome: 'NOT_RUNNING',
      status: 'SUCCEEDED',
    });
    expect(await cancelJob(table, 'nope', NOW)).toEqual({ outcome: 'NOT_FOUND' });
  });
});

describe('Function: markJobFailed', () => {
  it('fails a RUNNING job only', async () => {
    fake.put(jobItem());
    expect(await markJobFailed(table, JOB_ID, { code: 'X', message: 'm' }, NOW)).toBe(true);
    expect(await markJobFailed(table, JOB_ID, { code: 'Y', message: 'n' }, NOW)).toBe(false);
    expect(job()?.failure).toEqual({ code: 'X', message: 'm' });
  });
});

describe('Function: reopenJobForRedrive', () => {
  it('makes a FAILED job RUNNING with a new deadline, back in the index, its failure cleared', async () => {
    fake.put(
      jobItem({
        status: 'FAILED',
        failure: { code: 'CHUNKS_FAILED', message: 'm' },
        failedChunks: { 4: { reason: 'r' } },
        failedChunkCount: 1,
        completedAt: CREATED_AT,
      }),
    );

    expect(await reopenJobForRedrive(table, JOB_ID, DEADLINE, NOW)).toBe(true);

    expect(job()).toMatchObject({
      status: 'RUNNING',
      runningPk: 'RUNNING',
      deadlineAt: DEADLINE,
      failedChunks: {},
      failedChunkCount: 0,
    });
    expect(job()).not.toHaveProperty('failure');
    expect(job()).not.toHaveProperty('completedAt');
    expect(await reopenJobForRedrive(table, JOB_ID, DEADLINE, NOW)).toBe(false);
  });
});

describe('Function: markJobDeadlineExceeded', () => {
  it('fails the job only while RUNNING and past its deadline on the item', async () => {
    const failure = { code: 'DEADLINE_EXCEEDED', message: 'late' };
    fake.put(jobItem({ deadlineAt: NOW.getTime() + 1 }));
    expect(await markJobDeadlineExceeded(table, JOB_ID, failure, NOW)).toBe(false);
    fake.put(jobItem({ deadlineAt: NOW.getTime() - 1 }));
    expect(await markJobDeadlineExceeded(table, JOB_ID, failure, NOW)).toBe(true);
    expect(job()).toMatchObject({ status: 'FAILED', failure });
  });
});

describe('Function: finalizeJob', () => {
  it('succeeds a RUNNING job once, with its numbers, results and the reads of them', async () => {
    fake.put(jobItem());
    const record = { jobId: JOB_ID, numbersCount: 5, itemBytes: 900 };

    expect(await finalizeJob(table, record, NOW, '[1]', { readUnits: 1.5 })).toBe(true);
    expect(await finalizeJob(table, record, NOW, '[1]')).toBe(false);

    expect(job()).toMatchObject({
      status: 'SUCCEEDED',
      numbersDone: 5,
      results: '[1]',
      readUnits: 1.5,
    });
  });

  it('never succeeds a CANCELLED job', async () => {
    fake.put(jobItem({ status: 'CANCELLED' }));
    expect(await finalizeJob(table, { jobId: JOB_ID, numbersCount: 5, itemBytes: 900 }, NOW)).toBe(
      false,
    );
    expect(job()?.status).toBe('CANCELLED');
  });
});

describe('Function: addJobUsage', () => {
  it('adds usage with its own write to an existing job only', async () => {
    fake.put(jobItem({ sqsRequests: 1 }));
    expect(await addJobUsage(table, JOB_ID, { sqsRequests: 2, lambdaMbMs: 10 })).toBe(true);
    expect(job()).toMatchObject({ sqsRequests: 3, lambdaMbMs: 10, writeUnits: 1 });
    expect(await addJobUsage(table, 'nope', { sqsRequests: 2 })).toBe(false);
    expect(fake.items.size).toBe(1);
  });
});

describe('Function: recordShard', () => {
  it('sets the shard entry idempotently and returns the job after the write', async () => {
    fake.put(jobItem({ shardCount: 2 }));

    const first = await recordShard(table, JOB_ID, 0, 3);
    const second = await recordShard(table, JOB_ID, 0, 3);

    expect(first.outcome).toBe('RECORDED');
    expect(second.outcome === 'RECORDED' && second.job.shards).toEqual({ 0: 3 });
    expect(lastUpdate().set).toEqual({ 'shards.0': 3 });
    expect(lastUpdate().condition).toBe('(attribute_exists(pk))');
    expect(await recordShard(table, 'nope', 0, 3)).toEqual({ outcome: 'NO_JOB' });
  });

  it('retries a write that met the job item inside a transaction', async () => {
    fake.put(jobItem({ shardCount: 2 }));
    const conflict = Object.assign(new Error('Transaction is ongoing for the item'), {
      name: 'TransactionConflictException',
    });
    ddbMock
      .on(UpdateCommand)
      .rejectsOnce(conflict)
      .callsFake(() => ({ Attributes: job() }));

    const outcome = await recordShard(table, JOB_ID, 1, 2);

    expect(outcome.outcome).toBe('RECORDED');
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });
});
