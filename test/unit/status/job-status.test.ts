import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { COST_COVERAGE, PRICING } from '#commons/cost.ts';
import {
  INPUT_RESULT_PAGES_PER_RESPONSE,
  MAX_RECORDED_FAILED_CHUNKS,
  RESULT_PAGES_PER_RESPONSE,
} from '#commons/limits.ts';
import { CREATED_AT, JOB_ID, jobItem, pageItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { apiGatewayEvent, jobResultsEvent, jobStatusEvent } from '#test/helpers/events.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { encodeCursor } from '../../../functions/status/cursor.ts';
import * as jobStatus from '../../../functions/status/job-status.ts';
import { pagesPerResponseOf, type StatusDeps } from '../../../functions/status/job-status.ts';
import { handleStatusRequest } from '../../../functions/status/routes.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const deps: StatusDeps = {
  table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
  // Two chunk pages per response: chunks 0 and 1, then chunk 2.
  pagesPerResponse: 2,
  now: () => new Date('2026-01-01T00:00:30.000Z'),
};
/** The estimate of a job that used nothing counted yet. */
const NO_COST = {
  lambdaGbSeconds: 0,
  lambdaRequests: 0,
  sqsRequests: 0,
  dynamodbReadUnits: 0,
  dynamodbWriteUnits: 0,
  usd: { lambda: 0, sqs: 0, dynamodb: 0, total: 0 },
  pricing: PRICING,
  covers: COST_COVERAGE,
};
const COMPLETED_AT = '2026-01-01T00:00:09.000Z';
const succeeded = {
  status: 'SUCCEEDED',
  numbersDone: 5,
  updatedAt: COMPLETED_AT,
  completedAt: COMPLETED_AT,
};
const pages = [
  pageItem(0, 0, [1, 4]),
  pageItem(1, 2, [9, 16]),
  pageItem(2, 4, ['9007199326062756']),
];
let fake: FakeTable;

