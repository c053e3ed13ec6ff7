/**
 * Dispatch: which child gets the next task. Every child runs one task at a time, and the
 * slices of a run have about the same estimated cost (split.ts), so the balancer is
 * first-come: the oldest queued task goes to the first idle child. A child is never sent
 * work before its ready handshake (it is `starting` until then, not `idle`).
 */
import type { ChildState } from './child-handle.ts';
import type { TaskQueue } from './queue.ts';
import type { Task } from './task.ts';

/** What the balancer reads of a child (a PoolChild, or a stand-in in tests). */
export interface Dispatchable {
  readonly state: ChildState;
}

/** Children that have completed their handshake (idle or busy). */
export function countReady(children: Iterable<Dispatchable>): number {
  let ready = 0;
  for (const child of children) {
    if (child.state === 'idle' || child.state === 'busy') ready++;
  }
  return ready;
}

/** Children that will take a task without waiting for another to finish. */
export function countFree(children: Iterable<Dispatchable>): number {
  let free = 0;
  for (const child of children) {
    if (child.state === 'idle' || child.state === 'starting') free++;
  }
  return free;
}

export function firstIdle<C extends Dispatchable>(children: Iterable<C>): C | undefined {
  for (const child of children) {
    if (child.state === 'idle') return child;
  }
  return undefined;
}

/**
 * Hands queued tasks to idle children, oldest task first, until either runs out. A task of
 * a run that has settled meanwhile is dropped.
 */
export function dispatch<C extends Dispatchable>(
  queue: TaskQueue,
  children: Iterable<C>,
  post: (child: C, task: Task) => void,
): void {
  while (queue.size > 0) {
    const child = firstIdle(children);
    if (child === undefined) return;
    const task = queue.shift();
    if (task === undefined) return;
    if (!task.run.settled) post(child, task);
  }
}
