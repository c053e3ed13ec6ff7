/**
 * The wire protocol between the pool (parent) and a child. It is shared by both sides, so it
 * imports nothing but types: the child bundles standalone.
 *
 * Three channels, all Unix sockets (Lambda has no /dev/shm, so nothing is shared in memory):
 * - the IPC channel of `fork()` (fd 3), with `serialization: 'advanced'` (the V8 serializer):
 *   the handshake, each task's request and its integer strings, replies, kernel errors, exit;
 * - down, parent -> child (fd 4, a socket pair from `fork()`): each task's plain numbers, as
 *   one binary frame `[u32 task id][u32 count][count × float64]`;
 * - up, child -> parent: the result frames, same layout, on a Unix socket the child listens
 *   on (its path, in the OS temp directory, is in FANOUT_POOL_SOCKET) and the parent connects
 *   to. The child removes the socket file as soon as it has accepted the parent.
 *
 * Why binary frames, and why `up` is a socket of its own (2-core dev machine, 1M plain
 * numbers, 2 children, round trip into a JS array): JSON arrays in IPC messages ran at ~2.6M
 * numbers/s, a Float64Array in an 'advanced' IPC message at ~31M/s, raw frames on fork()'s
 * pipes at ~48M/s (no serializer copies: a frame is written straight from its buffer), and
 * raw frames streamed both ways with `up` read through `onread` at ~120M/s
 * (`npm run bench:pool`). Receiving was the parent's largest cost: Node allocates a Buffer
 * and runs the stream machinery for every 64 KB read of a fork() pipe, while a socket the
 * parent creates itself reads into one reusable buffer; echoing 8 MB through 2 children took
 * 8.1 ms and 3.4 ms of parent CPU the first way, 4.0 ms and 1.4 ms the second.
 *
 * A double crosses bit for bit (-0, fractions, the largest safe integer). Both ends run on the
 * same machine, so the payload keeps the native byte order; the header is little-endian.
 *
 * Handshake: the child listens on `up` and sends `listening`; the parent connects; the child
 * accepts that one connection, stops listening and sends `ready`. Only then is it sent work.
 */
import type { SquareResult } from '#commons/numbers.ts';

/** The child's fd of the `down` socket (fd 3 is the IPC channel). */
export const DATA_FD = 4;
/**
 * The environment variable with the path a child listens on for the `up` connection (a file
 * in the OS temp directory: /tmp, the one writable place on Lambda).
 */
export const SOCKET_ENV = 'FANOUT_POOL_SOCKET';

/** u32 task id + u32 element count; 8 bytes also keep the float64 payload aligned. */
export const FRAME_HEADER_BYTES = 8;
const FLOAT_BYTES = 8;

/**
 * Parent -> child: run the kernel over one task. Its plain numbers follow as a frame on
 * `down`; its integer strings come here and in MoreStrings messages, in batches of about
 * STRING_BATCH_CHARS, so that the child starts on the first batch while the rest is in flight.
 */
export interface TaskRequest {
  readonly type: 'task';
  readonly id: number;
  /** How many plain numbers the task's frame carries. */
  readonly floatCount: number;
  /** How many integer strings the task has in all. */
  readonly stringCount: number;
  /** The first of the task's integer strings, in order. */
  readonly strings: readonly string[];
}

/** Parent -> child: the next batch of a task's integer strings. */
export interface MoreStrings {
  readonly type: 'more';
  readonly id: number;
  readonly strings: readonly string[];
}

/** Parent -> child: exit now. */
export interface ExitRequest {
  readonly type: 'exit';
}

export type ParentMessage = TaskRequest | MoreStrings | ExitRequest;

/** Child -> parent, first half of the handshake: `up` is listening; connect to it. */
export interface ListeningMessage {
  readonly type: 'listening';
}

/** Child -> parent, end of the handshake: `up` is connected; no task is sent before this. */
export interface ReadyMessage {
  readonly type: 'ready';
  readonly pid: number;
  readonly kernel: string;
}

