import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessPool } from '#pool/pool.ts';
import { fixture, isAlive, waitFor } from './helpers.ts';

describe('Class: ProcessPool', () => {
  describe('Method: run', () => {
    let directory: string;
    let pool: ProcessPool;
    beforeAll(() => {
      directory = mkdtempSync(join(tmpdir(), 'pool-crash-'));
      // The fixture's first child to meet 13 writes its pid here, then blocks.
      process.env.POOL_FIXTURE_MARKER = join(directory, 'blocked-pid');
      pool = new ProcessPool({ size: 2, childScript: fixture('crash-once-child.ts') });
    });
    afterAll(async () => {
      await pool.destroy();
      delete process.env.POOL_FIXTURE_MARKER;
      rmSync(directory, { recursive: true, force: true });
    });

    it('retries the task of a child killed with SIGKILL mid-task on a fresh child, leaving the other child alone', async () => {
      await pool.start();
      const blocked = pool.run([13]);
      const marker = process.env.POOL_FIXTURE_MARKER ?? '';
      await waitFor(() => {
        try {
          return readFileSync(marker, 'utf8').length > 0;
        } catch {
          return false;
        }
      }, 'the child to block on 13');
      const victim = Number(readFileSync(marker, 'utf8'));
      const [bystander] = pool.pids.filter((pid) => pid !== victim);

      // Act: the other child serves a run while the first is stuck, then the first is killed.
      const other = await pool.run([5]);
      process.kill(victim, 'SIGKILL');

      // Assess
      expect(await blocked).toEqual([169]);
      expect(other).toEqual([25]);
      expect(isAlive(victim)).toBe(false);
      expect(bystander).toBeDefined();
      expect(pool.pids).toContain(bystander);
      expect(pool.pids).not.toContain(victim);
    });
  });
});
