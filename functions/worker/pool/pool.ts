/**
 * A pool of child processes (`node:child_process`) that applies a kernel to arrays of
 * numbers on every vCPU: the cloud form of the tutorial's Process / start() / join() /
 * terminate() / Pipe / Pool, with the discipline of piscina and workerpool:
 *
 * - children are started once and reused (never one per number), and get work only after
 *   their ready handshake;
 * - every request has an id, and a map holds the requests in flight;
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
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NumberInput, SquareResult } from '../../commons/numbers.ts';
import {
  ChildExitError,
  ChildProtocolError,
  KernelError,
  PoolDestroyedError,
  PoolStartError,
  QueueFullError,
  TaskTimeoutError,
} from './errors.ts';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.ts';
import {
  batchByChars,
  createFrame,
  DATA_FD,
  FrameReader,
  isChildMessage,
  type ParentMessage,
  SOCKET_ENV,
  STRING_BATCH_CHARS,
  sealFrame,
  type TaskFailure,
  type TaskReply,
} from './protocol.ts';
import { type Slice, splitByCost } from './split.ts';

/** A task runs on at most this many children: its first, and one fresh child after a crash. */
const MAX_ATTEMPTS = 2;
/** Bytes of the one buffer every `up` socket reads into (a read returns at most ~200 KB). */
const READ_BUFFER_BYTES = 256 * 1024;
/** Children spawned by every pool of this process, to name their sockets apart. */
let spawnedChildren = 0;
/** Task ids travel as u32 in frame headers. */
const MAX_TASK_ID = 0xffff_ffff;

interface Run {
  readonly values: readonly NumberInput[];
  /**
   * Made when the first results arrive rather than in run(): a 1M-element array takes ~3 ms
   * to make, which would otherwise delay the first bytes sent to the children.
   */
  results: SquareResult[] | undefined;
  pendingTasks: number;
  settled: boolean;
  readonly resolve: (results: SquareResult[]) => void;
  readonly reject: (error: Error) => void;
}

/** One slice of a run, sent to one child at a time. */
interface Task {
  readonly run: Run;
  readonly from: number;
  readonly to: number;
  /** Attempts started so far. */
  attempts: number;
  /** Request id of the current attempt (a new one per attempt). */
  id: number;
  child: PoolChild | undefined;
  timer: NodeJS.Timeout | undefined;
  /**
   * Where each plain number's result goes in the run's results, when the task also has
   * integer strings; undefined when all its elements are plain numbers (then from + i).
   */
  floatPositions: Uint32Array | undefined;
  /** Where each integer string's result goes, in order. */
  stringPositions: Uint32Array | undefined;
  floatCount: number;
  stringCount: number;
  /** String-lane results received so far (StringResults messages). */
  stringsReceived: number;
  frameReceived: boolean;
  reply: TaskReply | TaskFailure | undefined;
}

interface PoolChild {
  readonly process: ChildProcess;
  /** Parent -> child numbers (the fork()'s fd 4). */
  readonly down: Socket;
  /** Child -> parent results, connected once the child listens. */
  up: Socket | undefined;
  readonly socketPath: string;
  readonly reader: FrameReader;
  readonly exited: Promise<void>;
  readonly markExited: () => void;
  state: 'starting' | 'idle' | 'busy' | 'stopping';
  task: Task | undefined;
  /** The last sent frame's buffer, free for reuse once it has been written. */
  spareFrame: ArrayBuffer | undefined;
  /** The task whose result frame is arriving, if it is still wanted. */
  receiving: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Why the pool killed it, if it did. */
  killedBecause: string | undefined;
  gone: boolean;
}

interface StartWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

function resultsOf(run: Run): SquareResult[] {
  run.results ??= new Array(run.values.length);
  return run.results;
}

