import 'aws-sdk-client-mock-vitest/extend';
import { gunzipSync } from 'node:zlib';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '#test/helpers/context.ts';
import { JOB_ID, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { sqsEvent, sqsRecord } from '#test/helpers/events.ts';
import { invokeOutput } from '#test/helpers/lambda.ts';

vi.hoisted(() => {
  process.env.AGGREGATOR_FUNCTION_NAME = 'fanout-aggregator-test';
  process.env.TABLE_NAME = 'fanout-test-table';
  process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = '3538';
});

const { handler } = await import('../../../functions/worker/handler.ts');
const lambdaMock = mockClient(LambdaClient);
const ddbMock = mockClient(DynamoDBDocumentClient);

function body(chunkIndex: number, offset: number, numbers: (number | string)[]): string {
  return JSON.stringify({ jobId: JOB_ID, chunkIndex, chunkCount: 2, offset, numbers });
}

beforeEach(() => {
  lambdaMock.reset();
  ddbMock.reset();
  ddbMock.on(GetCommand).resolves({ Item: { status: 'RUNNING' } });
  ddbMock.on(UpdateCommand).resolves({});
});

describe('Function: worker handler', () => {
  it('invokes the configured aggregator with the exact squares and fails no record', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolves(invokeOutput({ outcome: 'STORED', jobStatus: 'RUNNING' }));

    const response = await handler(
      sqsEvent([sqsRecord(body(1, 2, ['-3037000500', 0.1]), { messageId: 'm1' })]),
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: 'fanout-aggregator-test',
      InvocationType: 'RequestResponse',
    });
    const input = lambdaMock.commandCalls(InvokeCommand)[0]?.args[0].input as InvokeCommandInput;
    const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
    expect(payload).toMatchObject({
      jobId: JOB_ID,
      chunkIndex: 1,
      offset: 2,
      count: 2,
      receiveCount: 1,
      memoryMb: 3538,
    });
    expect(JSON.parse(gunzipSync(Buffer.from(payload.resultsGzip, 'base64')).toString())).toEqual([
      '9223372037000250000',
      0.010000000000000002,
    ]);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, { TableName: TABLE_NAME });
  });

  it('returns the record whose aggregator call failed as a batch item failure', async () => {
    lambdaMock.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
      const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      if (payload.chunkIndex === 0) throw new Error('socket hang up');
      return invokeOutput({ outcome: 'STORED', jobStatus: 'SUCCEEDED' });
    });

    const response = await handler(
      sqsEvent([
        sqsRecord(body(0, 0, [1, 2]), { messageId: 'lost' }),
        sqsRecord(body(1, 2, [3]), { messageId: 'kept' }),
      ]),
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'lost' }] });
    // The failure is recorded on the job in the configured table.
    expect(ddbMock).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: TABLE_NAME,
      Key: { pk: expect.stringMatching(/^JOB#/), sk: 'JOB' },
    });
  });

  it('skips a chunk of a cancelled job without invoking the aggregator', async () => {
    ddbMock.on(GetCommand).resolves({ Item: { status: 'CANCELLED' } });

    const response = await handler(sqsEvent([sqsRecord(body(0, 0, [1]))]), lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
  });
});
