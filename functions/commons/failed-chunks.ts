/**
 * Failed chunks in the job table: what a worker records when a delivery fails, what the
 * dead-letter queue consumer records when a chunk has failed on every delivery, and what a
 * redrive reads back.
 *
 * - `chunkErrors.<chunkIndex>` on the job item: the last failure a worker saw for the chunk
 *   (`{reason, at, receiveCount}`), at most MAX_RECORDED_CHUNK_ERRORS chunks.
 * - `failedChunks.<chunkIndex>` on the job item: the chunks that reached the DLQ
 *   (`{reason, receiveCount}`), at most MAX_RECORDED_FAILED_CHUNKS; `failedChunkCount` counts
 *   them all, each once.
 * - item `sk = FAILED#<chunkIndex 8 digits>`: the chunk's original message body, so a redrive
 *   can send it again; deleted once it is sent.
 */
import {
  DeleteCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ASSUMED_JOB_ITEM_BYTES,
  addUsage,
  INDEX_ENTRY_WRITE_UNITS,
  itemSizeBytes,
  type JobUsage,
  NO_USAGE,
  writeUnits,
} from './cost.ts';
import { errorName, InconsistentJobError, TransientTransactionError } from './errors.ts';
import {
  ADD_USAGE,
  CHUNK_INDEX_DIGITS,
  chunkIndexOfSortKey,
  chunkSortKey,
  type JobTable,
  jobKey,
  jobPartitionKey,
  RUNNING_PARTITION,
  usageValues,
} from './job-store.ts';
import { MAX_RECORDED_CHUNK_ERRORS } from './limits.ts';
import { type ChunkError, isJobStatus, type JobFailure, type JobStatus } from './types.ts';

const FAILED_PREFIX = 'FAILED#';

export function failedChunkSortKey(chunkIndex: number): string {
  return `${FAILED_PREFIX}${String(chunkIndex).padStart(CHUNK_INDEX_DIGITS, '0')}`;
}

export type RecordFailureOutcome =
  /** The error is in `chunkErrors` and the counters were added. */
  | 'RECORDED'
  /** `chunkErrors` is full: only the counters were added. */
  | 'COUNTED'
  /** The job does not exist: nothing was written. */
  | 'NO_JOB';

export interface ChunkFailureToRecord {
  readonly jobId: string;
  readonly chunkIndex: number;
  readonly error: ChunkError;
  /** What the failed delivery used (this function adds its own write). */
  readonly usage: JobUsage;
}

/**
 * Records a failed delivery on the job: the chunk's error in `chunkErrors` (while the map has
 * room, or replacing the chunk's previous error), 1 more in `attempts`, and the delivery's
 * usage. Never creates a job item. Callers treat it as best effort: the delivery has failed
 * whatever happens here.
 */
