/**
 * What the user gives `fanout square`, turned into the job's `numbers` exactly as written
 * (client/input.ts parses it): a mistake in it is a usage error, exit code 2.
 */
import {
  InputFormatError,
  parseJsonNumbers as parseJson,
  parseNumbersText as parseText,
} from '#client/index.ts';

export { parseNumberToken } from '#client/index.ts';

/** A usage or input mistake: exit code 2. */
export class UsageError extends Error {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputFormatError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** A JSON array of numbers (or `{"numbers": [...]}`), big integers kept as their digits. */
export function parseJsonNumbers(text: string, source: string): unknown[] {
  return asUsage(() => parseJson(text, source));
}

/** A file's text: a JSON array, or one number per line (blank lines and # comments skipped). */
export function parseNumbersText(text: string, source: string): unknown[] {
  return [...asUsage(() => parseText(text, source)).numbers];
}

/** `--range 1..N` (inclusive, integers, either end may be negative). */
export function parseRange(text: string, maxCount: number): number[] {
  const match = /^\s*([+-]?\d+)\s*\.\.\s*([+-]?\d+)\s*$/.exec(text);
  if (match === null) throw new UsageError(`--range must look like 1..100, got "${text}"`);
  const first = Number(match[1]);
  const last = Number(match[2]);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) {
    throw new UsageError('--range ends must be safe integers');
  }
  if (last < first) throw new UsageError(`--range ${text} is empty: the end is before the start`);
  const count = last - first + 1;
  if (count > maxCount) {
    throw new UsageError(`--range ${text} has ${count} numbers; a job takes at most ${maxCount}`);
  }
  return Array.from({ length: count }, (_, index) => first + index);
}
