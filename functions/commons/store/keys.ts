/**
 * The table's key design, defined once: the stack (`infra/fanout-stack.ts`) builds the table
 * and its index from these names, and every store module builds its keys with them. This
 * module imports nothing, so infra code can use it without pulling in the SDK.
 *
 * One table, keys `pk`/`sk` (strings), TTL attribute `expiresAt` (epoch seconds):
 * | item | pk | sk |
 * | --- | --- | --- |
 * | job | `JOB#<jobId>` | `JOB` |
 * | failed chunk input | `JOB#<jobId>` | `FAILED#<chunkIndex, 8 digits>` |
 * | result page of a chunk | `PAGE#<jobId>#<chunkIndex, 8 digits>` | `PAGE` |
 * | shard of chunk markers | `SHARD#<jobId>#<shardIndex>` | `SHARD` |
 * | idempotency record | `IDEMPOTENCY#submit#<hash>` | `IDEMPOTENCY` |
 *
 * A job item also carries the keys of the owner index (OWNER_JOBS_INDEX): `ownerPk =
 * OWNER#<owner ARN>`, `ownerSk = <createdAt>#<jobId>`.
 *
 * Every result page and every shard has a partition key of its own, so a job's writes hash
 * over all of the table's partitions instead of queuing on one (1,000 WCU/s per partition).
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
 */

/** The table's partition and sort key attributes (both strings). */
export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';

/** The TTL attribute of every item (epoch seconds). */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * The sparse index of running jobs by deadline (KEYS_ONLY): only a RUNNING job item has
 * `runningPk` (always RUNNING_PARTITION) and `deadlineAt` (epoch ms, a number).
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-indexes-general-sparse-indexes.html
 */
export const RUNNING_BY_DEADLINE_INDEX = 'RunningByDeadline';
export const RUNNING_INDEX_PARTITION_KEY = 'runningPk';
export const RUNNING_INDEX_SORT_KEY = 'deadlineAt';
/** The one value of `runningPk`. */
export const RUNNING_PARTITION = 'RUNNING';

/**
 * The index of each owner's jobs, newest first (`GET /jobs`): one partition key per owner,
 * so 1,000 principals submitting at once write 1,000 different index keys, never one hot
 * key. One owner's index writes are its job items' writes that change a projected attribute
 * (creation, each status change, each completed shard: one per 64 chunks), each under 1 KB
 * (1 unit); its creations are bounded by the API stage's throttle (`apiRateLimit`, 10 a
 * second by default, for all callers together), far under a partition's 1,000 write units
 * a second.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
 */
export const OWNER_JOBS_INDEX = 'OwnerJobs';
export const OWNER_INDEX_PARTITION_KEY = 'ownerPk';
export const OWNER_INDEX_SORT_KEY = 'ownerSk';
/** The job item's owner (a principal ARN, see commons/caller.ts). */
export const OWNER_ATTRIBUTE = 'ownerArn';
/**
 * What the owner index projects besides the keys: what a `GET /jobs` entry shows (status
 * and progress from the completed shards), so the listing reads the index alone.
 */
export const OWNER_INDEX_ATTRIBUTES = [
  'jobId',
  'status',
  'numbersCount',
  'chunkCount',
  'shardCount',
  'shards',
  'numbersDone',
  'createdAt',
  'updatedAt',
  'completedAt',
] as const;

const OWNER_PREFIX = 'OWNER#';

export function ownerPartitionKey(ownerArn: string): string {
  return `${OWNER_PREFIX}${ownerArn}`;
}

/** The owner index sort key: ISO 8601 creation time, then the id (unique, sorts by time). */
export function ownerSortKey(createdAt: string, jobId: string): string {
  return `${createdAt}#${jobId}`;
}

export type ItemKey = { readonly pk: string; readonly sk: string };

const JOB_PREFIX = 'JOB#';
const JOB_SORT_KEY = 'JOB';
const FAILED_PREFIX = 'FAILED#';
const PAGE_PREFIX = 'PAGE#';
const PAGE_SORT_KEY = 'PAGE';
const SHARD_PREFIX = 'SHARD#';
const SHARD_SORT_KEY = 'SHARD';
/**
 * The key an environment reads to prime its table client (commons/priming.ts): no item is
 * ever written under it, so the read finds nothing, for the least units a read is billed.
 */
export const PRIMING_KEY: ItemKey = { [PARTITION_KEY]: 'PRIMING', [SORT_KEY]: 'PRIMING' };

/** Prefix of the idempotency records' keys (Powertools appends `#<hash>`). */
export const IDEMPOTENCY_KEY_PREFIX = 'IDEMPOTENCY#submit';
export const IDEMPOTENCY_SORT_KEY = 'IDEMPOTENCY';

/** Digits of a chunk index in keys, so keys sort in chunk order. */
export const CHUNK_INDEX_DIGITS = 8;

function paddedIndex(chunkIndex: number): string {
  return String(chunkIndex).padStart(CHUNK_INDEX_DIGITS, '0');
}

export function jobPartitionKey(jobId: string): string {
  return `${JOB_PREFIX}${jobId}`;
}

export function jobKey(jobId: string): ItemKey {
  return { pk: jobPartitionKey(jobId), sk: JOB_SORT_KEY };
}

/** The job id of a job partition key, or undefined when `pk` is not one. */
export function jobIdOfPartitionKey(pk: unknown): string | undefined {
  return typeof pk === 'string' && pk.startsWith(JOB_PREFIX)
    ? pk.slice(JOB_PREFIX.length)
    : undefined;
}

/** The sort key prefix of failed chunk inputs, for a Query of one job's partition. */
export const FAILED_CHUNK_SORT_KEY_PREFIX = FAILED_PREFIX;

export function failedChunkKey(jobId: string, chunkIndex: number): ItemKey {
  return { pk: jobPartitionKey(jobId), sk: `${FAILED_PREFIX}${paddedIndex(chunkIndex)}` };
}

/** The chunk index of a `FAILED#…` sort key, or undefined. */
export function chunkIndexOfFailedSortKey(sk: unknown): number | undefined {
  if (typeof sk !== 'string') return undefined;
  const match = /^FAILED#([0-9]{8})$/.exec(sk);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function pageKey(jobId: string, chunkIndex: number): ItemKey {
  return { pk: `${PAGE_PREFIX}${jobId}#${paddedIndex(chunkIndex)}`, sk: PAGE_SORT_KEY };
}

export function shardKey(jobId: string, shardIndex: number): ItemKey {
  return { pk: `${SHARD_PREFIX}${jobId}#${shardIndex}`, sk: SHARD_SORT_KEY };
}

/** The key of an idempotency record, from the key Powertools derives (`<prefix>#<hash>`). */
export function idempotencyKey(powertoolsKey: string): ItemKey {
  return { pk: powertoolsKey, sk: IDEMPOTENCY_SORT_KEY };
}
