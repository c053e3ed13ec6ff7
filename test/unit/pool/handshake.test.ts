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
    it('sends no work to a child before its ready handshake', async () => {
      // Prepare: the fixture exits with code 99 on any message before it starts serving.
      pool = new ProcessPool({ size: 2, childScript: fixture('late-ready-child.ts') });

      // Act: run before any child can be ready.
      const results = await pool.run([2, 3, 4]);

      // Assess
      expect(results).toEqual([4, 9, 16]);
    });
  });

  describe('Method: start', () => {
    it('resolves once every child has completed its handshake', async () => {
      pool = new ProcessPool({ size: 2 });

      await pool.start();

      expect(pool.pids).toHaveLength(2);
    });

    it('counts a child that never completes its handshake as a start failure', async () => {
      pool = new ProcessPool({
        size: 1,
        childScript: fixture('never-ready-child.ts'),
        startTimeoutMs: 200,
        maxStartFailures: 1,
      });

      const started = pool.start();

      await expect(started).rejects.toThrow(PoolStartError);
      await expect(started).rejects.toThrow(/no ready handshake within 200 ms/);
    });
  });
});
