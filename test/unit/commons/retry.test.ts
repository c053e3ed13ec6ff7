import { describe, expect, it } from 'vitest';
import { backoffDelay, type RetryPolicy, retryWhile } from '#commons/retry.ts';

class Retryable extends Error {}
const isRetryable = (error: unknown): error is Retryable => error instanceof Retryable;
const policy: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 150 };

/** An operation that fails with the given errors, in order, then resolves 'done'. */
function failingWith(...errors: Error[]) {
  let calls = 0;
  const operation = async () => {
    const error = errors[calls++];
    if (error !== undefined) throw error;
    return 'done';
  };
  return { operation, calls: () => calls };
}

describe('Function: backoffDelay', () => {
  it('returns a jittered delay under the doubling ceiling, capped by maxDelayMs', () => {
    expect(backoffDelay(1, policy, () => 0.5)).toBe(50);
    expect(backoffDelay(2, policy, () => 0.999)).toBe(149);
    expect(backoffDelay(5, policy, () => 0.999)).toBe(149);
  });
});

describe('Function: retryWhile', () => {
  it('returns the result after retrying retryable failures, waiting between attempts', async () => {
    const { operation, calls } = failingWith(new Retryable('a'), new Retryable('b'));
    const delays: number[] = [];
    const retried: number[] = [];
    const result = await retryWhile(operation, {
      policy,
      isRetryable,
      sleep: async (ms) => {
        delays.push(ms);
      },
      onRetry: (_error, attempt) => retried.push(attempt),
    });
    expect(result).toBe('done');
    expect(calls()).toBe(3);
    expect(retried).toEqual([1, 2]);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeLessThan(100);
    expect(delays[1]).toBeLessThan(150);
  });

  it('throws the last error once maxAttempts are used', async () => {
    const last = new Retryable('third');
    const { operation, calls } = failingWith(new Retryable('1'), new Retryable('2'), last);
    await expect(
      retryWhile(operation, { policy, isRetryable, sleep: async () => {} }),
    ).rejects.toBe(last);
    expect(calls()).toBe(3);
  });

  it('throws a failure that is not retryable at once', async () => {
    const fatal = new Error('fatal');
    const { operation, calls } = failingWith(fatal);
    await expect(
      retryWhile(operation, { policy, isRetryable, sleep: async () => {} }),
    ).rejects.toBe(fatal);
    expect(calls()).toBe(1);
  });
});
