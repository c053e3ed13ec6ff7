import { describe, expect, it } from 'vitest';
import { MAX_POOL_SIZE } from '#commons/config.ts';
import { MAX_LAMBDA_VCPUS, poolSizeFromEnvironment } from '#pool/options.ts';
import { ProcessPool } from '#pool/pool.ts';

describe('Function: poolSizeFromEnvironment', () => {
  it('returns every visible core off Lambda', () => {
    expect(poolSizeFromEnvironment({}, 8)).toBe(8);
  });

  it('returns at most MAX_POOL_SIZE off Lambda, however many cores are visible', () => {
    expect(poolSizeFromEnvironment({}, MAX_POOL_SIZE + 64)).toBe(MAX_POOL_SIZE);
  });

  it('never needs more than MAX_POOL_SIZE on Lambda', () => {
    expect(MAX_LAMBDA_VCPUS).toBeLessThanOrEqual(MAX_POOL_SIZE);
  });

  it.each([
    [128, 1],
    [1_769, 1],
    [1_770, 2],
    [3_538, 2],
    [5_308, 4],
    [10_240, 6],
  ])('returns ceil(MB / 1,769) vCPUs for %i MB when enough cores are visible', (mb, size) => {
    expect(poolSizeFromEnvironment({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(mb) }, 16)).toBe(size);
  });

  it('caps the vCPUs by the cores visible', () => {
    expect(poolSizeFromEnvironment({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' }, 2)).toBe(2);
  });

  it('throws a RangeError naming the variable when the memory size is not an integer', () => {
    expect(() => poolSizeFromEnvironment({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'lots' }, 2)).toThrow(
      new RangeError(
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a positive integer number of MB, got "lots"',
      ),
    );
  });
});

describe('Class: ProcessPool', () => {
  describe('Property: size', () => {
    it('lets an explicit size override the memory-derived one', () => {
      const previous = process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
      process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = '10240';
      try {
        expect(new ProcessPool({ size: 3 }).size).toBe(3);
      } finally {
        if (previous === undefined) delete process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
        else process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = previous;
      }
    });
  });
});
