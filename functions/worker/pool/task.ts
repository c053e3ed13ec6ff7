/**
 * The pool's units of work. A Run is one `run()` call: its input, its results and its promise,
 * settled once. A Task is one contiguous slice of a run, sent to one child at a time; each
 * attempt (the first, and a retry after a crash) has a request id of its own and starts from
 * a clean slate.
 */
import type { NumberInput, SquareResult } from '#commons/numbers.ts';
import type { TaskFailure, TaskReply } from './protocol.ts';

/** Task ids travel as u32 in frame headers. */
const MAX_TASK_ID = 0xffff_ffff;

export class Run {
  readonly values: readonly NumberInput[];
  /**
   * Made when the first results arrive rather than in run(): a 1M-element array takes ~3 ms
   * to make, which would otherwise delay the first bytes sent to the children.
   */
  #results: SquareResult[] | undefined;
  #pendingTasks: number;
  #settled = false;
  readonly #resolve: (results: SquareResult[]) => void;
  readonly #reject: (error: Error) => void;

  constructor(
    values: readonly NumberInput[],
    tasks: number,
    resolve: (results: SquareResult[]) => void,
    reject: (error: Error) => void,
  ) {
    this.values = values;
    this.#pendingTasks = tasks;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Whether the run has resolved or rejected; its tasks' late results are then dropped. */
  get settled(): boolean {
    return this.#settled;
  }

  /** The results array, results[i] for values[i], made on first use. */
  get results(): SquareResult[] {
    this.#results ??= new Array(this.values.length);
    return this.#results;
  }

  /** Rejects the run with `error`; returns false (and does nothing) if it had settled. */
  fail(error: Error): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#reject(error);
    return true;
  }

  /** One of its tasks has merged all its results; the last one resolves the run. */
  taskDone(): void {
    if (this.#settled) return;
    this.#pendingTasks--;
    if (this.#pendingTasks === 0) {
      this.#settled = true;
      this.#resolve(this.results);
    }
  }
}

/** How a task's values travel: plain numbers in a binary frame, integer strings over IPC. */
export interface TaskLanes {
  readonly floatCount: number;
  readonly strings: readonly string[];
  /**
   * Where each plain number's result goes in the run's results, when the task also has
   * integer strings; undefined when all its elements are plain numbers (then from + i).
   */
  readonly floatPositions: Uint32Array | undefined;
  /** Where each integer string's result goes, in order; undefined when it has none. */
  readonly stringPositions: Uint32Array | undefined;
}

/** One slice of a run, `run.values[from..to)`, and the state of its current attempt. */
export class Task {
  readonly run: Run;
  readonly from: number;
  readonly to: number;
  /** Attempts started so far. */
  attempts = 0;
  /** Request id of the current attempt (a new one per attempt). */
  id = 0;
  floatPositions: Uint32Array | undefined;
  stringPositions: Uint32Array | undefined;
  floatCount = 0;
  stringCount = 0;
  /** String-lane results received so far (StringResults messages). */
  stringsReceived = 0;
  frameReceived = false;
  reply: TaskReply | TaskFailure | undefined;

  constructor(run: Run, from: number, to: number) {
    this.run = run;
    this.from = from;
    this.to = to;
  }

  /** Starts an attempt under request id `id`, its values laid out as `lanes`. */
  begin(id: number, lanes: TaskLanes): void {
    this.id = id;
    this.floatPositions = lanes.floatPositions;
    this.stringPositions = lanes.stringPositions;
    this.floatCount = lanes.floatCount;
    this.stringCount = lanes.strings.length;
    this.stringsReceived = 0;
    this.frameReceived = false;
    this.reply = undefined;
    this.attempts++;
  }

  /** Both halves of the answer have arrived: the result frame and the IPC reply. */
  get answered(): boolean {
    return this.frameReceived && this.reply !== undefined;
  }
}

/** Request ids of one pool: 1, 2, … up to the u32 maximum, then 1 again. */
export class TaskIds {
  #last = 0;

  next(): number {
    this.#last = this.#last >= MAX_TASK_ID ? 1 : this.#last + 1;
    return this.#last;
  }
}
