import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { squareNumber } from '#commons/numbers.ts';
import {
  type ChunkEngine,
  computeChunk,
  createChunkEngine,
} from '../../../functions/worker/compute.ts';

const heavy = Array.from({ length: 8 }, (_, i) => `${i + 1}${'3'.repeat(9_999)}`);

describe('Function: createChunkEngine', () => {
  // A fresh engine (and pool) per test: whether the pool has started is part of what is tested.
  let engine: ChunkEngine;
  let single: ChunkEngine;
  beforeEach(() => {
    engine = createChunkEngine({ poolSize: 2 });
    single = createChunkEngine({ poolSize: 1 });
  });
  afterEach(async () => {
    await Promise.all([engine.destroy(), single.destroy()]);
  });

  it('squares a chunk of plain numbers inline', async () => {
    const numbers = Array.from({ length: 10_000 }, (_, i) => i - 5_000.5);

    expect(engine.usesPool(numbers)).toBe(false);
    expect(await engine.compute(numbers)).toEqual(numbers.map(squareNumber));
    expect(engine.pool.pids).toEqual([]);
  });

  it('sends a chunk of long integers to the pool', async () => {
    expect(engine.usesPool(heavy)).toBe(true);
    expect(await engine.compute(heavy)).toEqual(heavy.map(squareNumber));
    expect(engine.pool.pids).toHaveLength(2);
  });

  it('reuses the same children for the next chunk', async () => {
    await engine.compute(heavy);
    const pids = engine.pool.pids;

    await engine.compute(heavy.slice(0, 4));

    expect(pids).toHaveLength(2);
    expect(engine.pool.pids).toEqual(pids);
  });

  it('never uses a pool of one child', () => {
    expect(single.usesPool(heavy)).toBe(false);
  });

  it('squares a single element inline, however heavy: it cannot be split', () => {
    expect(engine.usesPool(heavy.slice(0, 1))).toBe(false);
  });

  it('squares an empty chunk to no results', async () => {
    expect(await engine.compute([])).toEqual([]);
  });
});

describe('Function: computeChunk', () => {
  it('squares a chunk exactly with the shared engine', async () => {
    const numbers = [3, -0, '12345678901234567890', 94_906_266];

    expect(await computeChunk(numbers)).toEqual(numbers.map(squareNumber));
  });
});
