/**
 * A pool of child processes (`node:child_process`) that applies a kernel to arrays of
 * numbers on every vCPU: the cloud form of the tutorial's Process / start() / join() /
 * terminate() / Pipe / Pool, with the discipline of piscina and workerpool:
 *
 * - children are started once and reused (never one per number), and get work only after
 *   their ready handshake;
 * - every request has an id, and each child holds the one it runs (child-handle.ts);
 * - the queue is bounded (QueueFullError);
 * - a task past its deadline has its child killed (SIGKILL) and replaced (TaskTimeoutError);
 * - a child that dies rejects only its own task, which is retried once on a fresh child
 *   before it fails with the exit code or signal (ChildExitError);
 * - children that keep dying before their handshake make the pool give up (PoolStartError);
 * - `destroy()` asks each child to exit, kills it after a timeout, and waits for every exit.
 *
 * A `run()` is split into contiguous slices of equal estimated cost, one per child; results
 * are written back by index, so they come out in input order. Plain numbers travel as binary
 * frames, integer strings over IPC (protocol.ts).
 *
 * This module holds the pool's policy and wires its parts together:
 * - split.ts: the cost balancing, a pure function;
 * - child-handle.ts: one child (PoolChild), its process, sockets, handshake and state;
 * - queue.ts and dispatch.ts: the bounded task queue, and which child gets the next task;
 * - merge.ts: a task's values into the two lanes, and its results back by index;
 * - task.ts: a run and its tasks.
 * What stays here is what spans children: retry on a fresh child, respawn, giving up after
 * repeated start failures, destroy, and whether the children keep the process alive.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { NumberInput, SquareResult } from '#commons/numbers.ts';
import { type ChildEvents, type ChildExit, PoolChild } from './child-handle.ts';
import { countFree, countReady, dispatch } from './dispatch.ts';
import {
  ChildExitError,
  describeType,
  KernelError,
  PoolDestroyedError,
  PoolStartError,
} from './errors.ts';
import { checkReply, mergeStrings, packTask, writeFloats, writeReply } from './merge.ts';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.ts';
import {
  batchByChars,
  createFrame,
  type ParentMessage,
  STRING_BATCH_CHARS,
  type StringResults,
  sealFrame,
  type TaskFailure,
  type TaskReply,
} from './protocol.ts';
import { TaskQueue } from './queue.ts';
import { type Slice, splitByCost } from './split.ts';
import { Run, Task, TaskIds } from './task.ts';

/** A task runs on at most this many children: its first, and one fresh child after a crash. */
const MAX_ATTEMPTS = 2;
/** Bytes of the one buffer every `up` socket reads into (a read returns at most ~200 KB). */
const READ_BUFFER_BYTES = 256 * 1024;

