/**
 * The number domain: one grammar for numbers (Python's), the canonical form elements travel
 * in, and the exact square of each element.
 *
 * The grammar, for JSON numbers, JSON strings and lines alike:
 * - an integer literal (an optional sign, then digits, no fraction and no exponent) is an
 *   exact integer of up to MAX_INTEGER_DIGITS digits, whatever its size;
 * - a literal with a fraction or an exponent is an IEEE-754 double, as Python's float().
 *
 * The canonical form (NumberInput), what chunk messages and the worker carry:
 * - a JS number is either a safe integer (an integer literal, exact) or a double;
 * - a decimal integer string ([+-]?[0-9]+) is an exact integer beyond ±(2^53-1);
 * - a double that is an integer beyond MAX_SAFE_SQUARE_ROOT travels as its shortest exponent
 *   text (`Number.prototype.toExponential()`, such as "3e+100"), so that it is squared as a
 *   double and not as the exact integer a JSON number of the same value would be read as.
 *
 * Squares: an integer's is exact, a JSON number while it is a safe integer and a decimal string
 * beyond; a double's is the IEEE-754 product.
 */
import { MAX_INTEGER_DIGITS, MAX_REPORTED_ERRORS } from './limits.ts';

/** One element of a job in its canonical form (see above). */
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
  | 'TOO_MANY_DIGITS'
  | 'INVALID_LITERAL'
  | 'EMPTY_LINE'
  | 'LINE_TOO_LONG';

export interface InvalidElement {
  readonly index: number;
  readonly code: InvalidElementCode;
  readonly message: string;
}

/** Why one element or literal cannot be squared. */
export type ElementProblem = Omit<InvalidElement, 'index'>;

/** A literal read from its text: its canonical element, or why it cannot be squared. */
export type Reading = NumberInput | ElementProblem;

export function isProblem(reading: Reading): reading is ElementProblem {
  return typeof reading === 'object';
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
/** The canonical text of a double beyond MAX_SAFE_SQUARE_ROOT (what toExponential() prints). */
const DOUBLE_TEXT = /^-?[1-9](\.[0-9]+)?e\+[0-9]+$/;
/** floor(sqrt(2^53 - 1)): an integer beyond it has a square beyond the safe range. */
export const MAX_SAFE_SQUARE_ROOT = 94_906_265;
const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const LOWER_E = 101;
const UPPER_E = 69;
const SPACE = 32;
const TAB = 9;

/**
 * Powers of ten a double holds exactly (10^22 is the largest). A decimal m·10^e with m below
 * 2^53 and |e| at most 22 is then one correctly rounded multiply or divide, the same double
 * as a full decimal conversion would give (Clinger's fast path).
 */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, power) => 10 ** power);
const MAX_EXACT_POWER = 22;
/** Significant digits that always fit below 2^53 (10^15 < 2^53). */
export const MAX_FAST_DIGITS = 15;

const PROBLEMS = {
  notFinite: {
    code: 'NOT_FINITE',
    message: 'the number overflows a double (its magnitude is beyond 1.7976931348623157e308)',
  },
  squareOverflows: {
    code: 'SQUARE_OVERFLOWS',
    message:
      'the square of this double overflows a double; send an integer literal (digits only) to square it exactly',
  },
} as const satisfies Record<string, ElementProblem>;