/** Writes a piece of a task's plain-number results into the run's results, by index. */
function writeFloats(task: Task, values: Float64Array, offset: number): void {
  const results = resultsOf(task.run);
  const positions = task.floatPositions;
  if (positions === undefined) {
    const base = task.from + offset;
    for (let index = 0; index < values.length; index++) {
      results[base + index] = values[index] as number;
    }
  } else {
    for (let index = 0; index < values.length; index++) {
      results[positions[offset + index] as number] = values[index] as number;
    }
  }
}

/** Writes the next results of a task's string lane into the run's results, by index. */
function writeStrings(task: Task, strings: readonly SquareResult[]): void {
  const results = resultsOf(task.run);
  const positions = task.stringPositions;
  if (positions !== undefined) {
    for (let index = 0; index < strings.length; index++) {
      results[positions[task.stringsReceived + index] as number] = strings[index] as SquareResult;
    }
  }
  task.stringsReceived += strings.length;
}

/** Writes the rest of a finished task's results: its last strings, its non-number results. */
function writeReply(task: Task, reply: TaskReply): void {
  writeStrings(task, reply.strings);
  const results = resultsOf(task.run);
  const indexes = reply.nonNumberIndexes;
  for (let extra = 0; extra < indexes.length; extra++) {
    const index = indexes[extra] as number;
    const position = task.floatPositions?.[index] ?? task.from + index;
    results[position] = reply.nonNumberValues[extra] as string;
  }
}

/** Why a reply cannot be merged into its task, or undefined when it can. */
function checkReply(task: Task, reply: TaskReply): string | undefined {
  const returned = task.stringsReceived + reply.strings.length;
  if (returned !== task.stringCount) {
    return `task ${task.id} sent ${task.stringCount} strings, its replies returned ${returned}`;
  }
  const indexes = reply.nonNumberIndexes;
  if (indexes.length !== reply.nonNumberValues.length) {
    return `task ${task.id} replied with mismatched non-number results`;
  }
  for (const index of indexes) {
    if (index >= task.floatCount) {
      return `task ${task.id} replied with a non-number result out of range`;
    }
  }
  return undefined;
}

export class ProcessPool {
  readonly #options: ResolvedPoolOptions;
  readonly #children = new Set<PoolChild>();
  /** Tasks waiting for a free child, oldest first. */
  #queue: Task[] = [];
  /** Requests in flight, by id. */
  readonly #inFlight = new Map<number, Task>();
  readonly #startWaiters: StartWaiter[] = [];
  #nextId = 0;
  /** Every `up` socket reads into this one buffer: each read is consumed before the next. */
  readonly #readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  #started = false;
  #startFailures = 0;
  #startError: PoolStartError | undefined;
  #destroyed: Promise<void> | undefined;
  #referenced = true;

  /** Validates `options` (TypeError / RangeError); starts no child until `start()` or `run()`. */
  constructor(options: PoolOptions = {}) {
    this.#options = resolvePoolOptions(options);
  }

  /** How many children the pool keeps running. */
  get size(): number {
    return this.#options.size;
  }

  /** PIDs of the children alive now (starting, ready or stopping). */
  get pids(): number[] {
    const pids: number[] = [];
    for (const child of this.#children) {
      if (child.process.pid !== undefined) pids.push(child.process.pid);
    }
    return pids;
  }