async function request(event: Parameters<typeof handleStatusRequest>[0]) {
  const response = await handleStatusRequest(event, deps);
  return { statusCode: response.statusCode, text: response.body, body: JSON.parse(response.body) };
}

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Function: handleStatusRequest (GET /jobs/{jobId})', () => {
  it('answers 400 for a malformed job id without reading the table', async () => {
    const { statusCode, body } = await request(jobStatusEvent('not-a-uuid'));
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_JOB_ID');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('answers 404 for an unknown job', async () => {
    ddbMock.on(GetCommand).resolves({});
    const { statusCode, body } = await request(jobStatusEvent(JOB_ID));
    expect(statusCode).toBe(404);
    expect(body).toEqual({
      error: { code: 'JOB_NOT_FOUND', message: `no job ${JOB_ID} (it may have expired)` },
    });
  });

  it('answers a RUNNING job with its progress from its open shards, and no results', async () => {
    fake.put(jobItem({ shardCount: 2 }));
    // Shard 0 (chunks 0 and 2) has chunk 0 marked; shard 1 has nothing yet.
    fake.put({ pk: `SHARD#${JOB_ID}#0`, sk: 'SHARD', c0: 2 });

    const { statusCode, body } = await request(jobStatusEvent(JOB_ID.toUpperCase()));

    expect(statusCode).toBe(200);
    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      numbersCount: 5,
      progress: { chunksDone: 1, chunkCount: 3, numbersDone: 2 },
      createdAt: CREATED_AT,
      updatedAt: CREATED_AT,
      // Running: its duration so far.
      timing: { createdAt: CREATED_AT, durationMs: 30_000 },
      attempts: 0,
      cost: NO_COST,
      resultsUrl: `/jobs/${JOB_ID}/results`,
    });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
    });
    // One BatchGetItem of both open shards, eventually consistent.
    expect(ddbMock).toHaveReceivedCommandExactlyOnceWith(BatchGetCommand, {
      RequestItems: {
        [TABLE_NAME]: {
          Keys: [
            { pk: `SHARD#${JOB_ID}#0`, sk: 'SHARD' },
            { pk: `SHARD#${JOB_ID}#1`, sk: 'SHARD' },
          ],
          ConsistentRead: false,
        },
      },
    });
  });

  it('answers a small SUCCEEDED job with its results inline, exactly as stored', async () => {
    const results = '[1,"81129638414606663681390495662081",0.010000000000000002,4,9]';
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ ...succeeded, results }) });

    const { statusCode, text, body } = await request(jobStatusEvent(JOB_ID));

    expect(statusCode).toBe(200);
    expect(text).toContain(`"results":${results}`);
    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'SUCCEEDED',
      numbersCount: 5,
      progress: { chunksDone: 3, chunkCount: 3, numbersDone: 5 },
      createdAt: CREATED_AT,
      updatedAt: COMPLETED_AT,
      completedAt: COMPLETED_AT,
      timing: { createdAt: CREATED_AT, completedAt: COMPLETED_AT, durationMs: 9_000 },
      attempts: 0,
      cost: NO_COST,
      resultsUrl: `/jobs/${JOB_ID}/results`,
      results: [1, '81129638414606663681390495662081', 0.010000000000000002, 4, 9],
    });
  });

  it('answers a large SUCCEEDED job without results, pointing at the results URL', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem(succeeded) });
    const { body } = await request(jobStatusEvent(JOB_ID));
    expect(body.status).toBe('SUCCEEDED');
    expect(body).not.toHaveProperty('results');
    expect(body.resultsUrl).toBe(`/jobs/${JOB_ID}/results`);
  });

  it('answers a FAILED job with its failure', async () => {
    const failure = {
      code: 'DISPATCH_FAILED',
      message: '1 of 3 chunks could not be queued',
      failedChunks: [{ chunkIndex: 2, reason: 'InternalError: down' }],
      failedChunkCount: 1,
    };
    ddbMock
      .on(GetCommand)
      .resolves({ Item: jobItem({ status: 'FAILED', failure, completedAt: COMPLETED_AT }) });
    const { body } = await request(jobStatusEvent(JOB_ID));
    expect(body).toMatchObject({ status: 'FAILED', failure, completedAt: COMPLETED_AT });
  });

  it('answers the deadline, attempts and a cost estimate from the job, shard and open shard usage', async () => {
    fake.put(
      jobItem({
        shardCount: 2,
        deadlineAt: Date.parse('2026-01-01T01:00:00.000Z'),
        attempts: 2,
        // The job's own counters: 2 GB-s, 1 request, 4 SQS requests, 10 write units.
        lambdaMbMs: 2 * 1024 * 1000,
        lambdaRequests: 1,
        sqsRequests: 4,
        writeUnits: 10,
        shards: { 1: 2 },
      }),
    );
    // Shard 1, complete: 1 GB-s, 3 SQS requests, 1 read unit, 6 write units.
    fake.put({
      pk: `SHARD#${JOB_ID}#1`,
      sk: 'SHARD',
      c1: 2,
      lambdaMbMs: 1024 * 1000,
      sqsRequests: 3,
      readUnits: 1,
      writeUnits: 6,
    });
    // Shard 0, open: 3 SQS requests, 1 read unit and 4 write units so far.
    fake.put({
      pk: `SHARD#${JOB_ID}#0`,
      sk: 'SHARD',
      c0: 2,
      sqsRequests: 3,
      readUnits: 1,
      writeUnits: 4,
    });

    const { body } = await request(jobStatusEvent(JOB_ID));

    expect(body.timing).toEqual({
      createdAt: CREATED_AT,
      durationMs: 30_000,
      deadlineAt: '2026-01-01T01:00:00.000Z',
    });
    expect(body.attempts).toBe(2);
    expect(body.cost).toEqual({
      lambdaGbSeconds: 3,
      lambdaRequests: 1,
      sqsRequests: 10,
      dynamodbReadUnits: 2,
      dynamodbWriteUnits: 20,
      usd: {
        lambda: 0.0000402002,
        sqs: 0.000004,
        dynamodb: 0.00001275,
        total: 0.0000569502,
      },
      pricing: PRICING,
      covers: COST_COVERAGE,
    });
  });

  it('answers a job failed by the DLQ with its failing chunks, by index, and their total', async () => {
    ddbMock.on(GetCommand).resolves({
      Item: jobItem({
        status: 'FAILED',
        completedAt: COMPLETED_AT,
        failure: { code: 'CHUNKS_FAILED', message: 'chunks failed on every delivery' },
        failedChunks: {
          '7': { reason: 'exhausted its deliveries', receiveCount: 3 },
          '2': { reason: 'Error: boom', receiveCount: 3 },
        },
        failedChunkCount: 2,
        attempts: 6,
      }),
    });

    const { body } = await request(jobStatusEvent(JOB_ID));

    expect(body.failure).toEqual({
      code: 'CHUNKS_FAILED',
      message: 'chunks failed on every delivery',
      failedChunks: [
        { chunkIndex: 2, reason: 'Error: boom', receiveCount: 3 },
        { chunkIndex: 7, reason: 'exhausted its deliveries', receiveCount: 3 },
      ],
      failedChunkCount: 2,
    });
    expect(body.attempts).toBe(6);
    expect(body.timing).toMatchObject({ completedAt: COMPLETED_AT, durationMs: 9_000 });
  });

  it('lists at most MAX_RECORDED_FAILED_CHUNKS failed chunks with the full count', async () => {
    const failedChunks = Object.fromEntries(
      Array.from({ length: MAX_RECORDED_FAILED_CHUNKS }, (_, index) => [
        String(index),
        { reason: 'r', receiveCount: 3 },
      ]),
    );
    ddbMock.on(GetCommand).resolves({
      Item: jobItem({
        status: 'FAILED',
        failure: { code: 'CHUNKS_FAILED', message: 'm' },
        failedChunks,
        failedChunkCount: MAX_RECORDED_FAILED_CHUNKS + 40,
      }),
    });
    const { body } = await request(jobStatusEvent(JOB_ID));
    expect(body.failure.failedChunks).toHaveLength(MAX_RECORDED_FAILED_CHUNKS);
    expect(body.failure.failedChunkCount).toBe(MAX_RECORDED_FAILED_CHUNKS + 40);
  });

  it('answers a CANCELLED job with when it was cancelled and no failure', async () => {
    ddbMock.on(GetCommand).resolves({
      Item: jobItem({ status: 'CANCELLED', cancelledAt: COMPLETED_AT, completedAt: COMPLETED_AT }),
    });
    const { body } = await request(jobStatusEvent(JOB_ID));
    expect(body).toMatchObject({ status: 'CANCELLED', cancelledAt: COMPLETED_AT });
    expect(body).not.toHaveProperty('failure');
    expect(body).not.toHaveProperty('results');
  });

  it('answers 500 without internals when the table read fails', async () => {
    ddbMock
      .on(GetCommand)
      .rejects(new Error('User: arn:aws:sts::123:assumed-role/x is not authorized'));
    const { statusCode, text } = await request(jobStatusEvent(JOB_ID));
    expect(statusCode).toBe(500);
    expect(text).not.toContain('arn:aws');
  });
});

