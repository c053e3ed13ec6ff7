import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { squareNumber } from '#commons/numbers.ts';
import { ProcessPool } from '#pool/pool.ts';

function digits(count: number, seed: number): string {
  let text = String(1 + (seed % 9));
  let state = seed;
  while (text.length < count) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    text += String(state % 10);
  }
  return text;
}

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

    it('squares 10,000-digit integers exactly', async () => {
      const values = [digits(10_000, 1), `-${digits(10_000, 2)}`, digits(10_000, 3)];

      const results = await pool.run(values);

      expect(results).toEqual(values.map(squareNumber));
      const root = BigInt(values[1] as string);
      expect(results[1]).toBe((root * root).toString());
      expect((results[0] as string).length).toBeGreaterThanOrEqual(19_999);
    });

    it('squares safe integers beyond 94,906,265 exactly, as decimal strings', async () => {
      const values = [94_906_265, 94_906_266, -Number.MAX_SAFE_INTEGER];

      const results = await pool.run(values);

      expect(results).toEqual([
        9_007_199_136_250_225,
        '9007199326062756',
        '81129638414606663681390495662081',
      ]);
    });

    it('keeps order when strings go to and from a child in several batches', async () => {
      // 30 integers of 10,000 digits per child: more than one STRING_BATCH_CHARS batch each way.
      const values = Array.from({ length: 60 }, (_, i) => digits(10_000, i + 10));

      const results = await pool.run(values);

      expect(results).toEqual(values.map(squareNumber));
    });

    it('squares small integer strings to JSON numbers', async () => {
      expect(await pool.run(['12', '-3', '0'])).toEqual([144, 9, 0]);
    });
  });
});
