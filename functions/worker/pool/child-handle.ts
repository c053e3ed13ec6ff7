/**
 * One child process of the pool, as the parent sees it. A PoolChild owns its process, its
 * two data sockets and its state, and makes every transition of that state itself:
 * - starting -> idle: the ready handshake (`listening`, the parent connects `up`, `ready`);
 * - idle -> busy: post(task); busy -> idle: finishTask();
 * - -> stopping: its task's deadline passed, it broke the protocol, or stop() (destroy); a
 *   breach during the handshake kills it without leaving `starting`, so it is a failed start;
 * - -> exited: its process exited, whatever the state.
 *
 * It reports to the pool through ChildEvents: when it is ready, what its current task
 * receives, when a task must fail because of the child (a timeout, a protocol breach), and
 * when it has exited. What to do then (merge, retry, respawn, give up) is the pool's.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChildProtocolError, describeType, TaskTimeoutError } from './errors.ts';
import {
  DATA_FD,
  FrameReader,
  isChildMessage,
  type ParentMessage,
  SOCKET_ENV,
  type StringResults,
  type TaskFailure,
  type TaskReply,
} from './protocol.ts';
import type { Task } from './task.ts';

export type ChildState = 'starting' | 'idle' | 'busy' | 'stopping' | 'exited';

/** Children spawned by every pool of this process, to name their sockets apart. */
let spawnedChildren = 0;

export interface SpawnOptions {
  readonly childScript: string | URL;
  readonly execArgv: readonly string[];
  /** A child that has not completed its ready handshake by then is killed. */
  readonly startTimeoutMs: number;
  /** The buffer `up` reads into; a pool's children share one, each read consumed at once. */
  readonly readBuffer: Uint8Array;
  /** Whether the child keeps this process alive from the start (see setRef). */
  readonly referenced: boolean;
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The task it was running when it died, now taken off it. */
  readonly task: Task | undefined;
  /** Why it failed to start, when it died before its ready handshake; else undefined. */
  readonly startFailure: string | undefined;
}

export interface ChildEvents {
  /** The child completed its ready handshake and is idle. */
  ready(child: PoolChild): void;
  /** A message for the child's current task: strings, its reply, or its kernel's error. */
  taskMessage(child: PoolChild, task: Task, message: StringResults | TaskReply | TaskFailure): void;
  /** The next plain-number results of the current task; `values` is valid only in the call. */
  frameValues(task: Task, values: Float64Array, offset: number): void;
  /** The current task's result frame is complete. */
  frameEnd(child: PoolChild, task: Task): void;
  /** The child lost its task and it must fail with `error` (a timeout, a protocol breach). */
  taskFailed(task: Task, error: Error): void;
  /** The child has exited; its sockets are closed and it reports nothing more. */
  exited(child: PoolChild, exit: ChildExit): void;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal === null ? `exit code ${code}` : `signal ${signal}`;
}

/** Where a new child listens for `up`: a socket file in the OS temp directory. */
function nextSocketPath(): string {
  spawnedChildren++;
  const name = `fanout-pool-${process.pid}-${spawnedChildren}-${randomBytes(4).toString('hex')}`;
  return join(tmpdir(), `${name}.sock`);
}

export class PoolChild {
  readonly #process: ChildProcess;
  /** Parent -> child numbers (the fork()'s fd 4). */
  readonly #down: Socket;
  /** Child -> parent results, connected once the child listens. */
  #up: Socket | undefined;
  readonly #socketPath: string;
  readonly #readBuffer: Uint8Array;
  readonly #events: ChildEvents;
  readonly #reader: FrameReader;
  readonly #exited: Promise<void>;
  #markExited: () => void = () => {};
  #state: ChildState = 'starting';
  #task: Task | undefined;
  /** The task whose result frame is arriving, if it is still this child's. */
  #receiving: Task | undefined;
  /** The last sent frame's buffer, free for reuse once it has been written. */
  #spareFrame: ArrayBuffer | undefined;
  /** The handshake deadline, then (in stop()) the exit deadline. */
  #timer: NodeJS.Timeout | undefined;
  /** The current task's deadline. */
  #taskTimer: NodeJS.Timeout | undefined;
  /** Why the pool killed it, if it did. */
  #killedBecause: string | undefined;
  #referenced = true;

