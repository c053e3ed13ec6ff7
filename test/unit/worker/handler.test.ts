import 'aws-sdk-client-mock-vitest/extend';
import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../helpers/context.ts';
import { JOB_ID } from '../../helpers/dynamodb.ts';
import { sqsEvent, sqsRecord } from '../../helpers/events.ts';
import { invokeOutput } from '../../helpers/lambda.ts';

vi.hoisted(() => {
  process.env.AGGREGATOR_FUNCTION_NAME = 'fanout-aggregator-test';
});

const { handler } = await import('../../../functions/worker/handler.ts');
const lambdaMock = mockClient(LambdaClient);

function body(chunkIndex: number, offset: number, numbers: (number | string)[]): string {
  return JSON.stringify({ jobId: JOB_ID, chunkIndex, chunkCount: 2, offset, numbers });
}

beforeEach(() => {
  lambdaMock.reset();
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
      results: ['9223372037000250000', 0.010000000000000002],
      receiveCount: 1,
    });
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
  });
});
