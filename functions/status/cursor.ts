/**
 * The cursor of `GET /jobs/{jobId}/results`: base64url of `{"v":1,"c":<chunkIndex>}`, the
 * index of the first chunk page of the response. Responses hold RESULT_PAGES_PER_RESPONSE
 * pages, so the cursor of response p is encodeCursor(p x RESULT_PAGES_PER_RESPONSE), and a
 * client that knows the job's chunkCount may fetch responses in parallel; the version lets
 * the format change without breaking cursors in flight.
 */
import { BadRequestError } from '../commons/errors.ts';

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
 * The chunk index a cursor points at (range-checked later against the job).
 * @throws BadRequestError (INVALID_CURSOR)
 */
export function decodeCursor(cursor: string): number {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw invalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursorError();
  }
  if (typeof value !== 'object' || value === null) throw invalidCursorError();
  const { v, c } = value as { v?: unknown; c?: unknown };
  if (v !== CURSOR_VERSION || !Number.isSafeInteger(c) || (c as number) < 0)
    throw invalidCursorError();
  return c as number;
}
