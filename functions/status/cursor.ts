/**
 * The cursor of `GET /jobs/{jobId}/results`: base64url of `{"v":1,"c":<chunkIndex>}`, the
 * index of the first chunk page of the response. A job's responses hold a fixed count of
 * pages each (pagesPerResponseOf: 8 for a body, 1 for an S3 input), so response p starts at
 * chunk p times that, which `?page=p` also addresses; the version lets the format change
 * without breaking cursors in flight.
 */
import { BadRequestError } from '#commons/errors.ts';

const CURSOR_VERSION = 1;
const MAX_CURSOR_LENGTH = 128;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeCursor(chunkIndex: number): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, c: chunkIndex })).toString('base64url');
}

export function invalidCursorError(): BadRequestError {
  return new BadRequestError(
    'INVALID_CURSOR',
    'the cursor is not one returned as nextCursor by this endpoint',
  );
}

/**
 * The object a base64url JSON cursor holds, or `invalid()` thrown when the cursor is longer
 * than `maxLength`, not base64url, not JSON or not an object. Each cursor checks its fields.
 */
export function readCursorObject(
  cursor: string,
  maxLength: number,
  invalid: () => BadRequestError,
): Readonly<Record<string, unknown>> {
  if (cursor.length > maxLength || !BASE64URL.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null) throw invalid();
  return value as Readonly<Record<string, unknown>>;
}

/**
 * The chunk index a cursor points at (range-checked later against the job).
 * @throws BadRequestError (INVALID_CURSOR)
 */
export function decodeCursor(cursor: string): number {
  const { v, c } = readCursorObject(cursor, MAX_CURSOR_LENGTH, invalidCursorError);
  if (v !== CURSOR_VERSION || typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0)
    throw invalidCursorError();
  return c;
}
