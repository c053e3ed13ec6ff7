import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { OWNER_ARN, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { apiGatewayEvent } from '#test/helpers/events.ts';
import { decodeListCursor, encodeListCursor } from '../../../functions/status/list-jobs.ts';
import { handleStatusRequest } from '../../../functions/status/routes.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
const ID_1 = '00000000-0000-4000-8000-000000000001';
const ID_2 = '00000000-0000-4000-8000-000000000002';
const SK_2 = `2026-01-01T00:00:02.000Z#${ID_2}`;

function entry(jobId: string, createdAt: string, overrides: Record<string, unknown> = {}) {
  return {
    pk: `JOB#${jobId}`,
    sk: 'JOB',
    ownerPk: `OWNER#${OWNER_ARN}`,
    ownerSk: `${createdAt}#${jobId}`,
    jobId,
    status: 'RUNNING',
    numbersCount: 300,
    chunkCount: 3,
    shardCount: 2,
    shards: {},
    numbersDone: 0,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

function listEvent(query: Record<string, string> | null = null): APIGatewayProxyEvent {
  return apiGatewayEvent({
    httpMethod: 'GET',
    resource: '/jobs',
    path: '/jobs',
    queryStringParameters: query,
  });
}

async function list(event: APIGatewayProxyEvent, admins: ReadonlySet<string> = new Set()) {
  const response = await handleStatusRequest(event, { table, admins });
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: GET /jobs', () => {
  it('lists the caller’s jobs newest first from its own index key, progress from the completed shards', async () => {
    // Prepare
    ddbMock.on(QueryCommand).resolves({
      Items: [
        entry(ID_2, '2026-01-01T00:00:02.000Z', { shards: { 0: 200 } }),
        entry(ID_1, '2026-01-01T00:00:01.000Z', {
          status: 'SUCCEEDED',
          numbersDone: 300,
          completedAt: '2026-01-01T00:00:09.000Z',
        }),
      ],
      LastEvaluatedKey: {
        pk: `JOB#${ID_1}`,
        sk: 'JOB',
        ownerPk: `OWNER#${OWNER_ARN}`,
        ownerSk: SK_2,
      },
    });

    // Act
    const { statusCode, body } = await list(listEvent({ limit: '2' }));

    // Assess
    expect(statusCode).toBe(200);
    expect(body).toEqual({
      jobs: [
        {
          jobId: ID_2,
          status: 'RUNNING',
          numbersCount: 300,
          // Shard 0 of 2 holds chunks 0 and 2.
          progress: { chunksDone: 2, chunkCount: 3, numbersDone: 200 },
          createdAt: '2026-01-01T00:00:02.000Z',
          updatedAt: '2026-01-01T00:00:02.000Z',
          statusUrl: `/jobs/${ID_2}`,
        },
        {
          jobId: ID_1,
          status: 'SUCCEEDED',
          numbersCount: 300,
          progress: { chunksDone: 3, chunkCount: 3, numbersDone: 300 },
          createdAt: '2026-01-01T00:00:01.000Z',
          updatedAt: '2026-01-01T00:00:01.000Z',
          completedAt: '2026-01-01T00:00:09.000Z',
          statusUrl: `/jobs/${ID_1}`,
        },
      ],
      nextCursor: encodeListCursor(SK_2),
    });
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE_NAME,
      IndexName: 'OwnerJobs',
      ExpressionAttributeValues: { ':ownerPk': `OWNER#${OWNER_ARN}` },
      ScanIndexForward: false,
      Limit: 2,
    });
  });

  it('continues after the cursor under the caller’s own key, and ends with a null cursor', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    const { statusCode, body } = await list(listEvent({ cursor: encodeListCursor(SK_2) }));
    expect(statusCode).toBe(200);
    expect(body).toEqual({ jobs: [], nextCursor: null });
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      Limit: 20,
      ExclusiveStartKey: {
        pk: `JOB#${ID_2}`,
        sk: 'JOB',
        ownerPk: `OWNER#${OWNER_ARN}`,
        ownerSk: SK_2,
      },
    });
  });

  it.each([
    ['0', 'limit 0'],
    ['101', 'over 100'],
    ['2.5', 'a fraction'],
    ['ten', 'not a number'],
  ])('answers 400 INVALID_LIMIT for %s (%s) without a read', async (limit) => {
    const { statusCode, body } = await list(listEvent({ limit }));
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_LIMIT');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('answers 400 INVALID_CURSOR for a cursor it did not give', async () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, k: 'OWNER#x' })).toString('base64url');
    for (const cursor of ['garbage!', forged]) {
      const { statusCode, body } = await list(listEvent({ cursor }));
      expect(statusCode).toBe(400);
      expect(body.error.code).toBe('INVALID_CURSOR');
    }
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('lets an operator list another owner with ?owner=, and nobody list everyone', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    const other = 'arn:aws:iam::123456789012:user/bob';
    const admins = new Set([OWNER_ARN]);
    expect((await list(listEvent({ owner: other }), admins)).statusCode).toBe(200);
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':ownerPk': `OWNER#${other}` },
    });
    const notAnArn = await list(listEvent({ owner: 'bob' }), admins);
    expect(notAnArn).toMatchObject({ statusCode: 400, body: { error: { code: 'INVALID_QUERY' } } });
    const notAdmin = await list(listEvent({ owner: other }));
    const all = await list(listEvent({ all: 'true' }), admins);
    expect(notAdmin).toMatchObject({ statusCode: 400, body: { error: { code: 'INVALID_QUERY' } } });
    expect(all).toMatchObject({ statusCode: 400, body: { error: { code: 'INVALID_QUERY' } } });
  });
});

describe('Function: decodeListCursor', () => {
  it('returns the sort key encodeListCursor was given', () => {
    expect(decodeListCursor(encodeListCursor(SK_2))).toBe(SK_2);
  });
});
