/**
 * The worker's compute engine: applies the kernel (the square, by default) to one chunk, on
 * the pool's child processes when the chunk repays the trip, inline otherwise.
 *
 * The pool is made once per execution environment (module scope) and reused by every warm
 * invocation; its children start on the first chunk that goes to them, never per invocation
 * and never per number.
 */
import type { NumberInput, SquareResult } from '#commons/numbers.ts';
import { applyInline, type Kernel, workerKernel } from './kernel.ts';
import { type PoolOptions, poolSizeFromEnvironment } from './pool/options.ts';
import { ProcessPool } from './pool/pool.ts';
import { sampleCost } from './pool/split.ts';

/** Squares a chunk: results[i] is the square (the kernel's result) of numbers[i], exactly. */
export type ChunkComputer = (numbers: NumberInput[]) => Promise<SquareResult[]>;

/**
 * What a chunk costs to send through the pool, measured by `npm run bench:pool` on the
 * 2-core dev machine (Node 24, warm pool of 2): a run of one element takes ~80-120 µs there
 * and back, and each plain number adds ~6-8 ns of transport (1M plain numbers: ~8 ms through
 * the pool against ~4 ms inline). A plain square costs ~4-5 ns, so plain numbers never repay
 * the pool, at any chunk size or pool size up to 6; integers of 10,000 digits repay it from
 * 2 per chunk. The bench prints these costs as measured ("pool cost model") next to these
 * constants, and the crossover.
 */
export const POOL_ROUND_TRIP_NS = 100_000;
export const POOL_TRANSPORT_NS_PER_ELEMENT = 8;

/**
 * The rule estimates a chunk's work from this many evenly spaced elements (all of them in a
 * smaller chunk), so deciding costs the same for any chunk size: a pass over every element
 * costs about a third of squaring plain numbers, which the inline path cannot afford. A chunk
 * whose few heavy elements the sample misses is squared inline: correct, if not at best speed.
 */
export const COST_SAMPLE_SIZE = 16;

export interface ChunkEngineOptions {
  /**
   * Children in the pool; 1 means every chunk is computed inline.
   * @default poolSizeFromEnvironment(): the vCPUs the function pays for
   */
  readonly poolSize?: number;
  /**
   * The kernel applied inline. It must be the kernel the children serve (`childScript`).
   * @default workerKernel
   */
  readonly kernel?: Kernel;
  /** Further pool options (the child script, deadlines, queue bound). */
  readonly pool?: Omit<PoolOptions, 'size' | 'estimateCost'>;
}

export interface ChunkEngine {
  /** Computes a chunk, on the pool or inline (see `usesPool`). */
  readonly compute: ChunkComputer;
  /** The engine's pool. Its children start on the first chunk that goes to them. */
  readonly pool: ProcessPool;
  /**
   * The adaptive rule: a chunk goes to the pool when the time the children save,
   * work × (1 − 1/p) with p = min(pool size, element count), exceeds what the trip costs,
   * POOL_ROUND_TRIP_NS + POOL_TRANSPORT_NS_PER_ELEMENT × count. The work is the kernel's
   * estimate, from a sample of COST_SAMPLE_SIZE elements. One child (or one element) never
   * saves time.
   */
  usesPool(numbers: readonly NumberInput[]): boolean;
  /** Ends the pool's children (tests, scripts, the local runner); Lambda needs no call. */
  destroy(): Promise<void>;
}

/** Makes an engine. Call it once per execution environment (module scope), not per invocation. */
export function createChunkEngine(options: ChunkEngineOptions = {}): ChunkEngine {
  const kernel = options.kernel ?? workerKernel;
  const estimate = (values: readonly NumberInput[], from: number, to: number) =>
    kernel.estimateCostNs(values, from, to);
  const pool = new ProcessPool({
    ...options.pool,
    size: options.poolSize ?? poolSizeFromEnvironment(),
    estimateCost: estimate,
  });
  const size = pool.size;

  const usesPool = (numbers: readonly NumberInput[]): boolean => {
    // A chunk is split by element: n elements keep at most n children busy.
    const parallel = Math.min(size, numbers.length);
    if (parallel < 2) return false;
    const workNs = sampleCost(estimate, numbers, 0, numbers.length, COST_SAMPLE_SIZE);
    const savedNs = workNs * (1 - 1 / parallel);
    return savedNs > POOL_ROUND_TRIP_NS + POOL_TRANSPORT_NS_PER_ELEMENT * numbers.length;
  };

  const compute: ChunkComputer = async (numbers) =>
    usesPool(numbers) ? pool.run(numbers) : applyInline(kernel, numbers);

  return { compute, pool, usesPool, destroy: () => pool.destroy() };
}

let sharedEngine: ChunkEngine | undefined;

/**
 * Computes a chunk with the execution environment's shared engine (pool size from the
 * environment), made on first use and reused by every later invocation.
 */
export const computeChunk: ChunkComputer = (numbers) => {
  sharedEngine ??= createChunkEngine();
  return sharedEngine.compute(numbers);
};
