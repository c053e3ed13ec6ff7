import 'aws-sdk-client-mock-vitest/extend';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../helpers/context.ts';
import { JOB_ID, jobItem, TABLE_NAME, transactionCancelled } from '../../helpers/dynamodb.ts';

vi.hoisted(() => {
  process.env.TABLE_NAME = 'fanout-test-table';
});

const { handler } = await import('../../../functions/aggregator/handler.ts');
const ddbMock = mockClient(DynamoDBDocumentClient);

const chunk = {
  jobId: JOB_ID,
  chunkIndex: 1,
  offset: 2,
  results: [9, 16],
  computeMs: 2,
  receiveCount: 1,
  durationMs: 3,
  memoryMb: 1024,
  messageBytes: 120,
};

beforeEach(() => {
  ddbMock.reset();
});

describe('Function: aggregator handler', () => {
  it('stores the chunk in the configured table and answers the outcome', async () => {
    ddbMock
      .on(GetCommand)
      .resolvesOnce({ Item: jobItem() })
      .resolvesOnce({ Item: jobItem({ chunksDone: 1, numbersDone: 2 }) });
    ddbMock.on(TransactWriteCommand).resolves({});

    const outcome = await handler(chunk, lambdaContext());

    expect(outcome).toEqual({ outcome: 'STORED', jobStatus: 'RUNNING' });
    const items = ddbMock.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((item) => item.Put?.TableName ?? item.Update?.TableName)).toEqual([
      TABLE_NAME,
      TABLE_NAME,
    ]);
    expect(items[0]?.Put?.Item?.results).toBe('[9,16]');
  });

  it('answers DUPLICATE for a chunk stored before', async () => {
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ chunksDone: 1, numbersDone: 2 }) });
    ddbMock
      .on(TransactWriteCommand)
      .rejects(transactionCancelled(['ConditionalCheckFailed', 'None']));

    expect(await handler(chunk, lambdaContext())).toEqual({
      outcome: 'DUPLICATE',
      jobStatus: 'RUNNING',
    });
    // Nothing counted: the one update only adds the duplicate's usage.
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input.UpdateExpression).toBe(
      'ADD workerMbMs :mbMs, sqsRequests :sqs, writeUnits :wu',
    );
  });

  it('throws for a payload that is not a chunk result, so the Invoke reports a FunctionError', async () => {
    await expect(handler({ jobId: JOB_ID }, lambdaContext())).rejects.toThrow(
      'invalid chunk result: chunkIndex is not a valid index',
    );
  });
});
