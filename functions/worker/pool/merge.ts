/**
 * Result merging: a task's values leave in two lanes, plain numbers as a binary frame and
 * integer strings over IPC (protocol.ts), and come back the same way, piece by piece and in
 * either order. This module lays a task's slice out into the lanes (packTask) and writes
 * each piece of results back into the run's results at its input index, so results come
 * out in input order whatever the children and the arrival order. It checks each piece
 * against its task: a reply that does not fit is a protocol breach, named in a sentence.
 */
import type { NumberInput, SquareResult } from '#commons/numbers.ts';
import { describeType } from './errors.ts';
import type { StringResults, TaskReply } from './protocol.ts';
import type { Task, TaskLanes } from './task.ts';

/** Lays out values[from..to) for sending: plain numbers into `floats`, strings apart. */
export function packTask(
  values: readonly NumberInput[],
  from: number,
  to: number,
  floats: Float64Array,
): TaskLanes | TypeError {
  const strings: string[] = [];
  let floatCount = 0;
  for (let index = from; index < to; index++) {
    const value = values[index];
    if (typeof value === 'number') {
      floats[floatCount++] = value;
    } else if (typeof value === 'string') {
      strings.push(value);
    } else {
      return new TypeError(
        `values[${index}] must be a number or a string, got ${describeType(value)}`,
      );
    }
  }
  if (strings.length === 0) {
    return { floatCount, strings, floatPositions: undefined, stringPositions: undefined };
  }
  const floatPositions = new Uint32Array(floatCount);
  const stringPositions = new Uint32Array(strings.length);
  let float = 0;
  let string = 0;
  for (let index = from; index < to; index++) {
    if (typeof values[index] === 'string') stringPositions[string++] = index;
    else floatPositions[float++] = index;
  }
  return { floatCount, strings, floatPositions, stringPositions };
}

/** Writes a piece of a task's plain-number results into the run's results, by index. */
export function writeFloats(task: Task, values: Float64Array, offset: number): void {
  const results = task.run.results;
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
  const results = task.run.results;
  const positions = task.stringPositions;
  if (positions !== undefined) {
    for (let index = 0; index < strings.length; index++) {
      results[positions[task.stringsReceived + index] as number] = strings[index] as SquareResult;
    }
  }
  task.stringsReceived += strings.length;
}

/**
 * Merges a batch of string-lane results (StringResults) into the run's results; returns why
 * it cannot be merged (a protocol breach), or undefined when it was.
 */
export function mergeStrings(task: Task, message: StringResults): string | undefined {
  if (message.offset !== task.stringsReceived) {
    return `task ${task.id} sent strings from ${message.offset} out of order`;
  }
  if (task.stringsReceived + message.strings.length > task.stringCount) {
    return `task ${task.id} returned more strings than it was sent`;
  }
  if (task.run.settled) task.stringsReceived += message.strings.length;
  else writeStrings(task, message.strings);
  return undefined;
}

/** Writes the rest of a finished task's results: its last strings, its non-number results. */
export function writeReply(task: Task, reply: TaskReply): void {
  writeStrings(task, reply.strings);
  const results = task.run.results;
  const indexes = reply.nonNumberIndexes;
  for (let extra = 0; extra < indexes.length; extra++) {
    const index = indexes[extra] as number;
    const position = task.floatPositions?.[index] ?? task.from + index;
    results[position] = reply.nonNumberValues[extra] as string;
  }
}

/** Why a reply cannot be merged into its task, or undefined when it can. */
export function checkReply(task: Task, reply: TaskReply): string | undefined {
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
