import 'aws-sdk-client-mock-vitest/extend';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidChunkResultError, JobNotFoundError } from '#commons/errors.ts';
import type { SquareResult } from '#commons/numbers.ts';
import type { ChunkResult } from '#commons/types.ts';
import { cancelJob } from '#store/jobs.ts';
import { EXPIRES_AT, JOB_ID, jobItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import {
  type AggregatorDeps,
  aggregateChunk,
} from '../../../functions/aggregator/aggregate-chunk.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-01-01T00:10:00.000Z');
let table: FakeTable;

function deps(overrides: Partial<AggregatorDeps> = {}): AggregatorDeps {
  let time = 0;
  return {
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    now: () => NOW,
    clock: () => (time += 5),
    memoryMb: 1024,
    ...overrides,
  };
}

/**
 * The job of these tests: 5 numbers in 3 chunks [1,2] [3,4] [5] and 2 shards, so shard 0
 * holds chunks 0 and 2, shard 1 holds chunk 1.
 */
/** The squares of a chunk as the worker hands them over: their JSON text, gzipped. */
function squares(results: readonly SquareResult[]) {
  const json = JSON.stringify(results);
  return {
    resultsGzip: gzipSync(json).toString('base64'),
    count: results.length,
    resultsJsonLength: json.length,
  };
}

const chunks: ChunkResult[] = [
  { offset: 0, ...squares([1, 0.010000000000000002]) },
  { offset: 2, ...squares([16, '81129638414606663681390495662081']) },
  { offset: 4, ...squares(['9007199326062756']) },
].map((chunk, chunkIndex) => ({
  jobId: JOB_ID,
  chunkIndex,
  computeMs: 12.5,
  receiveCount: 1,
  durationMs: 40,
  memoryMb: 2048,
  messageBytes: 100,
  ...chunk,
}));
const JOINED = '[1,0.010000000000000002,16,"81129638414606663681390495662081","9007199326062756"]';

function chunk(index: number, overrides: Partial<ChunkResult> = {}): ChunkResult {
  const value = chunks[index];
  if (value === undefined) throw new Error(`no chunk ${index}`);
  return { ...value, ...overrides };
}

function job() {
  return table.get(`JOB#${JOB_ID}`, 'JOB');
}

function shard(index: number) {
  return table.get(`SHARD#${JOB_ID}#${index}`, 'SHARD');
}

function finalizes() {
  return ddbMock
    .commandCalls(UpdateCommand)
    .map((call) => decodeUpdate(call.args[0].input))
    .filter((update) => update.set.status === 'SUCCEEDED');
}

beforeEach(() => {
  ddbMock.reset();
  table = new FakeTable();
  table.attach(ddbMock);
  table.put(jobItem({ shardCount: 2, shards: {}, numbersDone: 0 }));
});