  /**
   * Forks a child and starts its handshake. Returns why it could not, as a sentence, when
   * no process could be started (the pool counts that as a start failure).
   */
  static spawn(options: SpawnOptions, events: ChildEvents): PoolChild | string {
    const socketPath = nextSocketPath();
    let subprocess: ChildProcess;
    try {
      subprocess = fork(options.childScript, [], {
        serialization: 'advanced',
        // fd 3: the IPC channel; fd 4: `down`. stdout/stderr go to the function's logs, so a
        // child's crash report is not lost.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
        execArgv: [...options.execArgv],
        env: { ...process.env, [SOCKET_ENV]: socketPath },
      });
    } catch (error) {
      return `fork failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    const down = subprocess.stdio[DATA_FD];
    if (!(down instanceof Socket)) {
      subprocess.kill('SIGKILL');
      return 'the child has no socket on fd 4';
    }
    return new PoolChild(subprocess, down, socketPath, options, events);
  }

  /** Use PoolChild.spawn(). */
  constructor(
    subprocess: ChildProcess,
    down: Socket,
    socketPath: string,
    options: SpawnOptions,
    events: ChildEvents,
  ) {
    this.#process = subprocess;
    this.#down = down;
    this.#socketPath = socketPath;
    this.#readBuffer = options.readBuffer;
    this.#events = events;
    this.#exited = new Promise<void>((resolve) => {
      this.#markExited = resolve;
    });
    this.#reader = new FrameReader({
      start: (id, count) => this.#onFrameStart(id, count),
      values: (values, offset) => {
        const task = this.#receiving;
        if (task !== undefined) this.#events.frameValues(task, values, offset);
      },
      end: () => this.#onFrameEnd(),
    });
    // EPIPE / ECONNRESET when a child dies: its 'exit' handles that.
    down.on('error', () => {});
    subprocess.on('message', (message: unknown) => this.#onMessage(message));
    subprocess.once('exit', (code, signal) => this.#onExit(code, signal));
    subprocess.on('error', (error) => {
      // A failed spawn has no pid and may emit no 'exit'; other errors precede an 'exit'.
      if (subprocess.pid === undefined) this.#onExit(null, null, error.message);
    });
    this.#timer = setTimeout(() => {
      if (this.#state !== 'starting') return;
      this.#killedBecause = `no ready handshake within ${options.startTimeoutMs} ms`;
      subprocess.kill('SIGKILL');
    }, options.startTimeoutMs);
    this.#timer.unref();
    this.setRef(options.referenced);
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  get state(): ChildState {
    return this.#state;
  }

  /** The task it is running, if any. */
  get task(): Task | undefined {
    return this.#task;
  }

  /** Resolves once the process has exited. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /** Takes the buffer of its last written frame, to build the next frame in. */
  takeSpareFrame(): ArrayBuffer | undefined {
    const spare = this.#spareFrame;
    this.#spareFrame = undefined;
    return spare;
  }

  /** Gives back a frame buffer that was not sent. */
  keepSpareFrame(buffer: ArrayBuffer): void {
    this.#spareFrame = buffer;
  }

  /**
   * Sends `task` to this idle child: its frame on `down`, its IPC messages, and a deadline
   * after which the child is killed and the task fails with TaskTimeoutError.
   */
  post(
    task: Task,
    frame: Uint8Array,
    frameBuffer: ArrayBuffer,
    messages: readonly ParentMessage[],
    timeoutMs: number,
  ): void {
    this.#task = task;
    this.#state = 'busy';
    this.#down.write(frame, (error) => {
      if (error === undefined || error === null) this.#spareFrame = frameBuffer;
    });
    // A failed send means the child is gone; its 'exit' retries the task.
    for (const message of messages) this.#process.send(message, undefined, undefined, () => {});
    this.#taskTimer = setTimeout(() => this.#onTaskTimeout(timeoutMs), timeoutMs);
    this.#taskTimer.unref();
  }

  /** Its task is answered (results or a kernel error): the child is idle again. */
  finishTask(): void {
    this.#detach();
    this.#state = 'idle';
  }

  /** Takes its task off it without a state change (the pool is being destroyed). */
  abandonTask(): Task | undefined {
    return this.#detach();
  }

  /** The child broke the protocol: its task fails (no retry) and it is killed. */
  breach(problem: string): void {
    const task = this.#detach();
    if (task !== undefined) {
      this.#events.taskFailed(task, new ChildProtocolError(`child ${this.pid}: ${problem}`));
    }
    if (this.#state === 'stopping' || this.#state === 'exited') return;
    this.#killedBecause ??= `it broke the protocol: ${problem}`;
    if (this.#state !== 'starting') this.#state = 'stopping';
    this.#process.kill('SIGKILL');
  }

  /** Asks the child to exit; kills it if it is still alive after `timeoutMs`. */
  stop(timeoutMs: number): void {
    if (this.#state === 'exited') return;
    const wasStarting = this.#state === 'starting';
    this.#state = 'stopping';
    clearTimeout(this.#timer);
    if (wasStarting || !this.#process.connected) {
      // It has no work and may not listen yet: nothing to wait for.
      this.#process.kill('SIGKILL');
      return;
    }
    this.#process.send({ type: 'exit' } satisfies ParentMessage, undefined, undefined, () => {});
    this.#timer = setTimeout(() => this.#process.kill('SIGKILL'), timeoutMs);
  }

  /** Whether the child (process, IPC channel, sockets) keeps this process alive. */
  setRef(referenced: boolean): void {
    this.#referenced = referenced;
    if (referenced) {
      this.#process.ref();
      this.#process.channel?.ref();
      this.#down.ref();
      this.#up?.ref();
    } else {
      this.#process.unref();
      this.#process.channel?.unref();
      this.#down.unref();
      this.#up?.unref();
    }
  }

  /** Takes the task off the child, with its deadline. */
  #detach(): Task | undefined {
    const task = this.#task;
    clearTimeout(this.#taskTimer);
    this.#taskTimer = undefined;
    this.#task = undefined;
    return task;
  }

  #onTaskTimeout(timeoutMs: number): void {
    const task = this.#detach();
    if (task === undefined) return;
    this.#state = 'stopping';
    this.#killedBecause = `a task ran past its ${timeoutMs} ms deadline`;
    this.#events.taskFailed(task, new TaskTimeoutError(timeoutMs, this.pid));
    this.#process.kill('SIGKILL');
  }

  /** Second step of the handshake: connect to the child's `up` socket. */
  #connectUp(): void {
    const up = connect({
      path: this.#socketPath,
      onread: {
        buffer: this.#readBuffer,
        callback: (bytes, buffer) => {
          try {
            this.#reader.push(buffer.subarray(0, bytes));
          } catch (error) {
            this.breach(error instanceof Error ? error.message : String(error));
          }
          return true;
        },
      },
    });
    this.#up = up;
    up.on('error', () => {});
    up.on('close', () => {
      // A child that dies closes `up`, often before its 'exit' is seen: kill it in case it
      // lives on, and let the exit handling (retry, respawn) do the rest.
      if (this.#state === 'exited') return;
      if (this.#state === 'starting') this.#killedBecause ??= 'its up socket closed';
      this.#process.kill('SIGKILL');
    });
    this.setRef(this.#referenced);
  }

  #onMessage(message: unknown): void {
    if (this.#state === 'exited') return;
    if (!isChildMessage(message)) {
      this.breach(`unexpected message: ${describeType(message)}`);
      return;
    }
    if (message.type === 'listening') {
      if (this.#state !== 'starting' || this.#up !== undefined) {
        this.breach('an unexpected listening message');
      } else {
        this.#connectUp();
      }
      return;
    }
    if (message.type === 'ready') {
      this.#onReady();
      return;
    }
    const task = this.#task;
    if (task === undefined || task.id !== message.id || task.reply !== undefined) return;
    this.#events.taskMessage(this, task, message);
  }

  #onReady(): void {
    if (this.#state !== 'starting' || this.#up === undefined) {
      if (this.#state !== 'stopping') this.breach('an unexpected ready message');
      return;
    }
    clearTimeout(this.#timer);
    this.#state = 'idle';
    this.#events.ready(this);
  }

  #onFrameStart(id: number, count: number): void {
    const task = this.#task;
    this.#receiving = task !== undefined && task.id === id ? task : undefined;
    if (this.#receiving !== undefined && count !== this.#receiving.floatCount) {
      const expected = this.#receiving.floatCount;
      this.#receiving = undefined;
      throw new RangeError(`task ${id} sent ${expected} numbers, its frame returns ${count}`);
    }
  }

  #onFrameEnd(): void {
    const task = this.#receiving;
    this.#receiving = undefined;
    if (task === undefined) return;
    task.frameReceived = true;
    this.#events.frameEnd(this, task);
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
    if (this.#state === 'exited') return;
    const wasStarting = this.#state === 'starting';
    this.#state = 'exited';
    clearTimeout(this.#timer);
    this.#down.destroy();
    this.#up?.destroy();
    // A child that died before it accepted `up` leaves its socket file behind.
    rmSync(this.#socketPath, { force: true });
    this.#markExited();
    const how =
      this.#killedBecause ??
      spawnError ??
      `it exited with ${describeExit(code, signal)} before its ready handshake`;
    this.#events.exited(this, {
      code,
      signal,
      task: this.#detach(),
      startFailure: wasStarting ? `child ${this.pid ?? '?'} failed to start: ${how}` : undefined,
    });
  }
}