export async function recordChunkFailure(
  table: JobTable,
  failure: ChunkFailureToRecord,
  now: Date,
): Promise<RecordFailureOutcome> {
  const ownWrite = { ...NO_USAGE, writeUnits: writeUnits(ASSUMED_JOB_ITEM_BYTES) };
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(failure.jobId),
        UpdateExpression: `SET chunkErrors.#chunk = :error, updatedAt = :now ADD attempts :one, ${ADD_USAGE}`,
        ConditionExpression:
          'attribute_exists(pk) AND (size(chunkErrors) < :maxErrors OR attribute_exists(chunkErrors.#chunk))',
        ExpressionAttributeNames: { '#chunk': String(failure.chunkIndex) },
        ExpressionAttributeValues: {
          ':error': failure.error,
          ':now': now.toISOString(),
          ':one': 1,
          ':maxErrors': MAX_RECORDED_CHUNK_ERRORS,
          ...usageValues(addUsage(failure.usage, ownWrite)),
        },
      }),
    );
    return 'RECORDED';
  } catch (error) {
    if (errorName(error) !== 'ConditionalCheckFailedException') throw error;
  }
  // The map is full (or the job is gone): count the attempt and usage only. The failed
  // conditional write above is billed too.
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(failure.jobId),
        UpdateExpression: `ADD attempts :one, ${ADD_USAGE}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: {
          ':one': 1,
          ...usageValues(addUsage(failure.usage, ownWrite, ownWrite)),
        },
      }),
    );
    return 'COUNTED';
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return 'NO_JOB';
    throw error;
  }
}

/** What the DLQ consumer reads of a job before it records a failed chunk. */
export interface FailureContext {
  readonly status: JobStatus;
  readonly expiresAt: number;
  readonly failedChunkCount: number;
  /** The last failure a worker recorded for the chunk, if any. */
  readonly chunkError?: ChunkError;
}

/**
 * Reads the job's status, expiry, failed chunk count and the one chunk's recorded error
 * (a nested projection: the rest of `chunkErrors` is not read).
 * @returns undefined when the job does not exist
 */
export async function readFailureContext(
  table: JobTable,
  jobId: string,
  chunkIndex: number,
): Promise<FailureContext | undefined> {
  const response = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: jobKey(jobId),
      ConsistentRead: true,
      ProjectionExpression: '#status, expiresAt, failedChunkCount, chunkErrors.#chunk',
      ExpressionAttributeNames: { '#status': 'status', '#chunk': String(chunkIndex) },
    }),
  );
  const item = response.Item;
  if (item === undefined) return undefined;
  const { status, expiresAt, failedChunkCount, chunkErrors } = item;
  if (!isJobStatus(status) || typeof expiresAt !== 'number') {
    throw new InconsistentJobError(jobId, 'the job item lacks its status or expiry');
  }
  const recorded = (chunkErrors as Record<string, Partial<ChunkError>> | undefined)?.[
    String(chunkIndex)
  ];
  return {
    status,
    expiresAt,
    failedChunkCount: typeof failedChunkCount === 'number' ? failedChunkCount : 0,
    ...(typeof recorded?.reason === 'string' && {
      chunkError: {
        reason: recorded.reason,
        at: typeof recorded.at === 'string' ? recorded.at : '',
        receiveCount: typeof recorded.receiveCount === 'number' ? recorded.receiveCount : 0,
      },
    }),
  };
}

/** Whether a chunk's result is stored (strongly consistent, key only). */
export async function isChunkStored(
  table: JobTable,
  jobId: string,
  chunkIndex: number,
): Promise<boolean> {
  const response = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: { pk: jobPartitionKey(jobId), sk: chunkSortKey(chunkIndex) },
      ConsistentRead: true,
      ProjectionExpression: 'sk',
    }),
  );
  return response.Item !== undefined;
}

export interface FailedChunkToStore {
  readonly jobId: string;
  readonly chunkIndex: number;
  /** The original SQS message body, kept as it was for a redrive. */
  readonly body: string;
  readonly reason: string;
  readonly receiveCount: number;
  /** The job's TTL, so the item expires with its job. */
  readonly expiresAt: number;
  /** Whether to list the chunk in `failedChunks` (false once the map is full). */
  readonly listInJob: boolean;
  /** Whether the job was RUNNING when read: failing it then removes its index entry. */
  readonly wasRunning: boolean;
  /** What the DLQ delivery used (this function adds its own writes). */
  readonly usage: JobUsage;
}

export type StoreFailedChunkOutcome =
  /** The input is stored and the job is FAILED with the chunk counted. */
  | { readonly outcome: 'RECORDED' }
  /** The chunk was recorded before (a duplicate DLQ message): nothing changed. */
  | { readonly outcome: 'DUPLICATE' }
  /** The job is CANCELLED, SUCCEEDED or gone: it stays as it is. */
  | { readonly outcome: 'JOB_ENDED' };

export const CHUNKS_FAILED_FAILURE: JobFailure = {
  code: 'CHUNKS_FAILED',
  message:
    'chunks failed on every delivery and were set aside; fix the cause, then POST /jobs/{jobId}/redrive to re-send them',
};

/**
 * Records a chunk that failed on every delivery, in one transaction:
 * 1. put its original message as the `FAILED#<index>` item, if absent (so a duplicate DLQ
 *    message is counted once);
 * 2. mark the job FAILED (if it is RUNNING or already FAILED; the first failure's reason is
 *    kept), list the chunk in `failedChunks`, add 1 to `failedChunkCount`, take the job out
 *    of RunningByDeadline.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 * @throws TransientTransactionError when cancelled by a conflict or throttling: retry it
 */
