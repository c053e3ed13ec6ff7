/**
 * Bounded retries with exponential backoff and full jitter, for the failures the AWS SDK
 * does not retry itself (partial batch failures, cancelled transactions).
 * @see https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
 */

export type Sleep = (milliseconds: number) => Promise<void>;

export const sleep: Sleep = (milliseconds) =>
  new Promise((resolve) => {
    setTimeout(resolve, milliseconds);
  });

export interface RetryPolicy {
  /** Attempts in all, the first one included (at least 1). */
  readonly maxAttempts: number;
  /** Ceiling of the delay before the second attempt; it doubles per attempt. */
  readonly baseDelayMs: number;
  /** Ceiling of any one delay. */
  readonly maxDelayMs: number;
}

/**
 * The delay before attempt `attempt + 1` (attempt counts from 1): a random time up to
 * min(maxDelayMs, baseDelayMs * 2^(attempt - 1)).
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export interface RetryWhileOptions<E> {
  readonly policy: RetryPolicy;
  /** Which failures are retried; any other is thrown at once. */
  readonly isRetryable: (error: unknown) => error is E;
  /** Told of each retry before its delay (for logs and metrics). */
  readonly onRetry?: (error: E, attempt: number) => void;
  readonly sleep?: Sleep;
}

/**
 * Runs `operation` until it succeeds, throws an error that is not retryable, or has used
 * `policy.maxAttempts` attempts (the last error is then thrown), with jittered backoff
 * between attempts.
 */
export async function retryWhile<T, E>(
  operation: () => Promise<T>,
  options: RetryWhileOptions<E>,
): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!options.isRetryable(error) || attempt >= options.policy.maxAttempts) throw error;
      options.onRetry?.(error, attempt);
      await wait(backoffDelay(attempt, options.policy));
    }
  }
}
