/**
 * One owner's jobs, newest first, from the owner index (OwnerJobs, keys.ts): a Query of the
 * owner's own partition key, never a Scan. The index projects what a listing shows, so a
 * page of the listing costs one Query (0.5 unit per 4 KB read, eventually consistent, as
 * every GSI read is).
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Reading
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type JobRecord, toJobSummaryFields } from './jobs.ts';
import {
  jobKey,
  OWNER_INDEX_ATTRIBUTES,
  OWNER_INDEX_PARTITION_KEY,
  OWNER_INDEX_SORT_KEY,
  OWNER_JOBS_INDEX,
  ownerPartitionKey,
} from './keys.ts';
import { type Item, type JobTable, projection } from './table.ts';

/**
 * One job of an owner's listing, as the index holds it: the job's fields the index projects
 * (OWNER_INDEX_ATTRIBUTES), and where the next page starts.
 */
export interface OwnedJobEntry extends Pick<JobRecord, (typeof OWNER_INDEX_ATTRIBUTES)[number]> {
  /** The entry's index sort key, where the next page starts after it. */
  readonly sortKey: string;
}

export interface OwnedJobsPage {
  readonly entries: readonly OwnedJobEntry[];
  /** The sort key of the last entry when more may follow, else undefined. */
  readonly lastSortKey: string | undefined;
}

/** The job id of an owner index sort key (`<createdAt>#<jobId>`). */
function jobIdOfSortKey(sortKey: string): string {
  return sortKey.slice(sortKey.lastIndexOf('#') + 1);
}

function toEntry(item: Item): OwnedJobEntry | undefined {
  const { jobId } = item;
  const sortKey = item[OWNER_INDEX_SORT_KEY];
  const summary = toJobSummaryFields(item);
  if (typeof jobId !== 'string' || typeof sortKey !== 'string' || summary === undefined) {
    return undefined;
  }
  return { jobId, ...summary, sortKey };
}

/**
 * Up to `limit` of the owner's jobs, newest first, after `afterSortKey` (a previous page's
 * `lastSortKey`). The start key is rebuilt from the owner given here, so a page can only
 * ever continue the same owner's listing.
 */
export async function listOwnedJobs(
  table: JobTable,
  ownerArn: string,
  options: { readonly limit: number; readonly afterSortKey?: string },
): Promise<OwnedJobsPage> {
  const ownerPk = ownerPartitionKey(ownerArn);
  const names = projection([...OWNER_INDEX_ATTRIBUTES, OWNER_INDEX_SORT_KEY]);
  const after = options.afterSortKey;
  const response = await table.client.send(
    new QueryCommand({
      TableName: table.tableName,
      IndexName: OWNER_JOBS_INDEX,
      KeyConditionExpression: '#ownerPk = :ownerPk',
      ...names,
      ExpressionAttributeNames: {
        ...names.ExpressionAttributeNames,
        '#ownerPk': OWNER_INDEX_PARTITION_KEY,
      },
      ExpressionAttributeValues: { ':ownerPk': ownerPk },
      ScanIndexForward: false,
      Limit: options.limit,
      ...(after !== undefined && {
        ExclusiveStartKey: {
          ...jobKey(jobIdOfSortKey(after)),
          [OWNER_INDEX_PARTITION_KEY]: ownerPk,
          [OWNER_INDEX_SORT_KEY]: after,
        },
      }),
    }),
  );
  const entries = (response.Items ?? []).map(toEntry).filter((entry) => entry !== undefined);
  const last = response.LastEvaluatedKey?.[OWNER_INDEX_SORT_KEY];
  return { entries, lastSortKey: typeof last === 'string' ? last : undefined };
}
