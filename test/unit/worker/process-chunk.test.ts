import 'aws-sdk-client-mock-vitest/extend';
import { gunzipSync, gzipSync } from 'node:zlib';
import { FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  InvokeCommand,
  type InvokeCommandInput,
  LambdaClient,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AggregatorInvocationError } from '#commons/errors.ts';
import { type NumberInput, squareNumber } from '#commons/numbers.ts';
import { logger, metrics } from '#commons/powertools.ts';
import type { ChunkMessage, ChunkResult } from '#commons/types.ts';
import { lambdaContext } from '#test/helpers/context.ts';
import { conditionalCheckFailed, JOB_ID, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { sqsEvent, sqsRecord } from '#test/helpers/events.ts';
import { invokeOutput } from '#test/helpers/lambda.ts';
import { decodeUpdate } from '#test/helpers/update-expression.ts';
import type { ChunkComputer } from '../../../functions/worker/compute.ts';
import {
  failureReason,
  invokeAggregator,
  processChunkBatch,
  type WorkerDeps,
} from '../../../functions/worker/process-chunk.ts';

/** The in-process stand-in for the pool: the same ChunkComputer contract. */
const computeChunkInline: ChunkComputer = async (numbers) => numbers.map(squareNumber);

const AGGREGATOR = 'fanout-aggregator';
const NOW = new Date('2026-01-01T00:05:00.000Z');
const lambdaMock = mockClient(LambdaClient);
const ddbMock = mockClient(DynamoDBDocumentClient);
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
    table: { client: DynamoDBDocumentClient.from(new DynamoDBClient({})), tableName: TABLE_NAME },
    memoryMb: 1024,
    clock: () => (tick += 5),
    now: () => NOW,
    ...overrides,
  };
}

/** The job status the worker reads before computing. */
function jobStatus(status: string | undefined): void {
  ddbMock.on(GetCommand).resolves(status === undefined ? {} : { Item: { status } });
}

/** The failure-recording updates sent, in order. */
function failureUpdates() {
  return ddbMock.commandCalls(UpdateCommand).map((call) => call.args[0].input);
}

/** The ChunkResult sent by the nth Invoke (1-based). */
function invokedPayload(nth: number): ChunkResult {
  const input = lambdaMock.commandCalls(InvokeCommand)[nth - 1]?.args[0]
    .input as InvokeCommandInput;
  return JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
}

