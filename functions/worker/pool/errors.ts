/**
 * Every error the process pool rejects with. Each sets `name`, so logs and tests can tell
 * them apart without `instanceof` (which fails across bundles). Invalid options throw the
 * built-in TypeError / RangeError instead (see options.ts).
 */

/** What a value is, for a message: `null`, `an array`, or its typeof. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/** The base class: anything the pool itself reports. */
export class PoolError extends Error {
  override name = 'PoolError';
}

/** `run()` would have queued more tasks than `options.maxQueue`. */
export class QueueFullError extends PoolError {
  override name = 'QueueFullError';
  readonly maxQueue: number;

  constructor(maxQueue: number, waiting: number, wanted: number) {
    super(
      `the pool's queue is full: ${waiting} of at most ${maxQueue} tasks are waiting and this run needs ${wanted} more; retry later or raise options.maxQueue`,
    );
    this.maxQueue = maxQueue;
  }
}

/** A task ran past its deadline; its child was killed (SIGKILL) and is being replaced. */
export class TaskTimeoutError extends PoolError {
  override name = 'TaskTimeoutError';
  readonly timeoutMs: number;
  readonly pid: number | undefined;

  constructor(timeoutMs: number, pid: number | undefined) {
    super(
      `a task ran longer than ${timeoutMs} ms on child ${pid ?? '?'}; the child was killed and is being replaced`,
    );
    this.timeoutMs = timeoutMs;
    this.pid = pid;
  }
}

/** A child exited while it ran a task, on the first attempt and again on the retry. */
export class ChildExitError extends PoolError {
  override name = 'ChildExitError';
  readonly pid: number | undefined;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly attempts: number;

  constructor(
    pid: number | undefined,
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    attempts: number,
  ) {
    const how = signal === null ? `with exit code ${exitCode}` : `on signal ${signal}`;
    super(
      `child ${pid ?? '?'} exited ${how} while running a task; the task failed on all ${attempts} attempts, each on a fresh child`,
    );
    this.pid = pid;
    this.exitCode = exitCode;
    this.signal = signal;
    this.attempts = attempts;
  }
}

/** The pool cannot start children, so it stopped trying and rejects all work. */
export class PoolStartError extends PoolError {
  override name = 'PoolStartError';
  /** Consecutive start failures when the pool gave up. */
  readonly failures: number;

  constructor(message: string, failures: number) {
    super(message);
    this.failures = failures;
  }

  /** Children kept dying (or hanging) before their ready handshake. */
  static gaveUp(failures: number, lastFailure: string): PoolStartError {
    return new PoolStartError(
      `the pool gave up starting children after ${failures} consecutive start failures; last: ${lastFailure}`,
      failures,
    );
  }

  /** The child entry script is not there (in a bundle: pool-child.mjs was not built beside it). */
  static missingScript(path: string): PoolStartError {
    return new PoolStartError(
      `the pool's child script ${path} does not exist; in a bundle, build functions/worker/pool/child.ts to pool-child.mjs beside index.mjs`,
      0,
    );
  }
}

/** The pool was destroyed before the task finished, or `run()` was called after `destroy()`. */
export class PoolDestroyedError extends PoolError {
  override name = 'PoolDestroyedError';

  constructor() {
    super('the pool has been destroyed');
  }
}

/** The kernel threw inside a child. The child stays up; the task is not retried. */
export class KernelError extends PoolError {
  override name = 'KernelError';
  /** `name` of the error the kernel threw. */
  readonly remoteName: string;
  readonly remoteStack: string | undefined;

  constructor(pid: number | undefined, remoteName: string, remoteMessage: string, stack?: string) {
    super(`the kernel threw in child ${pid ?? '?'}: ${remoteName}: ${remoteMessage}`);
    this.remoteName = remoteName;
    this.remoteStack = stack;
  }
}

/** A child broke the protocol (e.g. a reply that does not match its task); it is replaced. */
export class ChildProtocolError extends PoolError {
  override name = 'ChildProtocolError';
}
