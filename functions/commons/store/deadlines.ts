/**
 * Job deadlines: the sparse index RunningByDeadline holds every RUNNING job by `deadlineAt`,
 * so the jobs past their deadline are one Query, however many jobs the table holds.
 *
 * A global secondary index is eventually consistent: a job that just ended or was just
 * redriven may still show with its old deadline. So the write that fails a job checks the
 * job item itself (RUNNING, deadline passed: jobs.ts markJobDeadlineExceeded), never the index.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Reading
 */
import {
  jobIdOfPartitionKey,
  RUNNING_BY_DEADLINE_INDEX,
  RUNNING_INDEX_PARTITION_KEY,
  RUNNING_INDEX_SORT_KEY,
  RUNNING_PARTITION,
} from './keys.ts';
import { type JobTable, queryPages } from './table.ts';

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
  if (limit <= 0) return;
  for await (const items of queryPages(
    table,
    {
      IndexName: RUNNING_BY_DEADLINE_INDEX,
      KeyConditionExpression: '#running = :running AND #deadline < :now',
      ExpressionAttributeNames: {
        '#running': RUNNING_INDEX_PARTITION_KEY,
        '#deadline': RUNNING_INDEX_SORT_KEY,
      },
      ExpressionAttributeValues: { ':running': RUNNING_PARTITION, ':now': now.getTime() },
    },
    Math.min(EXPIRED_PAGE_SIZE, limit),
  )) {
    for (const item of items) {
      const jobId = jobIdOfPartitionKey(item.pk);
      if (jobId === undefined) continue;
      yield jobId;
      if (++found >= limit) return;
    }
  }
}
