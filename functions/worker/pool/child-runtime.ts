/**
 * The child side of the pool: serves one kernel over the protocol of protocol.ts. A child
 * entry is a module that calls `serveKernel(kernel)` (see child.ts); test fixtures serve
 * their own kernels the same way.
 *
 * Keep the imports minimal: the child is bundled on its own (esbuild) into pool-child.mjs.
 */
import { rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import type { SquareResult } from '#commons/numbers.ts';
import type { Kernel } from '../kernel.ts';
import {
  type ChildMessage,
  DATA_FD,
  FrameReader,
  frameHeader,
  isParentMessage,
  SOCKET_ENV,
  STRING_BATCH_CHARS,
} from './protocol.ts';

/**
 * One read buffer, reused for every read of `down` (no allocation per read). A piece of
 * numbers is never longer, so result buffers of this size fit any piece.
 */
const READ_BUFFER_BYTES = 256 * 1024;
/** Result buffers kept for reuse; more are in flight only when `up` is backed up. */
const MAX_SPARE_RESULTS = 32;

/**
 * A task's string lane: its strings as they arrive (TaskRequest, then MoreStrings), and how
 * far the kernel has got. Results are sent in batches (StringResults), the rest at the end.
 */
interface StringLane {
  readonly count: number;
  readonly strings: string[];
  computed: number;
  /** Results computed but not sent yet, the first being result number `sent`. */
  results: SquareResult[];
  resultChars: number;
  sent: number;
}

/** A task whose frame is being received (numbers are squared as they arrive) or is complete. */
interface ChildTask {
  readonly id: number;
  /**
   * Whether the kernel threw, and what. The rest of the frame is then sent uncomputed, to
   * keep the stream in step; the parent discards it.
   */
  failed: boolean;
  failure: unknown;
  readonly nonNumberIndexes: number[];
  readonly nonNumberValues: string[];
}

function describeError(error: unknown): { name: string; message: string; stack?: string } {
  if (error instanceof Error) {
    return error.stack === undefined
      ? { name: error.name, message: error.message }
      : { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: 'NonError', message: String(error) };
}

function notAResult(kernel: Kernel, result: unknown): TypeError {
  return new TypeError(
    `kernel "${kernel.name}" returned ${result === null ? 'null' : typeof result}; a kernel returns a number or a string`,
  );
}

/**
 * Serves `kernel` to the pool that forked this process, until the pool asks it to exit.
 *
 * A task's plain numbers are squared piece by piece as they arrive on `down`, and each piece
 * of results is written back on `up` at once, so receiving, computing and sending overlap.
 * Its integer strings (IPC) are computed once its frame is complete, batch by batch as they
 * arrive, and their results go back in batches too.
 */
export function serveKernel(kernel: Kernel): void {
  const socketPath = process.env[SOCKET_ENV];
  if (process.send === undefined || socketPath === undefined || socketPath === '') {
    throw new Error(
      `a pool child must be started by ProcessPool: it has no IPC channel or no ${SOCKET_ENV}`,
    );
  }
  const reply = (message: ChildMessage): void => {
    // A closed channel means the parent is gone; 'disconnect' ends this process.
    process.send?.(message, undefined, undefined, () => {});
  };

  // Result buffers whose write has completed. A new (zeroed) one per piece cost ~1.5 ms per
  // 500K numbers, as much as squaring them.
  const spareResults: ArrayBuffer[] = [];
  const resultBuffer = (count: number): Float64Array => {
    const buffer = count * 8 <= READ_BUFFER_BYTES ? spareResults.pop() : undefined;
    return new Float64Array(
      buffer ?? new ArrayBuffer(Math.max(count * 8, READ_BUFFER_BYTES)),
      0,
      count,
    );
  };
  const lanes = new Map<number, StringLane>();
  const received = new Map<number, ChildTask>();
  let current: ChildTask | undefined;
  // The results socket; tasks arrive only after the handshake, so it exists when written to.
  let up: Socket | undefined;

  const reader = new FrameReader({
    start(id, count) {
      current = {
        id,
        failed: false,
        failure: undefined,
        nonNumberIndexes: [],
        nonNumberValues: [],
      };
      up?.write(frameHeader(id, count));
    },
    values(values, offset) {
      const task = current;
      if (task === undefined) return;
      const results = resultBuffer(values.length);
      if (!task.failed) {
        try {
          for (let index = 0; index < values.length; index++) {
            const result = kernel.apply(values[index] as number);
            if (typeof result === 'number') {
              results[index] = result;
            } else if (typeof result === 'string') {
              task.nonNumberIndexes.push(offset + index);
              task.nonNumberValues.push(result);
            } else {
              throw notAResult(kernel, result);
            }
          }
        } catch (error) {
          task.failed = true;
          task.failure = error;
        }
      }
      // Slots of non-number results (and all, after a failure) keep stale values: the parent
      // overwrites the former and discards the latter.
      up?.write(new Uint8Array(results.buffer, 0, results.byteLength), () => {
        if (spareResults.length < MAX_SPARE_RESULTS)
          spareResults.push(results.buffer as ArrayBuffer);
      });
    },
    end() {
      const task = current;
      current = undefined;
      if (task === undefined) return;
      received.set(task.id, task);
      advance(task.id);
    },
  });

  const down = new Socket({
    fd: DATA_FD,
    readable: true,
    writable: false,
    onread: {
      buffer: new Uint8Array(READ_BUFFER_BYTES),
      callback: (bytes, buffer) => {
        reader.push(buffer.subarray(0, bytes));
        return true;
      },
    },
  });

  /**
   * Computes what has arrived of a task's string lane once its frame is complete, sending
   * results in batches; replies once every string is done (or the kernel threw).
   */
  function advance(id: number): void {
    const lane = lanes.get(id);
    const task = received.get(id);
    if (lane === undefined || task === undefined) return;
    try {
      if (task.failed) throw task.failure;
      while (lane.computed < lane.strings.length) {
        const result = kernel.apply(lane.strings[lane.computed] as string);
        if (typeof result === 'string') lane.resultChars += result.length;
        else if (typeof result !== 'number') throw notAResult(kernel, result);
        lane.results.push(result);
        lane.computed++;
        if (lane.resultChars >= STRING_BATCH_CHARS && lane.computed < lane.count) {
          reply({ type: 'strings', id, offset: lane.sent, strings: lane.results });
          lane.sent += lane.results.length;
          lane.results = [];
          lane.resultChars = 0;
        }
      }
      if (lane.computed < lane.count) return; // the next MoreStrings resumes it
      lanes.delete(id);
      received.delete(id);
      reply({
        type: 'result',
        id,
        strings: lane.results,
        nonNumberIndexes: Uint32Array.from(task.nonNumberIndexes),
        nonNumberValues: task.nonNumberValues,
      });
    } catch (error) {
      lanes.delete(id);
      received.delete(id);
      reply({ type: 'error', id, ...describeError(error) });
    }
  }

  process.on('message', (message: unknown) => {
    if (!isParentMessage(message)) return;
    if (message.type === 'exit') process.exit(0);
    if (message.type === 'task') {
      lanes.set(message.id, {
        count: message.stringCount,
        strings: [...message.strings],
        computed: 0,
        results: [],
        resultChars: 0,
        sent: 0,
      });
    } else {
      const lane = lanes.get(message.id);
      if (lane === undefined) return; // a task that has failed already
      for (const string of message.strings) lane.strings.push(string);
    }
    advance(message.id);
  });
  // Without its parent a child has nothing to do: never outlive the pool.
  process.on('disconnect', () => process.exit(0));
  down.on('end', () => process.exit(0));
  down.on('error', () => process.exit(1));

  const server = createServer((socket) => {
    // The parent's is the one connection: stop listening and remove the socket file.
    server.close();
    rmSync(socketPath, { force: true });
    up = socket;
    up.on('error', () => process.exit(1));
    up.on('end', () => process.exit(0));
    reply({ type: 'ready', pid: process.pid, kernel: kernel.name });
  });
  rmSync(socketPath, { force: true }); // a stale file of a dead process would be EADDRINUSE
  server.listen(socketPath, () => reply({ type: 'listening' }));
  // A child that exits before its parent connected (the pool was dropped mid-start) leaves
  // no socket file behind.
  process.on('exit', () => {
    if (up === undefined) rmSync(socketPath, { force: true });
  });
}
