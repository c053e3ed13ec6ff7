/**
 * The partitions of every known table and index, each with a write and a read token bucket,
 * and the units each partition consumed in 1 s windows (for its peak per second).
 */
import type { CloudLimits } from './options.ts';
import { partitionCount, type Throughput } from './partitions.ts';
import { TokenBucket } from './token-bucket.ts';

export type UnitKind = 'read' | 'write';

/** One partition of a table (index undefined) or of one of its indexes. */
export interface PartitionRef {
  readonly table: string;
  readonly index?: string | undefined;
  readonly partition: number;
}

/** Units a request takes from one partition. */
export interface Charge {
  readonly at: PartitionRef;
  readonly kind: UnitKind;
  readonly units: number;
}

interface PartitionState {
  readonly buckets: Readonly<Record<UnitKind, TokenBucket>>;
  readonly window: Record<UnitKind, { second: number; units: number; peak: number }>;
}

function groupKey(table: string, index: string | undefined): string {
  return index === undefined ? table : `${table}/index/${index}`;
}

export class ThroughputMeter {
  readonly #limits: CloudLimits['dynamodb'];
  readonly #now: () => number;
  readonly #groups = new Map<string, PartitionState[]>();

  constructor(limits: CloudLimits['dynamodb'], now: () => number) {
    this.#limits = limits;
    this.#now = now;
  }

  /** One partition's own limits. */
  get perPartition(): Throughput {
    return {
      writeUnitsPerSecond: this.#limits.partitionWriteUnitsPerSecond,
      readUnitsPerSecond: this.#limits.partitionReadUnitsPerSecond,
    };
  }

  /** Sets up a table's (or an index's) partitions for its throughput; returns their count. */
  register(table: string, index: string | undefined, throughput: Throughput): number {
    const count = partitionCount(throughput, this.perPartition);
    const now = this.#now();
    const { burstSeconds, partitionWriteUnitsPerSecond, partitionReadUnitsPerSecond } =
      this.#limits;
    const bucket = (rate: number) => new TokenBucket(rate, rate * burstSeconds, now);
    this.#groups.set(
      groupKey(table, index),
      Array.from({ length: count }, () => ({
        buckets: {
          write: bucket(partitionWriteUnitsPerSecond),
          read: bucket(partitionReadUnitsPerSecond),
        },
        window: {
          write: { second: 0, units: 0, peak: 0 },
          read: { second: 0, units: 0, peak: 0 },
        },
      })),
    );
    return count;
  }

  forget(table: string): void {
    for (const key of [...this.#groups.keys()]) {
      if (key === table || key.startsWith(`${table}/index/`)) this.#groups.delete(key);
    }
  }

  /** Partitions of a table or index (0 when it is not registered). */
  partitions(table: string, index?: string): number {
    return this.#groups.get(groupKey(table, index))?.length ?? 0;
  }

  #state(at: PartitionRef): PartitionState {
    const state = this.#groups.get(groupKey(at.table, at.index))?.[at.partition];
    if (state === undefined) {
      throw new Error(
        `no partition ${at.partition} of ${groupKey(at.table, at.index)} is registered`,
      );
    }
    return state;
  }

  /** The charges whose partition cannot take them now (empty: the request may run). */
  blocked(charges: readonly Charge[]): Charge[] {
    const now = this.#now();
    // Charges on the same partition add up before the bucket is asked.
    const totals = new Map<PartitionState, Map<UnitKind, number>>();
    for (const charge of charges) {
      const state = this.#state(charge.at);
      const byKind = totals.get(state) ?? new Map<UnitKind, number>();
      byKind.set(charge.kind, (byKind.get(charge.kind) ?? 0) + charge.units);
      totals.set(state, byKind);
    }
    return charges.filter((charge) => {
      const state = this.#state(charge.at);
      const total = totals.get(state)?.get(charge.kind) ?? charge.units;
      return !state.buckets[charge.kind].admits(total, now);
    });
  }

  /** Takes the charges from their buckets and counts them in their partition's window. */
  take(charges: readonly Charge[]): void {
    const now = this.#now();
    const second = Math.floor(now / 1000);
    for (const charge of charges) {
      if (charge.units === 0) continue;
      const state = this.#state(charge.at);
      state.buckets[charge.kind].take(charge.units, now);
      const window = state.window[charge.kind];
      if (window.second !== second) {
        window.second = second;
        window.units = 0;
      }
      window.units += charge.units;
      window.peak = Math.max(window.peak, window.units);
    }
  }

  /** The most units any one partition consumed in one 1 s window, writes and reads. */
  peaks(): { readonly write: number; readonly read: number } {
    let write = 0;
    let read = 0;
    for (const states of this.#groups.values()) {
      for (const state of states) {
        write = Math.max(write, state.window.write.peak);
        read = Math.max(read, state.window.read.peak);
      }
    }
    return { write, read };
  }
}
