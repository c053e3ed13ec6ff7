import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskTimeoutError } from '#pool/errors.ts';
import { ProcessPool } from '#pool/pool.ts';
import { fixture, isAlive, waitFor } from './helpers.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    // A fresh pool per test, so that no test depends on a child an earlier one killed.
    let pool: ProcessPool;
    beforeEach(async () => {
      pool = new ProcessPool({
        size: 1,
        childScript: fixture('hang-child.ts'),
        taskTimeoutMs: 300,
      });
      await pool.start();
    });
    afterEach(async () => {
      await pool.destroy();
    });

    it('rejects a task past its deadline and kills its child', async () => {
      const [stuck] = pool.pids;

      await expect(pool.run([-1])).rejects.toThrow(new TaskTimeoutError(300, stuck));

      expect(stuck).toBeDefined();
      await waitFor(() => !isAlive(stuck as number), 'the stuck child to be gone');
    });

    it('replaces the killed child', async () => {
      const [stuck] = pool.pids;
      await expect(pool.run([-1])).rejects.toThrow(TaskTimeoutError);

      expect(await pool.run([12])).toEqual([144]);
      expect(pool.pids).toHaveLength(1);
      expect(pool.pids).not.toContain(stuck);
    });
  });
});
