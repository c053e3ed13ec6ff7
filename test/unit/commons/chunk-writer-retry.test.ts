/**
 * The chunk writers' DynamoDB retries: short jittered waits after throttling, no retry of a
 * client error, and a time budget instead of a quota.
 */
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