function tooManyDigits(digits: number, what: string): ElementProblem {
  return {
    code: 'TOO_MANY_DIGITS',
    message: `${what} may have at most ${MAX_INTEGER_DIGITS} digits; this one has ${digits}`,
  };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * The element of a double: the double itself, its exponent text when it is an integer beyond
 * MAX_SAFE_SQUARE_ROOT, or a problem when it or its square is not finite.
 */
export function readDouble(value: number): Reading {
  if (!Number.isFinite(value)) return PROBLEMS.notFinite;
  if (!Number.isFinite(value * value)) return PROBLEMS.squareOverflows;
  if (Number.isInteger(value) && (value > MAX_SAFE_SQUARE_ROOT || value < -MAX_SAFE_SQUARE_ROOT)) {
    return value.toExponential();
  }
  return value;
}

/**
 * The double of m·10^e10 when the fast path holds it exactly rounded (m < 10^15 and
 * |e10| ≤ 22), else undefined.
 */
export function fastDouble(mantissa: number, exponent10: number): number | undefined {
  if (exponent10 >= 0) {
    if (exponent10 > MAX_EXACT_POWER) return undefined;
    return mantissa * (EXACT_POWERS_OF_TEN[exponent10] as number);
  }
  if (exponent10 < -MAX_EXACT_POWER) return undefined;
  return mantissa / (EXACT_POWERS_OF_TEN[-exponent10] as number);
}

/**
 * An integer literal's element, exact: a safe integer as a number (-0 as 0), a larger one as
 * its text. `source` must match [+-]?[0-9]+ (leading zeros allowed; they count as digits).
 */
export function readIntegerLiteral(source: string): Reading {
  const first = source.charCodeAt(0);
  const digits = source.length - (first === PLUS || first === MINUS ? 1 : 0);
  if (digits > MAX_INTEGER_DIGITS) return tooManyDigits(digits, 'an integer');
  const value = Number(source);
  return Number.isSafeInteger(value) ? value + 0 : source;
}

/**
 * A literal with a fraction or an exponent, as a double. `source` must already be a decimal
 * literal of the grammar (JSON's, or Python's float() without underscores, nan and inf):
 * JS Number() rounds those to the same double as Python's float().
 */
export function readDoubleLiteral(source: string): Reading {
  return readDouble(Number(source));
}

/** Reads a JSON number's source text (valid JSON number syntax) by the grammar. */
export function readJsonNumberSource(source: string): Reading {
  for (let index = 0; index < source.length; index++) {
    const code = source.charCodeAt(index);
    if (code === DOT || code === LOWER_E || code === UPPER_E) return readDoubleLiteral(source);
  }
  return readIntegerLiteral(source);
}

const INVALID_LINE: ElementProblem = {
  code: 'INVALID_LITERAL',
  message:
    'not a number literal: expected an optional sign, then digits, with an optional fraction and exponent (such as 42, -7, 2.5, 1e-3)',
};
const EMPTY_LINE: ElementProblem = { code: 'EMPTY_LINE', message: 'the line is empty' };

function invalidLine(text: string, start: number, end: number): ElementProblem {
  for (let index = start; index < end; index++) {
    if (text.charCodeAt(index) === 95 /* _ */) {
      return {
        code: 'INVALID_LITERAL',
        message: 'digit separators ("_") are not accepted; write digits only, such as 1000',
      };
    }
  }
  const word = text.slice(start, end).replace(/^[+-]/, '').toLowerCase();
  if (word === 'nan' || word === 'inf' || word === 'infinity') {
    return { code: 'NOT_FINITE', message: `${word} is not a finite number to square` };
  }
  return INVALID_LINE;
}

/**
 * Reads one line's literal, text[start, end) (the line without its line break), by Python's
 * int() and float() grammar: spaces and tabs around it are ignored; a sign, digits (leading
 * zeros allowed, as `seq -w` prints them), an optional fraction (`1.`, `.5`) and an optional
 * exponent. Rejected, though Python takes them: digit separators (`1_000`), nan and inf,
 * non-ASCII digits, and any other whitespace.
 */
export function readLineLiteral(text: string, start: number, end: number): Reading {
  let from = start;
  let to = end;
  while (from < to) {
    const code = text.charCodeAt(from);
    if (code !== SPACE && code !== TAB) break;
    from++;
  }
  while (to > from) {
    const code = text.charCodeAt(to - 1);
    if (code !== SPACE && code !== TAB) break;
    to--;
  }
  if (from === to) return EMPTY_LINE;
  let index = from;
  let code = text.charCodeAt(index);
  const negative = code === MINUS;
  if (negative || code === PLUS) code = text.charCodeAt(++index);
  let mantissa = 0;
  let significant = 0;
  let integerDigits = 0;
  while (index < to && code >= DIGIT_0 && code <= DIGIT_9) {
    if (significant > 0 || code !== DIGIT_0) {
      if (significant < MAX_FAST_DIGITS) mantissa = mantissa * 10 + (code - DIGIT_0);
      significant++;
    }
    integerDigits++;
    code = text.charCodeAt(++index);
  }
  if (index === to) {
    if (integerDigits === 0) return invalidLine(text, from, to);
    if (significant <= MAX_FAST_DIGITS && integerDigits <= MAX_INTEGER_DIGITS) {
      return negative ? 0 - mantissa : mantissa;
    }
    return readIntegerLiteral(text.slice(from, to));
  }
  let fractionDigits = 0;
  if (code === DOT) {
    code = text.charCodeAt(++index);
    while (index < to && code >= DIGIT_0 && code <= DIGIT_9) {
      if (significant > 0 || code !== DIGIT_0) {
        if (significant < MAX_FAST_DIGITS) mantissa = mantissa * 10 + (code - DIGIT_0);
        significant++;
      }
      fractionDigits++;
      code = text.charCodeAt(++index);
    }
    if (integerDigits === 0 && fractionDigits === 0) return invalidLine(text, from, to);
  } else if (integerDigits === 0) {
    return invalidLine(text, from, to);
  }
  let exponent = 0;
  if (index < to && (code === LOWER_E || code === UPPER_E)) {
    code = ++index < to ? text.charCodeAt(index) : -1;
    const negativeExponent = code === MINUS;
    if (negativeExponent || code === PLUS) code = text.charCodeAt(++index);
    let exponentDigits = 0;
    while (index < to && code >= DIGIT_0 && code <= DIGIT_9) {
      if (exponent < 100_000) exponent = exponent * 10 + (code - DIGIT_0);
      exponentDigits++;
      code = text.charCodeAt(++index);
    }
    if (exponentDigits === 0) return invalidLine(text, from, to);
    if (negativeExponent) exponent = -exponent;
  }
  if (index !== to) return invalidLine(text, from, to);
  if (significant <= MAX_FAST_DIGITS) {
    // Digits after the first MAX_FAST_DIGITS significant ones are absent here (significant
    // counts them), so the mantissa holds every significant digit of the literal.
    const magnitude = fastDouble(mantissa, exponent - fractionDigits);
    if (magnitude !== undefined) return readDouble(negative ? -magnitude : magnitude);
  }
  return readDoubleLiteral(text.slice(from, to));
}

/** A user's JSON string element: a decimal integer of at most MAX_INTEGER_DIGITS digits. */
export function readIntegerString(value: string): Reading {
  if (!INTEGER_STRING.test(value)) {
    return {
      code: 'INVALID_INTEGER_STRING',
      message: 'a string must hold a decimal integer: an optional sign, then digits only',
    };
  }
  const digits = value.length - (value[0] === '+' || value[0] === '-' ? 1 : 0);
  if (digits > MAX_INTEGER_DIGITS) return tooManyDigits(digits, 'an integer string');
  return value;
}

/**
 * A number literal of a JSON document that needed its source text, as read by the grammar.
 * The JSON readers put it where the literal was; `validateNumbers` unwraps it. JSON text cannot
 * produce an instance, so it is never confused with the user's own values.
 */
export class ReadLiteral {
  readonly reading: Reading;

  constructor(reading: Reading) {
    this.reading = reading;
  }
}

/** Why a value that is neither a number nor a string is not an element. */
function nonNumberProblem(value: unknown): ElementProblem {
  if (Array.isArray(value)) {
    return { code: 'NESTED_ARRAY', message: 'nested arrays are not accepted; send a flat list' };
  }
  return {
    code: 'NOT_A_NUMBER',
    message: `expected a number or a decimal integer string, got ${describe(value)}`,
  };
}

/** An element as it came out of a JSON reader of this module's grammar, read. */
function checkReadElement(value: unknown): Reading {
  if (typeof value === 'number') return value;
  if (value instanceof ReadLiteral) return value.reading;
  if (typeof value === 'string') return readIntegerString(value);
  return nonNumberProblem(value);
}

/**
 * Validates a job's `numbers` as read from JSON by `json-numbers.ts` (a plain number is a
 * double or a safe integer already read; a ReadLiteral holds a literal that needed its text).
 * The caller has already checked that it is an array within the count limit; every element is
 * checked, the bad ones are reported by index, and the array is turned in place into the
 * canonical elements.
 */
export function validateNumbers(values: unknown[]): NumbersValidation {
  const errors: InvalidElement[] = [];
  let invalidCount = 0;
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value === 'number') continue;
    const reading = checkReadElement(value);
    if (isProblem(reading)) {
      invalidCount++;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ index, ...reading });
    } else {
      values[index] = reading;
    }
  }
  if (invalidCount > 0) return { ok: false, errors, invalidCount };
  return { ok: true, numbers: values as NumberInput[] };
}

