/**
 * Cost balancing: how a run is cut into one contiguous slice per child so that each child
 * gets about the same estimated work. Pure functions, no pool state: the pool calls
 * `splitByCost` once per `run()`, and the worker's compute engine uses `sampleCost` to decide
 * whether a chunk repays the trip to the children at all.
 */
import type { NumberInput } from '#commons/numbers.ts';

/** Estimated cost of `values[from..to)`, in any unit; it balances the children's shares. */
export type CostEstimator = (values: readonly NumberInput[], from: number, to: number) => number;

/** A slice of a run, `values[from..to)`, as `[from, to]`. */
export type Slice = [from: number, to: number];

/** Granularity of the cost balancing: a run is costed in up to this many blocks per part. */
export const BALANCE_BLOCKS_PER_PART = 64;

/**
 * Each block is costed from this many of its elements, so the split costs O(parts), not
 * O(run length): a full pass of the square kernel's estimate costs about a third of squaring
 * plain numbers, and 1M numbers spent ~3 ms in it before the first byte was sent.
 */
export const COST_SAMPLES_PER_BLOCK = 4;

/**
 * The cost of `values[from..to)` estimated from `samples` evenly spaced elements (exact when
 * the range has no more elements than that), so that it costs O(samples), not O(range).
 */
export function sampleCost(
  estimate: CostEstimator,
  values: readonly NumberInput[],
  from: number,
  to: number,
  samples: number,
): number {
  const length = to - from;
  if (length <= samples) return estimate(values, from, to);
  let sampled = 0;
  for (let sample = 0; sample < samples; sample++) {
    const index = from + Math.floor(((sample + 0.5) * length) / samples);
    sampled += estimate(values, index, index + 1);
  }
  return (sampled * length) / samples;
}

/**
 * Cuts `values` into at most `parts` contiguous, non-empty slices of about equal estimated
 * cost, in order, covering every index once. The run is costed in blocks (at most
 * BALANCE_BLOCKS_PER_PART per part, each from COST_SAMPLES_PER_BLOCK samples), and each cut
 * falls on the block edge nearer its share of the total. A cost that is not a finite positive
 * number counts as 0; when every block costs 0, the cuts fall by element count instead.
 * Fewer slices than `parts` come back when the run is shorter, or when the cost sits in fewer
 * blocks than there are parts. An empty run is one empty slice.
 */
export function splitByCost(
  values: readonly NumberInput[],
  parts: number,
  estimate: CostEstimator,
): Slice[] {
  const count = values.length;
  const wanted = Math.min(parts, count);
  if (wanted <= 1) return [[0, count]];
  const blocks = Math.min(count, wanted * BALANCE_BLOCKS_PER_PART);
  const blockEnd = (block: number) => Math.round(((block + 1) * count) / blocks);
  const costs = new Float64Array(blocks);
  let total = 0;
  for (let block = 0; block < blocks; block++) {
    const from = block === 0 ? 0 : blockEnd(block - 1);
    const cost = sampleCost(estimate, values, from, blockEnd(block), COST_SAMPLES_PER_BLOCK);
    costs[block] = Number.isFinite(cost) && cost > 0 ? cost : 0;
    total += costs[block] as number;
  }
  const slices: Slice[] = [];
  let from = 0;
  let cumulative = 0;
  let part = 1;
  for (let block = 0; block < blocks && part < wanted; block++) {
    const before = cumulative;
    cumulative += costs[block] as number;
    const target = total > 0 ? (total * part) / wanted : (count * part) / wanted;
    const reached = total > 0 ? cumulative >= target : blockEnd(block) >= target;
    if (!reached) continue;
    // Cut at whichever edge of this block lands nearer the target.
    const cutBefore = total > 0 && target - before < cumulative - target && block > 0;
    const cut = cutBefore ? blockEnd(block - 1) : blockEnd(block);
    if (cut > from && cut < count) {
      slices.push([from, cut]);
      from = cut;
    }
    part++;
  }
  slices.push([from, count]);
  return slices;
}
