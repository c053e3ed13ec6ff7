/**
 * Shards of chunk markers: how a job's chunks are counted exactly once without one item
 * taking a write per chunk.
 *
 * A job of `chunkCount` chunks has `shardCount = ceil(chunkCount / CHUNKS_PER_SHARD)` shard
 * items, `pk = SHARD#<jobId>#<k>`, each its own partition key. Chunk i belongs to shard
 * `i mod shardCount` (consecutive chunks, which finish at about the same time, land on
 * different shards). Storing chunk i sets the marker attribute `c<i>` to its count of numbers
 * on its shard: setting an attribute twice changes nothing, so a redelivered chunk is never
 * counted twice. DynamoDB applies the updates of one item one at a time, and each returns the
 * item after it (ALL_NEW), so exactly the updates that find the shard complete see it so:
 * they record the shard on the job (jobs.ts recordShard), which is idempotent in turn.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ReadingData
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { itemSizeBytes, type JobUsage, readUnits, writeUnits } from '../cost.ts';
import { InconsistentJobError } from '../errors.ts';
import type { Sleep } from '../retry.ts';
import { shardKey, TTL_ATTRIBUTE } from './keys.ts';
import { batchGetItems, type Item, isCount, type JobTable, UpdateBuilder } from './table.ts';
import { addUsageTo, usageOf } from './usage.ts';

/**
 * Chunks per shard. A full shard of 64 markers (names `c<index>`, values the chunk's count)
 * and its usage counters stays under 1 KB, so each marker update is 1 write unit; a shard
 * then takes at most 1/shardCount of a job's chunk rate, and the job item one write per
 * 64 chunks.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#write-operation-consumption
 */
export const CHUNKS_PER_SHARD = 64;

export function shardCountFor(chunkCount: number): number {
  return Math.max(1, Math.ceil(chunkCount / CHUNKS_PER_SHARD));
}

export function shardOf(chunkIndex: number, shardCount: number): number {
  return chunkIndex % shardCount;
}

/** How many of the job's chunks belong to shard `shardIndex`. */
export function chunksInShard(shardIndex: number, chunkCount: number, shardCount: number): number {
  return shardIndex < chunkCount ? Math.floor((chunkCount - 1 - shardIndex) / shardCount) + 1 : 0;
}

/** The chunk indexes of shard `shardIndex`, ascending. */
export function chunkIndexesOfShard(
  shardIndex: number,
  chunkCount: number,
  shardCount: number,
): number[] {
  const indexes: number[] = [];
  for (let index = shardIndex; index < chunkCount; index += shardCount) indexes.push(index);
  return indexes;
}

const MARKER = /^c([0-9]+)$/;
/** `b<index> = bad lines`: set beside `c<index>` only for a range of an S3 input that has some. */
const BAD_MARKER = /^b([0-9]+)$/;

function markerName(chunkIndex: number): string {
  return `c${chunkIndex}`;
}

function badMarkerName(chunkIndex: number): string {
  return `b${chunkIndex}`;
}

/** A shard as read back. */
export interface ShardState {
  readonly shardIndex: number;
  /** The marked chunks: chunk index → its count of numbers. */
  readonly markers: ReadonlyMap<number, number>;
  /** The marked chunks with bad lines (ranges of an S3 input): chunk index → bad lines. */
  readonly badLines: ReadonlyMap<number, number>;
  readonly usage: JobUsage;
}

export interface ShardShape {
  readonly chunkCount: number;
  readonly shardCount: number;
}

/** Whether every chunk of the shard is marked. */
export function isShardComplete(shard: ShardState, job: ShardShape): boolean {
  return shard.markers.size === chunksInShard(shard.shardIndex, job.chunkCount, job.shardCount);
}

/** The numbers of the marked chunks. */
export function shardNumbers(shard: ShardState): number {
  let numbers = 0;
  for (const count of shard.markers.values()) numbers += count;
  return numbers;
}

function toShardState(jobId: string, shardIndex: number, item: Item, job: ShardShape): ShardState {
  const markers = new Map<number, number>();
  const badLines = new Map<number, number>();
  for (const [name, value] of Object.entries(item)) {
    const bad = BAD_MARKER.exec(name);
    if (bad?.[1] !== undefined && isCount(value)) {
      badLines.set(Number(bad[1]), value);
      continue;
    }
    const match = MARKER.exec(name);
    if (match?.[1] === undefined) continue;
    const chunkIndex = Number(match[1]);
    if (
      !isCount(value) ||
      chunkIndex >= job.chunkCount ||
      chunkIndex % job.shardCount !== shardIndex
    ) {
      throw new InconsistentJobError(jobId, `shard ${shardIndex} holds a stray marker ${name}`);
    }
    markers.set(chunkIndex, value);
  }
  return { shardIndex, markers, badLines, usage: usageOf(item) };
}

