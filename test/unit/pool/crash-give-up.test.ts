import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChildExitError } from '#pool/errors.ts';
import { ProcessPool } from '#pool/pool.ts';
import { fixture } from './helpers.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    // A fresh pool per test, so that no test depends on what an earlier one crashed.
    let pool: ProcessPool;
    beforeEach(async () => {
      pool = new ProcessPool({ size: 2, childScript: fixture('crash-always-child.ts') });
      await pool.start();
    });
    afterEach(async () => {
      await pool.destroy();
    });

    it('rejects with the signal once the task has killed its child on both attempts', async () => {
      const run = pool.run([13]);

      await expect(run).rejects.toThrow(ChildExitError);
      await expect(run).rejects.toMatchObject({
        name: 'ChildExitError',
        signal: 'SIGKILL',
        exitCode: null,
        attempts: 2,
      });
      await expect(run).rejects.toThrow(/exited on signal SIGKILL while running a task/);
    });

    it('rejects with the exit code once the task has ended its child on both attempts', async () => {
      await expect(pool.run([7])).rejects.toMatchObject({ exitCode: 7, signal: null });
    });

    it('keeps serving other runs after replacing the crashed children', async () => {
      await expect(pool.run([13])).rejects.toThrow(ChildExitError);

      expect(await pool.run([1, 2, 3])).toEqual([1, 4, 9]);
    });
  });
});
