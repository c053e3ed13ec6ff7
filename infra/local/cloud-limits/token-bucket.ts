/**
 * A token bucket of capacity units: it refills at `ratePerSecond` up to `capacity` (the
 * burst). A request is admitted while the bucket holds at least what it needs, or is full
 * when it needs more than the bucket can hold; what it then costs is taken, and may leave
 * the bucket in debt, which later requests wait out. So the long-run rate never exceeds
 * `ratePerSecond`, and one large item is not refused for ever.
 * Time is passed in (milliseconds), so the bucket is a pure state machine in tests.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, capacity: number, now: number) {
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0))
      throw new RangeError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
    if (!(Number.isFinite(capacity) && capacity > 0))
      throw new RangeError(`capacity must be a positive number, got ${capacity}`);
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.#tokens = capacity;
    this.#at = now;
  }

  /** Units in the bucket at `now` (negative while in debt). */
  tokens(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Whether a request needing `units` may start at `now`. */
  admits(units: number, now: number): boolean {
    this.#refill(now);
    return this.#tokens >= Math.min(units, this.capacity);
  }

  /** Takes `units` (negative gives units back, never above capacity). */
  take(units: number, now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.capacity, this.#tokens - units);
  }

  #refill(now: number): void {
    if (now <= this.#at) return;
    this.#tokens = Math.min(
      this.capacity,
      this.#tokens + ((now - this.#at) / 1000) * this.ratePerSecond,
    );
    this.#at = now;
  }
}