describe('Function: aggregateChunk', () => {
  it('stores a page, gzip-compressed, under its own partition key, by a conditional put', async () => {
    const outcome = await aggregateChunk(chunk(1), deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandTimes(PutCommand, 1);
    const put = ddbMock.commandCalls(PutCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(put?.Item).toMatchObject({
      pk: `PAGE#${JOB_ID}#00000001`,
      sk: 'PAGE',
      offset: 2,
      count: 2,
      expiresAt: EXPIRES_AT,
    });
    const results = put?.Item?.results;
    expect(results).toBeInstanceOf(Uint8Array);
    expect(gunzipSync(results as Uint8Array).toString()).toBe(
      '[16,"81129638414606663681390495662081"]',
    );
  });

  it('refuses a body chunk whose squares take more JSON than a page may hold', async () => {
    await expect(aggregateChunk(chunk(1, { resultsJsonLength: 300_001 }), deps())).rejects.toThrow(
      'chunk 1 results take 300001 bytes, over 300000',
    );
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('marks the chunk on its shard with its count and the delivery usage, leaving the job item alone', async () => {
    await aggregateChunk(chunk(0), deps());

    expect(shard(0)).toMatchObject({
      c0: 2,
      expiresAt: EXPIRES_AT,
      // 40 ms x 2048 MB (worker share) + 5 ms (one clock tick) x 1024 MB (this invocation)
      lambdaMbMs: 40 * 2048 + 5 * 1024,
      lambdaRequests: 2,
      sqsRequests: 2,
      // The worker's status read and this one (1 unit each, strongly consistent).
      readUnits: 2,
      // The page (under 1 KB) and the marker update (under 1 KB).
      writeUnits: 2,
    });
    expect(job()?.shards).toEqual({});
    const jobUpdates = ddbMock
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.pk === `JOB#${JOB_ID}`);
    expect(jobUpdates).toHaveLength(0);
  });

  it("leaves out the worker's status read when another record of its batch paid for it", async () => {
    await aggregateChunk(chunk(0, { statusRead: false }), deps());

    // Only this invocation's read of the job (1 unit, strongly consistent).
    expect(shard(0)).toMatchObject({ c0: 2, readUnits: 1, writeUnits: 2 });
  });

  it('records a shard on the job when its last chunk is marked', async () => {
    const outcome = await aggregateChunk(chunk(1), deps());

    // Shard 1 holds only chunk 1: complete at once, while shard 0 is still open.
    expect(outcome.jobStatus).toBe('RUNNING');
    expect(job()?.shards).toEqual({ 1: 2 });
    expect(job()?.status).toBe('RUNNING');
  });

  it('completes the job on the last chunk with the joined results inline, exactly', async () => {
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    const outcome = await aggregateChunk(chunk(2), deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'SUCCEEDED' });
    expect(job()).toMatchObject({
      status: 'SUCCEEDED',
      numbersDone: 5,
      results: JOINED,
      completedAt: NOW.toISOString(),
    });
    expect(job()).not.toHaveProperty('runningPk');
    expect(finalizes()).toHaveLength(1);
    expect(finalizes()[0]?.condition).toBe('(status IN ("RUNNING"))');
  });

  it('completes the job whatever order the chunks arrive in', async () => {
    for (const index of [2, 1, 0]) await aggregateChunk(chunk(index), deps());

    expect(job()?.status).toBe('SUCCEEDED');
    expect(job()?.results).toBe(JOINED);
  });

  it('answers DUPLICATE for a redelivered chunk and counts nothing twice', async () => {
    await aggregateChunk(chunk(0), deps());
    const before = shard(0);

    const outcome = await aggregateChunk(chunk(0, { receiveCount: 2 }), deps());

    expect(outcome).toEqual({ outcome: 'DUPLICATE', jobStatus: 'RUNNING' });
    expect(shard(0)?.c0).toBe(2);
    expect(Object.keys(shard(0) ?? {}).filter((name) => /^c[0-9]+$/.test(name))).toEqual(['c0']);
    // The duplicate's usage is real: its delivery, its failed put, its marker update.
    expect(Number(shard(0)?.writeUnits)).toBe(Number(before?.writeUnits) + 2);
  });

  it('finishes the job when the last chunk is redelivered after a crash right after its page', async () => {
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    table.failNext({ command: 'Update', pkPrefix: 'SHARD#', afterApplying: false });
    await expect(aggregateChunk(chunk(2), deps())).rejects.toThrow('Update failed');
    expect(table.get(`PAGE#${JOB_ID}#00000002`, 'PAGE')).toBeDefined();
    expect(job()?.status).toBe('RUNNING');

    const outcome = await aggregateChunk(chunk(2, { receiveCount: 2 }), deps());

    expect(outcome).toEqual({ outcome: 'DUPLICATE', jobStatus: 'SUCCEEDED' });
    expect(job()?.results).toBe(JOINED);
  });

  it('finishes the job when the last chunk is redelivered after a crash right after its shard', async () => {
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    // The shard update applies, but its answer is lost: the job is never told.
    table.failNext({ command: 'Update', pkPrefix: 'SHARD#', afterApplying: true });
    await expect(aggregateChunk(chunk(2), deps())).rejects.toThrow('response lost');
    expect(shard(0)).toMatchObject({ c0: 2, c2: 1 });
    expect(Object.keys(job()?.shards ?? {})).toEqual(['1']);

    const outcome = await aggregateChunk(chunk(2, { receiveCount: 2 }), deps());

    expect(outcome).toEqual({ outcome: 'DUPLICATE', jobStatus: 'SUCCEEDED' });
    expect(finalizes()).toHaveLength(1);
  });

  it('finishes the job when the last chunk is redelivered after a crash right after recording its shard', async () => {
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    table.failNext({ command: 'Update', pkPrefix: 'JOB#', afterApplying: true });
    await expect(aggregateChunk(chunk(2), deps())).rejects.toThrow('response lost');
    expect(Object.keys(job()?.shards ?? {}).sort()).toEqual(['0', '1']);
    expect(job()?.status).toBe('RUNNING');

    const outcome = await aggregateChunk(chunk(2, { receiveCount: 2 }), deps());

    expect(outcome).toEqual({ outcome: 'DUPLICATE', jobStatus: 'SUCCEEDED' });
    expect(job()?.results).toBe(JOINED);
  });

  it('finalizes once when the last chunks of two shards both see the job complete', async () => {
    await aggregateChunk(chunk(0), deps());
    // Chunks 1 and 2 close shards 1 and 0 at once; the writes of one item still serialize.
    const outcomes = await Promise.all([
      aggregateChunk(chunk(1), deps()),
      aggregateChunk(chunk(2), deps()),
    ]);

    expect(outcomes.map((outcome) => outcome.jobStatus)).toContain('SUCCEEDED');
    expect(job()?.status).toBe('SUCCEEDED');
    expect(job()?.results).toBe(JOINED);
    expect(finalizes().length).toBeGreaterThanOrEqual(1);
    // Both deliveries see every shard recorded: the second finalize fails on its condition.
    const { completedAt, numbersDone } = job() ?? {};
    expect({ completedAt, numbersDone }).toEqual({
      completedAt: NOW.toISOString(),
      numbersDone: 5,
    });
  });

  it('never makes a job cancelled before the finalize SUCCEEDED', async () => {
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    // The last chunk read the job RUNNING; the cancel lands before its finalize.
    const cancelling = deps();
    table.failNext({ command: 'Update', pkPrefix: 'SHARD#', afterApplying: true });
    await expect(aggregateChunk(chunk(2), deps())).rejects.toThrow('response lost');
    await cancelJob(cancelling.table, JOB_ID, NOW);

    const outcome = await aggregateChunk(chunk(2, { receiveCount: 2 }), deps());

    expect(outcome).toEqual({ outcome: 'JOB_NOT_RUNNING', jobStatus: 'CANCELLED' });
    expect(job()?.status).toBe('CANCELLED');
    expect(job()).not.toHaveProperty('results');
  });

  it('keeps a job CANCELLED when the cancel lands between the shard record and the finalize', async () => {
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    table.beforeUpdate(
      (input) => decodeUpdate(input).set.status === 'SUCCEEDED',
      () => {
        const current = job();
        if (current !== undefined) table.put({ ...current, status: 'CANCELLED' });
      },
    );

    const outcome = await aggregateChunk(chunk(2), deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'CANCELLED' });
    expect(job()?.status).toBe('CANCELLED');
    expect(job()).not.toHaveProperty('results');
  });

  it.each(['CANCELLED', 'SUCCEEDED'])(
    'drops a chunk of a %s job, storing nothing and adding its usage to the job',
    async (status) => {
      table.put(jobItem({ shardCount: 2, shards: {}, status }));

      const outcome = await aggregateChunk(chunk(0), deps());

      expect(outcome).toEqual({ outcome: 'JOB_NOT_RUNNING', jobStatus: status });
      expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
      expect(shard(0)).toBeUndefined();
      expect(job()).toMatchObject({ sqsRequests: 2, lambdaRequests: 2, writeUnits: 1 });
    },
  );

  it('stores the chunks of a FAILED job and records its shards, but does not finalize it', async () => {
    table.put(jobItem({ shardCount: 2, shards: {}, status: 'FAILED' }));

    for (const index of [0, 1, 2]) await aggregateChunk(chunk(index), deps());

    expect(table.withPrefix(`PAGE#${JOB_ID}`)).toHaveLength(3);
    expect(Object.keys(job()?.shards ?? {}).sort()).toEqual(['0', '1']);
    expect(job()?.status).toBe('FAILED');
    expect(finalizes()).toHaveLength(0);
  });

  it('completes a FAILED job reopened by a redrive when its redriven chunk arrives', async () => {
    table.put(jobItem({ shardCount: 2, shards: {}, status: 'FAILED' }));
    await aggregateChunk(chunk(0), deps());
    await aggregateChunk(chunk(1), deps());
    const failed = job();
    if (failed !== undefined) table.put({ ...failed, status: 'RUNNING' });

    const outcome = await aggregateChunk(chunk(2), deps());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'SUCCEEDED' });
  });

  it('leaves large results out of the job item, without reading its pages', async () => {
    table.put(jobItem({ shardCount: 1, shards: {}, numbersCount: 70_000, chunkCount: 7 }));
    const ones = Array.from({ length: 10_000 }, () => 1);

    for (let index = 0; index < 7; index++) {
      await aggregateChunk(
        chunk(0, { chunkIndex: index, offset: index * 10_000, ...squares(ones) }),
        deps(),
      );
    }

    expect(job()?.status).toBe('SUCCEEDED');
    expect(job()?.numbersDone).toBe(70_000);
    expect(job()).not.toHaveProperty('results');
    // The finalize reads the shard (to fold its usage), never the pages.
    const keys = ddbMock
      .commandCalls(BatchGetCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.[TABLE_NAME]?.Keys ?? []);
    expect(keys).toEqual([{ pk: `SHARD#${JOB_ID}#0`, sk: 'SHARD' }]);
  });

  it("folds every shard's usage into the job when it finalizes", async () => {
    for (const index of [0, 1, 2]) await aggregateChunk(chunk(index), deps());

    const shardUsage = [shard(0), shard(1)].reduce(
      (sum, item) => sum + Number(item?.sqsRequests),
      0,
    );
    // Three deliveries: a receive and a delete each.
    expect(shardUsage).toBe(6);
    expect(job()?.sqsRequests).toBe(6);
    expect(Number(job()?.writeUnits)).toBeGreaterThan(
      Number(shard(0)?.writeUnits) + Number(shard(1)?.writeUnits),
    );
  });

  it('throws JobNotFoundError for a chunk of an unknown job', async () => {
    table.items.clear();

    await expect(aggregateChunk(chunk(0), deps())).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('throws InvalidChunkResultError for a chunk past the job', async () => {
    await expect(aggregateChunk(chunk(2, { chunkIndex: 3 }), deps())).rejects.toBeInstanceOf(
      InvalidChunkResultError,
    );
    await expect(aggregateChunk(chunk(2, { offset: 5 }), deps())).rejects.toBeInstanceOf(
      InvalidChunkResultError,
    );
    expect(ddbMock).not.toHaveReceivedCommand(PutCommand);
  });

  it('throws InvalidChunkResultError for a payload that is not a chunk result', async () => {
    await expect(aggregateChunk({ jobId: JOB_ID }, deps())).rejects.toBeInstanceOf(
      InvalidChunkResultError,
    );
  });
});