/**
 * Child -> parent: the next results of a task's string lane, sent as soon as about
 * STRING_BATCH_CHARS of them are ready, so that sending overlaps computing the rest.
 */
export interface StringResults {
  readonly type: 'strings';
  readonly id: number;
  /** Index in the task's string lane of `strings[0]`. */
  readonly offset: number;
  readonly strings: readonly SquareResult[];
}

/**
 * Characters of integer strings per message, either way (MoreStrings, StringResults): big
 * enough that messages stay few, small enough that the child starts computing, and the
 * parent receiving, after ~1% of a 200 × 10,000-digit run rather than after all of it.
 */
export const STRING_BATCH_CHARS = 256 * 1024;

/**
 * Child -> parent: a task's results, last of its messages. The plain numbers' results come
 * back as a frame; a result that is not a number (e.g. the exact square of a safe integer
 * beyond 94,906,265, a decimal string) is sent here instead, with its index in the frame.
 */
export interface TaskReply {
  readonly type: 'result';
  readonly id: number;
  /** The string lane's results not sent yet in StringResults messages, in order. */
  readonly strings: readonly SquareResult[];
  /** Frame indexes whose result is `nonNumberValues[k]` rather than the frame's double. */
  readonly nonNumberIndexes: Uint32Array;
  readonly nonNumberValues: readonly string[];
}

/** Child -> parent: the kernel threw. The child still sends the task's (empty) frame. */
export interface TaskFailure {
  readonly type: 'error';
  readonly id: number;
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export type ChildMessage =
  | ListeningMessage
  | ReadyMessage
  | StringResults
  | TaskReply
  | TaskFailure;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function isParentMessage(value: unknown): value is ParentMessage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'exit':
      return true;
    case 'task':
      return (
        typeof value.id === 'number' &&
        typeof value.floatCount === 'number' &&
        typeof value.stringCount === 'number' &&
        Array.isArray(value.strings)
      );
    case 'more':
      return typeof value.id === 'number' && Array.isArray(value.strings);
    default:
      return false;
  }
}

export function isChildMessage(value: unknown): value is ChildMessage {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'listening':
      return true;
    case 'ready':
      return typeof value.pid === 'number' && typeof value.kernel === 'string';
    case 'strings':
      return (
        typeof value.id === 'number' &&
        typeof value.offset === 'number' &&
        Array.isArray(value.strings)
      );
    case 'result':
      return (
        typeof value.id === 'number' &&
        Array.isArray(value.strings) &&
        value.nonNumberIndexes instanceof Uint32Array &&
        Array.isArray(value.nonNumberValues)
      );
    case 'error':
      return (
        typeof value.id === 'number' &&
        typeof value.name === 'string' &&
        typeof value.message === 'string'
      );
    default:
      return false;
  }
}

