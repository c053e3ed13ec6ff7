/**
 * Reading JSON whose numbers follow the grammar of numbers.ts: a number literal is read from its
 * source text, so `9007199254740993` stays exact and `3e100` is a double.
 *
 * Two readers give the same values:
 * - for the shapes jobs use, `{"numbers": [...]}` and a bare array, JSON.parse (native, and it
 *   writes its own error for invalid JSON), then a pass over the values: only a value that may
 *   read differently from its literal's text (an integral one past MAX_SAFE_SQUARE_ROOT, or one
 *   past a double's range) sends a scan over the array's text, which finds each literal and
 *   tells an integer literal from one with a fraction or an exponent. Without such values
 *   (small integers, fractions), or when they are all safe integers and the text has no `.`,
 *   `e` or `E`, the text is not scanned. `npm run bench:parse` measures it;
 * - for any other document, JSON.parse with a reviver that reads the literals from
 *   `context.source` (Node ≥ 21). It is 15 to 25 times slower on a million numbers, so it is
 *   only the fallback, e.g. for a body with an unknown field.
 */
import {
  MAX_SAFE_SQUARE_ROOT,
  ReadLiteral,
  readDouble,
  readIntegerLiteral,
  readJsonNumberSource,
} from './numbers.ts';
import { parseJsonObject } from './request.ts';

const TAB = 9;
const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const QUOTE = 34;
const COMMA = 44;
const MINUS = 45;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const COLON = 58;
const UPPER_E = 69;
const OPEN_BRACKET = 91;
const BACKSLASH = 92;
const CLOSE_BRACKET = 93;
const LOWER_E = 101;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const PLUS = 43;

function skipWhitespace(text: string, from: number): number {
  let index = from;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code !== SPACE && code !== LINE_FEED && code !== CARRIAGE_RETURN && code !== TAB) break;
    index++;
  }
  return index;
}

function isNumberCharacter(code: number): boolean {
  return (
    (code >= DIGIT_0 && code <= DIGIT_9) ||
    code === MINUS ||
    code === PLUS ||
    code === DOT ||
    code === LOWER_E ||
    code === UPPER_E
  );
}

/** The end of the string starting at `start` (its opening quote), in valid JSON. */
function skipString(text: string, start: number): number {
  let index = start + 1;
  for (;;) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) return index + 1;
    index += code === BACKSLASH ? 2 : 1;
  }
}

/** The end of any value starting at `start`, in valid JSON. */
function skipValue(text: string, start: number): number {
  let depth = 0;
  let index = start;
  do {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      index = skipString(text, index);
      continue;
    }
    if (code === OPEN_BRACKET || code === OPEN_BRACE) depth++;
    else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) depth--;
    else if (depth === 0) {
      // A bare literal (true, false, null): up to the next delimiter.
      while (index < text.length) {
        const next = text.charCodeAt(index);
        if (next === COMMA || next === CLOSE_BRACKET || next === CLOSE_BRACE) return index;
        if (next === SPACE || next === LINE_FEED || next === CARRIAGE_RETURN || next === TAB)
          return index;
        index++;
      }
      return index;
    }
    index++;
  } while (depth > 0);
  return index;
}

/**
 * Whether JSON.parse's double may differ from the grammar's reading of its literal: an integral
 * value beyond MAX_SAFE_SQUARE_ROOT (an exact integer or a double, by its text), or one past a
 * double's range. Any other value reads the same from either kind of literal: a fraction is a
 * double, and a small integral value (-0 too) squares alike as an integer or a double.
 */
function needsSource(value: unknown): boolean {
  if (typeof value !== 'number') return false;
  if (value > MAX_SAFE_SQUARE_ROOT || value < -MAX_SAFE_SQUARE_ROOT) {
    return Number.isInteger(value) || !Number.isFinite(value);
  }
  return false;
}

/** Whether `text` has, from `from` on, a character of a fraction or an exponent. */
function hasFractionOrExponent(text: string, from: number): boolean {
  return (
    text.indexOf('.', from) !== -1 ||
    text.indexOf('e', from) !== -1 ||
    text.indexOf('E', from) !== -1
  );
}

/**
 * Puts each number of `values` (JSON.parse's reading of the array whose `[` is at `start` in
 * valid JSON `text`) right by the grammar, in place. Returns the index after the `]`, or -1
 * when the text was not scanned because no element needed it: no value may read differently,
 * or the only such values are safe integers and no literal from `start` on has a fraction or an
 * exponent (so they are all integer literals, exact as JSON.parse read them).
 */
