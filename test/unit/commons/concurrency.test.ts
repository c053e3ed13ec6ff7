import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '#commons/concurrency.ts';

describe('Function: mapWithConcurrency', () => {
  it('keeps the order of results and at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (value, index) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, value));
      inFlight--;
      return `${index}:${value * 10}`;
    });
    expect(results).toEqual(['0:50', '1:10', '2:40', '3:20', '4:30']);
    expect(most).toBe(2);
  });

  it('resolves an empty list without calling, and rejects with the first error', async () => {
    expect(await mapWithConcurrency([], 3, async () => 1)).toEqual([]);
    await expect(
      mapWithConcurrency([1, 2], 1, async (value) => {
        if (value === 2) throw new Error('two');
        return value;
      }),
    ).rejects.toThrow('two');
  });
});
