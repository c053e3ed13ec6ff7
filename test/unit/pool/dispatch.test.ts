import { describe, expect, it } from 'vitest';
import type { ChildState } from '#pool/child-handle.ts';
import { countFree, countReady, dispatch, firstIdle } from '#pool/dispatch.ts';
import { TaskQueue } from '#pool/queue.ts';
import { Run, Task } from '#pool/task.ts';

interface StandIn {
  name: string;
  state: ChildState;
}

function children(...states: ChildState[]): StandIn[] {
  return states.map((state, index) => ({ name: `child ${index}`, state }));
}

function queueOf(count: number): { run: Run; queue: TaskQueue; tasks: Task[] } {
  const run = new Run(
    Array.from({ length: count }, (_, i) => i),
    count,
    () => {},
    () => {},
  );
  const queue = new TaskQueue(16);
  const tasks = Array.from({ length: count }, (_, i) => new Task(run, i, i + 1));
  for (const task of tasks) queue.push(task);
  return { run, queue, tasks };
}

describe('Function: countReady', () => {
  it('counts the children past their handshake, idle or busy', () => {
    expect(countReady(children('starting', 'idle', 'busy', 'stopping', 'exited'))).toBe(2);
  });
});

describe('Function: countFree', () => {
  it('counts the children that take a task without waiting, idle or starting', () => {
    expect(countFree(children('starting', 'idle', 'busy', 'stopping', 'exited'))).toBe(2);
  });
});

describe('Function: firstIdle', () => {
  it('returns the first idle child, never one still starting', () => {
    const pool = children('starting', 'busy', 'idle', 'idle');

    expect(firstIdle(pool)).toBe(pool[2]);
    expect(firstIdle(children('starting', 'busy'))).toBeUndefined();
  });
});

describe('Function: dispatch', () => {
  it('hands the oldest tasks to the idle children until the children run out', () => {
    const pool = children('idle', 'starting', 'idle');
    const { queue, tasks } = queueOf(3);
    const posted: [string, Task][] = [];

    dispatch(queue, pool, (child, task) => {
      child.state = 'busy';
      posted.push([child.name, task]);
    });

    expect(posted).toEqual([
      ['child 0', tasks[0]],
      ['child 2', tasks[1]],
    ]);
    expect(queue.shift()).toBe(tasks[2]);
  });

  it('drops the tasks of a settled run instead of posting them', () => {
    const { queue, run } = queueOf(2);
    run.fail(new Error('failed elsewhere'));
    const posted: Task[] = [];

    dispatch(queue, children('idle'), (_child, task) => posted.push(task));

    expect(posted).toEqual([]);
    expect(queue.size).toBe(0);
  });
});