  /** Tasks waiting for a free child. */
  get queued(): number {
    return this.#queue.length;
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
    if (this.#readyCount() >= this.size) return Promise.resolve();
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
      return Promise.reject(new TypeError(`values must be an array, got ${describe(values)}`));
    }
    if (values.length === 0) return Promise.resolve([]);
    let ranges: Slice[];
    try {
      ranges = splitByCost(values, this.size, this.#options.estimateCost);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#ensureStarted();
    if (this.#startError !== undefined) return Promise.reject(this.#startError);
    const waiting = this.#queue.length + ranges.length - this.#freeSlots();
    if (waiting > this.#options.maxQueue) {
      return Promise.reject(
        new QueueFullError(this.#options.maxQueue, this.#queue.length, ranges.length),
      );
    }
    return new Promise((resolve, reject) => {
      const run: Run = {
        values,
        results: undefined,
        pendingTasks: ranges.length,
        settled: false,
        resolve,
        reject,
      };
      for (const [from, to] of ranges) {
        this.#queue.push({
          run,
          from,
          to,
          attempts: 0,
          id: 0,
          child: undefined,
          timer: undefined,
          floatPositions: undefined,
          stringPositions: undefined,
          floatCount: 0,
          stringCount: 0,
          stringsReceived: 0,
          frameReceived: false,
          reply: undefined,
        });
      }
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
    for (const task of this.#queue) this.#failRun(task.run, error);
    this.#queue = [];
    for (const task of [...this.#inFlight.values()]) {
      this.#detach(task);
      this.#failRun(task.run, error);
    }
    for (const waiter of this.#startWaiters.splice(0)) waiter.reject(error);
    const children = [...this.#children];
    this.#destroyed = Promise.all(children.map((child) => child.exited)).then(() => undefined);
    this.#setRefs(true);
    for (const child of children) this.#stop(child);
    return this.#destroyed;
  }

  #unavailable(): Error | undefined {
    if (this.#destroyed !== undefined) return new PoolDestroyedError();
    return this.#startError;
  }

  #readyCount(): number {
    let ready = 0;
    for (const child of this.#children) {
      if (child.state === 'idle' || child.state === 'busy') ready++;
    }
    return ready;
  }

  /** Children that will take a task without waiting for another to finish. */
  #freeSlots(): number {
    let free = 0;
    for (const child of this.#children) {
      if (child.state === 'idle' || child.state === 'starting') free++;
    }
    return free;
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

  /** Where a new child listens for `up`: a socket file in the OS temp directory. */
  #socketPath(): string {
    spawnedChildren++;
    const name = `fanout-pool-${process.pid}-${spawnedChildren}-${randomBytes(4).toString('hex')}`;
    return join(tmpdir(), `${name}.sock`);
  }

  #spawn(): void {
    const socketPath = this.#socketPath();
    let subprocess: ChildProcess;
    try {
      subprocess = fork(this.#options.childScript, [], {
        serialization: 'advanced',
        // fd 3: the IPC channel; fd 4: `down`. stdout/stderr go to the function's logs, so a
        // child's crash report is not lost.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
        execArgv: [...this.#options.execArgv],
        env: { ...process.env, [SOCKET_ENV]: socketPath },
      });
    } catch (error) {
      this.#onStartFailure(
        `fork failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const down = subprocess.stdio[DATA_FD];
    if (!(down instanceof Socket)) {
      subprocess.kill('SIGKILL');
      this.#onStartFailure('the child has no socket on fd 4');
      return;
    }
    let markExited = () => {};
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const child: PoolChild = {
      process: subprocess,
      down,
      up: undefined,
      socketPath,
      reader: new FrameReader({
        start: (id, count) => this.#onFrameStart(child, id, count),
        values: (values, offset) => {
          const task = child.receiving;
          if (task !== undefined && !task.run.settled) writeFloats(task, values, offset);
        },
        end: () => this.#onFrameEnd(child),
      }),
      exited,
      markExited,
      state: 'starting',
      task: undefined,
      spareFrame: undefined,
      receiving: undefined,
      timer: undefined,
      killedBecause: undefined,
      gone: false,
    };
    this.#children.add(child);
    // EPIPE / ECONNRESET when a child dies: its 'exit' handles that.
    down.on('error', () => {});
    subprocess.on('message', (message: unknown) => this.#onMessage(child, message));
    subprocess.once('exit', (code, signal) => this.#onGone(child, code, signal));
    subprocess.on('error', (error) => {
      // A failed spawn has no pid and may emit no 'exit'; other errors precede an 'exit'.
      if (subprocess.pid === undefined) this.#onGone(child, null, null, error.message);
    });
    child.timer = setTimeout(() => {
      if (child.state !== 'starting') return;
      child.killedBecause = `no ready handshake within ${this.#options.startTimeoutMs} ms`;
      subprocess.kill('SIGKILL');
    }, this.#options.startTimeoutMs);
    child.timer.unref();
    this.#setRef(child, this.#referenced);
  }

  /** Second step of the handshake: connect to the child's `up` socket. */
  #connectUp(child: PoolChild): void {
    const up = connect({
      path: child.socketPath,
      onread: {
        buffer: this.#readBuffer,
        callback: (bytes, buffer) => {
          try {
            child.reader.push(buffer.subarray(0, bytes));
          } catch (error) {
            this.#breach(child, error instanceof Error ? error.message : String(error));
          }
          return true;
        },
      },
    });
    child.up = up;
    up.on('error', () => {});
    up.on('close', () => {
      // A child that dies closes `up`, often before its 'exit' is seen: kill it in case it
      // lives on, and let the exit handling (retry, respawn) do the rest.
      if (child.gone) return;
      if (child.state === 'starting') child.killedBecause ??= 'its up socket closed';
      child.process.kill('SIGKILL');
    });
    this.#setRef(child, this.#referenced);
  }

  #onMessage(child: PoolChild, message: unknown): void {
    if (!isChildMessage(message)) {
      this.#breach(child, `unexpected message: ${describe(message)}`);
      return;
    }
    if (message.type === 'listening') {
      if (child.state !== 'starting' || child.up !== undefined) {
        this.#breach(child, 'an unexpected listening message');
      } else {
        this.#connectUp(child);
      }
      return;
    }
    if (message.type === 'ready') {
      this.#onReady(child);
      return;
    }
    const task = this.#inFlight.get(message.id);
    if (task === undefined || task.child !== child || task.reply !== undefined) return;
    if (message.type === 'strings') {
      if (message.offset !== task.stringsReceived) {
        this.#breach(child, `task ${task.id} sent strings from ${message.offset} out of order`);
      } else if (task.stringsReceived + message.strings.length > task.stringCount) {
        this.#breach(child, `task ${task.id} returned more strings than it was sent`);
      } else if (!task.run.settled) {
        writeStrings(task, message.strings);
      } else {
        task.stringsReceived += message.strings.length;
      }
      return;
    }
    task.reply = message;
    this.#completeIfDone(task);
  }

  #onReady(child: PoolChild): void {
    if (child.state !== 'starting' || child.up === undefined) {
      if (child.state !== 'stopping') this.#breach(child, 'an unexpected ready message');
      return;
    }
    clearTimeout(child.timer);
    child.state = 'idle';
    this.#startFailures = 0;
    if (this.#readyCount() >= this.size) {
      for (const waiter of this.#startWaiters.splice(0)) waiter.resolve();
    }
    this.#dispatch();
  }

  #onFrameStart(child: PoolChild, id: number, count: number): void {
    const task = this.#inFlight.get(id);
    child.receiving = task !== undefined && task.child === child ? task : undefined;
    if (child.receiving !== undefined && count !== child.receiving.floatCount) {
      const expected = child.receiving.floatCount;
      child.receiving = undefined;
      throw new RangeError(`task ${id} sent ${expected} numbers, its frame returns ${count}`);
    }
  }

  #onFrameEnd(child: PoolChild): void {
    const task = child.receiving;
    child.receiving = undefined;
    if (task === undefined) return;
    task.frameReceived = true;
    this.#completeIfDone(task);
  }

  /** A task is done when both its frame and its IPC reply have arrived (in either order). */
  #completeIfDone(task: Task): void {
    const { child, reply, run } = task;
    if (!task.frameReceived || reply === undefined || child === undefined) return;
    if (reply.type === 'result') {
      const problem = checkReply(task, reply);
      if (problem !== undefined) {
        this.#breach(child, problem);
        return;
      }
    }
    this.#detach(task);
    child.state = 'idle';
    if (reply.type === 'error') {
      this.#failRun(
        run,
        new KernelError(child.process.pid, reply.name, reply.message, reply.stack),
      );
    } else if (!run.settled) {
      writeReply(task, reply);
      run.pendingTasks--;
      if (run.pendingTasks === 0) {
        run.settled = true;
        run.resolve(resultsOf(run));
      }
    }
    this.#dispatch();
  }

