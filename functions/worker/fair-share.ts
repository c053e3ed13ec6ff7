/**
 * Splits a worker invocation's time fairly among the records it processes at once, for the
 * per-job cost estimate.
 *
 * Records of one SQS batch run concurrently, so adding up each record's wall time would count
 * the billed time several times over. Instead each moment is split evenly among the records in
 * flight: with 5 records for 1 s, each is charged 200 ms. The shares of a batch add up to the
 * time at least one record was in flight, never more than the invocation's duration.
 *
 * One running integral S(t) = ∫ dt / inFlight(t) makes every update O(1): a record's share
 * from t0 to t1 is S(t1) − S(t0).
 */

/** Milliseconds from an arbitrary origin. */
export type Clock = () => number;

/** One record's claim on the shared time. */
export interface ShareHandle {
  /** The record's share so far, in milliseconds; it keeps counting until `end`. */
  elapsed(): number;
  /** Stops counting and returns the record's share, in milliseconds (idempotent). */
  end(): number;
}

export class FairShareMeter {
  readonly #clock: Clock;
  #inFlight = 0;
  /** S(t) at `#last`. */
  #integral = 0;
  #last: number;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#last = clock();
  }

  /** Records in flight now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  #advance(): number {
    const now = this.#clock();
    if (this.#inFlight > 0 && now > this.#last) {
      this.#integral += (now - this.#last) / this.#inFlight;
    }
    this.#last = Math.max(this.#last, now);
    return this.#integral;
  }

  /** Starts counting one record's share. */
  begin(): ShareHandle {
    const start = this.#advance();
    this.#inFlight++;
    let ended: number | undefined;
    return {
      elapsed: () => ended ?? this.#advance() - start,
      end: () => {
        if (ended === undefined) {
          ended = this.#advance() - start;
          this.#inFlight--;
        }
        return ended;
      },
    };
  }
}
