import { describe, expect, it } from 'vitest';
import { PoolDestroyedError } from '#pool/errors.ts';
import { ProcessPool } from '#pool/pool.ts';
import { fixture, isAlive } from './helpers.ts';

describe('Class: ProcessPool', () => {
  describe('Method: destroy', () => {
    it('leaves no child process behind', async () => {
      const pool = new ProcessPool({ size: 2 });
      expect(await pool.run([1, 2, 3])).toEqual([1, 4, 9]);
      const pids = pool.pids;
      expect(pids).toHaveLength(2);

      await pool.destroy();

      for (const pid of pids) {
        expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
      }
      expect(pool.pids).toEqual([]);
    });

    it('kills a child that does not exit on request, and rejects its task', async () => {
      const pool = new ProcessPool({
        size: 1,
        childScript: fixture('hang-child.ts'),
        destroyTimeoutMs: 100,
      });
      await pool.start();
      const [stuck] = pool.pids;
      const rejected = expect(pool.run([-1])).rejects.toThrow(PoolDestroyedError);

      await pool.destroy();

      await rejected;
      expect(isAlive(stuck as number)).toBe(false);
    });

    it('ends children that are still starting', async () => {
      const pool = new ProcessPool({ size: 2 });
      const rejected = expect(pool.run([1])).rejects.toThrow(PoolDestroyedError);
      const pids = pool.pids;

      await pool.destroy();

      await rejected;
      expect(pids).toHaveLength(2);
      expect(pids.filter(isAlive)).toEqual([]);
    });

    it('rejects work after destroy', async () => {
      const pool = new ProcessPool({ size: 1 });
      await pool.destroy();

      await expect(pool.run([1])).rejects.toThrow(PoolDestroyedError);
    });
  });
});