export async function storeFailedChunk(
  table: JobTable,
  chunk: FailedChunkToStore,
  now: Date,
): Promise<StoreFailedChunkOutcome> {
  const timestamp = now.toISOString();
  const failedItem = {
    pk: jobPartitionKey(chunk.jobId),
    sk: failedChunkSortKey(chunk.chunkIndex),
    jobId: chunk.jobId,
    chunkIndex: chunk.chunkIndex,
    body: chunk.body,
    reason: chunk.reason,
    receiveCount: chunk.receiveCount,
    failedAt: timestamp,
    expiresAt: chunk.expiresAt,
  };
  const usage = addUsage(chunk.usage, {
    ...NO_USAGE,
    writeUnits:
      writeUnits(itemSizeBytes(failedItem), { transactional: true }) +
      writeUnits(ASSUMED_JOB_ITEM_BYTES, { transactional: true }) +
      (chunk.wasRunning ? INDEX_ENTRY_WRITE_UNITS : 0),
  });
  const listClause = chunk.listInJob ? ', failedChunks.#chunk = :entry' : '';
  try {
    await table.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table.tableName,
              Item: failedItem,
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Update: {
              TableName: table.tableName,
              Key: jobKey(chunk.jobId),
              UpdateExpression: `SET #status = :failed, failure = if_not_exists(failure, :failure), completedAt = if_not_exists(completedAt, :now), updatedAt = :now${listClause} REMOVE runningPk ADD failedChunkCount :one, ${ADD_USAGE}`,
              ConditionExpression: '#status IN (:running, :failed)',
              ExpressionAttributeNames: {
                '#status': 'status',
                ...(chunk.listInJob && { '#chunk': String(chunk.chunkIndex) }),
              },
              ExpressionAttributeValues: {
                ':failed': 'FAILED',
                ':running': 'RUNNING',
                ':failure': CHUNKS_FAILED_FAILURE,
                ':now': timestamp,
                ':one': 1,
                ...(chunk.listInJob && {
                  ':entry': { reason: chunk.reason, receiveCount: chunk.receiveCount },
                }),
                ...usageValues(usage),
              },
            },
          },
        ],
      }),
    );
    return { outcome: 'RECORDED' };
  } catch (error) {
    if (errorName(error) !== 'TransactionCanceledException') throw error;
    const { CancellationReasons } = error as { CancellationReasons?: { Code?: string }[] };
    const codes = (CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
    if (codes[0] === 'ConditionalCheckFailed') return { outcome: 'DUPLICATE' };
    if (codes[1] === 'ConditionalCheckFailed') return { outcome: 'JOB_ENDED' };
    if (codes.some((code) => TRANSIENT_CODES.has(code))) {
      throw new TransientTransactionError(codes, { cause: error });
    }
    throw error;
  }
}

const TRANSIENT_CODES = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

/** A stored failed chunk input, as a redrive reads it. */
export interface StoredFailedChunk {
  readonly chunkIndex: number;
  /** The original message body. */
  readonly body: string;
  /** The item's size, for the delete's write units. */
  readonly itemBytes: number;
}

/**
 * The job's stored failed chunk inputs, one Query page (at most 1 MB) at a time, in index
 * order, strongly consistent.
 */
export async function* queryFailedChunkPages(
  table: JobTable,
  jobId: string,
): AsyncGenerator<StoredFailedChunk[]> {
  let exclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const response = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': jobPartitionKey(jobId), ':prefix': FAILED_PREFIX },
        ProjectionExpression: 'sk, body',
        ConsistentRead: true,
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    const page: StoredFailedChunk[] = [];
    for (const item of response.Items ?? []) {
      const chunkIndex = chunkIndexOfSortKey(item.sk);
      if (chunkIndex === undefined || typeof item.body !== 'string') {
        throw new InconsistentJobError(jobId, `failed chunk item ${String(item.sk)} is malformed`);
      }
      page.push({ chunkIndex, body: item.body, itemBytes: itemSizeBytes(item) });
    }
    if (page.length > 0) yield page;
    exclusiveStartKey = response.LastEvaluatedKey;
  } while (exclusiveStartKey !== undefined);
}

/**
 * Makes a FAILED job RUNNING again for a redrive: a new deadline (back in RunningByDeadline),
 * its failure, failed chunk list and completion time cleared. The condition on FAILED makes
 * it the redrive's lock: of two concurrent redrives, one wins.
 * @returns false when the job is not FAILED (or does not exist)
 */
export async function reopenJobForRedrive(
  table: JobTable,
  jobId: string,
  deadlineAt: number,
  now: Date,
): Promise<boolean> {
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(jobId),
        UpdateExpression:
          'SET #status = :running, runningPk = :runningPk, deadlineAt = :deadlineAt, updatedAt = :now, failedChunks = :none, failedChunkCount = :zero REMOVE failure, completedAt ADD writeUnits :wu',
        ConditionExpression: '#status = :failed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':running': 'RUNNING',
          ':failed': 'FAILED',
          ':runningPk': RUNNING_PARTITION,
          ':deadlineAt': deadlineAt,
          ':now': now.toISOString(),
          ':none': {},
          ':zero': 0,
          ':wu': writeUnits(ASSUMED_JOB_ITEM_BYTES) + INDEX_ENTRY_WRITE_UNITS,
        },
      }),
    );
    return true;
  } catch (error) {
    if (errorName(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/** Deletes a failed chunk's stored input (after a redrive sent it). */
export async function deleteFailedChunk(
  table: JobTable,
  jobId: string,
  chunkIndex: number,
): Promise<void> {
  await table.client.send(
    new DeleteCommand({
      TableName: table.tableName,
      Key: { pk: jobPartitionKey(jobId), sk: failedChunkSortKey(chunkIndex) },
    }),
  );
}
