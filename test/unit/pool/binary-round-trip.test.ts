import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessPool } from '#pool/pool.ts';
import { fixture } from './helpers.ts';

/** Plain numbers cross as float64 frames; the echo kernel returns each one as it arrived. */
describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    let echo: ProcessPool;
    let square: ProcessPool;
    beforeAll(async () => {
      echo = new ProcessPool({ size: 2, childScript: fixture('echo-child.ts') });
      square = new ProcessPool({ size: 1 });
      await Promise.all([echo.start(), square.start()]);
    });
    afterAll(async () => {
      await Promise.all([echo.destroy(), square.destroy()]);
    });

    it('carries -0 and +0 across bit for bit', async () => {
      const [negative, positive] = await echo.run([-0, 0]);

      expect(Object.is(negative, -0)).toBe(true);
      expect(Object.is(positive, 0)).toBe(true);
    });

    it('squares -0 to +0', async () => {
      const [square0] = await square.run([-0]);

      expect(Object.is(square0, 0)).toBe(true);
    });

    it('carries fractions across bit for bit', async () => {
      const fractions = [0.1, 1 / 3, 2 ** -1074, 1.7976931348623157e308, 5e-324, -2.5];

      expect(await echo.run(fractions)).toEqual(fractions);
    });

    it('carries the largest safe integers across bit for bit', async () => {
      const integers = [Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 - 2];

      expect(await echo.run(integers)).toEqual(integers);
    });

    it('carries negatives across bit for bit', async () => {
      const negatives = [-1, -94_906_266, -123.456, -Number.EPSILON];

      expect(await echo.run(negatives)).toEqual(negatives);
    });

    it('carries runs longer than a read buffer, split across children', async () => {
      const values = Array.from({ length: 200_003 }, (_, i) => i / 7 - 1_000);

      expect(await echo.run(values)).toEqual(values);
    });
  });
});
