/**
 * `GET /jobs/{jobId}/results?partial=true`: a RUNNING job's results stored so far, so that a
 * client streams them (the library's imap) while later chunks still compute.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { JOB_ID, jobItem, pageItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { apiGatewayEvent } from '#test/helpers/events.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';
import { encodeCursor } from '../../../functions/status/cursor.ts';
import type { StatusDeps } from '../../../functions/status/job-status.ts';
import { handleStatusRequest } from '../../../functions/status/routes.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const deps: StatusDeps = {
  table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
  pagesPerResponse: 2,
};

function partialEvent(cursor?: string) {
  return apiGatewayEvent({
    httpMethod: 'GET',
    resource: '/jobs/{jobId}/results',
    path: `/jobs/${JOB_ID}/results`,
    pathParameters: { jobId: JOB_ID },
    queryStringParameters: { partial: 'true', ...(cursor === undefined ? {} : { cursor }) },
  });
}

async function request(cursor?: string) {
  const response = await handleStatusRequest(partialEvent(cursor), deps);
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}

/** One strongly consistent BatchGetItem of exactly these chunks' pages was sent. */
function expectPagesRead(chunkIndexes: readonly number[]) {
  expect(ddbMock).toHaveReceivedCommandWith(BatchGetCommand, {
    RequestItems: {
      [TABLE_NAME]: {
        Keys: chunkIndexes.map((index) => ({
          pk: `PAGE#${JOB_ID}#${String(index).padStart(8, '0')}`,
          sk: 'PAGE',
        })),
        ConsistentRead: true,
      },
    },
  });
}

/** The input of a job from S3 (an uploaded file of lines). */
const S3_INPUT = {
  bucket: 'inputs',
  key: 'uploads/job/input.txt',
  format: 'lines',
  rangeBytes: 393_216,
  maxNumbers: 100_000_000,
  size: 1_000_000,
};

let fake: FakeTable;

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Function: handleStatusRequest (GET /jobs/{jobId}/results?partial=true)', () => {
  it('answers the consecutive stored chunks of a RUNNING job and where to ask next', async () => {
    // Prepare: chunks 0 and 2 of 3 are stored, chunk 1 is not yet.
    fake.put(jobItem());
    fake.put(pageItem(0, 0, [1, 4]));
    fake.put(pageItem(2, 4, ['9007199326062756']));

    // Act
    const { statusCode, body } = await request();

    // Assess
    expect(statusCode).toBe(200);
    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      offset: 0,
      count: 2,
      // Where chunk 1's numbers start goes in the cursor: its next ask reads no page before.
      nextCursor: encodeCursor(1, 2),
      page: 0,
      pageCount: 2,
      results: [1, 4],
    });
  });

  it('answers an empty page at the offset after the chunk before the cursor', async () => {
    fake.put(jobItem());
    fake.put(pageItem(0, 0, [1, 4]));

    const { body } = await request(encodeCursor(1));

    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      offset: 2,
      count: 0,
      nextCursor: encodeCursor(1, 2),
      page: 0,
      pageCount: 2,
      results: [],
    });
    // Strongly consistent, so that a page stored a moment ago is seen; the cursor's page is
    // missing, so the page before says where its numbers start, its results left unread.
    expectPagesRead([1, 2]);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `PAGE#${JOB_ID}#00000000`, sk: 'PAGE' },
      ConsistentRead: true,
      ProjectionExpression: '#offset, #count',
      ExpressionAttributeNames: { '#offset': 'offset', '#count': 'count' },
    });
  });

  it('answers an empty page at the offset its cursor gives, reading no page before', async () => {
    fake.put(jobItem());
    fake.put(pageItem(0, 0, [1, 4]));

    const { body } = await request(encodeCursor(1, 2));

    expect(body).toMatchObject({ offset: 2, count: 0, nextCursor: encodeCursor(1, 2) });
    expectPagesRead([1, 2]);
    expect(ddbMock).not.toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `PAGE#${JOB_ID}#00000000`, sk: 'PAGE' },
    });
  });

  it('refuses a cursor whose offset is not the stored page offset with 400 INVALID_CURSOR', async () => {
    fake.put(jobItem());
    fake.put(pageItem(1, 2, [9]));

    const { statusCode, body } = await request(encodeCursor(1, 5));

    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_CURSOR');
  });

  it('reads no page before the cursor when the cursor page is stored: it has its offset', async () => {
    fake.put(jobItem());
    fake.put(pageItem(0, 0, [1, 4]));
    fake.put(pageItem(1, 2, [9]));

    const { body } = await request(encodeCursor(1));

    expect(body).toMatchObject({
      offset: 2,
      count: 1,
      results: [9],
      nextCursor: encodeCursor(2, 3),
    });
    expect(ddbMock).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expectPagesRead([1, 2]);
    expect(ddbMock).not.toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `PAGE#${JOB_ID}#00000000`, sk: 'PAGE' },
    });
    // The job item is read once, by the router, which hands it to the handler.
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('reads no page before the cursor for a job from S3, whose pages keep no offset', async () => {
    fake.put(jobItem({ input: S3_INPUT }));

    const { statusCode, body } = await request(encodeCursor(1));

    expectPagesRead([1, 2]);
    // Nothing is stored, so not even where range 1's numbers start is known yet.
    expect(statusCode).toBe(409);
    expect(body.error).toMatchObject({
      code: 'RESULTS_NOT_STORED',
      details: { chunkIndex: 1, missingChunk: 0 },
    });
  });

  it('gives a job from S3 cursors without an offset: its range pages keep none to check it by', async () => {
    fake.put(jobItem({ input: S3_INPUT }));
    const { offset: _stored, ...rangePage } = pageItem(0, 0, [1, 4]);
    fake.put(rangePage);

    const { body } = await request();

    expect(body).toMatchObject({ offset: 0, count: 2, nextCursor: encodeCursor(1) });
  });

  it('answers 409 RESULTS_NOT_STORED, not a 500, for a cursor ahead of the stored chunks', async () => {
    fake.put(jobItem());

    const { statusCode, body } = await request(encodeCursor(2));

    expect(statusCode).toBe(409);
    expect(body.error.code).toBe('RESULTS_NOT_STORED');
    expect(body.error.message).toBe(
      'chunk 0, before chunk 2, is not stored yet; ask from an earlier page or cursor',
    );
  });

  it('ends with a null cursor once the last chunk is in the page', async () => {
    fake.put(jobItem());
    fake.put(pageItem(1, 2, [9, 16]));
    fake.put(pageItem(2, 4, ['9007199326062756']));

    const { body } = await request(encodeCursor(2));

    expect(body).toMatchObject({ offset: 4, count: 1, nextCursor: null });
    expect(body.results).toEqual(['9007199326062756']);
  });

  it('still answers 409 for a job that FAILED or was CANCELLED', async () => {
    fake.put(jobItem({ status: 'CANCELLED' }));
    const { statusCode, body } = await request();
    expect(statusCode).toBe(409);
    expect(body.error).toMatchObject({
      code: 'JOB_NOT_SUCCEEDED',
      details: { status: 'CANCELLED' },
    });
    expect(ddbMock).not.toHaveReceivedCommand(BatchGetCommand);
  });

  it('answers 400 for a cursor past the job chunks', async () => {
    fake.put(jobItem());
    const { statusCode, body } = await request(encodeCursor(3));
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_CURSOR');
  });
});
