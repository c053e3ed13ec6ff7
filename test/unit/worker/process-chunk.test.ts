import 'aws-sdk-client-mock-vitest/extend';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import {
  InvokeCommand,
  type InvokeCommandInput,
  LambdaClient,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AggregatorInvocationError } from '../../../functions/commons/errors.ts';
import type { NumberInput } from '../../../functions/commons/numbers.ts';
import { logger } from '../../../functions/commons/powertools.ts';
import type { ChunkMessage, ChunkResult } from '../../../functions/commons/types.ts';
import { computeChunkInline } from '../../../functions/worker/inline-compute.ts';
import {
  invokeAggregator,
  processChunkBatch,
  type WorkerDeps,
} from '../../../functions/worker/process-chunk.ts';
import { JOB_ID } from '../../helpers/dynamodb.ts';
import { sqsEvent, sqsRecord } from '../../helpers/events.ts';
import { invokeOutput } from '../../helpers/lambda.ts';

const AGGREGATOR = 'fanout-aggregator';
const lambdaMock = mockClient(LambdaClient);
const stored = { outcome: 'STORED', jobStatus: 'RUNNING' };

function chunkBody(chunkIndex: number, offset: number, numbers: NumberInput[]): string {
  const message: ChunkMessage = { jobId: JOB_ID, chunkIndex, chunkCount: 3, offset, numbers };
  return JSON.stringify(message);
}

function deps(overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  let tick = 0;
  return {
    lambda: new LambdaClient({}),
    aggregatorFunctionName: AGGREGATOR,
    computeChunk: computeChunkInline,
    clock: () => (tick += 5),
    ...overrides,
  };
}

/** The ChunkResult sent by the nth Invoke (1-based). */
function invokedPayload(nth: number): ChunkResult {
  const input = lambdaMock.commandCalls(InvokeCommand)[nth - 1]?.args[0]
    .input as InvokeCommandInput;
  return JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
}

/** The ChunkResult sent for a chunk index, whatever the order of the Invokes. */
function payloadFor(chunkIndex: number): ChunkResult | undefined {
  return lambdaMock
    .commandCalls(InvokeCommand)
    .map((call) =>
      JSON.parse(Buffer.from(call.args[0].input.Payload as Uint8Array).toString('utf8')),
    )
    .find((payload: ChunkResult) => payload.chunkIndex === chunkIndex);
}

beforeEach(() => {
  lambdaMock.reset();
});

