/**
 * JSON responses for the API Gateway REST API (Lambda proxy integration).
 *
 * Every error body has one shape: `{ "error": { "code", "message", "details"? } }`. Only
 * HttpError carries client-facing text; anything else is logged and answered with a
 * generic 500, so no stack trace, SDK message or table name ever reaches a client.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-output-format
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type ErrorDetails, errorName, HttpError, loggableError } from './errors.ts';
import type { Logger } from './powertools.ts';

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export interface ErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details?: ErrorDetails;
  };
}

/** A response whose body is already JSON text. */
export function rawJsonResponse(
  statusCode: number,
  json: string,
  headers?: Readonly<Record<string, string>>,
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: json };
}

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers?: Readonly<Record<string, string>>,
): APIGatewayProxyResult {
  return rawJsonResponse(statusCode, JSON.stringify(body), headers);
}

export function errorBody(code: string, message: string, details?: ErrorDetails): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/**
 * Maps any error to a response: an HttpError to its own status and body, anything else to
 * a logged, generic 500.
 */
export function errorResponse(error: unknown, logger: Logger): APIGatewayProxyResult {
  if (error instanceof HttpError) {
    const level = error.statusCode >= 500 ? 'error' : 'info';
    logger[level]('request rejected', {
      statusCode: error.statusCode,
      code: error.code,
      reason: error.message,
    });
    return jsonResponse(error.statusCode, errorBody(error.code, error.message, error.details));
  }
  logger.error('request failed', { errorName: errorName(error), error: loggableError(error) });
  return jsonResponse(500, errorBody('INTERNAL_ERROR', 'an internal error occurred'));
}

/**
 * Serializes `value` with one extra member whose value is already JSON text. Results are
 * stored as JSON text, so they are passed through as stored (big squares stay strings,
 * floats keep their exact text) without a parse and re-stringify of up to a megabyte.
 */
export function jsonWithRawMember(value: object, key: string, rawJson: string): string {
  const head = JSON.stringify(value);
  const member = `${JSON.stringify(key)}:${rawJson}`;
  return head === '{}' ? `{${member}}` : `${head.slice(0, -1)},${member}}`;
}

/**
 * The path of `apiPath` as the client reached the API, for a `Location` header: the part of
 * `requestContext.path` before `event.path` is the stage (`/prod`) or a custom domain's base
 * path, which the resource path alone lacks.
 */
export function clientPath(
  event: Pick<APIGatewayProxyEvent, 'path' | 'requestContext'>,
  apiPath: string,
): string {
  const fullPath = event.requestContext?.path;
  if (typeof fullPath === 'string' && typeof event.path === 'string' && event.path !== '') {
    if (fullPath.endsWith(event.path)) {
      return `${fullPath.slice(0, fullPath.length - event.path.length)}${apiPath}`;
    }
  }
  return apiPath;
}
