/**
 * Items held by transactions in flight. An item takes part in one TransactWriteItems at a
 * time: another transaction that touches it is cancelled (TransactionConflict), and a plain
 * PutItem, UpdateItem or DeleteItem on it fails with TransactionConflictException. A
 * transaction holds its items for its forwarded call's duration plus a margin.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling
 */
export class TransactionLocks {
  readonly #now: () => number;
  /** Item key → the transaction holding it, and until when once released (ms). */
  readonly #held = new Map<string, { owner: symbol; until: number }>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Whether another transaction than `owner` holds the item now. */
  isHeld(item: string, owner?: symbol): boolean {
    const hold = this.#held.get(item);
    if (hold === undefined) return false;
    if (hold.until <= this.#now()) {
      this.#held.delete(item);
      return false;
    }
    return hold.owner !== owner;
  }

  /**
   * Takes every item for a new transaction, or none: returns the items another transaction
   * holds (empty when they were all taken) and the owner token to release them with.
   */
  acquire(items: readonly string[]): { readonly owner: symbol; readonly conflicts: string[] } {
    const owner = Symbol('transaction');
    const conflicts = items.filter((item) => this.isHeld(item));
    if (conflicts.length === 0) {
      for (const item of items) this.#held.set(item, { owner, until: Number.POSITIVE_INFINITY });
    }
    return { owner, conflicts };
  }

  /** Ends the hold `marginMs` from now. */
  release(owner: symbol, items: readonly string[], marginMs: number): void {
    const until = this.#now() + marginMs;
    for (const item of items) {
      const hold = this.#held.get(item);
      if (hold?.owner === owner) {
        if (marginMs <= 0) this.#held.delete(item);
        else this.#held.set(item, { owner, until });
      }
    }
  }
}
