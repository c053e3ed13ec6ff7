/** Waiting between polls, abortable. */

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A growing pause: from `first` ms, ×1.5 each time, at most `max` ms; `reset()` starts over. */
export class Backoff {
  readonly #first: number;
  readonly #max: number;
  #next: number;

  constructor(first = 20, max = 250) {
    this.#first = first;
    this.#max = max;
    this.#next = first;
  }

  /** The pause the next `wait` takes, in ms. */
  get nextDelayMs(): number {
    return this.#next;
  }

  async wait(signal?: AbortSignal): Promise<void> {
    const delay = this.#next;
    this.#next = Math.min(this.#max, Math.ceil(delay * 1.5));
    await sleep(delay, signal);
  }

  reset(): void {
    this.#next = this.#first;
  }
}
