import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { conditionalCheckFailed, JOB_ID, jobItem, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { cancelJobEvent } from '#test/helpers/events.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import type { DispatcherDeps } from '../../../functions/dispatcher/deps.ts';
import { handleDispatcherRequest } from '../../../functions/dispatcher/routes.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-01-01T00:03:00.000Z');
const deps: DispatcherDeps = {
  table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
  sqs: new SQSClient({}),
  workQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fanout-work',
  numbersPerChunk: 10,
  jobRetentionDays: 7,
  now: () => NOW,
};

async function cancel(jobId = JOB_ID) {
  const response = await handleDispatcherRequest(cancelJobEvent(jobId), deps);
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}

beforeEach(() => {
  ddbMock.reset();
  ddbMock.on(GetCommand).resolves({ Item: jobItem() });
});

describe('Function: DELETE /jobs/{jobId} (cancel)', () => {
  it('cancels a RUNNING job and answers 200 with its status', async () => {
    ddbMock.on(UpdateCommand).resolves({});

    const { statusCode, body } = await cancel();

    expect(statusCode).toBe(200);
    expect(body).toEqual({
      jobId: JOB_ID,
      status: 'CANCELLED',
      cancelledAt: NOW.toISOString(),
      statusUrl: `/jobs/${JOB_ID}`,
    });
    expect(ddbMock).toHaveReceivedCommandExactlyOnceWith(UpdateCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
    });
    const update = decodeUpdate(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input);
    expect(update.condition).toBe('(status IN ("RUNNING"))');
    expect(update.set).toMatchObject({ status: 'CANCELLED', cancelledAt: NOW.toISOString() });
  });

  it.each(['SUCCEEDED', 'FAILED', 'CANCELLED'])(
    'answers 409 with the status of a %s job, changing nothing',
    async (status) => {
      ddbMock
        .on(UpdateCommand)
        .rejects(Object.assign(conditionalCheckFailed(), { Item: { status: { S: status } } }));

      const { statusCode, body } = await cancel();

      expect(statusCode).toBe(409);
      expect(body).toEqual({
        error: {
          code: 'JOB_NOT_RUNNING',
          message: `the job is ${status}; only a RUNNING job can be cancelled`,
          details: { status },
        },
      });
    },
  );

  it('answers 404 for an unknown job', async () => {
    ddbMock.on(UpdateCommand).rejects(conditionalCheckFailed());
    const { statusCode, body } = await cancel();
    expect(statusCode).toBe(404);
    expect(body.error.code).toBe('JOB_NOT_FOUND');
  });

  it('answers 400 for a malformed job id without touching the table', async () => {
    const { statusCode, body } = await cancel('nope');
    expect(statusCode).toBe(400);
    expect(body.error.code).toBe('INVALID_JOB_ID');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('answers a generic 500 when the table fails', async () => {
    ddbMock.on(UpdateCommand).rejects(new Error('arn:aws:dynamodb:secret'));
    const response = await handleDispatcherRequest(cancelJobEvent(JOB_ID), deps);
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('arn:aws');
  });
});
