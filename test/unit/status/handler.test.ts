import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#test/helpers/context.ts';
import { JOB_ID, jobItem, pageItem } from '#test/helpers/dynamodb.ts';
import { jobResultsEvent, jobStatusEvent } from '#test/helpers/events.ts';
import { FakeTable } from '#test/helpers/fake-table.ts';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-status-table';
});

const { handler } = await import('../../../functions/status/handler.ts');
const ddbMock = mockClient(DynamoDBDocumentClient);

let fake: FakeTable;

beforeEach(() => {
  ddbMock.reset();
  fake = new FakeTable();
  fake.attach(ddbMock);
});

describe('Function: status handler', () => {
  it('reads the job from the configured table', async () => {
    fake.put(jobItem());

    const response = await handler(jobStatusEvent(JOB_ID), lambdaContext());

    expect(response.statusCode).toBe(200);
    expect(response.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(response.body)).toMatchObject({ jobId: JOB_ID, status: 'RUNNING' });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: 'fanout-status-table' });
  });

  it('serves a whole small job on one results page', async () => {
    fake.put(jobItem({ status: 'SUCCEEDED', numbersDone: 5 }));
    fake.put(pageItem(0, 0, [1, 4]));
    fake.put(pageItem(1, 2, [9, 16]));
    fake.put(pageItem(2, 4, ['9007199326062756']));

    const response = await handler(jobResultsEvent(JOB_ID), lambdaContext());

    expect(JSON.parse(response.body)).toEqual({
      jobId: JOB_ID,
      status: 'SUCCEEDED',
      offset: 0,
      count: 5,
      nextCursor: null,
      page: 0,
      pageCount: 1,
      results: [1, 4, 9, 16, '9007199326062756'],
    });
  });

  it('answers 404 as JSON for an unknown job', async () => {
    const response = await handler(jobStatusEvent(JOB_ID), lambdaContext());
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error.code).toBe('JOB_NOT_FOUND');
  });
});
