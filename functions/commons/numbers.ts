/**
 * The number domain: what a job may contain, and the exact square of each element.
 *
 * An element is either a finite JSON number (an integer one must be a safe integer) or a
 * decimal integer string of any size up to MAX_INTEGER_DIGITS digits. An integer's square
 * is exact: a JSON number while it is a safe integer, a decimal string beyond. A
 * non-integer's square is the IEEE-754 product.
 */
import { MAX_INTEGER_DIGITS, MAX_REPORTED_ERRORS } from './limits.ts';

/** One validated element of a job. */
export type NumberInput = number | string;
/** The square of one element: a JSON number, or a decimal string when it is not a safe integer. */
export type SquareResult = number | string;

export type InvalidElementCode =
  | 'UNSAFE_INTEGER'
  | 'NOT_FINITE'
  | 'SQUARE_OVERFLOWS'
  | 'NESTED_ARRAY'
  | 'NOT_A_NUMBER'
  | 'INVALID_INTEGER_STRING'
  | 'TOO_MANY_DIGITS';

export interface InvalidElement {
  readonly index: number;
  readonly code: InvalidElementCode;
  readonly message: string;
}

export type NumbersValidation =
  | { readonly ok: true; readonly numbers: NumberInput[] }
  | {
      readonly ok: false;
      /** The first MAX_REPORTED_ERRORS bad elements, in index order. */
      readonly errors: InvalidElement[];
      /** How many elements are bad in all. */
      readonly invalidCount: number;
    };

const INTEGER_STRING = /^[+-]?[0-9]+$/;
const MAX_SAFE_SQUARE_ROOT = 94_906_265; // floor(sqrt(2^53 - 1)): larger squares leave the safe range
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Returns why one element is not acceptable, or undefined when it is. */
export function checkElement(value: unknown): Omit<InvalidElement, 'index'> | undefined {
  if (typeof value === 'number') {
    if (Number.isNaN(value))
      return { code: 'NOT_FINITE', message: 'NaN is not a number to square' };
    if (!Number.isFinite(value)) {
      return { code: 'NOT_FINITE', message: 'the number is not finite' };
    }
    // Every double of magnitude 2^52 or more is an integer, so only an integer's square can
    // overflow; it is told apart because "send it as a string" would not help there.
    if (!Number.isFinite(value * value)) {
      return { code: 'SQUARE_OVERFLOWS', message: 'the square of this number overflows a double' };
    }
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) {
        return {
          code: 'UNSAFE_INTEGER',
          message:
            'integer is beyond ±(2^53-1) and has already lost precision as a JSON number; send it as a decimal string, e.g. "12345678901234567890"',
        };
      }
    }
    return undefined;
  }
  if (typeof value === 'string') {
    if (!INTEGER_STRING.test(value)) {
      return {
        code: 'INVALID_INTEGER_STRING',
        message: 'a string must hold a decimal integer: an optional sign, then digits only',
      };
    }
    const digits = value.length - (value[0] === '+' || value[0] === '-' ? 1 : 0);
    if (digits > MAX_INTEGER_DIGITS) {
      return {
        code: 'TOO_MANY_DIGITS',
        message: `an integer string may have at most ${MAX_INTEGER_DIGITS} digits; this one has ${digits}`,
      };
    }
    return undefined;
  }
  if (Array.isArray(value)) {
    return { code: 'NESTED_ARRAY', message: 'nested arrays are not accepted; send a flat list' };
  }
  return {
    code: 'NOT_A_NUMBER',
    message: `expected a number or a decimal integer string, got ${describe(value)}`,
  };
}

/**
 * Validates a job's `numbers`. The caller has already checked that it is an array within the
 * count limit; every element is checked, and the bad ones are reported by index.
 */
export function validateNumbers(values: readonly unknown[]): NumbersValidation {
  const errors: InvalidElement[] = [];
  let invalidCount = 0;
  for (let index = 0; index < values.length; index++) {
    const problem = checkElement(values[index]);
    if (problem === undefined) continue;
    invalidCount++;
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ index, ...problem });
  }
  if (invalidCount > 0) return { ok: false, errors, invalidCount };
  return { ok: true, numbers: values as NumberInput[] };
}

function exactBigIntSquare(root: bigint): SquareResult {
  const square = root * root;
  return square <= MAX_SAFE_BIGINT ? Number(square) : square.toString();
}

/** The exact square of one validated element. */
export function squareNumber(value: NumberInput): SquareResult {
  if (typeof value === 'string') return exactBigIntSquare(BigInt(value));
  if (Number.isInteger(value) && Math.abs(value) > MAX_SAFE_SQUARE_ROOT) {
    return exactBigIntSquare(BigInt(value));
  }
  // A float's square is the IEEE-754 product; a small integer's is exact in a double.
  // `+ 0` turns the square of -0 (which is +0 anyway) and any -0 into +0 for JSON.
  return value * value + 0;
}

/**
 * An upper bound of the bytes that an element's square takes in a JSON array, separator
 * included. It bounds chunks by result size (DynamoDB's 400 KB item limit), and it also
 * bounds the input JSON of the chunk, which is never longer than its result.
 */
export function estimateResultBytes(value: NumberInput): number {
  if (typeof value === 'number') {
    // A square beyond 2^53 is a quoted string of at most 32 digits; any other square of a
    // double prints in at most 23 characters (e.g. 1.2345678901234567e-308). Plus a comma.
    return Number.isInteger(value) && Math.abs(value) > MAX_SAFE_SQUARE_ROOT ? 35 : 24;
  }
  return 2 * value.length + 3; // at most twice the digits, two quotes and a comma
}
