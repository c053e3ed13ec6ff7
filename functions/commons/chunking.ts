/**
 * Splitting a job into chunks: one SQS message and one stored result item each.
 */
import { MAX_CHUNK_RESULT_BYTES } from './limits.ts';
import { estimateResultBytes, type NumberInput } from './numbers.ts';

export interface ChunkRange {
  /** Index in the job of the chunk's first number. */
  readonly offset: number;
  /** How many numbers the chunk holds (at least one). */
  readonly count: number;
}

/**
 * Cuts `numbers` into consecutive chunks of at most `maxCount` numbers whose estimated
 * result JSON stays within `maxResultBytes`. A single element never exceeds the byte bound
 * (MAX_INTEGER_DIGITS keeps it far below), so every chunk holds at least one number.
 */
export function planChunks(
  numbers: readonly NumberInput[],
  maxCount: number,
  maxResultBytes: number = MAX_CHUNK_RESULT_BYTES,
): ChunkRange[] {
  if (!Number.isSafeInteger(maxCount) || maxCount < 1) {
    throw new RangeError(`maxCount must be a positive integer, got ${maxCount}`);
  }
  const chunks: ChunkRange[] = [];
  let offset = 0;
  let count = 0;
  let bytes = 2; // the brackets of the JSON array
  for (let index = 0; index < numbers.length; index++) {
    const size = estimateResultBytes(numbers[index] as NumberInput);
    if (count > 0 && (count === maxCount || bytes + size > maxResultBytes)) {
      chunks.push({ offset, count });
      offset = index;
      count = 0;
      bytes = 2;
    }
    count++;
    bytes += size;
  }
  if (count > 0) chunks.push({ offset, count });
  return chunks;
}
