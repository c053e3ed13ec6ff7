import { afterEach, describe, expect, it } from 'vitest';
import { PoolStartError } from '#pool/errors.ts';
import { ProcessPool } from '#pool/pool.ts';
import { fixture } from './helpers.ts';

describe('Class: ProcessPool', () => {
  let pool: ProcessPool | undefined;
  afterEach(async () => {
    await pool?.destroy();
  });

  describe('Method: run', () => {
    it('gives up after maxStartFailures children in a row die before their handshake', async () => {
      pool = new ProcessPool({
        size: 2,
        childScript: fixture('exit-at-start-child.ts'),
        maxStartFailures: 3,
      });

      const run = pool.run([1, 2]);

      await expect(run).rejects.toThrow(PoolStartError);
      await expect(run).rejects.toMatchObject({ failures: 3 });
      await expect(run).rejects.toThrow(/exit code 3 before its ready handshake/);
    });

    it('rejects later work at once and respawns nothing once it has given up', async () => {
      pool = new ProcessPool({ size: 1, childScript: fixture('exit-at-start-child.ts') });
      await expect(pool.start()).rejects.toThrow(PoolStartError);

      await expect(pool.run([1])).rejects.toThrow(PoolStartError);
      expect(pool.pids).toEqual([]);
    });

    it('fails fast when the child script does not exist', async () => {
      pool = new ProcessPool({ size: 1, childScript: '/nonexistent/pool-child.mjs' });

      await expect(pool.run([1])).rejects.toThrow(
        /child script \/nonexistent\/pool-child\.mjs does not exist/,
      );
      expect(pool.pids).toEqual([]);
    });
  });
});
