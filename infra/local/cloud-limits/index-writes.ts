/**
 * What a table write costs on a global secondary index: the index entry is the item's table
 * key, the index key and the projected attributes; an item without every index key attribute
 * is not in the index (a sparse index).
 * - not in the index before nor after: nothing;
 * - enters the index: one put; leaves it (an index key attribute removed): one delete;
 * - its index key value changes: a delete of the old entry and a put of the new one;
 * - a projected attribute changes: one put; nothing projected changes: nothing.
 * Each index write is a standard write (1 unit per KB of the entry), on the index's own
 * partitions.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
 */
import { type ItemLike, itemSize, pick } from './item-size.ts';

/** A global secondary index, as its table defines it. */
export interface IndexSchema {
  readonly name: string;
  /** The index's partition key attribute, then its sort key attribute if any. */
  readonly keyAttributes: readonly string[];
  /** The table's primary key attributes (always projected). */
  readonly tableKeyAttributes: readonly string[];
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** The non-key attributes of an INCLUDE projection. @default none */
  readonly nonKeyAttributes?: readonly string[];
}

/** One write on an index: the entry it puts or deletes, and that entry's size. */
export interface IndexWrite {
  readonly kind: 'put' | 'delete';
  readonly entry: Readonly<Record<string, unknown>>;
  readonly bytes: number;
}

/** The item's entry in the index, or undefined when the item is not in it. */
export function indexEntry(
  item: ItemLike | undefined,
  index: IndexSchema,
): Record<string, unknown> | undefined {
  if (item === undefined) return undefined;
  if (index.keyAttributes.some((name) => item[name] === undefined)) return undefined;
  if (index.projection === 'ALL') return { ...item };
  return pick(item, [
    ...index.tableKeyAttributes,
    ...index.keyAttributes,
    ...(index.projection === 'INCLUDE' ? (index.nonKeyAttributes ?? []) : []),
  ]);
}

function sameValues(
  a: Readonly<Record<string, unknown>>,
  b: Readonly<Record<string, unknown>>,
  names: readonly string[],
): boolean {
  return names.every((name) => JSON.stringify(a[name]) === JSON.stringify(b[name]));
}

function sameEntry(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return sameValues(a, b, [...names]);
}

/** The index writes a table write makes, from the item before and after it. */
export function indexWrites(
  before: ItemLike | undefined,
  after: ItemLike | undefined,
  index: IndexSchema,
): IndexWrite[] {
  const old = indexEntry(before, index);
  const next = indexEntry(after, index);
  const put = (entry: Record<string, unknown>): IndexWrite => ({
    kind: 'put',
    entry,
    bytes: itemSize(entry),
  });
  const remove = (entry: Record<string, unknown>): IndexWrite => ({
    kind: 'delete',
    entry,
    bytes: itemSize(entry),
  });
  if (old === undefined) return next === undefined ? [] : [put(next)];
  if (next === undefined) return [remove(old)];
  if (!sameValues(old, next, index.keyAttributes)) return [remove(old), put(next)];
  if (sameEntry(old, next)) return [];
  const write = put(next);
  return [{ ...write, bytes: Math.max(write.bytes, itemSize(old)) }];
}