describe('Function: handleStatusRequest (GET /jobs/{jobId}/results)', () => {
  it('answers a fixed number of chunk pages per response, in order, and links the next', async () => {
    fake.put(jobItem(succeeded));
    for (const page of pages) fake.put(page);

    const first = await request(jobResultsEvent(JOB_ID));

    expect(first.statusCode).toBe(200);
    expect(first.body).toEqual({
      jobId: JOB_ID,
      status: 'SUCCEEDED',
      offset: 0,
      count: 4,
      nextCursor: encodeCursor(2),
      page: 0,
      pageCount: 2,
      results: [1, 4, 9, 16],
    });
    const second = await request(jobResultsEvent(JOB_ID, first.body.nextCursor));

    expect(second.body).toEqual({
      jobId: JOB_ID,
      status: 'SUCCEEDED',
      offset: 4,
      count: 1,
      nextCursor: null,
      page: 1,
      pageCount: 2,
      results: ['9007199326062756'],
    });
    expect(ddbMock).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: {
        [TABLE_NAME]: {
          Keys: [{ pk: `PAGE#${JOB_ID}#00000002`, sk: 'PAGE' }],
          ConsistentRead: false,
        },
      },
    });
  });

  it('answers 500 when a page of a SUCCEEDED job is missing, never a short page', async () => {
    fake.put(jobItem(succeeded));
    fake.put(pages[0] ?? {});

    const { statusCode } = await request(jobResultsEvent(JOB_ID));

    expect(statusCode).toBe(500);
  });

  it('answers 409 with the status while the job is not SUCCEEDED', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem() });
    const { statusCode, body } = await request(jobResultsEvent(JOB_ID));
    expect(statusCode).toBe(409);
    expect(body.error).toEqual({
      code: 'JOB_NOT_SUCCEEDED',
      message: 'the job is RUNNING; results are available once it has SUCCEEDED',
      details: { status: 'RUNNING' },
    });
    expect(ddbMock).not.toHaveReceivedCommand(BatchGetCommand);
  });

  it('answers 404 for an unknown job', async () => {
    ddbMock.on(GetCommand).resolves({});
    expect((await request(jobResultsEvent(JOB_ID))).statusCode).toBe(404);
  });

  it('answers 400 for a malformed cursor, reading nothing but the owner', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem() });
    const { statusCode, body } = await request(jobResultsEvent(JOB_ID, 'garbage!'));
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_CURSOR');
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(ddbMock).not.toHaveReceivedCommand(BatchGetCommand);
  });

  it('answers 400 for a cursor past the job chunks', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem(succeeded) });
    const { statusCode, body } = await request(jobResultsEvent(JOB_ID, encodeCursor(3)));
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_CURSOR');
    expect(ddbMock).not.toHaveReceivedCommand(BatchGetCommand);
  });
});

