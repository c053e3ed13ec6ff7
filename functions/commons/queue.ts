/**
 * Sending many messages to SQS with SendMessageBatch: at most 10 entries and 1 MiB per
 * call, entries reported in `Failed` retried with backoff, sender faults never retried.
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_BATCH_BYTES, SQS_MAX_BATCH_ENTRIES, SQS_MAX_MESSAGE_BYTES } from './limits.ts';
import { backoffDelay, type RetryPolicy, type Sleep, sleep } from './retry.ts';

export interface QueueEntry {
  /** Unique among the entries sent together: letters, digits, `-` and `_`, at most 80. */
  readonly id: string;
  readonly body: string;
}

export interface FailedQueueEntry {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  /** True when SQS blamed the request itself, so a retry could not succeed. */
  readonly senderFault: boolean;
}

export interface SendMessagesOptions {
  readonly retry?: RetryPolicy;
  /** Batches in flight at once. */
  readonly concurrency?: number;
  readonly sleep?: Sleep;
}

export const DEFAULT_SEND_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 2_000,
};
const DEFAULT_SEND_CONCURRENCY = 4;

/** Entry bodies in bytes as SQS counts them (UTF-8). */
function bodyBytes(entry: QueueEntry): number {
  return Buffer.byteLength(entry.body, 'utf8');
}

/**
 * Groups entries, in order, into batches of at most `maxEntries` entries and `maxBytes`
 * body bytes.
 * @throws RangeError when one entry alone is over the SQS message limit
 */
export function planMessageBatches(
  entries: readonly QueueEntry[],
  maxEntries: number = SQS_MAX_BATCH_ENTRIES,
  maxBytes: number = SQS_MAX_BATCH_BYTES,
): QueueEntry[][] {
  const batches: QueueEntry[][] = [];
  let batch: QueueEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = bodyBytes(entry);
    if (size > Math.min(maxBytes, SQS_MAX_MESSAGE_BYTES)) {
      throw new RangeError(`message ${entry.id} has ${size} bytes, over the SQS limit`);
    }
    if (batch.length === maxEntries || (batch.length > 0 && bytes + size > maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/**
 * A thrown SendMessageBatch error is worth retrying unless SQS says the request itself is
 * wrong (a client fault that is not throttling: no such queue, access denied, too long).
 */
function isRetryableSendError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return true;
  const { $fault, $retryable } = error as { $fault?: unknown; $retryable?: unknown };
  if ($retryable !== undefined) return true;
  return $fault !== 'client';
}

function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'UnknownError', message: String(error) };
}

async function sendBatchWithRetries(
  sqs: SQSClient,
  queueUrl: string,
  batch: readonly QueueEntry[],
  policy: RetryPolicy,
  wait: Sleep,
): Promise<FailedQueueEntry[]> {
  const permanent: FailedQueueEntry[] = [];
  let pending = batch;
  let lastFailures = new Map<string, FailedQueueEntry>();
  for (let attempt = 1; attempt <= policy.maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 1) await wait(backoffDelay(attempt - 1, policy));
    const failures = new Map<string, FailedQueueEntry>();
    const pendingIds = new Set(pending.map((entry) => entry.id));
    try {
      const response = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((entry) => ({ Id: entry.id, MessageBody: entry.body })),
        }),
      );
      const succeeded = new Set((response.Successful ?? []).map((entry) => entry.Id));
      for (const failed of response.Failed ?? []) {
        // Only entries of this request count: an unknown id cannot be a failure of ours.
        if (failed.Id === undefined || !pendingIds.has(failed.Id)) continue;
        failures.set(failed.Id, {
          id: failed.Id,
          code: failed.Code ?? 'Unknown',
          message: failed.Message ?? '',
          senderFault: failed.SenderFault === true,
        });
      }
      // An entry SQS reports neither way is not known to be queued: send it again.
      for (const entry of pending) {
        if (!succeeded.has(entry.id) && !failures.has(entry.id)) {
          failures.set(entry.id, {
            id: entry.id,
            code: 'MissingFromResponse',
            message: 'SQS reported this entry neither as successful nor as failed',
            senderFault: false,
          });
        }
      }
    } catch (error) {
      const { code, message } = describeError(error);
      const senderFault = !isRetryableSendError(error);
      for (const entry of pending) {
        failures.set(entry.id, { id: entry.id, code, message, senderFault });
      }
    }
    for (const failure of failures.values()) {
      if (failure.senderFault) permanent.push(failure);
    }
    pending = pending.filter((entry) => failures.get(entry.id)?.senderFault === false);
    lastFailures = failures;
  }
  for (const entry of pending) {
    const failure = lastFailures.get(entry.id);
    if (failure !== undefined) permanent.push(failure);
  }
  return permanent;
}

/**
 * Sends every entry, `concurrency` batches at a time. Resolves with the entries that could
 * not be sent (empty when all were), never rejects for an SQS failure.
 */
export async function sendMessagesInBatches(
  sqs: SQSClient,
  queueUrl: string,
  entries: readonly QueueEntry[],
  options: SendMessagesOptions = {},
): Promise<FailedQueueEntry[]> {
  const batches = planMessageBatches(entries);
  const policy = options.retry ?? DEFAULT_SEND_RETRY;
  const wait = options.sleep ?? sleep;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_SEND_CONCURRENCY);
  const failed: FailedQueueEntry[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] as QueueEntry[];
      failed.push(...(await sendBatchWithRetries(sqs, queueUrl, batch, policy, wait)));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, lane));
  return failed;
}