  /** Takes a task off its child and out of the in-flight map. */
  #detach(task: Task): void {
    clearTimeout(task.timer);
    task.timer = undefined;
    this.#inFlight.delete(task.id);
    if (task.child !== undefined) task.child.task = undefined;
    task.child = undefined;
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const child = this.#idleChild();
      if (child === undefined) break;
      const task = this.#queue.shift();
      if (task === undefined) break;
      if (!task.run.settled) this.#send(child, task);
    }
    this.#updateRefs();
  }

  #idleChild(): PoolChild | undefined {
    for (const child of this.#children) {
      if (child.state === 'idle') return child;
    }
    return undefined;
  }

  #send(child: PoolChild, task: Task): void {
    this.#nextId = this.#nextId >= MAX_TASK_ID ? 1 : this.#nextId + 1;
    const id = this.#nextId;
    const { values } = task.run;
    const frame = createFrame(id, task.to - task.from, child.spareFrame);
    child.spareFrame = undefined;
    const floats = frame.values;
    const strings: string[] = [];
    let floatCount = 0;
    for (let index = task.from; index < task.to; index++) {
      const value = values[index];
      if (typeof value === 'number') {
        floats[floatCount++] = value;
      } else if (typeof value === 'string') {
        strings.push(value);
      } else {
        child.spareFrame = frame.buffer;
        this.#failRun(
          task.run,
          new TypeError(`values[${index}] must be a number or a string, got ${describe(value)}`),
        );
        return;
      }
    }
    let floatPositions: Uint32Array | undefined;
    let stringPositions: Uint32Array | undefined;
    if (strings.length > 0) {
      floatPositions = new Uint32Array(floatCount);
      stringPositions = new Uint32Array(strings.length);
      let float = 0;
      let string = 0;
      for (let index = task.from; index < task.to; index++) {
        if (typeof values[index] === 'string') stringPositions[string++] = index;
        else floatPositions[float++] = index;
      }
    }
    task.id = id;
    task.child = child;
    task.floatPositions = floatPositions;
    task.stringPositions = stringPositions;
    task.floatCount = floatCount;
    task.stringCount = strings.length;
    task.stringsReceived = 0;
    task.frameReceived = false;
    task.reply = undefined;
    task.attempts++;
    child.task = task;
    child.state = 'busy';
    this.#inFlight.set(id, task);
    const bytes = sealFrame(frame, floatCount);
    child.down.write(bytes, (error) => {
      if (error === undefined || error === null) child.spareFrame = frame.buffer;
    });
    const [first = [], ...rest] = batchByChars(strings, STRING_BATCH_CHARS);
    const messages: ParentMessage[] = [
      { type: 'task', id, floatCount, stringCount: strings.length, strings: first },
      ...rest.map((batch): ParentMessage => ({ type: 'more', id, strings: batch })),
    ];
    // A failed send means the child is gone; its 'exit' retries the task.
    for (const message of messages) child.process.send(message, undefined, undefined, () => {});
    task.timer = setTimeout(() => this.#onTimeout(task), this.#options.taskTimeoutMs);
    task.timer.unref();
  }

  #onTimeout(task: Task): void {
    const child = task.child;
    if (child === undefined) return;
    this.#detach(task);
    child.state = 'stopping';
    child.killedBecause = `a task ran past its ${this.#options.taskTimeoutMs} ms deadline`;
    this.#failRun(task.run, new TaskTimeoutError(this.#options.taskTimeoutMs, child.process.pid));
    child.process.kill('SIGKILL');
  }

  /** The child broke the protocol: its task fails (no retry) and it is replaced. */
  #breach(child: PoolChild, problem: string): void {
    const task = child.task;
    if (task !== undefined) {
      this.#detach(task);
      this.#failRun(task.run, new ChildProtocolError(`child ${child.process.pid}: ${problem}`));
    }
    if (child.state === 'stopping') return;
    child.killedBecause ??= `it broke the protocol: ${problem}`;
    if (child.state !== 'starting') child.state = 'stopping';
    child.process.kill('SIGKILL');
  }

  #onGone(
    child: PoolChild,
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError?: string,
  ): void {
    if (child.gone) return;
    child.gone = true;
    clearTimeout(child.timer);
    child.down.destroy();
    child.up?.destroy();
    // A child that died before it accepted `up` leaves its socket file behind.
    rmSync(child.socketPath, { force: true });
    this.#children.delete(child);
    child.markExited();
    const wasStarting = child.state === 'starting';
    const task = child.task;
    if (task !== undefined) {
      this.#detach(task);
      if (task.attempts < MAX_ATTEMPTS) {
        this.#queue.unshift(task);
      } else {
        this.#failRun(task.run, new ChildExitError(child.process.pid, code, signal, task.attempts));
      }
    }
    if (this.#destroyed !== undefined) return;
    if (this.#startError !== undefined) {
      // Given up already: nothing will run a retried task.
      this.#giveUp(this.#startError);
      return;
    }
    if (wasStarting) {
      const how =
        child.killedBecause ??
        spawnError ??
        `it exited with ${describeExit(code, signal)} before its ready handshake`;
      this.#onStartFailure(`child ${child.process.pid ?? '?'} failed to start: ${how}`);
    }
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
    for (const task of this.#queue) this.#failRun(task.run, this.#startError);
    this.#queue = [];
    for (const waiter of this.#startWaiters.splice(0)) waiter.reject(this.#startError);
    this.#updateRefs();
  }

  #failRun(run: Run, error: Error): void {
    if (run.settled) return;
    run.settled = true;
    run.reject(error);
    // Its other queued tasks are of no use now; free their places in the queue.
    this.#queue = this.#queue.filter((task) => task.run !== run);
  }

  /** Asks a child to exit; kills it if it is still alive after destroyTimeoutMs. */
  #stop(child: PoolChild): void {
    const wasStarting = child.state === 'starting';
    child.state = 'stopping';
    clearTimeout(child.timer);
    if (wasStarting || !child.process.connected) {
      // It has no work and may not listen yet: nothing to wait for.
      child.process.kill('SIGKILL');
      return;
    }
    child.process.send({ type: 'exit' } satisfies ParentMessage, undefined, undefined, () => {});
    child.timer = setTimeout(() => child.process.kill('SIGKILL'), this.#options.destroyTimeoutMs);
  }

  /**
   * Children keep this process alive only while the pool has work (or is being destroyed);
   * an idle pool does not stop a script from exiting, and its children then exit on their
   * own when the IPC channel closes.
   */
  #updateRefs(): void {
    const busy =
      this.#destroyed !== undefined ||
      this.#queue.length > 0 ||
      this.#inFlight.size > 0 ||
      this.#startWaiters.length > 0;
    this.#setRefs(busy);
  }

  #setRefs(referenced: boolean): void {
    if (referenced === this.#referenced) return;
    this.#referenced = referenced;
    for (const child of this.#children) this.#setRef(child, referenced);
  }

  #setRef(child: PoolChild, referenced: boolean): void {
    if (referenced) {
      child.process.ref();
      child.process.channel?.ref();
      child.down.ref();
      child.up?.ref();
    } else {
      child.process.unref();
      child.process.channel?.unref();
      child.down.unref();
      child.up?.unref();
    }
  }
}
