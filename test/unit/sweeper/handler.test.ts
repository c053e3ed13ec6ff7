import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#test/helpers/context.ts';
import { TABLE_NAME } from '#test/helpers/dynamodb.ts';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-test-table';
});

const { handler } = await import('../../../functions/sweeper/handler.ts');
const ddbMock = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: sweeper handler', () => {
  it('queries the configured table index on a scheduled event and answers its summary', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });

    const summary = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events' },
      lambdaContext(),
    );

    expect(summary).toEqual({
      examined: 0,
      failed: 0,
      finalized: 0,
      skipped: 0,
      errors: 0,
      stoppedEarly: false,
    });
    expect(ddbMock).toHaveReceivedCommandWith(QueryCommand, {
      TableName: TABLE_NAME,
      IndexName: 'RunningByDeadline',
    });
  });
});
