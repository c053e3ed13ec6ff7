/**
 * Uploads a job's input file through the presigned URLs of an upload job: one PUT, or the
 * parts of a multipart upload a few at a time. The file is streamed from disk (each part read
 * with its own byte range), so memory stays constant whatever the file's size.
 *
 * A presigned PUT must carry its Content-Length: S3 refuses a chunked body that is not
 * aws-chunked signed, so these requests go through node:http(s) with the length set, not
 * through fetch with a stream body.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
 */
import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { retryWhile } from '#commons/retry.ts';
import type { UploadedPart, UploadInstructions } from './api-types.ts';
import { FanoutError, messageOf } from './errors.ts';
import { sleep } from './poll.ts';

/** Parts uploaded at once: S3 takes many; four keep a laptop's uplink busy. */
export const UPLOAD_CONCURRENCY = 4;

/**
 * Attempts of one PUT, and the waits between them (full jitter from 100 ms, doubling, at most
 * 800 ms). S3 answers 503 SlowDown past a prefix's request rate, and 500 on a
 * rare internal error; both are to be retried with backoff.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
const PUT_RETRY = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 800 };

/** A PUT whose socket is idle this long is abandoned and tried again. */
const PUT_IDLE_TIMEOUT_MS = 60_000;

export interface UploadOptions {
  /** Called as bytes leave: bytes sent so far (a retried part counts again), and the total. */
  readonly onProgress?: (sentBytes: number, totalBytes: number) => void;
  readonly signal?: AbortSignal;
  /** @default UPLOAD_CONCURRENCY */
  readonly concurrency?: number;
}

/** An answer of S3 that is not 2xx. */
export class UploadError extends FanoutError {
  readonly status: number;
  readonly code: string | undefined;

  constructor(status: number, body: string, what: string) {
    const code = /<Code>([^<]+)<\/Code>/.exec(body)?.[1];
    const message = /<Message>([^<]+)<\/Message>/.exec(body)?.[1];
    super(
      `the upload of ${what} failed: HTTP ${status}${code === undefined ? '' : ` ${code}`}${message === undefined ? '' : `: ${message}`}`,
    );
    this.name = 'UploadError';
    this.status = status;
    this.code = code;
  }
}

/** A PUT whose connection went idle for PUT_IDLE_TIMEOUT_MS. */
class UploadStalledError extends FanoutError {
  constructor(what: string) {
    super(`the upload of ${what} stalled for ${PUT_IDLE_TIMEOUT_MS} ms`);
    this.name = 'UploadStalledError';
  }
}

function retryable(error: unknown): boolean {
  // S3 answers 400 RequestTimeout when a body stops arriving: sent again, it may pass.
  if (error instanceof UploadError) return error.status >= 500 || error.code === 'RequestTimeout';
  // A reset, refused or stalled connection: the request did not complete.
  return error instanceof UploadStalledError || !(error instanceof FanoutError);
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
  });
}

/** Bytes [start, end) of `path`, to PUT to a presigned URL; `what` names it in errors. */
interface PutTarget {
  readonly url: string;
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly what: string;
}

/** One PUT of a target; resolves with its ETag. */
function putRange(
  { url, path, start, end, what }: PutTarget,
  onBytes: (count: number) => void,
  signal: AbortSignal | undefined,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      target,
      {
        method: 'PUT',
        headers: { 'content-length': String(end - start) },
        ...(signal === undefined ? {} : { signal }),
      },
      (response) => {
        readBody(response).then((body) => {
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new UploadError(status, body, what));
            return;
          }
          const etag = response.headers.etag;
          if (typeof etag !== 'string' || etag === '') {
            reject(new FanoutError(`the upload of ${what} answered no ETag`));
            return;
          }
          resolve(etag);
        }, reject);
      },
    );
    request.on('error', reject);
    // A connection that stalls fails the attempt (and is retried) instead of hanging.
    request.setTimeout(PUT_IDLE_TIMEOUT_MS, () => request.destroy(new UploadStalledError(what)));
    if (end === start) {
      request.end();
      return;
    }
    const file = createReadStream(path, { start, end: end - 1 });
    // A failed or aborted request does not end its source: its file is closed with it.
    request.on('close', () => file.destroy());
    file.on('data', (chunk) => onBytes(chunk.length));
    file.on('error', (error) => {
      request.destroy(error);
      reject(new FanoutError(`cannot read ${path}: ${messageOf(error)}`, { cause: error }));
    });
    file.pipe(request);
  });
}

function putWithRetries(
  target: PutTarget,
  onBytes: (count: number) => void,
  signal: AbortSignal | undefined,
): Promise<string> {
  const attempt = async () => {
    let attemptBytes = 0;
    try {
      return await putRange(
        target,
        (count) => {
          attemptBytes += count;
          onBytes(count);
        },
        signal,
      );
    } catch (error) {
      // The bytes of a failed attempt are sent again: progress goes back by them.
      onBytes(-attemptBytes);
      throw error;
    }
  };
  return retryWhile(attempt, {
    policy: PUT_RETRY,
    isRetryable: (error): error is unknown => signal?.aborted !== true && retryable(error),
    sleep: (ms) => sleep(ms, signal),
  });
}

/**
 * Uploads `path` (of `sizeBytes`) as `upload` says.
 * @returns the parts with their ETags for a multipart upload (to send with the start), or
 *   undefined for a single PUT
 * @throws UploadError for an answer of S3 that retries did not fix, FanoutError when the file
 *   cannot be read
 */
export async function uploadFile(
  upload: UploadInstructions,
  path: string,
  sizeBytes: number,
  options: UploadOptions = {},
): Promise<UploadedPart[] | undefined> {
  let sent = 0;
  const onBytes = (count: number) => {
    sent += count;
    options.onProgress?.(sent, sizeBytes);
  };
  if (upload.method === 'PUT') {
    const whole = { url: upload.url, path, start: 0, end: sizeBytes, what: path };
    await putWithRetries(whole, onBytes, options.signal);
    return undefined;
  }
  const { partSizeBytes, parts } = upload;
  if (parts.length * partSizeBytes < sizeBytes) {
    throw new FanoutError(
      `${path} has ${sizeBytes} bytes, more than the ${parts.length} parts of ${partSizeBytes} bytes the upload offers`,
    );
  }
  // Only the parts the file fills: the API offers parts for the size it was told.
  const needed = parts.filter((part) => (part.partNumber - 1) * partSizeBytes < sizeBytes);
  const uploaded: UploadedPart[] = [];
  // One part failing for good stops the others: the upload is abandoned (S3's lifecycle rule
  // aborts the unfinished multipart upload, and the job ends INPUT_NOT_UPLOADED).
  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < needed.length; index = next++) {
      const part = needed[index];
      if (part === undefined) return;
      const start = (part.partNumber - 1) * partSizeBytes;
      const end = Math.min(sizeBytes, start + partSizeBytes);
      const what = `part ${part.partNumber} of ${path}`;
      const etag = await putWithRetries({ url: part.url, path, start, end, what }, onBytes, signal);
      uploaded.push({ partNumber: part.partNumber, etag });
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? UPLOAD_CONCURRENCY);
  const workers = Array.from({ length: Math.min(concurrency, needed.length) }, () =>
    worker().catch((error: unknown) => {
      stop.abort(error);
      throw error;
    }),
  );
  const settled = await Promise.allSettled(workers);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw stop.signal.reason ?? failed.reason;
  return uploaded.sort((a, b) => a.partNumber - b.partNumber);
}
