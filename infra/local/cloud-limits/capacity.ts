/**
 * DynamoDB's capacity units, computed as the developer guide states them:
 * - a write costs 1 write unit per KB of the item, rounded up per item (a missing item or an
 *   empty size still costs 1); a transactional write costs 2 per KB (prepare and commit);
 * - a read costs 1 read unit per 4 KB strongly consistent, half that eventually consistent,
 *   2 per 4 KB transactional; reading a missing item still costs the minimum;
 * - a Query or Scan sums the sizes of every item it reads, then rounds the total up to 4 KB;
 *   BatchGetItem and BatchWriteItem round each item separately;
 * - a PutItem or UpdateItem costs the larger of the item's size before and after; a DeleteItem
 *   the deleted item's size; a conditional write that fails costs the same (the larger of the
 *   existing and the new item; 1 for an item that does not exist).
 * 1 KB = 1,024 bytes.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
 */

/** One write unit covers 1 KB. */
export const WRITE_UNIT_BYTES = 1024;
/** One read unit covers 4 KB. */
export const READ_UNIT_BYTES = 4096;

/** How a read is made, which sets what it costs per 4 KB. */
export type ReadMode = 'eventual' | 'strong' | 'transactional';

const READ_FACTOR: Readonly<Record<ReadMode, number>> = {
  eventual: 0.5,
  strong: 1,
  transactional: 2,
};

function checkSize(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes < 0)
    throw new RangeError(`an item size must be a non-negative number of bytes, got ${bytes}`);
}

/** Write units of writing one item of `bytes` (0 for a missing item: still 1 unit). */
export function writeUnits(bytes: number, transactional = false): number {
  checkSize(bytes);
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES)) * (transactional ? 2 : 1);
}

/** Read units of reading one item of `bytes` (0 for a missing item: still the minimum). */
export function readUnits(bytes: number, mode: ReadMode): number {
  checkSize(bytes);
  return Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * READ_FACTOR[mode];
}

/** A Query or Scan page: the sizes of all items read are summed, then rounded up to 4 KB. */
export function queryReadUnits(sizes: readonly number[], mode: ReadMode): number {
  let total = 0;
  for (const size of sizes) {
    checkSize(size);
    total += size;
  }
  return readUnits(total, mode);
}

/** BatchGetItem: every item is rounded up to 4 KB on its own. */
export function batchGetReadUnits(sizes: readonly number[], mode: ReadMode): number {
  return sizes.reduce((sum, size) => sum + readUnits(size, mode), 0);
}

/** BatchWriteItem: every put or delete is rounded up to 1 KB on its own. */
export function batchWriteUnits(sizes: readonly number[]): number {
  return sizes.reduce((sum, size) => sum + writeUnits(size), 0);
}

/**
 * A PutItem, UpdateItem or DeleteItem (or a transaction's action): the larger of the item's
 * size before and after, whether or not its condition held. `undefined` is a missing item.
 */
export function itemWriteUnits(
  before: number | undefined,
  after: number | undefined,
  transactional = false,
): number {
  return writeUnits(Math.max(before ?? 0, after ?? 0), transactional);
}