/** The squares a ChunkResult carries, inflated from its page's gzip. */
function squaresOf(payload: ChunkResult | undefined): unknown {
  if (payload === undefined) return undefined;
  return JSON.parse(gunzipSync(Buffer.from(payload.resultsGzip, 'base64')).toString('utf8'));
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
  ddbMock.reset();
  jobStatus('RUNNING');
  ddbMock.on(UpdateCommand).resolves({});
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
    const resultsJson = '[9,16,"9007199326062756"]';
    expect(invokedPayload(1)).toEqual({
      jobId: JOB_ID,
      chunkIndex: 0,
      offset: 0,
      // The squares as their page stores them: the gzip of their JSON text.
      resultsGzip: expect.any(String),
      count: 3,
      resultsJsonLength: resultsJson.length,
      computeMs: 5,
      receiveCount: 2,
      // Alone in flight from tick 10 to the hand-off at tick 30.
      durationMs: 20,
      memoryMb: 1024,
      messageBytes: Buffer.byteLength(chunkBody(0, 0, [3, -4, '94906266'])),
    });
    // It read the job's status first, consistently, and recorded nothing.
    expect(JSON.stringify(squaresOf(invokedPayload(1)))).toBe(resultsJson);
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      ConsistentRead: true,
      ProjectionExpression: '#status',
    });
    expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
  });

  it("reads a job's status once for the records of a batch, and says which paid for it", async () => {
    // Prepare
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [1, 2]), { messageId: 'first' }),
      sqsRecord(chunkBody(1, 2, [3, 4]), { messageId: 'second' }),
      sqsRecord(chunkBody(2, 4, [5]), { messageId: 'third' }),
    ]);

    // Act
    const response = await processChunkBatch(event, deps());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(payloadFor(0)?.statusRead).toBeUndefined();
    expect(payloadFor(1)?.statusRead).toBe(false);
    expect(payloadFor(2)?.statusRead).toBe(false);
  });

  it('skips every chunk of a batch when the status it shares says the job was cancelled', async () => {
    // Prepare
    jobStatus('CANCELLED');
    const event = sqsEvent([
      sqsRecord(chunkBody(0, 0, [1, 2]), { messageId: 'first' }),
      sqsRecord(chunkBody(1, 2, [3, 4]), { messageId: 'second' }),
    ]);

    // Act
    const response = await processChunkBatch(event, deps());

    // Assess
    expect(response).toEqual({ batchItemFailures: [] });
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
    expect(lambdaMock).not.toHaveReceivedCommand(InvokeCommand);
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
    expect(squaresOf(payloadFor(0))).toEqual([1, 4]);
    expect(squaresOf(payloadFor(2))).toEqual([25]);
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
    expect(invokedPayload(1)).toMatchObject({ chunkIndex: 1, count: 1 });
    expect(squaresOf(invokedPayload(1))).toEqual([36]);
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

describe('Function: processChunkBatch (cancelled and ended jobs)', () => {
  it.each([
    ['CANCELLED', 'CANCELLED'],
    ['SUCCEEDED', 'SUCCEEDED'],
    ['gone (expired)', undefined],
  ])(
    'skips a chunk of a %s job without computing it, and the record succeeds',
    async (_, status) => {
      jobStatus(status);
      const computeChunk = vi.fn(computeChunkInline);

      const response = await processChunkBatch(
        sqsEvent([sqsRecord(chunkBody(0, 0, [1, 2]), { messageId: 'skipped' })]),
        deps({ computeChunk }),
      );

      expect(response).toEqual({ batchItemFailures: [] });
      expect(computeChunk).not.toHaveBeenCalled();
      expect(lambdaMock).not.toHaveReceivedAnyCommand();
      expect(ddbMock).not.toHaveReceivedCommand(UpdateCommand);
    },
  );

  it('computes the chunks of a FAILED job, which a redrive may complete', async () => {
    jobStatus('FAILED');
    lambdaMock.on(InvokeCommand).resolves(invokeOutput({ outcome: 'STORED', jobStatus: 'FAILED' }));

    const response = await processChunkBatch(sqsEvent([sqsRecord(chunkBody(0, 0, [7]))]), deps());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(squaresOf(invokedPayload(1))).toEqual([49]);
  });

  it('computes the chunk anyway when the job status cannot be read', async () => {
    ddbMock.on(GetCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));

    const response = await processChunkBatch(sqsEvent([sqsRecord(chunkBody(0, 0, [5]))]), deps());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(squaresOf(invokedPayload(1))).toEqual([25]);
  });
});

describe('Function: processChunkBatch (failure recording)', () => {
  it('records the error on the job and adds an attempt before the record fails', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const computeChunk = async (numbers: NumberInput[]) => {
      if (numbers[0] === 1) throw new Error('child exited with signal SIGKILL');
      return computeChunkInline(numbers);
    };
    const body = chunkBody(1, 3, [1]);

    // Its only record failed: the whole batch fails, and SQS redelivers it.
    await expect(
      processChunkBatch(
        sqsEvent([sqsRecord(body, { messageId: 'crashed', receiveCount: 2 })]),
        deps({ computeChunk }),
      ),
    ).rejects.toBeInstanceOf(FullBatchFailureError);
    expect(lambdaMock).not.toHaveReceivedAnyCommand();
    const [update] = failureUpdates();
    expect(failureUpdates()).toHaveLength(1);
    expect(update?.TableName).toBe(TABLE_NAME);
    expect(update?.Key).toEqual({ pk: `JOB#${JOB_ID}`, sk: 'JOB' });
    const decoded = decodeUpdate(update);
    expect(decoded.set).toEqual({
      'chunkErrors.1': {
        reason: 'Error: child exited with signal SIGKILL',
        at: NOW.toISOString(),
        receiveCount: 2,
      },
      updatedAt: NOW.toISOString(),
    });
    expect(decoded.add).toEqual({
      attempts: 1,
      // Alone in flight from tick 10 to the failure at tick 25: 15 ms x 1024 MB.
      lambdaMbMs: 15_360,
      lambdaRequests: 1,
      // Its status read.
      readUnits: 1,
      // Received once (not deleted); this update writes 1 unit, and 1 on the job's
      // OwnerJobs entry (its updatedAt is projected).
      sqsRequests: 1,
      writeUnits: 2,
    });
    expect(decoded.condition).toBe(
      '(attribute_exists(pk) AND (size(chunkErrors) < 20 OR attribute_exists(chunkErrors.1)))',
    );
  });

  it('records an Invoke error of one record and leaves the others alone', async () => {
    lambdaMock.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
      const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      if (payload.chunkIndex === 2) {
        throw new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} });
      }
      return invokeOutput(stored);
    });

    const response = await processChunkBatch(
      sqsEvent([
        sqsRecord(chunkBody(0, 0, [1]), { messageId: 'ok' }),
        sqsRecord(chunkBody(2, 4, [5]), { messageId: 'throttled', receiveCount: 3 }),
      ]),
      deps(),
    );

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'throttled' }] });
    const updates = failureUpdates();
    expect(updates).toHaveLength(1);
    expect(decodeUpdate(updates[0]).set['chunkErrors.2']).toEqual({
      reason: 'TooManyRequestsException: Rate exceeded',
      at: NOW.toISOString(),
      receiveCount: 3,
    });
  });

  it('counts the attempt only when chunkErrors is full', async () => {
    lambdaMock.on(InvokeCommand).rejects(new Error('socket hang up'));
    ddbMock.on(UpdateCommand).rejectsOnce(conditionalCheckFailed()).resolves({});

    await expect(
      processChunkBatch(sqsEvent([sqsRecord(chunkBody(0, 0, [1]))]), deps()),
    ).rejects.toBeInstanceOf(FullBatchFailureError);

    const updates = failureUpdates();
    expect(updates).toHaveLength(2);
    const counted = decodeUpdate(updates[1]);
    expect(counted.set).toEqual({});
    expect(counted.condition).toBe('(attribute_exists(pk))');
    // Both writes are billed: the failed conditional one and this one.
    expect(counted.add).toMatchObject({ attempts: 1, writeUnits: 2 });
  });

  it('never lets a failure to record mask the original failure', async () => {
    lambdaMock.on(InvokeCommand).callsFake((input: InvokeCommandInput) => {
      const payload = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      if (payload.chunkIndex === 0) throw new Error('socket hang up');
      return invokeOutput(stored);
    });
    ddbMock.on(UpdateCommand).rejects(new Error('AccessDeniedException'));

    const response = await processChunkBatch(
      sqsEvent([
        sqsRecord(chunkBody(0, 0, [1]), { messageId: 'lost' }),
        sqsRecord(chunkBody(1, 1, [2]), { messageId: 'kept' }),
      ]),
      deps(),
    );

    // The record fails for its own reason, and the other record is unaffected.
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'lost' }] });
    expect(ddbMock).toHaveReceivedCommandTimes(UpdateCommand, 1);
  });

  it('cuts a long failure reason to 200 characters', () => {
    const reason = failureReason(new RangeError('x'.repeat(500)));
    expect(reason).toHaveLength(200);
    expect(reason.startsWith('RangeError: xxx')).toBe(true);
    expect(reason.endsWith('…')).toBe(true);
    expect(failureReason('a string')).toBe('Error');
  });
});