/**
 * Returns why a value is not a canonical element (what chunk messages carry), or undefined
 * when it is one. A JSON number there is a double or a safe integer; an integer beyond is a
 * decimal string; a big integral double is its exponent text.
 */
export function checkElement(value: unknown): ElementProblem | undefined {
  if (typeof value === 'number') {
    if (Number.isNaN(value))
      return { code: 'NOT_FINITE', message: 'NaN is not a number to square' };
    if (!Number.isFinite(value)) return { code: 'NOT_FINITE', message: 'the number is not finite' };
    if (!Number.isFinite(value * value)) return PROBLEMS.squareOverflows;
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return {
        code: 'UNSAFE_INTEGER',
        message:
          'integer is beyond ±(2^53-1) as a double; a canonical element carries it as a decimal string',
      };
    }
    return undefined;
  }
  if (typeof value === 'string') {
    if (DOUBLE_TEXT.test(value)) {
      const reading = readDouble(Number(value));
      return isProblem(reading) ? reading : undefined;
    }
    const reading = readIntegerString(value);
    return isProblem(reading) ? reading : undefined;
  }
  return nonNumberProblem(value);
}

function exactBigIntSquare(root: bigint): SquareResult {
  const square = root * root;
  return square <= MAX_SAFE_BIGINT ? Number(square) : square.toString();
}

