/**
 * `POST /jobs` with `{"input": ...}` instead of `{"numbers": [...]}`: an upload job (202 with
 * the presigned upload) or an operator-allowed `s3Uri` job (202, started).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BadRequestError } from '#commons/errors.ts';
import { clientPath, jsonResponse } from '#commons/http.ts';
import type { DispatcherDeps } from './deps.ts';
import { createS3UriJob, createUploadJob } from './input-job.ts';
import { parseInputSource } from './s3-input.ts';

/** An input request is small: anything longer is a numbers body (or is refused as one). */
const MAX_INPUT_REQUEST_CHARS = 16 * 1024;

/** Whether a `POST /jobs` body asks for an S3 input: a small object whose one field is `input`. */
export function isInputRequest(text: string): boolean {
  if (text.length > MAX_INPUT_REQUEST_CHARS || !text.includes('"input"')) return false;
  try {
    const body: unknown = JSON.parse(text);
    return (
      typeof body === 'object' &&
      body !== null &&
      !Array.isArray(body) &&
      Object.hasOwn(body, 'input')
    );
  } catch {
    return false;
  }
}

/**
 * Creates the job of an input request.
 * @throws BadRequestError (INVALID_INPUT_SOURCE, IDEMPOTENCY_NOT_SUPPORTED, …), ForbiddenError
 *   (INPUT_BUCKET_NOT_ALLOWED), and the errors of input-job.ts
 */
export async function handleCreateInputJob(
  event: APIGatewayProxyEvent,
  text: string,
  idempotencyKey: string | undefined,
  ownerArn: string,
  deps: DispatcherDeps,
): Promise<APIGatewayProxyResult> {
  const body = JSON.parse(text) as Record<string, unknown>;
  const extra = Object.keys(body).filter((field) => field !== 'input');
  if (extra.length > 0) {
    throw new BadRequestError(
      'UNKNOWN_FIELD',
      `a job from S3 takes only "input"; got ${extra
        .slice(0, 5)
        .map((field) => JSON.stringify(field.slice(0, 64)))
        .join(', ')}`,
    );
  }
  if (idempotencyKey !== undefined) {
    throw new BadRequestError(
      'IDEMPOTENCY_NOT_SUPPORTED',
      'an Idempotency-Key is taken only with {"numbers": [...]}; an upload job is made once per request',
    );
  }
  const source = parseInputSource(body.input);
  const job =
    source.kind === 'upload'
      ? await createUploadJob(source, ownerArn, deps)
      : await createS3UriJob(source, ownerArn, deps);
  return jsonResponse(202, job, { location: clientPath(event, job.statusUrl) });
}
