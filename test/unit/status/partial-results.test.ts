/**
 * `GET /jobs/{jobId}/results?partial=true`: a RUNNING job's results stored so far, so that a
 * client streams them (the library's imap) while later chunks still compute.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../../functions/status/cursor.ts';
import { handleStatusRequest, type StatusDeps } from '../../../functions/status/job-status.ts';
import { chunkItem, JOB_ID, jobItem, TABLE_NAME } from '../../helpers/dynamodb.ts';
import { apiGatewayEvent } from '../../helpers/events.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const deps: StatusDeps = {
  table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
  maxPageBytes: 12,
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

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: handleStatusRequest (GET /jobs/{jobId}/results?partial=true)', () => {
  it('answers the consecutive stored chunks of a RUNNING job and where to ask next', async () => {
    // Prepare: chunks 0 and 2 of 3 are stored, chunk 1 is not yet.
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunksDone: 2, numbersDone: 3 }) });
    ddbMock.on(QueryCommand).resolves({
      Items: [chunkItem(0, 0, [1, 4]), chunkItem(2, 4, ['9007199326062756'])],
    });

    // Act
    const { statusCode, body } = await request();

    // Assess
    expect(statusCode).toBe(200);
    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      offset: 0,
      count: 2,
      nextCursor: encodeCursor(1),
      results: [1, 4],
    });
  });

  it('answers an empty page at the offset after the chunk before the cursor', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunksDone: 1, numbersDone: 2 }) });
    ddbMock.on(QueryCommand).resolves({ Items: [chunkItem(0, 0, [1, 4])] });

    const { body } = await request(encodeCursor(1));

    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'RUNNING',
      offset: 2,
      count: 0,
      nextCursor: encodeCursor(1),
      results: [],
    });
    // The query starts one chunk before the cursor, to know where its numbers start.
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: {
        ':pk': `JOB#${JOB_ID}`,
        ':from': 'CHUNK#00000000',
        ':to': 'CHUNK#99999999',
      },
    });
  });

  it('ends with a null cursor once the last chunk is in the page', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunksDone: 3, numbersDone: 5 }) });
    ddbMock.on(QueryCommand).resolves({
      Items: [chunkItem(1, 2, [9, 16]), chunkItem(2, 4, ['9007199326062756'])],
    });

    const { body } = await request(encodeCursor(2));

    expect(body).toMatchObject({ offset: 4, count: 1, nextCursor: null });
    expect(body.results).toEqual(['9007199326062756']);
  });

  it('still answers 409 for a job that FAILED or was CANCELLED', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ status: 'CANCELLED' }) });
    const { statusCode, body } = await request();
    expect(statusCode).toBe(409);
    expect(body.error).toMatchObject({
      code: 'JOB_NOT_SUCCEEDED',
      details: { status: 'CANCELLED' },
    });
    expect(ddbMock).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 400 for a cursor past the job chunks', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunksDone: 1, numbersDone: 2 }) });
    const { statusCode, body } = await request(encodeCursor(3));
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_CURSOR');
  });
});
