import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../helpers/context.ts';
import { chunkItem, JOB_ID, jobItem } from '../../helpers/dynamodb.ts';
import { jobResultsEvent, jobStatusEvent } from '../../helpers/events.ts';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-status-table';
});

const { handler } = await import('../../../functions/status/handler.ts');
const ddbMock = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: status handler', () => {
  it('reads the job from the configured table', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem() });

    const response = await handler(jobStatusEvent(JOB_ID), lambdaContext());

    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.body)).toMatchObject({ jobId: JOB_ID, status: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: 'fanout-status-table' });
  });

  it('serves a whole small job on one results page', async () => {
    ddbMock.on(GetCommand).resolves({
      Item: jobItem({ status: 'SUCCEEDED', chunksDone: 3, numbersDone: 5, resultBytes: 30 }),
    });
    ddbMock.on(QueryCommand).resolves({
      Items: [
        chunkItem(0, 0, [1, 4]),
        chunkItem(1, 2, [9, 16]),
        chunkItem(2, 4, ['9007199326062756']),
      ],
    });

    const response = await handler(jobResultsEvent(JOB_ID), lambdaContext());

    expect(JSON.parse(response.body)).toEqual({
      jobId: JOB_ID,
      status: 'SUCCEEDED',
      offset: 0,
      count: 5,
      nextCursor: null,
      results: [1, 4, 9, 16, '9007199326062756'],
    });
  });

  it('answers 404 as JSON for an unknown job', async () => {
    ddbMock.on(GetCommand).resolves({});
    const response = await handler(jobStatusEvent(JOB_ID), lambdaContext());
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error.code).toBe('JOB_NOT_FOUND');
  });
});
