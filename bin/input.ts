/**
 * What the user gives `fanout square`, turned into the job's `numbers` exactly as written:
 * an integer beyond ±(2^53-1) is kept as its digits (a decimal string, which the API squares
 * exactly) instead of being rounded by a double; anything unparseable is passed through so
 * that the API names it, with its index, in its 400 answer.
 */
import type { NumberInput } from '../functions/commons/numbers.ts';

/** A usage or input mistake: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** One token (a command-line argument or a line) as a job element. */
export function parseNumberToken(token: string): NumberInput {
  const text = token.trim();
  if (INTEGER.test(text)) {
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : text.replace(/^\+/, '');
  }
  if (DECIMAL.test(text)) return Number(text);
  return text;
}

/**
 * A JSON array of numbers, with integers beyond the safe range kept as their source digits
 * (JSON.parse's reviver sees the source text of each number).
 */
export function parseJsonNumbers(text: string, source: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text, (_key, parsed: unknown, context?: { source?: string }) => {
      if (
        typeof parsed === 'number' &&
        !Number.isSafeInteger(parsed) &&
        context?.source !== undefined
      ) {
        if (INTEGER.test(context.source)) return context.source.replace(/^\+/, '');
      }
      return parsed;
    });
  } catch (error) {
    throw new UsageError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (Array.isArray(value)) return value;
  if (
    value !== null &&
    typeof value === 'object' &&
    Array.isArray((value as { numbers?: unknown }).numbers)
  ) {
    return (value as { numbers: unknown[] }).numbers;
  }
  throw new UsageError(`${source} must hold a JSON array of numbers (or {"numbers": [...]})`);
}

/** A file's text: a JSON array, or one number per line (blank lines and # comments skipped). */
export function parseNumbersText(text: string, source: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJsonNumbers(trimmed, source);
  const numbers: NumberInput[] = [];
  for (const line of text.split(/\r?\n/)) {
    const token = line.trim();
    if (token === '' || token.startsWith('#')) continue;
    numbers.push(parseNumberToken(token));
  }
  return numbers;
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
