/**
 * The one place usage counters are written and read (see cost.ts for what they count). Job
 * items and shard items carry the same counters, ADDed by the write that does the work.
 */
import { addUsage, type JobUsage, NO_USAGE, USAGE_COUNTERS } from '../cost.ts';
import { counter, isPlainObject, type UpdateBuilder } from './table.ts';

/** Adds `usage` to the item's counters in the update being built (zero counters are left out). */
export function addUsageTo(update: UpdateBuilder, usage: Partial<JobUsage>): UpdateBuilder {
  for (const name of USAGE_COUNTERS) {
    const value = usage[name] ?? 0;
    if (value !== 0) update.add(name, value);
  }
  return update;
}

/** The usage counters of an item (a job, a shard, or a shard's summary in the job). */
export function usageOf(item: unknown): JobUsage {
  if (!isPlainObject(item)) return NO_USAGE;
  return addUsage(Object.fromEntries(USAGE_COUNTERS.map((name) => [name, counter(item[name])])));
}
