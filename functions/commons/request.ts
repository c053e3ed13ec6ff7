/**
 * Turning an API Gateway request into trusted values: the body's bytes into JSON text (with
 * size limits and gzip), the text into an object, path parameters into ids. Every failure
 * is an HttpError (400 or 413) that says what is wrong.
 */
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { isJobId } from './contracts.ts';
import { BadRequestError, PayloadTooLargeError } from './errors.ts';
import {
  MAX_DECODED_BODY_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_REQUEST_BODY_BYTES,
} from './limits.ts';

export interface BodyLimits {
  /** Most bytes of the body as received (base64 text included). */
  readonly maxRequestBytes: number;
  /** Most bytes of the body after gzip is undone. */
  readonly maxDecodedBytes: number;
}

export const DEFAULT_BODY_LIMITS: BodyLimits = {
  maxRequestBytes: MAX_REQUEST_BODY_BYTES,
  maxDecodedBytes: MAX_DECODED_BODY_BYTES,
};

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const BYTE_ORDER_MARK = '\uFEFF';

function emptyBodyError(): BadRequestError {
  return new BadRequestError(
    'EMPTY_BODY',
    'the request has no body; send a JSON object such as {"numbers": [1, 2, 3]}',
  );
}

function gunzipBody(bytes: Buffer, maxDecodedBytes: number): Buffer {
  try {
    // maxOutputLength stops a compression bomb before it is inflated into memory.
    return gunzipSync(bytes, { maxOutputLength: maxDecodedBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ERR_BUFFER_TOO_LARGE') {
      throw new PayloadTooLargeError(
        'DECODED_BODY_TOO_LARGE',
        `the gzip body inflates to more than ${maxDecodedBytes} bytes`,
        { details: { maxDecodedBytes } },
      );
    }
    throw new BadRequestError('INVALID_GZIP', 'the body starts like gzip but cannot be inflated', {
      cause: error,
    });
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as text: base64 decoded when API Gateway encoded it, gunzipped when the
 * bytes start with the gzip magic number, UTF-8 checked.
 * @throws BadRequestError (EMPTY_BODY, INVALID_GZIP, INVALID_ENCODING)
 * @throws PayloadTooLargeError (BODY_TOO_LARGE, DECODED_BODY_TOO_LARGE)
 */
export function decodeRequestBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  limits: BodyLimits = DEFAULT_BODY_LIMITS,
): string {
  const { body } = event;
  if (body === null || body === undefined || body === '') throw emptyBodyError();
  // A base64 body is ASCII, so its length is its size; otherwise count UTF-8 bytes.
  const receivedBytes = event.isBase64Encoded ? body.length : Buffer.byteLength(body, 'utf8');
  if (receivedBytes > limits.maxRequestBytes) {
    throw new PayloadTooLargeError(
      'BODY_TOO_LARGE',
      `the body has ${receivedBytes} bytes; at most ${limits.maxRequestBytes} are accepted (send it gzip-compressed to fit more)`,
      { details: { receivedBytes, maxRequestBytes: limits.maxRequestBytes } },
    );
  }
  let text: string;
  if (event.isBase64Encoded) {
    let bytes: Buffer = Buffer.from(body, 'base64');
    if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1) {
      bytes = gunzipBody(bytes, limits.maxDecodedBytes);
    }
    try {
      text = utf8.decode(bytes); // also drops a leading byte order mark
    } catch (error) {
      throw new BadRequestError('INVALID_ENCODING', 'the body is not valid UTF-8', {
        cause: error,
      });
    }
  } else {
    text = body.startsWith(BYTE_ORDER_MARK) ? body.slice(1) : body;
  }
  if (/^\s*$/.test(text)) throw emptyBodyError();
  return text;
}

/** JSON.parse's reviver, with the source text Node gives for primitives. */
export type JsonReviver = (
  this: unknown,
  key: string,
  value: unknown,
  context?: { source?: string },
) => unknown;

/**
 * Parses JSON text that must hold an object, through `reviver` when one is given.
 * @throws BadRequestError (INVALID_JSON, BODY_NOT_OBJECT)
 */
export function parseJsonObject(text: string, reviver?: JsonReviver): Record<string, unknown> {
  let value: unknown;
  try {
    value = reviver === undefined ? JSON.parse(text) : JSON.parse(text, reviver);
  } catch (error) {
    throw new BadRequestError('INVALID_JSON', 'the body is not valid JSON', {
      details: { reason: error instanceof Error ? error.message : 'unparseable' },
      cause: error,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new BadRequestError(
      'BODY_NOT_OBJECT',
      `the body must be a JSON object such as {"numbers": [1, 2, 3]}, got ${got}`,
    );
  }
  return value as Record<string, unknown>;
}

/**
 * The `jobId` path parameter, checked for the shape the dispatcher gives ids (a UUID) and
 * lowercased.
 * @throws BadRequestError (INVALID_JOB_ID)
 */
export function parseJobIdParameter(
  pathParameters: APIGatewayProxyEvent['pathParameters'],
): string {
  const raw = pathParameters?.jobId;
  const jobId = typeof raw === 'string' ? raw.toLowerCase() : undefined;
  if (!isJobId(jobId)) {
    throw new BadRequestError(
      'INVALID_JOB_ID',
      'the job id must be a UUID as returned by POST /jobs',
    );
  }
  return jobId;
}

/** A header's value, its name matched case-insensitively (clients and proxies vary the case). */
export function headerValue(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
  name: string,
): string | undefined {
  if (headers === null || headers === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

const IDEMPOTENCY_KEY = new RegExp(`^[A-Za-z0-9_.:-]{1,${MAX_IDEMPOTENCY_KEY_LENGTH}}$`);

/**
 * The `Idempotency-Key` header: 1 to 128 characters of letters, digits, `_`, `-`, `.` and
 * `:` (a UUID fits). Undefined when the header is absent.
 * @throws BadRequestError (INVALID_IDEMPOTENCY_KEY) for any other value, an empty one too
 */
export function parseIdempotencyKey(
  headers: APIGatewayProxyEvent['headers'] | null | undefined,
): string | undefined {
  const value = headerValue(headers, 'Idempotency-Key');
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new BadRequestError(
      'INVALID_IDEMPOTENCY_KEY',
      `the Idempotency-Key header must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters of letters, digits, "_", "-", "." and ":", such as a UUID`,
    );
  }
  return value;
}
