/**
 * What a job's numbers may be given as: an array, a file (a JSON array, or one number per
 * line), or an AsyncIterable. Numbers are kept exactly as written: an integer beyond
 * ±(2^53-1) stays its digits (a decimal string, which the API squares exactly) instead of
 * being rounded by a double; anything unparseable is passed through so that the API names
 * it, with its index, in its 400 answer.
 */
import { open, readFile, stat } from 'node:fs/promises';
import type { NumberInput } from './api-types.ts';
import { InputFormatError, messageOf } from './errors.ts';
import { formatOfFile, UPLOAD_LINES_FILES_ABOVE_BYTES } from './fanout-api.ts';
import { doubleLiteral, type RawJsonNumber } from './raw-json.ts';

/** The numbers of a job: an array, a file path, or an async iterable of numbers. */
export type JobInput =
  | readonly unknown[]
  | string
  | AsyncIterable<NumberInput>
  | Iterable<NumberInput>;

/** Numbers to send, with the file line of each when they were read from a file. */
export interface CollectedInput {
  readonly numbers: readonly unknown[];
  readonly lines?: readonly number[];
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One token (a command-line argument or a line) as a job element. */
export function parseNumberToken(token: string): NumberInput | RawJsonNumber {
  const text = token.trim();
  if (INTEGER.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : text.replace(/^\+/, '');
  }
  if (DECIMAL.test(text)) return doubleLiteral(Number(text));
  return text;
}

/**
 * A JSON array of numbers (or `{"numbers": [...]}`), with integers beyond the safe range
 * kept as their source digits (JSON.parse's reviver sees the source text of each number).
 * @throws InputFormatError
 */
export function parseJsonNumbers(text: string, source: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text, (_key, parsed: unknown, context?: { source?: string }) => {
      if (typeof parsed !== 'number' || context?.source === undefined) return parsed;
      if (INTEGER.test(context.source)) {
        return Number.isSafeInteger(parsed) ? parsed : context.source.replace(/^\+/, '');
      }
      // A fraction or an exponent: a double, even where it is integral (`1e10`).
      return doubleLiteral(parsed);
    });
  } catch (error) {
    throw new InputFormatError(`${source} is not valid JSON: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object' && 'numbers' in value) {
    const { numbers } = value;
    if (Array.isArray(numbers)) return numbers;
  }
  throw new InputFormatError(`${source} must hold a JSON array of numbers (or {"numbers": [...]})`);
}

/**
 * A file's text: a JSON array, or one number per line (blank lines and # comments skipped),
 * with the 1-based line of each number.
 * @throws InputFormatError
 */
export function parseNumbersText(text: string, source: string): CollectedInput {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    return { numbers: parseJsonNumbers(trimmed, source) };
  }
  const numbers: (NumberInput | RawJsonNumber)[] = [];
  const lines: number[] = [];
  const all = text.split(/\r?\n/);
  for (let index = 0; index < all.length; index++) {
    const token = (all[index] ?? '').trim();
    if (token === '' || token.startsWith('#')) continue;
    numbers.push(parseNumberToken(token));
    lines.push(index + 1);
  }
  return { numbers, lines };
}

/**
 * A file of numbers: JSON when it ends in `.json` (or starts with `[`/`{`), else one a line.
 * @throws InputFormatError when it cannot be read or parsed
 */
export async function readNumbersFile(path: string): Promise<CollectedInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFormatError(`cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
  return path.endsWith('.json')
    ? { numbers: parseJsonNumbers(text, path) }
    : parseNumbersText(text, path);
}

/** The numbers of any JobInput, in order. */
export async function collectInput(input: JobInput): Promise<CollectedInput> {
  if (typeof input === 'string') return readNumbersFile(input);
  if (Array.isArray(input)) return { numbers: input };
  const numbers: unknown[] = [];
  if (Symbol.asyncIterator in input) {
    for await (const value of input) numbers.push(value);
  } else {
    for (const value of input as Iterable<NumberInput>) numbers.push(value);
  }
  return { numbers };
}

/**
 * The size of a file that is uploaded rather than sent in a request body (one number per line:
 * not named .json, not starting with `[` or `{`; above UPLOAD_LINES_FILES_ABOVE_BYTES), or
 * undefined for any other file.
 */
export async function uploadSizeOf(path: string): Promise<number | undefined> {
  if (formatOfFile(path) !== 'lines') return undefined;
  try {
    const { size } = await stat(path);
    if (size <= UPLOAD_LINES_FILES_ABOVE_BYTES) return undefined;
    // A JSON array under another name is read as JSON (readNumbersFile does the same).
    const file = await open(path);
    try {
      const { buffer, bytesRead } = await file.read(Buffer.alloc(256), 0, 256, 0);
      const start = buffer.subarray(0, bytesRead).toString('utf8').trimStart();
      return start.startsWith('[') || start.startsWith('{') ? undefined : size;
    } finally {
      await file.close();
    }
  } catch {
    // Unreadable: collectInput says why.
    return undefined;
  }
}