describe('Function: processChunkBatch', () => {
  it('squares each chunk exactly and hands it to the aggregator, failing no record', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [3, -4, '94906266']), { messageId: 'a', receiveCount: 2 }),
    ]);

    const createChild = vi.spyOn(logger, 'createChild');

    const response = await processChunkBatch(event, deps());

    expect(response).toEqual({ batchItemFailures: [] });
    // Every log line of the record carries its job and chunk.
    expect(createChild).toHaveBeenCalledWith({
      persistentKeys: { jobId: JOB_ID, chunkIndex: 0, messageId: 'a' },
    });
    createChild.mockRestore();
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: AGGREGATOR,
      InvocationType: 'RequestResponse',
    });
    expect(invokedPayload(1)).toEqual({
      jobId: JOB_ID,
      chunkIndex: 0,
      offset: 0,
      results: [9, 16, '9007199326062756'],
      computeMs: 5,
      receiveCount: 2,
    });
  });

  it.each([
    ['DUPLICATE', 'RUNNING'],
    ['DUPLICATE', 'SUCCEEDED'],
    ['JOB_NOT_RUNNING', 'CANCELLED'],
  ])('treats an aggregator answer of %s (%s) as done', async (outcome, jobStatus) => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput({ outcome, jobStatus }));
    const response = await processChunkBatch(sqsEvent([sqsRecord(chunkBody(1, 3, [2]))]), deps());
    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports exactly the record whose Invoke failed', async () => {
    lambdaMock.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
      const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      if (payload.chunkIndex === 1) {
        throw new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} });
      }
      return invokeOutput(stored);
    });
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [1, 2]), { messageId: 'first' }),
      sqsRecord(chunkBody(1, 2, [3, 4]), { messageId: 'second' }),
      sqsRecord(chunkBody(2, 4, [5]), { messageId: 'third' }),
    ]);

    const response = await processChunkBatch(event, deps());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'second' }] });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 3);
    expect(payloadFor(0)?.results).toEqual([1, 4]);
    expect(payloadFor(2)?.results).toEqual([25]);
  });

  it('reports the record when the aggregator answers with a FunctionError', async () => {
    lambdaMock.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
      const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      return payload.chunkIndex === 0
        ? invokeOutput(
            { errorType: 'TransientTransactionError', errorMessage: 'conflict' },
            'Unhandled',
          )
        : invokeOutput(stored);
    });
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [1]), { messageId: 'failed' }),
      sqsRecord(chunkBody(1, 1, [2]), { messageId: 'ok' }),
    ]);

    const response = await processChunkBatch(event, deps());

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'failed' }] });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 2);
  });

  it('reports a malformed message without invoking the aggregator for it, and logs it', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const logError = vi.spyOn(logger, 'error');
    const event = sqsEvent([
      sqsRecord('{"jobId":"not-a-job"', { messageId: 'garbage', receiveCount: 3 }),
      sqsRecord(chunkBody(0, 0, [1, 'x']), { messageId: 'bad-number' }),
      sqsRecord(chunkBody(1, 1, [6]), { messageId: 'good' }),
    ]);

    const response = await processChunkBatch(event, deps());

    expect(response.batchItemFailures).toEqual([
      { itemIdentifier: 'garbage' },
      { itemIdentifier: 'bad-number' },
    ]);
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
    expect(invokedPayload(1)).toMatchObject({ chunkIndex: 1, results: [36] });
    expect(logError).toHaveBeenCalledWith(
      'malformed chunk message',
      expect.objectContaining({ messageId: 'garbage', receiveCount: 3 }),
    );
    logError.mockRestore();
  });

  it('reports the record when the computer returns the wrong number of results', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [1, 2]), { messageId: 'short' }),
      sqsRecord(chunkBody(1, 2, [3]), { messageId: 'fine' }),
    ]);
    const computeChunk = async (numbers: NumberInput[]) =>
      numbers.length === 2 ? [1] : computeChunkInline(numbers);

    const response = await processChunkBatch(event, deps({ computeChunk }));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'short' }]);
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it('reports the record when the computer throws (a child process died)', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [1]), { messageId: 'crashed' }),
      sqsRecord(chunkBody(1, 1, [3]), { messageId: 'fine' }),
    ]);
    const computeChunk = async (numbers: NumberInput[]) => {
      if (numbers[0] === 1) throw new Error('child exited with signal SIGKILL');
      return computeChunkInline(numbers);
    };

    const response = await processChunkBatch(event, deps({ computeChunk }));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'crashed' }]);
  });

  it('throws when every record failed, so Lambda retries the batch and backs off', async () => {
    lambdaMock.on(InvokeCommand).rejects(new Error('connect ECONNREFUSED'));
    const event = sqsEvent([sqsRecord(chunkBody(0, 0, [1])), sqsRecord(chunkBody(1, 1, [2]))]);

    await expect(processChunkBatch(event, deps())).rejects.toBeInstanceOf(FullBatchFailureError);
  });
});

describe('Function: invokeAggregator', () => {
  const lambda = new LambdaClient({});
  const chunk: ChunkResult = {
    jobId: JOB_ID,
    chunkIndex: 0,
    offset: 0,
    results: [1],
    computeMs: 1,
    receiveCount: 1,
  };

  it('returns the aggregator outcome', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolves(invokeOutput({ outcome: 'STORED', jobStatus: 'SUCCEEDED' }));
    expect(await invokeAggregator(lambda, AGGREGATOR, chunk)).toEqual({
      outcome: 'STORED',
      jobStatus: 'SUCCEEDED',
    });
  });

  it('throws with the function error type and message', async () => {
    lambdaMock
      .on(InvokeCommand)
      .resolves(
        invokeOutput(
          { errorType: 'JobNotFoundError', errorMessage: 'job x does not exist' },
          'Unhandled',
        ),
      );
    await expect(invokeAggregator(lambda, AGGREGATOR, chunk)).rejects.toThrow(
      'aggregator failed (Unhandled): JobNotFoundError: job x does not exist',
    );
  });

  it.each([
    ['not JSON', 'Task timed out', 'aggregator answer is not JSON'],
    ['not an outcome', { outcome: 'OK' }, 'aggregator answer is not an AggregateOutcome'],
    ['null', 'null', 'aggregator answer is not an AggregateOutcome'],
  ])('throws AggregatorInvocationError for an answer that is %s', async (_, payload, message) => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(payload));
    const error = await invokeAggregator(lambda, AGGREGATOR, chunk).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(AggregatorInvocationError);
    expect((error as Error).message).toBe(message);
  });
});
