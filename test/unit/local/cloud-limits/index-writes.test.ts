import { describe, expect, it } from 'vitest';
import { type IndexSchema, indexEntry, indexWrites } from '#local/cloud-limits/index-writes.ts';

/** fanout's sparse index of running jobs: keys only. */
const RUNNING: IndexSchema = {
  name: 'RunningByDeadline',
  keyAttributes: ['runningPk', 'deadlineAt'],
  tableKeyAttributes: ['pk', 'sk'],
  projection: 'KEYS_ONLY',
};

const running = {
  pk: { S: 'JOB#1' },
  sk: { S: 'JOB' },
  runningPk: { S: 'RUNNING' },
  deadlineAt: { N: '1700000000' },
  status: { S: 'RUNNING' },
};
const { runningPk: _pk, deadlineAt: _at, ...finished } = { ...running, status: { S: 'SUCCEEDED' } };

describe('Function: indexEntry', () => {
  it('projects the table and index keys only for a keys-only index', () => {
    expect(indexEntry(running, RUNNING)).toEqual({
      pk: running.pk,
      sk: running.sk,
      runningPk: running.runningPk,
      deadlineAt: running.deadlineAt,
    });
  });

  it('returns undefined when the item lacks an index key attribute (sparse index)', () => {
    expect(indexEntry(finished, RUNNING)).toBeUndefined();
  });
});

describe('Function: indexWrites', () => {
  it('puts the entry when an item enters the index', () => {
    expect(indexWrites(undefined, running, RUNNING).map((write) => write.kind)).toEqual(['put']);
  });

  it('deletes the entry when an update removes the index key (a job leaving RUNNING)', () => {
    const writes = indexWrites(running, finished, RUNNING);
    expect(writes.map((write) => write.kind)).toEqual(['delete']);
    // pk JOB#1, sk JOB, runningPk RUNNING, deadlineAt 1700000000 (2 significant digits: 2 bytes).
    expect(writes[0]?.bytes).toBe(2 + 5 + 2 + 3 + 9 + 7 + 10 + 2);
  });

  it('deletes then puts when an update changes the index key', () => {
    const moved = { ...running, deadlineAt: { N: '1700000060' } };
    expect(indexWrites(running, moved, RUNNING).map((write) => write.kind)).toEqual([
      'delete',
      'put',
    ]);
  });

  it('writes nothing when no projected attribute changes', () => {
    const counted = { ...running, chunksDone: { N: '5' } };
    expect(indexWrites(running, counted, RUNNING)).toEqual([]);
    expect(indexWrites(finished, { ...finished, chunksDone: { N: '1' } }, RUNNING)).toEqual([]);
  });

  it('puts once when a projected non-key attribute changes in an ALL index', () => {
    const all: IndexSchema = { ...RUNNING, projection: 'ALL' };
    const counted = { ...running, chunksDone: { N: '5' } };
    expect(indexWrites(running, counted, all).map((write) => write.kind)).toEqual(['put']);
  });
});