describe('Function: processChunkBatch (metrics and cost shares)', () => {
  it('emits PoolSize, ChunkRetries for a redelivery, and ChunkLatency', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    const addMetric = vi.spyOn(metrics, 'addMetric');

    await processChunkBatch(
      sqsEvent([
        sqsRecord(chunkBody(0, 0, [1]), { receiveCount: 1 }),
        sqsRecord(chunkBody(1, 1, [2]), { receiveCount: 2 }),
      ]),
      deps({ poolSize: 4 }),
    );

    const emitted = addMetric.mock.calls.map(([name, , value]) => [name, value]);
    addMetric.mockRestore();
    expect(emitted).toContainEqual(['PoolSize', 4]);
    expect(emitted.filter(([name]) => name === 'ChunkRetries')).toEqual([['ChunkRetries', 1]]);
    expect(emitted.filter(([name]) => name === 'ChunkLatency')).toHaveLength(2);
    expect(emitted.filter(([name]) => name === 'NumbersSquared')).toHaveLength(2);
  });

  it('splits the invocation time among records in flight, so shares never add past it', async () => {
    let now = 0;
    const clock = () => now;
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    // Each compute takes 100 ms of the shared clock; records overlap.
    const computeChunk = async (numbers: NumberInput[]) => {
      await Promise.resolve();
      now += 100;
      return computeChunkInline(numbers);
    };

    await processChunkBatch(
      sqsEvent([sqsRecord(chunkBody(0, 0, [1])), sqsRecord(chunkBody(1, 1, [2]))]),
      deps({ computeChunk, clock }),
    );

    const first = payloadFor(0)?.durationMs ?? 0;
    const second = payloadFor(1)?.durationMs ?? 0;
    expect(first + second).toBe(200);
    expect([first, second].every((share) => share > 0 && share < 200)).toBe(true);
  });

  it('uses the Lambda context memory when none is configured', async () => {
    lambdaMock.on(InvokeCommand).resolves(invokeOutput(stored));
    await processChunkBatch(
      sqsEvent([sqsRecord(chunkBody(0, 0, [1]))]),
      deps({ memoryMb: undefined }),
      lambdaContext({ memoryLimitInMB: '3538' }),
    );
    expect(invokedPayload(1).memoryMb).toBe(3538);
  });
});

describe('Function: invokeAggregator', () => {
  const lambda = new LambdaClient({});
  const chunk: ChunkResult = {
    jobId: JOB_ID,
    chunkIndex: 0,
    offset: 0,
    resultsGzip: gzipSync('[1]').toString('base64'),
    count: 1,
    resultsJsonLength: 3,
    computeMs: 1,
    receiveCount: 1,
    durationMs: 2,
    memoryMb: 1024,
    messageBytes: 90,
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
