/**
 * Partitions of a table or an index. A table's throughput sets how many partitions serve it:
 * each partition serves at most 1,000 write units/s and 3,000 read units/s, so a new
 * on-demand table (4,000 write / 12,000 read units/s at once) has
 * max(ceil(4000 / 1000), ceil(12000 / 3000)) = 4 partitions; a warm throughput raises that.
 * Each index has partitions of its own, derived the same way.
 * A partition key value hashes to one partition: here the MD5 of its type and bytes, the
 * hash space cut into P equal ranges.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.Partitions.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html
 */
import { createHash } from 'node:crypto';
import type { AttributeValueLike } from './item-size.ts';

/** Units per second a table (or an index) is served at once. */
export interface Throughput {
  readonly writeUnitsPerSecond: number;
  readonly readUnitsPerSecond: number;
}

/** P for a table or index of this throughput, given one partition's capacity. */
export function partitionCount(throughput: Throughput, perPartition: Throughput): number {
  return Math.max(
    1,
    Math.ceil(throughput.writeUnitsPerSecond / perPartition.writeUnitsPerSecond),
    Math.ceil(throughput.readUnitsPerSecond / perPartition.readUnitsPerSecond),
  );
}

/** The bytes a partition key value hashes from: its type, then its value. */
function keyBytes(value: AttributeValueLike): Buffer {
  if (typeof value.S === 'string') return Buffer.from(`S:${value.S}`, 'utf8');
  if (typeof value.N === 'string') return Buffer.from(`N:${value.N}`, 'utf8');
  if (typeof value.B === 'string') {
    return Buffer.concat([Buffer.from('B:'), Buffer.from(value.B, 'base64')]);
  }
  if (value.B instanceof Uint8Array) return Buffer.concat([Buffer.from('B:'), value.B]);
  throw new TypeError(
    `a partition key is a string, number or binary, got ${JSON.stringify(value)}`,
  );
}

/** The partition (0 … count − 1) a partition key value falls in. */
export function partitionOf(value: AttributeValueLike, count: number): number {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`a partition count must be a positive integer, got ${count}`);
  const hash = createHash('md5').update(keyBytes(value)).digest().readUInt32BE(0);
  return Math.min(count - 1, Math.floor((hash / 2 ** 32) * count));
}
