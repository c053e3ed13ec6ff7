/** What the cloud-limits mode counted: DynamoDB units, throttles and conflicts, by client. */

/** Counts of one client (a function's listener) or of all of them. */
export interface DynamoDbUsage {
  /** Read units consumed. */
  readonly readUnits: number;
  /** Write units consumed, index writes included. */
  readonly writeUnits: number;
  /** Requests answered with a throttling error (or throttled whole batches). */
  readonly throttledRequests: number;
  /** Requests refused because an item was held by another transaction. */
  readonly transactionConflicts: number;
}

export interface DynamoDbLimitsReport extends DynamoDbUsage {
  /** The most write units one partition (of any table or index) took in one 1 s window. */
  readonly hottestPartitionPeakWcuPerSecond: number;
  /** The most read units one partition took in one 1 s window. */
  readonly hottestPartitionPeakRcuPerSecond: number;
  /** The same counts for each client (the function logical id, or `external`). */
  readonly byClient: Readonly<Record<string, DynamoDbUsage>>;
}

type Counts = { -readonly [K in keyof DynamoDbUsage]: number };

const zero = (): Counts => ({
  readUnits: 0,
  writeUnits: 0,
  throttledRequests: 0,
  transactionConflicts: 0,
});

export class UsageRecorder {
  readonly #byClient = new Map<string, Counts>();

  #of(client: string): Counts {
    let counts = this.#byClient.get(client);
    if (counts === undefined) {
      counts = zero();
      this.#byClient.set(client, counts);
    }
    return counts;
  }

  add(client: string, what: keyof DynamoDbUsage, amount = 1): void {
    if (amount !== 0) this.#of(client)[what] += amount;
  }

  /** Totals and the counts by client (clients with nothing counted are left out). */
  totals(): DynamoDbUsage & { readonly byClient: Readonly<Record<string, DynamoDbUsage>> } {
    const total = zero();
    const byClient: Record<string, DynamoDbUsage> = {};
    for (const [client, counts] of [...this.#byClient].sort(([a], [b]) => a.localeCompare(b))) {
      byClient[client] = { ...counts };
      for (const key of Object.keys(total) as (keyof Counts)[]) total[key] += counts[key];
    }
    return { ...total, byClient };
  }
}

/** The counts of `after` less those of `before` (a report taken earlier in the same run). */
export function usageSince(after: DynamoDbUsage, before: DynamoDbUsage | undefined): DynamoDbUsage {
  const since = zero();
  for (const key of Object.keys(since) as (keyof Counts)[]) {
    since[key] = after[key] - (before?.[key] ?? 0);
  }
  return since;
}
