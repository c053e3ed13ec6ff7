import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { squareNumber } from '#commons/numbers.ts';
import { BUNDLED_CHILD_FILE } from '#pool/child-script.ts';
import { ProcessPool } from '#pool/pool.ts';

const source = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const values = [3, -0, 0.5, 94_906_266, `-${'7'.repeat(2_000)}`, Number.MAX_SAFE_INTEGER];

/**
 * The deployed asset: the worker bundle (index.mjs) with the child built beside it, as the
 * CDK construct does (esbuild does not follow fork() paths).
 */
describe('Class: ProcessPool', () => {
  let directory: string;
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'pool-bundle-'));
    const common = { bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' } as const;
    await Promise.all([
      build({
        ...common,
        entryPoints: [source('functions/worker/pool/child.ts')],
        outfile: join(directory, BUNDLED_CHILD_FILE),
      }),
      build({
        ...common,
        entryPoints: [source('functions/worker/compute.ts')],
        outfile: join(directory, 'index.mjs'),
      }),
    ]);
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('runs the child bundled on its own by esbuild', async () => {
    const pool = new ProcessPool({ size: 2, childScript: join(directory, BUNDLED_CHILD_FILE) });
    try {
      expect(await pool.run(values)).toEqual(values.map(squareNumber));
    } finally {
      await pool.destroy();
    }
  });

  it('finds pool-child.mjs beside the bundle that forks it', async () => {
    const script = `
      import { createChunkEngine } from ${JSON.stringify(pathToFileURL(join(directory, 'index.mjs')).href)};
      const engine = createChunkEngine({ poolSize: 2 });
      const results = await engine.pool.run(${JSON.stringify(values)});
      console.log(JSON.stringify({ results, children: engine.pool.pids.length }));
      await engine.destroy();
    `;

    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '--eval',
      script,
    ]);

    expect(JSON.parse(stdout)).toEqual({ results: values.map(squareNumber), children: 2 });
  });
});
