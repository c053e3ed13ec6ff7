import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NumberInput } from '#commons/numbers.ts';
import { squareNumber } from '#commons/numbers.ts';
import { ProcessPool } from '#pool/pool.ts';
import { squareKernel } from '../../../functions/worker/kernel.ts';
import { fixture } from './helpers.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    let pool: ProcessPool;
    let pidPool: ProcessPool;
    beforeAll(async () => {
      pool = new ProcessPool({
        size: 3,
        estimateCost: (values, from, to) => squareKernel.estimateCostNs(values, from, to),
      });
      pidPool = new ProcessPool({ size: 2, childScript: fixture('pid-child.ts') });
      await Promise.all([pool.start(), pidPool.start()]);
    });
    afterAll(async () => {
      await Promise.all([pool.destroy(), pidPool.destroy()]);
    });

    it('splits a run into one contiguous slice per child', async () => {
      const results = await pidPool.run(Array.from({ length: 1_000 }, (_, i) => i));

      const [first, second] = pidPool.pids;
      expect(new Set(results)).toEqual(new Set([first, second]));
      const boundary = results.findIndex((pid) => pid !== results[0]);
      expect(results.slice(boundary).every((pid) => pid === results[boundary])).toBe(true);
    });

    it('returns results in input order across children, strings and numbers interleaved', async () => {
      const values: NumberInput[] = Array.from({ length: 10_001 }, (_, i) =>
        i % 97 === 0 ? `${i}${'7'.repeat(i % 40)}` : (i % 2 === 0 ? i : -i) / 8,
      );

      const results = await pool.run(values);

      expect(results).toEqual(values.map(squareNumber));
    });

    it('keeps concurrent runs apart', async () => {
      const first = Array.from({ length: 5_000 }, (_, i) => i);
      const second = Array.from({ length: 3_000 }, (_, i) => `${i}000000000000`);

      const [firstResults, secondResults] = await Promise.all([pool.run(first), pool.run(second)]);

      expect(firstResults).toEqual(first.map(squareNumber));
      expect(secondResults).toEqual(second.map(squareNumber));
    });
  });
});
