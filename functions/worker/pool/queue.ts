/**
 * The pool's task queue: tasks waiting for a free child, oldest first. It is bounded at
 * admission: a `run()` whose tasks would leave more than `maxQueue` waiting is rejected at
 * once with QueueFullError, before any of them is queued. A retried task goes to the front,
 * and the tasks of a run that has failed are dropped, so a failed run frees its places.
 */
import { QueueFullError } from './errors.ts';
import type { Run, Task } from './task.ts';

/** Tasks waiting for a free child, oldest first, bounded by `maxQueue` at admission. */
export class TaskQueue {
  readonly #maxQueue: number;
  #tasks: Task[] = [];

  constructor(maxQueue: number) {
    this.#maxQueue = maxQueue;
  }

  get size(): number {
    return this.#tasks.length;
  }

  /**
   * QueueFullError when `wanted` more tasks would leave more than maxQueue waiting, `free`
   * of them being taken by a child at once; undefined when they fit.
   */
  admit(wanted: number, free: number): QueueFullError | undefined {
    const waiting = this.#tasks.length + wanted - free;
    if (waiting <= this.#maxQueue) return undefined;
    return new QueueFullError(this.#maxQueue, this.#tasks.length, wanted);
  }

  push(task: Task): void {
    this.#tasks.push(task);
  }

  /** A task to retry goes first: it is the oldest work. */
  pushFront(task: Task): void {
    this.#tasks.unshift(task);
  }

  shift(): Task | undefined {
    return this.#tasks.shift();
  }

  /** Drops the tasks of a run that has settled: they would be of no use. */
  dropRun(run: Run): void {
    this.#tasks = this.#tasks.filter((task) => task.run !== run);
  }

  /** Empties the queue and returns what it held. */
  drain(): Task[] {
    const tasks = this.#tasks;
    this.#tasks = [];
    return tasks;
  }
}
