import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NumberInput } from '#commons/numbers.ts';
import {
  BALANCE_BLOCKS_PER_PART,
  type CostEstimator,
  sampleCost,
  splitByCost,
} from '#pool/split.ts';

/** Every element costs its own value (so a test can place the cost where it wants). */
const valueCost: CostEstimator = (values, from, to) => {
  let cost = 0;
  for (let index = from; index < to; index++) cost += Number(values[index]);
  return cost;
};
const countCost: CostEstimator = (_values, from, to) => to - from;

function ones(count: number): number[] {
  return Array.from({ length: count }, () => 1);
}

function lengths(slices: readonly [number, number][]): number[] {
  return slices.map(([from, to]) => to - from);
}

describe('Function: sampleCost', () => {
  it('costs a range no longer than the sample exactly', () => {
    expect(sampleCost(valueCost, [1, 2, 3, 4], 1, 4, 8)).toBe(9);
  });

  it('scales a sample of evenly spaced elements up to the whole range', () => {
    const values = Array.from({ length: 1_000 }, () => 3);

    expect(sampleCost(valueCost, values, 0, 1_000, 10)).toBe(3_000);
  });

  it('reads only the sampled elements of a long range', () => {
    const read: number[] = [];
    const spy: CostEstimator = (_values, from, to) => {
      for (let index = from; index < to; index++) read.push(index);
      return to - from;
    };

    expect(sampleCost(spy, ones(100), 0, 100, 4)).toBe(100);
    expect(read).toEqual([12, 37, 62, 87]);
  });
});

describe('Function: splitByCost', () => {
  it('returns one empty slice for an empty run', () => {
    expect(splitByCost([], 4, countCost)).toEqual([[0, 0]]);
  });

  it('returns the whole run as one slice for one part', () => {
    expect(splitByCost(ones(10), 1, countCost)).toEqual([[0, 10]]);
  });

  it('returns one slice per element when the run is shorter than the parts', () => {
    expect(splitByCost([5, 6, 7], 6, countCost)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it('cuts a run of equal costs into equal slices', () => {
    expect(splitByCost(ones(1_000), 4, countCost)).toEqual([
      [0, 250],
      [250, 500],
      [500, 750],
      [750, 1_000],
    ]);
  });

  it('gives a heavy element a slice of its own', () => {
    const values = [1_000, ...ones(9)];

    expect(splitByCost(values, 2, valueCost)).toEqual([
      [0, 1],
      [1, 10],
    ]);
  });

  it('balances by cost, not by count', () => {
    // 100 elements of cost 3, then 100 of cost 1: half the total (400) is reached at 67.
    const values = [...Array.from({ length: 100 }, () => 3), ...ones(100)];

    expect(splitByCost(values, 2, valueCost)).toEqual([
      [0, 67],
      [67, 200],
    ]);
  });

  it('returns fewer slices when the cost sits in fewer blocks than there are parts', () => {
    // All the cost is in the first element: the later cuts land on the next block edges.
    const values = [100, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    expect(splitByCost(values, 4, valueCost)).toEqual([
      [0, 1],
      [1, 2],
      [2, 10],
    ]);
  });

  it.each([
    ['0', 0],
    ['negative', -5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('cuts by element count when every cost is %s', (_name, cost) => {
    expect(splitByCost(ones(90), 3, () => cost)).toEqual([
      [0, 30],
      [30, 60],
      [60, 90],
    ]);
  });

  it('costs a long run in at most BALANCE_BLOCKS_PER_PART blocks per part', () => {
    let calls = 0;
    const counting: CostEstimator = (values, from, to) => {
      calls++;
      return countCost(values, from, to);
    };

    splitByCost(ones(1_000_000), 2, counting);

    // Each block is costed from 4 one-element samples.
    expect(calls).toBe(2 * BALANCE_BLOCKS_PER_PART * 4);
  });

  it('covers every index once, in order, with at most `parts` non-empty slices', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(1_000), fc.constant(0)), { maxLength: 500 }),
        fc.integer({ min: 1, max: 8 }),
        (costs, parts) => {
          const values: NumberInput[] = costs;
          const slices = splitByCost(values, parts, valueCost);

          expect(slices.length).toBeLessThanOrEqual(Math.max(1, parts));
          expect(slices[0]?.[0]).toBe(0);
          expect(slices.at(-1)?.[1]).toBe(values.length);
          for (let index = 1; index < slices.length; index++) {
            expect(slices[index]?.[0]).toBe(slices[index - 1]?.[1]);
          }
          if (values.length > 0) expect(Math.min(...lengths(slices))).toBeGreaterThan(0);
        },
      ),
    );
  });
});
