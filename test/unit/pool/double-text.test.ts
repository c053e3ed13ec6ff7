/**
 * The canonical form's exponent text of a big integral double ("3e+100") goes through the pool's
 * string lane like an integer string, and must come back as the double's square, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { squareNumber } from '#commons/numbers.ts';
import { ProcessPool } from '#pool/pool.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    let pool: ProcessPool;
    beforeAll(async () => {
      pool = new ProcessPool({ size: 2 });
      await pool.start();
    });
    afterAll(async () => {
      await pool.destroy();
    });

    it('squares the exponent text of a big integral double as a double, between other elements', async () => {
      // Act
      const results = await pool.run(['3e+100', 2.5, '9007199254740993', '-1e+10', 7]);

      // Assess
      expect(results).toEqual([9e200, 6.25, '81129638414606699710187514626049', 1e20, 49]);
      expect(results).toEqual(['3e+100', 2.5, '9007199254740993', '-1e+10', 7].map(squareNumber));
    });
  });
});
