import { describe, expect, it } from 'vitest';
import { squareNumber } from '#commons/numbers.ts';
import {
  applyInline,
  PLAIN_SQUARE_NS,
  squareKernel,
  workerKernel,
} from '../../../functions/worker/kernel.ts';

describe('Object: squareKernel', () => {
  it('is the kernel the worker runs', () => {
    expect(workerKernel).toBe(squareKernel);
  });

  it('applies squareNumber', () => {
    expect(['12345678901234567890', -0, 0.5, 94_906_266].map(squareKernel.apply)).toEqual(
      ['12345678901234567890', -0, 0.5, 94_906_266].map(squareNumber),
    );
  });

  it('estimates plain numbers at PLAIN_SQUARE_NS each', () => {
    expect(squareKernel.estimateCostNs([1, 2.5, -3], 0, 3)).toBe(3 * PLAIN_SQUARE_NS);
  });

  it('estimates a long integer string far above a plain number', () => {
    const cost = squareKernel.estimateCostNs(['9'.repeat(10_000)], 0, 1);

    expect(cost).toBeGreaterThan(1_000_000);
  });

  it('estimates only the range it is given', () => {
    expect(squareKernel.estimateCostNs(['9'.repeat(10_000), 1, 2], 1, 3)).toBe(2 * PLAIN_SQUARE_NS);
  });
});

describe('Function: applyInline', () => {
  it('applies the kernel to every element, in order', () => {
    expect(applyInline(squareKernel, [3, '-4', 0.5])).toEqual([9, 16, 0.25]);
  });
});
