import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KernelError } from '#pool/errors.ts';
import { ProcessPool } from '#pool/pool.ts';
import { fixture } from './helpers.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    // A fresh pool per test, so that no test depends on an earlier one's kernel error.
    let pool: ProcessPool;
    beforeEach(async () => {
      pool = new ProcessPool({ size: 1, childScript: fixture('throwing-child.ts') });
      await pool.start();
    });
    afterEach(async () => {
      await pool.destroy();
    });

    it('rejects with the error the kernel threw, without a retry', async () => {
      const run = pool.run([1, 13, 2]);

      await expect(run).rejects.toThrow(KernelError);
      await expect(run).rejects.toThrow(/the kernel threw in child \d+: RangeError: unlucky 13/);
      await expect(run).rejects.toMatchObject({ remoteName: 'RangeError' });
    });

    it('rejects a kernel result that is neither a number nor a string', async () => {
      await expect(pool.run([14])).rejects.toThrow(
        /returned object; a kernel returns a number or a string/,
      );
    });

    it('keeps the child serving after a kernel error', async () => {
      const [pid] = pool.pids;
      await expect(pool.run([13])).rejects.toThrow(KernelError);

      expect(await pool.run([3])).toEqual([9]);
      expect(pool.pids).toEqual([pid]);
    });
  });
});
