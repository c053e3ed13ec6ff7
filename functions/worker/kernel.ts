/**
 * The worker's CPU kernel: the function applied to every element of a chunk, both in the
 * pool's child processes and inline (for chunks too light to repay the trip to a child).
 *
 * To run your own CPU-heavy function instead of the square, implement `Kernel` and point
 * `workerKernel` at it. The pool, its protocol and the handler do not change: the child
 * entry (`pool/child.ts`) serves `workerKernel`, and `compute.ts` applies the same one inline.
 */
import { type NumberInput, type SquareResult, squareNumber } from '#commons/numbers.ts';

export interface Kernel {
  /** A short name; each child reports it in its ready handshake. */
  readonly name: string;
  /**
   * The result for one element. It runs in the children and inline, so it must be
   * synchronous, deterministic and free of shared state. A plain number reaches it as the
   * same double, bit for bit; an integer string as the same string.
   */
  apply(value: NumberInput): SquareResult;
  /**
   * Estimated single-thread time, in nanoseconds, to apply the kernel to `values[from..to)`.
   * It decides whether a chunk repays the trip to the children and balances the children's
   * shares, so it must cost far less than `apply` (at most a type check per element).
   */
  estimateCostNs(values: readonly NumberInput[], from: number, to: number): number;
}

/** floor(sqrt(2^53 - 1)): an integer beyond it has a square beyond the safe range. */
const MAX_SAFE_SQUARE_ROOT = 94_906_265;

/**
 * Single-thread costs of `squareNumber`, measured by `npm run bench:pool` ("kernel model")
 * on the 2-core dev machine (Node 24): a plain square costs a few ns; a square on the exact
 * BigInt path costs parse + multiply + toString, which grows like digits^1.55 (V8's
 * Karatsuba multiply and divide-and-conquer toString): ~1 µs at 100 digits, ~44 µs at
 * 1,000 and ~1.65 ms at 10,000.
 */
export const PLAIN_SQUARE_NS = 5;
export const BIGINT_SQUARE_BASE_NS = 250;
export const BIGINT_SQUARE_NS_AT_1000_DIGITS = 44_000;
export const BIGINT_SQUARE_DIGITS_EXPONENT = 1.55;
/** A safe integer beyond MAX_SAFE_SQUARE_ROOT has at most 16 digits. */
const UNSAFE_SQUARE_NS = 400;

function bigIntSquareNs(digits: number): number {
  return (
    BIGINT_SQUARE_BASE_NS +
    BIGINT_SQUARE_NS_AT_1000_DIGITS * (digits / 1000) ** BIGINT_SQUARE_DIGITS_EXPONENT
  );
}

/** The default kernel: the exact square of `functions/commons/numbers.ts`. */
export const squareKernel: Kernel = {
  name: 'square',
  apply: squareNumber,
  estimateCostNs(values, from, to) {
    let ns = 0;
    for (let index = from; index < to; index++) {
      const value = values[index];
      if (typeof value === 'string') ns += bigIntSquareNs(value.length);
      else if (
        value !== undefined &&
        (value > MAX_SAFE_SQUARE_ROOT || value < -MAX_SAFE_SQUARE_ROOT)
      )
        ns += UNSAFE_SQUARE_NS;
      else ns += PLAIN_SQUARE_NS;
    }
    return ns;
  },
};

/** The kernel the worker runs, inline and in every child. Swap it here. */
export const workerKernel: Kernel = squareKernel;

/** Applies a kernel to every element on this thread: results[i] = kernel.apply(values[i]). */
export function applyInline(kernel: Kernel, values: readonly NumberInput[]): SquareResult[] {
  const results: SquareResult[] = new Array(values.length);
  for (let index = 0; index < values.length; index++) {
    results[index] = kernel.apply(values[index] as NumberInput);
  }
  return results;
}