function readLiteralsInPlace(text: string, start: number, values: unknown[]): number {
  let first = -1;
  let needsText = false;
  for (let element = 0; element < values.length; element++) {
    const value = values[element];
    if (!needsSource(value)) continue;
    if (first === -1) first = element;
    if (!Number.isSafeInteger(value)) {
      needsText = true;
      break;
    }
  }
  if (first === -1) return -1;
  if (!needsText && !hasFractionOrExponent(text, start)) return -1;
  let index = skipWhitespace(text, start + 1);
  if (text.charCodeAt(index) === CLOSE_BRACKET) return index + 1;
  for (let element = 0; ; element++) {
    let code = text.charCodeAt(index);
    if (code === MINUS || (code >= DIGIT_0 && code <= DIGIT_9)) {
      const from = index;
      do code = text.charCodeAt(++index);
      while (code >= DIGIT_0 && code <= DIGIT_9);
      const isDouble = code === DOT || code === LOWER_E || code === UPPER_E;
      if (isDouble) {
        do code = text.charCodeAt(++index);
        while (isNumberCharacter(code));
      }
      if (element >= first) {
        const value = values[element];
        // A safe integer of an integer literal is exact as JSON.parse read it.
        if (needsSource(value) && (isDouble || !Number.isSafeInteger(value))) {
          values[element] = new ReadLiteral(
            isDouble ? readDouble(value as number) : readIntegerLiteral(text.slice(from, index)),
          );
        }
      }
    } else {
      index = skipValue(text, index);
    }
    index = skipWhitespace(text, index);
    if (text.charCodeAt(index) !== COMMA) return index + 1; // the closing bracket
    index = skipWhitespace(text, index + 1);
  }
}

interface ReviverContext {
  readonly source?: string;
}

/**
 * JSON.parse's reviver for the grammar: an array element that may read differently from its
 * text (an integral one beyond MAX_SAFE_SQUARE_ROOT, or one past a double's range) is read
 * from it. Numbers outside arrays (the root, object members) are left as they are: they are
 * never elements, and a wrapper there would change what the request checks see.
 */
export function literalReviver(
  this: unknown,
  _key: string,
  value: unknown,
  context?: ReviverContext,
): unknown {
  if (typeof value !== 'number' || !Array.isArray(this) || !needsSource(value)) return value;
  const source = context?.source;
  if (source === undefined) {
    // Node 24 always gives the source of a primitive; without it the grammar cannot hold.
    throw new Error('JSON.parse gave the reviver no source text (Node >= 21 is required)');
  }
  return new ReadLiteral(readJsonNumberSource(source));
}

/** Where the `[` of `{"numbers": [` is, when the object starts so; else -1. */
function numbersArrayStart(text: string): number {
  let index = skipWhitespace(text, 0);
  if (text.charCodeAt(index) !== OPEN_BRACE) return -1;
  index = skipWhitespace(text, index + 1);
  if (!text.startsWith('"numbers"', index)) return -1;
  index = skipWhitespace(text, index + '"numbers"'.length);
  if (text.charCodeAt(index) !== COLON) return -1;
  index = skipWhitespace(text, index + 1);
  return text.charCodeAt(index) === OPEN_BRACKET ? index : -1;
}

/**
 * Parses a JSON object whose number literals are read by the grammar (numbers.ts): elements of
 * `numbers` are plain numbers or ReadLiteral values, which `validateNumbers` turns into
 * canonical elements.
 * @throws BadRequestError (INVALID_JSON, BODY_NOT_OBJECT)
 */
export function parseNumbersObject(text: string): Record<string, unknown> {
  const start = numbersArrayStart(text);
  if (start === -1) return parseJsonObject(text, literalReviver);
  const body = parseJsonObject(text);
  const { numbers } = body;
  if (!Array.isArray(numbers)) return body;
  const arrayEnd = readLiteralsInPlace(text, start, numbers);
  // No element needed its text: the array JSON.parse kept is read right, whatever follows.
  if (arrayEnd === -1) return body;
  // The array read in the text was the one JSON.parse kept only if `numbers` is the only key
  // (a duplicate key keeps the last); otherwise the reviver reads the document again.
  if (text.charCodeAt(skipWhitespace(text, arrayEnd)) === CLOSE_BRACE) return body;
  return parseJsonObject(text, literalReviver);
}

export type ParsedArray =
  | { readonly ok: true; readonly values: unknown[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Parses a JSON document that must be an array (the `json` input format), its number literals
 * read by the grammar; `validateNumbers` then checks the values.
 */
export function parseNumbersArray(text: string): ParsedArray {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : 'unparseable JSON' };
  }
  if (!Array.isArray(value)) return { ok: false, reason: 'the JSON document is not an array' };
  readLiteralsInPlace(text, skipWhitespace(text, 0), value);
  return { ok: true, values: value };
}
