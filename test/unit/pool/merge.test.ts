import { describe, expect, it } from 'vitest';
import type { NumberInput } from '#commons/numbers.ts';
import { checkReply, mergeStrings, packTask, writeFloats, writeReply } from '#pool/merge.ts';
import type { TaskReply } from '#pool/protocol.ts';
import { Run, Task, type TaskLanes } from '#pool/task.ts';

/** A task of values[from..to), packed and begun as the pool does before it posts it. */
function begun(values: NumberInput[], from: number, to: number): { run: Run; task: Task } {
  const run = new Run(
    values,
    1,
    () => {},
    () => {},
  );
  const task = new Task(run, from, to);
  task.begin(7, packTask(values, from, to, new Float64Array(to - from)) as TaskLanes);
  return { run, task };
}

function reply(overrides: Partial<TaskReply> = {}): TaskReply {
  return {
    type: 'result',
    id: 7,
    strings: [],
    nonNumberIndexes: new Uint32Array(),
    nonNumberValues: [],
    ...overrides,
  };
}

describe('Function: packTask', () => {
  it('puts plain numbers in the frame and keeps no positions when there is no string', () => {
    const floats = new Float64Array(3);

    const lanes = packTask([9, 1, 2, 3], 1, 4, floats);

    expect(lanes).toEqual({
      floatCount: 3,
      strings: [],
      floatPositions: undefined,
      stringPositions: undefined,
    });
    expect([...floats]).toEqual([1, 2, 3]);
  });

  it('records where each number and string of a mixed slice goes in the run', () => {
    const floats = new Float64Array(4);

    const lanes = packTask([0, 1, '22', 3, '44'], 1, 5, floats) as TaskLanes;

    expect(lanes.floatCount).toBe(2);
    expect([...floats.subarray(0, 2)]).toEqual([1, 3]);
    expect(lanes.strings).toEqual(['22', '44']);
    expect([...(lanes.floatPositions ?? [])]).toEqual([1, 3]);
    expect([...(lanes.stringPositions ?? [])]).toEqual([2, 4]);
  });

  it('returns a TypeError naming the index of a value that is neither', () => {
    const values = [1, null] as unknown as NumberInput[];

    expect(packTask(values, 0, 2, new Float64Array(2))).toEqual(
      new TypeError('values[1] must be a number or a string, got null'),
    );
  });
});

describe('Function: writeFloats', () => {
  it('writes pieces of a plain slice at from + offset', () => {
    const { run, task } = begun([0, 0, 0, 0, 0], 2, 5);

    writeFloats(task, Float64Array.of(4), 0);
    writeFloats(task, Float64Array.of(9, 16), 1);

    expect(run.results.slice(2)).toEqual([4, 9, 16]);
  });

  it('writes the numbers of a mixed slice at their recorded positions', () => {
    const { run, task } = begun([1, '22', 3], 0, 3);

    writeFloats(task, Float64Array.of(1, 9), 0);

    expect(run.results[0]).toBe(1);
    expect(run.results[2]).toBe(9);
    expect(run.results[1]).toBeUndefined();
  });
});

describe('Function: mergeStrings', () => {
  it('writes a batch of string results at their positions and counts them', () => {
    const { run, task } = begun(['11', 2, '33'], 0, 3);

    expect(mergeStrings(task, { type: 'strings', id: 7, offset: 0, strings: ['121'] })).toBe(
      undefined,
    );

    expect(run.results[0]).toBe('121');
    expect(task.stringsReceived).toBe(1);
  });

  it('names a batch that arrives out of order', () => {
    const { task } = begun(['11', '22'], 0, 2);

    expect(mergeStrings(task, { type: 'strings', id: 7, offset: 1, strings: ['484'] })).toBe(
      'task 7 sent strings from 1 out of order',
    );
  });

  it('names a batch that returns more strings than were sent', () => {
    const { task } = begun(['11'], 0, 1);

    expect(mergeStrings(task, { type: 'strings', id: 7, offset: 0, strings: ['121', '1'] })).toBe(
      'task 7 returned more strings than it was sent',
    );
  });

  it('only counts the batch of a run that has settled', () => {
    const { run, task } = begun(['11', '22'], 0, 2);
    run.fail(new Error('failed elsewhere'));

    mergeStrings(task, { type: 'strings', id: 7, offset: 0, strings: ['121'] });

    expect(task.stringsReceived).toBe(1);
    expect(run.results).toEqual([undefined, undefined]);
  });
});

describe('Function: checkReply', () => {
  it('accepts a reply that returns every string and in-range non-number results', () => {
    const { task } = begun([94_906_266, '22'], 0, 2);

    expect(
      checkReply(
        task,
        reply({
          strings: ['484'],
          nonNumberIndexes: Uint32Array.of(0),
          nonNumberValues: ['9007199326062756'],
        }),
      ),
    ).toBeUndefined();
  });

  it('names a reply that returns fewer strings than were sent', () => {
    const { task } = begun(['11', '22'], 0, 2);

    expect(checkReply(task, reply({ strings: ['121'] }))).toBe(
      'task 7 sent 2 strings, its replies returned 1',
    );
  });

  it('names non-number indexes and values of different lengths', () => {
    const { task } = begun([1], 0, 1);

    expect(checkReply(task, reply({ nonNumberIndexes: Uint32Array.of(0) }))).toBe(
      'task 7 replied with mismatched non-number results',
    );
  });

  it('names a non-number result beyond the frame', () => {
    const { task } = begun([1], 0, 1);

    expect(
      checkReply(task, reply({ nonNumberIndexes: Uint32Array.of(1), nonNumberValues: ['x'] })),
    ).toBe('task 7 replied with a non-number result out of range');
  });
});

describe('Function: writeReply', () => {
  it('writes the last strings and puts non-number results over their frame slots', () => {
    const { run, task } = begun([3, 94_906_266, '22'], 0, 3);
    writeFloats(task, Float64Array.of(9, 0), 0);

    writeReply(
      task,
      reply({
        strings: ['484'],
        nonNumberIndexes: Uint32Array.of(1),
        nonNumberValues: ['9007199326062756'],
      }),
    );

    expect(run.results).toEqual([9, '9007199326062756', '484']);
  });
});