interface StartWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class ProcessPool {
  readonly #options: ResolvedPoolOptions;
  readonly #children = new Set<PoolChild>();
  readonly #queue: TaskQueue;
  readonly #startWaiters: StartWaiter[] = [];
  readonly #ids = new TaskIds();
  /** Every `up` socket reads into this one buffer: each read is consumed before the next. */
  readonly #readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  readonly #events: ChildEvents = {
    ready: () => this.#onReady(),
    taskMessage: (child, task, message) => this.#onTaskMessage(child, task, message),
    frameValues: (task, values, offset) => {
      if (!task.run.settled) writeFloats(task, values, offset);
    },
    frameEnd: (child, task) => this.#completeIfDone(child, task),
    taskFailed: (task, error) => this.#failRun(task.run, error),
    exited: (child, exit) => this.#onExited(child, exit),
  };
  #started = false;
  #startFailures = 0;
  #startError: PoolStartError | undefined;
  #destroyed: Promise<void> | undefined;
  #referenced = true;

  /** Validates `options` (TypeError / RangeError); starts no child until `start()` or `run()`. */
  constructor(options: PoolOptions = {}) {
    this.#options = resolvePoolOptions(options);
    this.#queue = new TaskQueue(this.#options.maxQueue);
  }

  /** How many children the pool keeps running. */
  get size(): number {
    return this.#options.size;
  }

  /** PIDs of the children alive now (starting, ready or stopping). */
  get pids(): number[] {
    const pids: number[] = [];
    for (const child of this.#children) {
      if (child.pid !== undefined) pids.push(child.pid);
    }
    return pids;
  }

  /** Tasks waiting for a free child. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Starts every child and resolves once each has completed its ready handshake. Optional:
   * `run()` starts the children itself, and queues its tasks until they are ready.
   */
  start(): Promise<void> {
    const unavailable = this.#unavailable();
    if (unavailable !== undefined) return Promise.reject(unavailable);
    this.#ensureStarted();
    if (this.#startError !== undefined) return Promise.reject(this.#startError);
    if (countReady(this.#children) >= this.size) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#startWaiters.push({ resolve, reject });
      this.#updateRefs();
    });
  }

  /**
   * Applies the children's kernel to every element: resolves with results[i] for values[i].
   * Rejects with QueueFullError at once when the run's tasks do not fit in the queue.
   */
  run(values: readonly NumberInput[]): Promise<SquareResult[]> {
    const unavailable = this.#unavailable();
    if (unavailable !== undefined) return Promise.reject(unavailable);
    if (!Array.isArray(values)) {
      return Promise.reject(new TypeError(`values must be an array, got ${describeType(values)}`));
    }
    if (values.length === 0) return Promise.resolve([]);
    let slices: Slice[];
    try {
      slices = splitByCost(values, this.size, this.#options.estimateCost);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#ensureStarted();
    if (this.#startError !== undefined) return Promise.reject(this.#startError);
    const full = this.#queue.admit(slices.length, countFree(this.#children));
    if (full !== undefined) return Promise.reject(full);
    return new Promise((resolve, reject) => {
      const run = new Run(values, slices.length, resolve, reject);
      for (const [from, to] of slices) this.#queue.push(new Task(run, from, to));
      this.#dispatch();
    });
  }

  /**
   * Rejects queued and running tasks with PoolDestroyedError, asks every child to exit,
   * kills (SIGKILL) those still alive after `destroyTimeoutMs`, and resolves once every
   * child has exited. Later calls return the same promise.
   */
  destroy(): Promise<void> {
    if (this.#destroyed !== undefined) return this.#destroyed;
    const error = new PoolDestroyedError();
    for (const task of this.#queue.drain()) this.#failRun(task.run, error);
    for (const child of this.#children) {
      const task = child.abandonTask();
      if (task !== undefined) this.#failRun(task.run, error);
    }
    for (const waiter of this.#startWaiters.splice(0)) waiter.reject(error);
    const children = [...this.#children];
    this.#destroyed = Promise.all(children.map((child) => child.exited)).then(() => undefined);
    this.#setRefs(true);
    for (const child of children) child.stop(this.#options.destroyTimeoutMs);
    return this.#destroyed;
  }

  #unavailable(): Error | undefined {
    if (this.#destroyed !== undefined) return new PoolDestroyedError();
    return this.#startError;
  }

  #ensureStarted(): void {
    if (this.#started) return;
    this.#started = true;
    const script = this.#options.childScript;
    const path = typeof script === 'string' ? script : fileURLToPath(script);
    if (!existsSync(path)) {
      this.#giveUp(PoolStartError.missingScript(path));
      return;
    }
    for (let index = 0; index < this.size; index++) this.#spawn();
  }

  #spawn(): void {
    const child = PoolChild.spawn(
      {
        childScript: this.#options.childScript,
        execArgv: this.#options.execArgv,
        startTimeoutMs: this.#options.startTimeoutMs,
        readBuffer: this.#readBuffer,
        referenced: this.#referenced,
      },
      this.#events,
    );
    if (typeof child === 'string') this.#onStartFailure(child);
    else this.#children.add(child);
  }

  #onReady(): void {
    this.#startFailures = 0;
    if (countReady(this.#children) >= this.size) {
      for (const waiter of this.#startWaiters.splice(0)) waiter.resolve();
    }
    this.#dispatch();
  }

  #onTaskMessage(
    child: PoolChild,
    task: Task,
    message: StringResults | TaskReply | TaskFailure,
  ): void {
    if (message.type === 'strings') {
      const problem = mergeStrings(task, message);
      if (problem !== undefined) child.breach(problem);
      return;
    }
    task.reply = message;
    this.#completeIfDone(child, task);
  }

  /** A task is done when both its frame and its IPC reply have arrived (in either order). */
  #completeIfDone(child: PoolChild, task: Task): void {
    const { reply, run } = task;
    if (!task.answered || reply === undefined || child.task !== task) return;
    if (reply.type === 'result') {
      const problem = checkReply(task, reply);
      if (problem !== undefined) {
        child.breach(problem);
        return;
      }
    }
    child.finishTask();
    if (reply.type === 'error') {
      this.#failRun(run, new KernelError(child.pid, reply.name, reply.message, reply.stack));
    } else if (!run.settled) {
      writeReply(task, reply);
      run.taskDone();
    }
    this.#dispatch();
  }

  #dispatch(): void {
    dispatch(this.#queue, this.#children, (child, task) => this.#post(child, task));
    this.#updateRefs();
  }

  /** Sends a task to an idle child, as a new attempt with a new request id. */
  #post(child: PoolChild, task: Task): void {
    const id = this.#ids.next();
    const frame = createFrame(id, task.to - task.from, child.takeSpareFrame());
    const lanes = packTask(task.run.values, task.from, task.to, frame.values);
    if (lanes instanceof TypeError) {
      child.keepSpareFrame(frame.buffer);
      this.#failRun(task.run, lanes);
      return;
    }
    task.begin(id, lanes);
    const [first = [], ...rest] = batchByChars(lanes.strings, STRING_BATCH_CHARS);
    const messages: ParentMessage[] = [
      {
        type: 'task',
        id,
        floatCount: lanes.floatCount,
        stringCount: task.stringCount,
        strings: first,
      },
      ...rest.map((batch): ParentMessage => ({ type: 'more', id, strings: batch })),
    ];
    child.post(
      task,
      sealFrame(frame, lanes.floatCount),
      frame.buffer,
      messages,
      this.#options.taskTimeoutMs,
    );
  }

  #onExited(child: PoolChild, { code, signal, task, startFailure }: ChildExit): void {
    this.#children.delete(child);
    if (task !== undefined) {
      if (task.attempts < MAX_ATTEMPTS) {
        this.#queue.pushFront(task);
      } else {
        this.#failRun(task.run, new ChildExitError(child.pid, code, signal, task.attempts));
      }
    }
    if (this.#destroyed !== undefined) return;
    if (this.#startError !== undefined) {
      // Given up already: nothing will run a retried task.
      this.#giveUp(this.#startError);
      return;
    }
    if (startFailure !== undefined) this.#onStartFailure(startFailure);
    if (this.#startError === undefined && this.#children.size < this.size) this.#spawn();
    this.#dispatch();
  }

  #onStartFailure(reason: string): void {
    this.#startFailures++;
    if (this.#startFailures >= this.#options.maxStartFailures) {
      this.#giveUp(PoolStartError.gaveUp(this.#startFailures, reason));
    }
  }

  /** Stops respawning: queued work and start() waiters are rejected; running tasks finish. */
  #giveUp(error: PoolStartError): void {
    this.#startError ??= error;
    for (const task of this.#queue.drain()) this.#failRun(task.run, this.#startError);
    for (const waiter of this.#startWaiters.splice(0)) waiter.reject(this.#startError);
    this.#updateRefs();
  }

  #failRun(run: Run, error: Error): void {
    // Its other queued tasks are of no use now; free their places in the queue.
    if (run.fail(error)) this.#queue.dropRun(run);
  }

  /**
   * Children keep this process alive only while the pool has work (or is being destroyed);
   * an idle pool does not stop a script from exiting, and its children then exit on their
   * own when the IPC channel closes.
   */
  #updateRefs(): void {
    let running = false;
    for (const child of this.#children) running ||= child.task !== undefined;
    const busy =
      this.#destroyed !== undefined ||
      this.#queue.size > 0 ||
      running ||
      this.#startWaiters.length > 0;
    this.#setRefs(busy);
  }

  #setRefs(referenced: boolean): void {
    if (referenced === this.#referenced) return;
    this.#referenced = referenced;
    for (const child of this.#children) child.setRef(referenced);
  }
}
