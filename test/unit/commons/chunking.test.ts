import { describe, expect, it } from 'vitest';
import { planChunks } from '#commons/chunking.ts';
import { estimateResultBytes } from '#commons/numbers.ts';

describe('Function: planChunks', () => {
  it('cuts by count, covering every index once and in order', () => {
    const numbers = Array.from({ length: 25 }, (_, i) => i);
    expect(planChunks(numbers, 10)).toEqual([
      { offset: 0, count: 10 },
      { offset: 10, count: 10 },
      { offset: 20, count: 5 },
    ]);
  });

  it('returns no chunk for no numbers', () => {
    expect(planChunks([], 10)).toEqual([]);
  });

  it('cuts by estimated result bytes before the count bound', () => {
    const big = '9'.repeat(1_000); // 2,003 estimated bytes each
    const numbers = Array.from({ length: 10 }, () => big);
    const chunks = planChunks(numbers, 100, 5_000);
    expect(chunks).toEqual([
      { offset: 0, count: 2 },
      { offset: 2, count: 2 },
      { offset: 4, count: 2 },
      { offset: 6, count: 2 },
      { offset: 8, count: 2 },
    ]);
    for (const { offset, count } of chunks) {
      const bytes = numbers
        .slice(offset, offset + count)
        .reduce((sum, value) => sum + estimateResultBytes(value), 2);
      expect(bytes).toBeLessThanOrEqual(5_000);
    }
  });

  it('keeps a single oversized element in a chunk of its own', () => {
    expect(planChunks(['9'.repeat(100), 1], 10, 50)).toEqual([
      { offset: 0, count: 1 },
      { offset: 1, count: 1 },
    ]);
  });

  it('rejects a count bound that is not a positive integer', () => {
    expect(() => planChunks([1], 0)).toThrow(RangeError);
    expect(() => planChunks([1], 1.5)).toThrow('maxCount must be a positive integer, got 1.5');
  });
});
