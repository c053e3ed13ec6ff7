/**
 * The chunk writers' DynamoDB retries: short jittered waits after throttling, no retry of a
 * client error, and a time budget instead of a quota.
 */
import { Readable } from 'node:stream';
import {
  DynamoDBClient,
  TransactionConflictException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_WRITER_MAX_ATTEMPTS_UNTHROTTLED,
  CHUNK_WRITER_RETRY_BASE_MS,
  CHUNK_WRITER_RETRY_BUDGET_MS,
  CHUNK_WRITER_RETRY_MAX_MS,
  ChunkWriterRetryStrategy,
  chunkWriterRetryDelayMs,
} from '#commons/clients.ts';

describe('Function: chunkWriterRetryDelayMs', () => {
  it('waits up to the base, doubling per retry, never past the most', () => {
    const highest = () => 0.999_999;
    expect(chunkWriterRetryDelayMs(1, highest)).toBe(CHUNK_WRITER_RETRY_BASE_MS - 1);
    expect(chunkWriterRetryDelayMs(2, highest)).toBe(2 * CHUNK_WRITER_RETRY_BASE_MS - 1);
    expect(chunkWriterRetryDelayMs(3, highest)).toBe(4 * CHUNK_WRITER_RETRY_BASE_MS - 1);
    expect(chunkWriterRetryDelayMs(30, highest)).toBe(CHUNK_WRITER_RETRY_MAX_MS - 1);
    expect(chunkWriterRetryDelayMs(3, () => 0)).toBe(0);
  });
});

describe('Class: ChunkWriterRetryStrategy', () => {
  it('retries throttling with growing waits until its time budget is spent', async () => {
    let now = 1_000;
    const strategy = new ChunkWriterRetryStrategy(
      () => now,
      () => 0.5,
    );
    let token = await strategy.acquireInitialRetryToken('');
    const delays: number[] = [];
    for (;;) {
      try {
        token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
      } catch {
        break;
      }
      delays.push(token.getRetryDelay());
      now += token.getRetryDelay() + 10;
    }
    expect(delays.slice(0, 5)).toEqual([50, 100, 200, 400, 500]);
    // Every retry started within the budget, and the next one would not have.
    expect(now - 1_000).toBeLessThanOrEqual(CHUNK_WRITER_RETRY_BUDGET_MS + 10 * delays.length);
    expect(delays.length).toBeGreaterThan(10);
  });

  it("retries a server error only until the SDK's usual 3 attempts", async () => {
    const strategy = new ChunkWriterRetryStrategy(Date.now, () => 0);
    let token = await strategy.acquireInitialRetryToken('');
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'SERVER_ERROR' });
    token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' });
    expect(token.getRetryCount()).toBe(CHUNK_WRITER_MAX_ATTEMPTS_UNTHROTTLED - 1);
    await expect(
      strategy.refreshRetryTokenForRetry(token, { errorType: 'SERVER_ERROR' }),
    ).rejects.toThrow('not retried: SERVER_ERROR, 2 retries');
  });

  it('never retries a client error such as a failed condition', async () => {
    const strategy = new ChunkWriterRetryStrategy();
    const token = await strategy.acquireInitialRetryToken('');
    await expect(
      strategy.refreshRetryTokenForRetry(token, { errorType: 'CLIENT_ERROR' }),
    ).rejects.toThrow('not retried: CLIENT_ERROR');
  });
});

describe('Class: ChunkWriterRetryStrategy, on a DynamoDB client', () => {
  /** An answer of DynamoDB: an error's HTTP status and type, or success (200, no type). */
  interface Answer {
    readonly status: number;
    readonly type?: string;
  }

  /**
   * A client answered `answers` in turn (the last one again once they run out), retrying as
   * ChunkWriterRetryStrategy says, or as the SDK's standard strategy when `standard`.
   */
  function answeringClient(answers: readonly Answer[], { standard = false } = {}) {
    let attempts = 0;
    const client = new DynamoDBClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...(!standard && { retryStrategy: new ChunkWriterRetryStrategy(Date.now, () => 0) }),
      requestHandler: {
        handle: async () => {
          const answer = answers[Math.min(attempts, answers.length - 1)] ?? { status: 200 };
          attempts += 1;
          const body =
            answer.type === undefined
              ? {}
              : { __type: `com.amazonaws.dynamodb.v20120810#${answer.type}`, message: 'test' };
          return {
            response: {
              statusCode: answer.status,
              reason: '',
              headers: { 'content-type': 'application/x-amz-json-1.0' },
              body: Readable.from([Buffer.from(JSON.stringify(body))]),
            },
          };
        },
      },
    });
    return { client, attempts: () => attempts };
  }

  const update = new UpdateItemCommand({
    TableName: 'jobs',
    Key: { pk: { S: 'JOB#1' }, sk: { S: 'JOB' } },
    UpdateExpression: 'SET touched = :yes',
    ExpressionAttributeValues: { ':yes': { BOOL: true } },
  });

  it('does not retry the TransactionConflictException of a plain UpdateItem: the SDK calls it a client error, so recordShard retries it itself', async () => {
    // Prepare: an UpdateItem on an item an ongoing transaction holds.
    const { client, attempts } = answeringClient([
      { status: 400, type: 'TransactionConflictException' },
      { status: 200 },
    ]);

    // Act
    const caught = await client.send(update).catch((error: unknown) => error);

    // Assess
    expect(caught).toBeInstanceOf(TransactionConflictException);
    expect(attempts()).toBe(1);
  });

  it("does not retry it with the SDK's standard strategy either (the sweeper's client)", async () => {
    const { client, attempts } = answeringClient(
      [{ status: 400, type: 'TransactionConflictException' }, { status: 200 }],
      { standard: true },
    );

    const caught = await client.send(update).catch((error: unknown) => error);

    expect(caught).toBeInstanceOf(TransactionConflictException);
    expect(attempts()).toBe(1);
  });

  it('retries a throttled UpdateItem on the same client, which then succeeds', async () => {
    const { client, attempts } = answeringClient([
      { status: 400, type: 'ProvisionedThroughputExceededException' },
      { status: 200 },
    ]);

    const output = await client.send(update);

    expect(output.$metadata.httpStatusCode).toBe(200);
    expect(attempts()).toBe(2);
  });
});