/** Cuts strings into consecutive batches of about `maxChars` characters (at least one each). */
export function batchByChars(strings: readonly string[], maxChars: number): string[][] {
  const batches: string[][] = [];
  let batch: string[] = [];
  let chars = 0;
  for (const string of strings) {
    if (batch.length > 0 && chars + string.length > maxChars) {
      batches.push(batch);
      batch = [];
      chars = 0;
    }
    batch.push(string);
    chars += string.length;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** A frame being built: write up to `values.length` numbers, then send `sealFrame(...)`. */
export interface OutgoingFrame {
  readonly buffer: ArrayBuffer;
  readonly values: Float64Array;
}

/**
 * Lays out a frame for task `id` with room for `capacity` numbers, in `reuse` when it is
 * large enough (a buffer whose previous write has completed), else in a new buffer.
 */
export function createFrame(id: number, capacity: number, reuse?: ArrayBuffer): OutgoingFrame {
  const byteLength = FRAME_HEADER_BYTES + capacity * FLOAT_BYTES;
  const buffer =
    reuse !== undefined && reuse.byteLength >= byteLength ? reuse : new ArrayBuffer(byteLength);
  new DataView(buffer, 0, FRAME_HEADER_BYTES).setUint32(0, id, true);
  return { buffer, values: new Float64Array(buffer, FRAME_HEADER_BYTES, capacity) };
}

/** Writes the frame's count (its first `count` numbers are sent) and returns its bytes. */
export function sealFrame(frame: OutgoingFrame, count: number): Uint8Array {
  new DataView(frame.buffer, 0, FRAME_HEADER_BYTES).setUint32(4, count, true);
  return new Uint8Array(frame.buffer, 0, FRAME_HEADER_BYTES + count * FLOAT_BYTES);
}

/** Bytes of a frame header for task `id` announcing `count` numbers. */
export function frameHeader(id: number, count: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, id, true);
  view.setUint32(4, count, true);
  return header;
}

/** Receives the frames of a byte stream as they arrive, piece by piece. */
export interface FrameSink {
  /** A frame for task `id` with `count` numbers begins. */
  start(id: number, count: number): void;
  /**
   * The next numbers of the current frame; `values[0]` is its number `offset`. `values` is
   * valid only during the call (its memory is reused).
   */
  values(values: Float64Array, offset: number): void;
  /** The current frame is complete. */
  end(): void;
}

/** Bytes staged at a time when a piece of payload is not 8-byte aligned (a multiple of 8). */
const STAGING_BYTES = 64 * 1024;

/**
 * Splits a byte stream that arrives in pieces of any size into frames, and hands each frame's
 * numbers to the sink as soon as they arrive, so a receiver can work while the rest is still
 * in flight. An aligned piece is passed as a view of the incoming bytes; an unaligned one
 * (or a number split between two pieces) goes through a small staging buffer.
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  readonly #headerView = new DataView(this.#header.buffer);
  readonly #staging = new ArrayBuffer(STAGING_BYTES);
  readonly #stagingBytes = new Uint8Array(this.#staging);
  #headerLength = 0;
  /** Payload bytes of the current frame still to come; -1 while reading a header. */
  #remaining = -1;
  /** Numbers of the current frame handed to the sink so far. */
  #delivered = 0;
  /** Bytes of a split number waiting at the start of the staging buffer (0 to 7). */
  #carry = 0;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  push(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#remaining < 0) {
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerLength, chunk.length - offset);
        this.#header.set(chunk.subarray(offset, offset + take), this.#headerLength);
        this.#headerLength += take;
        offset += take;
        if (this.#headerLength === FRAME_HEADER_BYTES) this.#startFrame();
        continue;
      }
      const available = Math.min(this.#remaining, chunk.length - offset);
      const start = chunk.byteOffset + offset;
      if (this.#carry === 0 && start % FLOAT_BYTES === 0 && available >= FLOAT_BYTES) {
        const count = Math.floor(available / FLOAT_BYTES);
        this.#deliver(new Float64Array(chunk.buffer, start, count));
        offset += count * FLOAT_BYTES;
        this.#remaining -= count * FLOAT_BYTES;
      } else {
        const take = Math.min(available, STAGING_BYTES - this.#carry);
        this.#stagingBytes.set(chunk.subarray(offset, offset + take), this.#carry);
        offset += take;
        this.#remaining -= take;
        const staged = this.#carry + take;
        const count = Math.floor(staged / FLOAT_BYTES);
        if (count > 0) this.#deliver(new Float64Array(this.#staging, 0, count));
        this.#carry = staged - count * FLOAT_BYTES;
        if (this.#carry > 0) this.#stagingBytes.copyWithin(0, count * FLOAT_BYTES, staged);
      }
      if (this.#remaining === 0) this.#endFrame();
    }
  }

  #startFrame(): void {
    this.#headerLength = 0;
    const id = this.#headerView.getUint32(0, true);
    const count = this.#headerView.getUint32(4, true);
    this.#remaining = count * FLOAT_BYTES;
    this.#delivered = 0;
    this.#carry = 0;
    this.#sink.start(id, count);
    if (this.#remaining === 0) this.#endFrame();
  }

  #deliver(values: Float64Array): void {
    this.#sink.values(values, this.#delivered);
    this.#delivered += values.length;
  }

  #endFrame(): void {
    this.#remaining = -1;
    this.#sink.end();
  }
}
