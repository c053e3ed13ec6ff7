import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueFullError } from '#pool/errors.ts';
import { ProcessPool } from '#pool/pool.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    let pool: ProcessPool;
    beforeAll(async () => {
      pool = new ProcessPool({ size: 1, maxQueue: 1 });
      await pool.start();
    });
    afterAll(async () => {
      await pool.destroy();
    });

    it('rejects a run at once when its tasks do not fit in the queue', async () => {
      // Prepare: the first run takes the only child, the second waits in the queue.
      const running = pool.run([2]);
      const waiting = pool.run([3]);
      expect(pool.queued).toBe(1);

      // Act
      const rejected = pool.run([4]);

      // Assess
      await expect(rejected).rejects.toThrow(QueueFullError);
      await expect(rejected).rejects.toThrow(/1 of at most 1 tasks are waiting/);
      expect(await running).toEqual([4]);
      expect(await waiting).toEqual([9]);
    });
  });
});
