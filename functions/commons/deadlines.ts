/**
 * Job deadlines: the sparse index RunningByDeadline holds every RUNNING job (`runningPk =
 * RUNNING`) by `deadlineAt`, so the jobs past their deadline are one Query, however many
 * jobs the table holds.
 *
 * A global secondary index is eventually consistent: a job that just ended or was just
 * redriven may still show with its old deadline. So the write that fails a job checks the
 * job item itself (RUNNING, deadline passed), never the index.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Reading
 */
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ASSUMED_JOB_ITEM_BYTES, INDEX_ENTRY_WRITE_UNITS, writeUnits } from './cost.ts';
import { errorName, InconsistentJobError } from './errors.ts';
import {
  chunkIndexOfSortKey,
  FIRST_CHUNK_SORT_KEY,
  type JobTable,
  jobIdOfPartitionKey,
  jobKey,
  jobPartitionKey,
  LAST_CHUNK_SORT_KEY,
  RUNNING_BY_DEADLINE_INDEX,
  RUNNING_PARTITION,
} from './job-store.ts';
import { type ChunkError, isJobStatus, type JobFailure, type JobStatus } from './types.ts';

/** Index entries read per Query page. */
const EXPIRED_PAGE_SIZE = 50;

/**
 * Ids of RUNNING jobs whose deadline is before `now`, earliest deadline first, page by page,
 * at most `limit` of them.
 */
export async function* queryExpiredJobIds(
  table: JobTable,
  now: Date,
  limit: number,
): AsyncGenerator<string> {
  let found = 0;
  let exclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const response = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: RUNNING_BY_DEADLINE_INDEX,
        KeyConditionExpression: 'runningPk = :running AND deadlineAt < :now',
        ExpressionAttributeValues: { ':running': RUNNING_PARTITION, ':now': now.getTime() },
        Limit: Math.min(EXPIRED_PAGE_SIZE, limit - found),
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    for (const item of response.Items ?? []) {
      const jobId = jobIdOfPartitionKey(item.pk);
      if (jobId === undefined) continue;
      yield jobId;
      if (++found >= limit) return;
    }
    exclusiveStartKey = response.LastEvaluatedKey;
  } while (exclusiveStartKey !== undefined);
}

/** What the sweeper reads of an expired job. */
export interface ExpiredJob {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly chunkCount: number;
  readonly chunksDone: number;
  readonly deadlineAt: number | undefined;
  readonly chunkErrors: Readonly<Record<string, ChunkError>>;
}

/** Reads the job's status, counters, deadline and recorded chunk errors (strongly consistent). */
export async function readExpiredJob(
  table: JobTable,
  jobId: string,
): Promise<ExpiredJob | undefined> {
  const response = await table.client.send(
    new GetCommand({
      TableName: table.tableName,
      Key: jobKey(jobId),
      ConsistentRead: true,
      ProjectionExpression: '#status, chunkCount, chunksDone, deadlineAt, chunkErrors',
      ExpressionAttributeNames: { '#status': 'status' },
    }),
  );
  const item = response.Item;
  if (item === undefined) return undefined;
  const { status, chunkCount, chunksDone, deadlineAt, chunkErrors } = item;
  if (!isJobStatus(status) || typeof chunkCount !== 'number' || typeof chunksDone !== 'number') {
    throw new InconsistentJobError(jobId, 'the job item lacks its status or counters');
  }
  return {
    jobId,
    status,
    chunkCount,
    chunksDone,
    deadlineAt: typeof deadlineAt === 'number' ? deadlineAt : undefined,
    chunkErrors:
      typeof chunkErrors === 'object' && chunkErrors !== null
        ? (chunkErrors as Record<string, ChunkError>)
        : {},
  };
}

export interface MissingChunks {
  /** The lowest indexes of chunks without a stored result, ascending, at most `maxListed`. */
  readonly indexes: number[];
  /**
   * True when `indexes` holds every missing chunk up to the cap; false when the pages read
   * ended first, so more chunks past the last one read may be missing.
   */
  readonly complete: boolean;
}

/**
 * The chunks of a job that have no stored result, from a Query of the chunk items' keys,
 * bounded: at most `maxPages` pages (a page is at most 1 MB of items, and chunk items hold
 * results, so a page may hold only a few) and `maxListed` indexes. Past the pages read, the
 * list is cut short (`complete: false`); the job's `chunksDone` still gives the exact count.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
 */
export async function listMissingChunks(
  table: JobTable,
  jobId: string,
  chunkCount: number,
  options: { readonly maxPages: number; readonly maxListed: number },
): Promise<MissingChunks> {
  const indexes: number[] = [];
  let next = 0; // every index below `next` is known: stored or listed
  const listUpTo = (end: number): void => {
    for (; next < end && indexes.length < options.maxListed; next++) indexes.push(next);
    next = Math.max(next, end);
  };
  let exclusiveStartKey: Record<string, unknown> | undefined;
  let pages = 0;
  do {
    const response = await table.client.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': jobPartitionKey(jobId),
          ':from': FIRST_CHUNK_SORT_KEY,
          ':to': LAST_CHUNK_SORT_KEY,
        },
        ProjectionExpression: 'sk',
        ExclusiveStartKey: exclusiveStartKey,
      }),
    );
    pages++;
    for (const item of response.Items ?? []) {
      const index = chunkIndexOfSortKey(item.sk);
      if (index === undefined || index >= chunkCount) continue;
      listUpTo(index);
      next = Math.max(next, index + 1);
    }
    exclusiveStartKey = response.LastEvaluatedKey;
    // Chunks come in index order: once the list is full, the chunks after cannot change it.
    if (indexes.length >= options.maxListed) return { indexes, complete: true };
  } while (exclusiveStartKey !== undefined && pages < options.maxPages);
  if (exclusiveStartKey !== undefined) return { indexes, complete: false };
  listUpTo(chunkCount);
  return { indexes, complete: true };
}

/**
 * Fails a job that is still RUNNING past its deadline (DEADLINE_EXCEEDED), out of the index.
 * The condition re-checks both on the item: the index may be stale, and a redrive may have
 * given the job a new deadline since it was read.
 * @returns false when the job is no longer RUNNING or its deadline moved
 */
export async function markJobDeadlineExceeded(
  table: JobTable,
  jobId: string,
  failure: JobFailure,
  now: Date,
): Promise<boolean> {
  const timestamp = now.toISOString();
  try {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: jobKey(jobId),
        UpdateExpression:
          'SET #status = :failed, failure = :failure, completedAt = :now, updatedAt = :now REMOVE runningPk ADD writeUnits :wu',
        ConditionExpression: '#status = :running AND deadlineAt < :nowMs',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':failed': 'FAILED',
          ':running': 'RUNNING',
          ':failure': failure,
          ':now': timestamp,
          ':nowMs': now.getTime(),
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