/**
 * An upper bound of a full shard item's size, for the write units of a marker update
 * (billed by the larger of the item's sizes before and after): its key, every marker at the
 * largest index and count, the TTL and 5 counters of up to 15 digits.
 */
export function shardItemBytesBound(jobId: string, shape: ShardShape): number {
  const markers = chunksInShard(0, shape.chunkCount, shape.shardCount);
  const marker = itemSizeBytes({ [markerName(shape.chunkCount)]: 99_999 });
  const fixed = itemSizeBytes({
    ...shardKey(jobId, shape.shardCount),
    [TTL_ATTRIBUTE]: 9_999_999_999,
    lambdaMbMs: 123_456_789_012_345,
    lambdaRequests: 123_456_789_012_345,
    sqsRequests: 123_456_789_012_345,
    readUnits: 123_456_789_012_345,
    writeUnits: 123_456_789_012_345,
  });
  return fixed + markers * marker;
}

export interface ChunkToMark extends ShardShape {
  readonly jobId: string;
  readonly chunkIndex: number;
  /** The chunk's count of numbers. */
  readonly count: number;
  /** A range's count of bad lines, marked when above 0. */
  readonly badLineCount?: number;
  readonly expiresAt: number;
  /** What the chunk's delivery used; this update's own units are added to it. */
  readonly usage: Partial<JobUsage>;
}

/**
 * Marks a chunk stored on its shard (idempotent) and adds its delivery's usage (every
 * delivery's usage is real, so a duplicate adds its own). Returns the shard after the update.
 */
export async function markChunk(table: JobTable, chunk: ChunkToMark): Promise<ShardState> {
  const shardIndex = shardOf(chunk.chunkIndex, chunk.shardCount);
  const update = new UpdateBuilder()
    .set(markerName(chunk.chunkIndex), chunk.count)
    .set(TTL_ATTRIBUTE, chunk.expiresAt);
  if ((chunk.badLineCount ?? 0) > 0)
    update.set(badMarkerName(chunk.chunkIndex), chunk.badLineCount);
  addUsageTo(update, {
    ...chunk.usage,
    writeUnits: (chunk.usage.writeUnits ?? 0) + writeUnits(shardItemBytesBound(chunk.jobId, chunk)),
  });
  const response = await table.client.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: shardKey(chunk.jobId, shardIndex),
      ...update.build(),
      ReturnValues: 'ALL_NEW',
    }),
  );
  if (response.Attributes === undefined) {
    throw new InconsistentJobError(chunk.jobId, `shard ${shardIndex} was not returned`);
  }
  return toShardState(chunk.jobId, shardIndex, response.Attributes, chunk);
}

/**
 * Reads shards (eventually consistent unless asked: progress may lag by a moment). A shard without any marker yet is absent (it is
 * created by its first marker), and is returned empty.
 */
export async function readShards(
  table: JobTable,
  jobId: string,
  shardIndexes: readonly number[],
  shape: ShardShape,
  options: { readonly consistent: boolean; readonly sleep?: Sleep } = { consistent: false },
): Promise<{ readonly shards: ShardState[]; readonly readUnits: number }> {
  const indexOfPk = new Map(shardIndexes.map((index) => [shardKey(jobId, index).pk, index]));
  const items = await batchGetItems(
    table,
    shardIndexes.map((index) => shardKey(jobId, index)),
    { consistent: options.consistent, what: jobId, sleep: options.sleep },
  );
  const found = new Map<number, ShardState>();
  let units = 0;
  for (const item of items) {
    const index = indexOfPk.get(String(item.pk));
    if (index === undefined) continue;
    found.set(index, toShardState(jobId, index, item, shape));
    units += readUnits(itemSizeBytes(item), { consistent: options.consistent });
  }
  const shards = shardIndexes.map(
    (index) =>
      found.get(index) ?? {
        shardIndex: index,
        markers: new Map<number, number>(),
        badLines: new Map<number, number>(),
        usage: usageOf(undefined),
      },
  );
  return { shards, readUnits: units };
}