function resultsQuery(query: Record<string, string>) {
  return { ...jobResultsEvent(JOB_ID), queryStringParameters: query };
}

describe('Function: handleStatusRequest (GET /jobs/{jobId}/results?page=)', () => {
  it('answers response p by its index as by its cursor, so responses can be fetched at once', async () => {
    fake.put(jobItem(succeeded));
    for (const page of pages) fake.put(page);

    const byCursor = await request(jobResultsEvent(JOB_ID, encodeCursor(2)));
    const byPage = await request(resultsQuery({ page: '1' }));
    const first = await request(resultsQuery({ page: '0' }));

    expect(byPage.body).toEqual(byCursor.body);
    expect(byPage.body).toMatchObject({ offset: 4, count: 1, page: 1, pageCount: 2 });
    expect(first.body).toMatchObject({ offset: 0, results: [1, 4, 9, 16], page: 0 });
  });

  it('ends a response from a cursor inside a page at that page, so page + 1 follows it', async () => {
    fake.put(jobItem({ ...succeeded, chunkCount: 3 }));
    for (const page of pages) fake.put(page);

    const inside = await request(jobResultsEvent(JOB_ID, encodeCursor(1)));

    expect(inside.body).toMatchObject({
      offset: 2,
      count: 2,
      results: [9, 16],
      page: 0,
      nextCursor: encodeCursor(2),
    });
  });

  it.each([
    ['a page past the last', { page: '2' }, 'INVALID_PAGE'],
    ['a page that is not an index', { page: '-1' }, 'INVALID_PAGE'],
    ['a page of digits too long', { page: '1234567890' }, 'INVALID_PAGE'],
    ['both a page and a cursor', { page: '0', cursor: encodeCursor(0) }, 'CURSOR_AND_PAGE'],
  ])('answers 400 for %s', async (_name, query, code) => {
    fake.put(jobItem(succeeded));
    for (const page of pages) fake.put(page);

    const { statusCode, body } = await request(resultsQuery(query));

    expect(statusCode).toBe(400);
    expect(body.error.code).toBe(code);
    expect(ddbMock).not.toHaveReceivedCommand(BatchGetCommand);
  });
});

describe('Function: pagesPerResponseOf', () => {
  const table = deps.table;
  it('gives a body job RESULT_PAGES_PER_RESPONSE pages and a job from S3 INPUT_RESULT_PAGES_PER_RESPONSE', () => {
    const input = {
      bucket: 'inputs',
      key: 'uploads/job/input.txt',
      format: 'lines' as const,
      rangeBytes: 393_216,
      maxNumbers: 100_000_000,
    };
    expect(pagesPerResponseOf({}, { table })).toBe(RESULT_PAGES_PER_RESPONSE);
    expect(pagesPerResponseOf({ input }, { table })).toBe(INPUT_RESULT_PAGES_PER_RESPONSE);
    expect(pagesPerResponseOf({ input }, { table, pagesPerResponse: 3 })).toBe(3);
  });
});

describe('Function: handleStatusRequest (routing)', () => {
  it('answers 405 for a method other than GET', async () => {
    const event = { ...jobStatusEvent(JOB_ID), httpMethod: 'PATCH' };
    const { statusCode, body } = await request(event);
    expect(statusCode).toBe(405);
    expect(body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('answers 404 for a resource it does not serve', async () => {
    const event = apiGatewayEvent({ httpMethod: 'GET', resource: '/admin', path: '/admin' });
    const { statusCode, body } = await request(event);
    expect(statusCode).toBe(404);
    expect(body.error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('Function: handleStatusRequest (events without a resource)', () => {
  it('routes by path when the event has no resource', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem() });
    const event = { ...jobStatusEvent(JOB_ID), resource: undefined as unknown as string };
    const { statusCode, body } = await request(event);
    expect(statusCode).toBe(200);
    expect(body.jobId).toBe(JOB_ID);

    const resultsEvent = { ...jobResultsEvent(JOB_ID), resource: undefined as unknown as string };
    expect((await request(resultsEvent)).body.error.code).toBe('JOB_NOT_SUCCEEDED');
  });
});

describe('Module: status/job-status.ts', () => {
  it('exports what the routes and tests use, its bytes progress kept inside', () => {
    expect(Object.keys(jobStatus).sort()).toEqual([
      'failureView',
      'getJobStatus',
      'getResultsPage',
      'handleGetJob',
      'handleGetResults',
      'pagesPerResponseOf',
    ]);
  });
});
