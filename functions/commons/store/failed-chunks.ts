/**
 * Failed chunks: what a worker records when a delivery fails, what the dead-letter queue
 * consumer records when a chunk has failed on every delivery, and what a redrive reads back.
 *
 * - `chunkErrors.<chunkIndex>` on the job item: the last failure a worker saw for the chunk
 *   (`{reason, at, receiveCount}`), at most MAX_RECORDED_CHUNK_ERRORS chunks.
 * - `failedChunks.<chunkIndex>` on the job item: the chunks that reached the DLQ
 *   (`{reason, receiveCount}`), at most MAX_RECORDED_FAILED_CHUNKS; `failedChunkCount` counts
 *   them all, each once.
 * - item `pk = JOB#<jobId>`, `sk = FAILED#<chunkIndex 8 digits>`: the chunk's original
 *   message body, so a redrive can send it again; deleted once it is sent.
 */
import {
  DeleteCommand,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ASSUMED_JOB_ITEM_BYTES,
  addUsage,
  INDEX_ENTRY_WRITE_UNITS,
  itemSizeBytes,
  type JobUsage,
  writeUnits,
} from '../cost.ts';
import { InconsistentJobError, TransientTransactionError } from '../errors.ts';
import { MAX_RECORDED_CHUNK_ERRORS } from '../limits.ts';
import { type ChunkError, isJobStatus, type JobFailure, type JobStatus } from '../types.ts';
import { transitionUpdate } from './jobs.ts';
import {
  chunkIndexOfFailedSortKey,
  FAILED_CHUNK_SORT_KEY_PREFIX,
  failedChunkKey,
  jobKey,
  jobPartitionKey,
  PARTITION_KEY,
  SORT_KEY,
} from './keys.ts';
import {
  cancellationReasons,
  hasTransientReason,
  isConditionalCheckFailed,
  type JobTable,
  queryPages,
  UpdateBuilder,
} from './table.ts';
import { addUsageTo } from './usage.ts';

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
  readonly usage: Partial<JobUsage>;
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
  const ownWrite = { writeUnits: writeUnits(ASSUMED_JOB_ITEM_BYTES) };
  const chunk = String(failure.chunkIndex);
  const recorded = new UpdateBuilder()
    .set(['chunkErrors', chunk], failure.error)
    .set('updatedAt', now.toISOString())
    .add('attempts', 1);
  // `updatedAt` is projected into OwnerJobs: the recorded write rewrites the job's entry.
  addUsageTo(recorded, addUsage(failure.usage, ownWrite, { writeUnits: INDEX_ENTRY_WRITE_UNITS }));
  recorded.condition(
    (name, value) =>
      `attribute_exists(${name(PARTITION_KEY)}) AND (size(${name('chunkErrors')}) < ${value(MAX_RECORDED_CHUNK_ERRORS)} OR attribute_exists(${name(['chunkErrors', chunk])}))`,
  );
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(failure.jobId),
        ...recorded.build(),
      }),
    );
    return 'RECORDED';
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
  // The map is full (or the job is gone): count the attempt and usage only. The failed
  // conditional write above is billed too.
  const counted = new UpdateBuilder().add('attempts', 1);
  addUsageTo(counted, addUsage(failure.usage, ownWrite, ownWrite));
  counted.condition((name) => `attribute_exists(${name(PARTITION_KEY)})`);
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(failure.jobId),
        ...counted.build(),
      }),
    );
    return 'COUNTED';
  } catch (error) {
    if (isConditionalCheckFailed(error)) return 'NO_JOB';
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
  /** What the DLQ delivery used (this function adds its own writes). */
  readonly usage: Partial<JobUsage>;
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
 * 2. move the job from RUNNING (or FAILED) to FAILED (the first failure's reason is kept),
 *    list the chunk in `failedChunks` and add 1 to `failedChunkCount`.
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
    ...failedChunkKey(chunk.jobId, chunk.chunkIndex),
    jobId: chunk.jobId,
    chunkIndex: chunk.chunkIndex,
    body: chunk.body,
    reason: chunk.reason,
    receiveCount: chunk.receiveCount,
    failedAt: timestamp,
    expiresAt: chunk.expiresAt,
  };
  const jobUpdate = transitionUpdate(
    table,
    chunk.jobId,
    {
      from: ['RUNNING', 'FAILED'],
      to: 'FAILED',
      setIfAbsent: { failure: CHUNKS_FAILED_FAILURE },
      set: chunk.listInJob
        ? [
            [
              ['failedChunks', String(chunk.chunkIndex)],
              { reason: chunk.reason, receiveCount: chunk.receiveCount },
            ],
          ]
        : [],
      add: { failedChunkCount: 1 },
      // Both writes of a transaction are billed twice.
      usage: addUsage(chunk.usage, {
        writeUnits:
          writeUnits(itemSizeBytes(failedItem), { transactional: true }) +
          writeUnits(ASSUMED_JOB_ITEM_BYTES),
      }),
    },
    now,
  );
  try {
    await table.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table.tableName,
              Item: failedItem,
              ConditionExpression: `attribute_not_exists(${PARTITION_KEY})`,
            },
          },
          { Update: jobUpdate },
        ],
      }),
    );
    return { outcome: 'RECORDED' };
  } catch (error) {
    const reasons = cancellationReasons(error);
    if (reasons === undefined) throw error;
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return { outcome: 'DUPLICATE' };
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return { outcome: 'JOB_ENDED' };
    if (hasTransientReason(reasons)) {
      throw new TransientTransactionError(
        reasons.map((reason) => reason.Code ?? 'None'),
        { cause: error },
      );
    }
    throw error;
  }
}

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
  for await (const items of queryPages(table, {
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
    ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#sk': SORT_KEY, '#body': 'body' },
    ExpressionAttributeValues: {
      ':pk': jobPartitionKey(jobId),
      ':prefix': FAILED_CHUNK_SORT_KEY_PREFIX,
    },
    ProjectionExpression: '#sk, #body',
    ConsistentRead: true,
  })) {
    const page: StoredFailedChunk[] = [];
    for (const item of items) {
      const chunkIndex = chunkIndexOfFailedSortKey(item.sk);
      if (chunkIndex === undefined || typeof item.body !== 'string') {
        throw new InconsistentJobError(jobId, `failed chunk item ${String(item.sk)} is malformed`);
      }
      page.push({ chunkIndex, body: item.body, itemBytes: itemSizeBytes(item) });
    }
    if (page.length > 0) yield page;
  }
}

/** Deletes a failed chunk's stored input (after a redrive sent it). */
export async function deleteFailedChunk(
  table: JobTable,
  jobId: string,
  chunkIndex: number,
): Promise<void> {
  await table.client.send(
    new DeleteCommand({ TableName: table.tableName, Key: failedChunkKey(jobId, chunkIndex) }),
  );
}
