import { describe, expect, it } from 'vitest';
import { QueueFullError } from '#pool/errors.ts';
import { TaskQueue } from '#pool/queue.ts';
import { Run, Task } from '#pool/task.ts';

function tasksOf(count: number): { run: Run; tasks: Task[] } {
  const run = new Run(
    Array.from({ length: count }, (_, i) => i),
    count,
    () => {},
    () => {},
  );
  return { run, tasks: Array.from({ length: count }, (_, i) => new Task(run, i, i + 1)) };
}

describe('Class: TaskQueue', () => {
  describe('Method: admit', () => {
    it('admits tasks that fit, counting those free children take at once', () => {
      const queue = new TaskQueue(2);

      expect(queue.admit(2, 0)).toBeUndefined();
      expect(queue.admit(4, 2)).toBeUndefined();
    });

    it('returns a QueueFullError naming the bound when the tasks do not fit', () => {
      const queue = new TaskQueue(2);
      for (const task of tasksOf(2).tasks) queue.push(task);

      const full = queue.admit(1, 0);

      expect(full).toBeInstanceOf(QueueFullError);
      expect(full?.message).toMatch(/2 of at most 2 tasks are waiting and this run needs 1 more/);
      expect(queue.size).toBe(2);
    });
  });

  describe('Method: shift', () => {
    it('returns the oldest task first, and a retried task before it', () => {
      const queue = new TaskQueue(8);
      const { tasks } = tasksOf(3);
      const [first, second, retried] = tasks;
      queue.push(first as Task);
      queue.push(second as Task);

      queue.pushFront(retried as Task);

      expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
        retried,
        first,
        second,
        undefined,
      ]);
    });
  });

  describe('Method: dropRun', () => {
    it("drops only the given run's tasks", () => {
      const queue = new TaskQueue(8);
      const failed = tasksOf(2);
      const other = tasksOf(1);
      for (const task of [...failed.tasks, ...other.tasks]) queue.push(task);

      queue.dropRun(failed.run);

      expect(queue.drain()).toEqual(other.tasks);
    });
  });

  describe('Method: drain', () => {
    it('returns every task and leaves the queue empty', () => {
      const queue = new TaskQueue(8);
      const { tasks } = tasksOf(3);
      for (const task of tasks) queue.push(task);

      expect(queue.drain()).toEqual(tasks);
      expect(queue.size).toBe(0);
    });
  });
});
