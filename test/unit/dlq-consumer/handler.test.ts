import 'aws-sdk-client-mock-vitest/extend';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#test/helpers/context.ts';
import { EXPIRES_AT, JOB_ID, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { sqsEvent, sqsRecord } from '#test/helpers/events.ts';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-test-table';
});

const { handler } = await import('../../../functions/dlq-consumer/handler.ts');
const ddbMock = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: dlq-consumer handler', () => {
  it('records a dead letter in the configured table', async () => {
    ddbMock
      .on(GetCommand)
      .callsFake((input: GetCommandInput) =>
        input.Key?.sk === 'JOB' ? { Item: { status: 'RUNNING', expiresAt: EXPIRES_AT } } : {},
      );
    ddbMock.on(TransactWriteCommand).resolves({});
    const body = JSON.stringify({
      jobId: JOB_ID,
      chunkIndex: 0,
      chunkCount: 1,
      offset: 0,
      numbers: [2],
    });

    const response = await handler(sqsEvent([sqsRecord(body)]), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    const items = ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((item) => item.Put?.TableName ?? item.Update?.TableName)).toEqual([
      TABLE_NAME,
      TABLE_NAME,
    ]);
  });
});
