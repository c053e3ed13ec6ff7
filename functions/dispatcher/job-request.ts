/**
 * The body of `POST /jobs`: `{"numbers": [...]}` and nothing else.
 */
import { BadRequestError, PayloadTooLargeError } from '#commons/errors.ts';
import { parseNumbersObject } from '#commons/json-numbers.ts';
import { MAX_NUMBERS_PER_JOB } from '#commons/limits.ts';
import { type NumberInput, validateNumbers } from '#commons/numbers.ts';

const ALLOWED_FIELDS: ReadonlySet<string> = new Set(['numbers']);
/** Unknown field names echoed back, and how much of each: a body may hold a million. */
const MAX_REPORTED_FIELDS = 10;
const MAX_REPORTED_FIELD_LENGTH = 64;

function shorten(name: string): string {
  return name.length > MAX_REPORTED_FIELD_LENGTH
    ? `${name.slice(0, MAX_REPORTED_FIELD_LENGTH)}…`
    : name;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

/**
 * Validates a job request's JSON text and returns its numbers.
 * @throws BadRequestError (INVALID_JSON, BODY_NOT_OBJECT, UNKNOWN_FIELD, NUMBERS_MISSING,
 *   NUMBERS_NOT_ARRAY, NUMBERS_EMPTY, INVALID_NUMBERS)
 * @throws PayloadTooLargeError (TOO_MANY_NUMBERS)
 */
export function parseJobRequest(text: string): NumberInput[] {
  const body = parseNumbersObject(text);

  const unknownFields: string[] = [];
  let unknownFieldCount = 0;
  for (const field in body) {
    if (!Object.hasOwn(body, field) || ALLOWED_FIELDS.has(field)) continue;
    unknownFieldCount++;
    if (unknownFields.length < MAX_REPORTED_FIELDS) unknownFields.push(shorten(field));
  }
  if (unknownFieldCount > 0) {
    const named = unknownFields.map((field) => JSON.stringify(field)).join(', ');
    throw new BadRequestError(
      'UNKNOWN_FIELD',
      `unknown field${unknownFieldCount > 1 ? 's' : ''} ${named}${unknownFieldCount > unknownFields.length ? ', …' : ''}: the body accepts only "numbers"`,
      { details: { fields: unknownFields, unknownFieldCount } },
    );
  }

  if (!Object.hasOwn(body, 'numbers')) {
    throw new BadRequestError(
      'NUMBERS_MISSING',
      'the body has no "numbers" field; send {"numbers": [1, 2, 3]}',
    );
  }
  const { numbers } = body;
  if (!Array.isArray(numbers)) {
    throw new BadRequestError(
      'NUMBERS_NOT_ARRAY',
      `"numbers" must be an array, got ${describeType(numbers)}`,
    );
  }
  if (numbers.length === 0) {
    throw new BadRequestError('NUMBERS_EMPTY', '"numbers" is empty; send at least one number');
  }
  if (numbers.length > MAX_NUMBERS_PER_JOB) {
    throw new PayloadTooLargeError(
      'TOO_MANY_NUMBERS',
      `"numbers" has ${numbers.length} elements; a job takes at most ${MAX_NUMBERS_PER_JOB}`,
      { details: { count: numbers.length, maxNumbers: MAX_NUMBERS_PER_JOB } },
    );
  }

  const validation = validateNumbers(numbers);
  if (!validation.ok) {
    const { errors, invalidCount } = validation;
    const first = errors[0];
    const example = first === undefined ? '' : ` (first at index ${first.index}: ${first.message})`;
    throw new BadRequestError(
      'INVALID_NUMBERS',
      `${invalidCount} element${invalidCount > 1 ? 's' : ''} of "numbers" cannot be squared${example}`,
      { details: { invalidCount, errors } },
    );
  }
  return validation.numbers;
}