/** Whether a canonical string element is a double's exponent text (integers have no "e"). */
function isDoubleText(value: string): boolean {
  return value.includes('e');
}

/** The exact square of one canonical element. */
export function squareNumber(value: NumberInput): SquareResult {
  if (typeof value === 'string') {
    if (isDoubleText(value)) {
      const double = Number(value);
      return double * double;
    }
    return exactBigIntSquare(BigInt(value));
  }
  if (Number.isInteger(value) && Math.abs(value) > MAX_SAFE_SQUARE_ROOT) {
    return exactBigIntSquare(BigInt(value));
  }
  // A double's square is the IEEE-754 product; a small integer's is exact in a double.
  // `+ 0` turns the square of -0 (which is +0 anyway) and any -0 into +0 for JSON.
  return value * value + 0;
}

/** The longest JSON text of a double's square (e.g. 1.2345678901234567e-308), plus a comma. */
const MAX_DOUBLE_SQUARE_BYTES = 24;

/**
 * An upper bound of the bytes that an element's square takes in a JSON array, separator
 * included. It bounds chunks by result size (DynamoDB's 400 KB item limit), and it also
 * bounds the input JSON of the chunk, which is never longer than its result.
 */
export function estimateResultBytes(value: NumberInput): number {
  if (typeof value === 'number') {
    // A square beyond 2^53 is a quoted string of at most 32 digits. Plus a comma.
    return Number.isInteger(value) && Math.abs(value) > MAX_SAFE_SQUARE_ROOT
      ? 35
      : MAX_DOUBLE_SQUARE_BYTES;
  }
  if (isDoubleText(value)) return MAX_DOUBLE_SQUARE_BYTES;
  return 2 * value.length + 3; // at most twice the digits, two quotes and a comma
}
