/**
 * The dispatcher's side of jobs whose input is an S3 object, as plain domain functions (not yet
 * wired into the routes or the job store):
 * - `{"input": {"upload": {"format": "lines"|"json", "sizeBytes"?: n}}}`: the job's own key in
 *   the input bucket, and a presigned PUT URL for it, or, past
 *   UPLOAD_MULTIPART_THRESHOLD_BYTES, a multipart upload with one presigned URL per part
 *   (completed later with the parts' ETags, `completeUpload`);
 * - `{"input": {"s3Uri": "s3://bucket/key", "format"?: ...}}`: an object in a bucket the
 *   operator allowed (403 otherwise), looked up with HeadObject for its size and ETag, from
 *   which the ranges are planned.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BadRequestError,
  errorName,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
} from '#commons/errors.ts';
import { bucketNameOfArn, INPUT_UPLOAD_PREFIX } from '#commons/input/buckets.ts';
import type { InputObject } from '#commons/input/range-reader.ts';
import {
  MAX_INPUT_OBJECT_BYTES,
  S3_MAX_KEY_BYTES,
  S3_MAX_PARTS,
  UPLOAD_MULTIPART_THRESHOLD_BYTES,
  UPLOAD_PART_BYTES,
  UPLOAD_URL_EXPIRY_SECONDS,
} from '#commons/limits.ts';
import type { InputFormat } from '#commons/types.ts';

export type { InputFormat };

const FORMATS: readonly InputFormat[] = ['lines', 'json'];

/** Where a job's input comes from, as the request asked. */
export type InputSource =
  | { readonly kind: 'upload'; readonly format: InputFormat; readonly sizeBytes?: number }
  | {
      readonly kind: 's3Uri';
      readonly format: InputFormat;
      readonly bucket: string;
      readonly key: string;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidSource(message: string): BadRequestError {
  return new BadRequestError('INVALID_INPUT_SOURCE', message);
}

function onlyFields(value: Record<string, unknown>, allowed: readonly string[], where: string) {
  const unknown = Object.keys(value).filter((field) => !allowed.includes(field));
  if (unknown.length > 0) {
    throw invalidSource(
      `${where} takes only ${allowed.map((field) => `"${field}"`).join(', ')}; got ${unknown
        .slice(0, 5)
        .map((field) => JSON.stringify(field.slice(0, 64)))
        .join(', ')}`,
    );
  }
}

function parseFormat(value: unknown, where: string): InputFormat {
  const format = FORMATS.find((candidate) => candidate === value);
  if (format === undefined) {
    throw invalidSource(`${where}.format must be "lines" or "json", got ${JSON.stringify(value)}`);
  }
  return format;
}

/**
 * The `input` field of a job request.
 * @throws BadRequestError (INVALID_INPUT_SOURCE, INVALID_S3_URI)
 * @throws PayloadTooLargeError (INPUT_TOO_LARGE) for a declared size past MAX_INPUT_OBJECT_BYTES
 */
export function parseInputSource(input: unknown): InputSource {
  if (!isRecord(input)) {
    throw invalidSource('"input" must be an object: {"upload": {...}} or {"s3Uri": "s3://…"}');
  }
  if (Object.hasOwn(input, 'upload') === Object.hasOwn(input, 's3Uri')) {
    throw invalidSource('"input" must have exactly one of "upload" and "s3Uri"');
  }
  if (Object.hasOwn(input, 'upload')) {
    onlyFields(input, ['upload'], '"input"');
    const { upload } = input;
    if (!isRecord(upload)) {
      throw invalidSource('"input.upload" must be an object such as {"format": "lines"}');
    }
    onlyFields(upload, ['format', 'sizeBytes'], '"input.upload"');
    const format = parseFormat(upload.format, '"input.upload"');
    if (upload.sizeBytes === undefined) return { kind: 'upload', format };
    const { sizeBytes } = upload;
    if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes < 1) {
      throw invalidSource('"input.upload.sizeBytes" must be a positive integer (bytes)');
    }
    assertSizeWithinLimit(sizeBytes);
    return { kind: 'upload', format, sizeBytes };
  }
  onlyFields(input, ['s3Uri', 'format'], '"input"');
  const location = parseS3Uri(input.s3Uri);
  const format = input.format === undefined ? 'lines' : parseFormat(input.format, '"input"');
  return { kind: 's3Uri', format, ...location };
}

function assertSizeWithinLimit(sizeBytes: number): void {
  if (sizeBytes > MAX_INPUT_OBJECT_BYTES) {
    throw new PayloadTooLargeError(
      'INPUT_TOO_LARGE',
      `the input has ${sizeBytes} bytes; a job takes at most ${MAX_INPUT_OBJECT_BYTES}`,
      { details: { sizeBytes, maxBytes: MAX_INPUT_OBJECT_BYTES } },
    );
  }
}

/**
 * `s3://bucket/key` as a bucket and a key: a bucket name of the general purpose rules, and a key
 * of 1 to 1,024 UTF-8 bytes (taken as written: no percent-decoding).
 * @throws BadRequestError (INVALID_S3_URI)
 */
export function parseS3Uri(uri: unknown): { readonly bucket: string; readonly key: string } {
  const invalid = (why: string) =>
    new BadRequestError(
      'INVALID_S3_URI',
      `"input.s3Uri" ${why}, such as "s3://my-bucket/jobs/input.txt"`,
    );
  if (typeof uri !== 'string') throw invalid('must be a string');
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  const bucket = match?.[1];
  const key = match?.[2];
  if (bucket === undefined || key === undefined) throw invalid('must be s3://<bucket>/<key>');
  if (bucketNameOfArn(`arn:aws:s3:::${bucket}`) === undefined) {
    throw invalid(`names "${bucket.slice(0, 64)}", which is not a valid bucket name`);
  }
  if (Buffer.byteLength(key, 'utf8') > S3_MAX_KEY_BYTES) {
    throw invalid(`has a key longer than ${S3_MAX_KEY_BYTES} bytes`);
  }
  return { bucket, key };
}

/**
 * Refuses an object outside the operator-allowed buckets (`fanout:inputBucketArns`). The
 * stack's own input bucket is not among them: its objects are reached through an upload.
 * @throws ForbiddenError (INPUT_BUCKET_NOT_ALLOWED)
 */
export function authorizeS3Input(bucket: string, allowedBucketNames: readonly string[]): void {
  if (allowedBucketNames.includes(bucket)) return;
  throw new ForbiddenError(
    'INPUT_BUCKET_NOT_ALLOWED',
    `the bucket "${bucket}" is not one this deployment may read; the operator allows buckets at deploy time (-c fanout:inputBucketArns=arn:aws:s3:::${bucket}), or upload the input with {"input": {"upload": {...}}}`,
    { details: { bucket } },
  );
}

/** The key of a job's uploaded input in the input bucket. */
export function uploadKey(jobId: string, format: InputFormat): string {
  return `${INPUT_UPLOAD_PREFIX}${jobId}/input.${format === 'lines' ? 'txt' : 'json'}`;
}

export interface UploadDeps {
  /** A client made by createPresigningS3Client (no checksum of the empty body in the URLs). */
  readonly s3: S3Client;
  readonly inputBucketName: string;
  readonly now?: () => number;
}

interface UploadTarget {
  readonly bucket: string;
  readonly key: string;
  /** ISO 8601: the URLs stop working then. */
  readonly expiresAt: string;
}

/** How the client uploads a job's input. */
export type UploadInstructions =
  | (UploadTarget & { readonly method: 'PUT'; readonly url: string })
  | (UploadTarget & {
      readonly method: 'MULTIPART';
      readonly uploadId: string;
      /** Every part is this many bytes but the last, which may be shorter. */
      readonly partSizeBytes: number;
      readonly parts: readonly { readonly partNumber: number; readonly url: string }[];
    });

/** The part size for an upload of `sizeBytes`: UPLOAD_PART_BYTES, or more to stay in 10,000 parts. */
export function partSizeFor(sizeBytes: number): number {
  const mebibyte = 1024 ** 2;
  const smallest = Math.ceil(sizeBytes / S3_MAX_PARTS / mebibyte) * mebibyte;
  return Math.max(UPLOAD_PART_BYTES, smallest);
}

/**
 * Prepares the upload of a job's input into its key of the input bucket: one presigned PUT URL,
 * or for a declared size past UPLOAD_MULTIPART_THRESHOLD_BYTES a multipart upload (created here)
 * with one presigned URL per part. The URLs live UPLOAD_URL_EXPIRY_SECONDS.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/PresignedUrlUploadObject.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
export async function createUpload(
  deps: UploadDeps,
  jobId: string,
  source: Extract<InputSource, { kind: 'upload' }>,
): Promise<UploadInstructions> {
  const now = deps.now ?? Date.now;
  const bucket = deps.inputBucketName;
  const key = uploadKey(jobId, source.format);
  const expiresAt = new Date(now() + UPLOAD_URL_EXPIRY_SECONDS * 1000).toISOString();
  const signing = { expiresIn: UPLOAD_URL_EXPIRY_SECONDS };
  const { sizeBytes } = source;
  if (sizeBytes === undefined || sizeBytes <= UPLOAD_MULTIPART_THRESHOLD_BYTES) {
    const url = await getSignedUrl(
      deps.s3,
      new PutObjectCommand({ Bucket: bucket, Key: key }),
      signing,
    );
    return { method: 'PUT', bucket, key, expiresAt, url };
  }
  const created = await deps.s3.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new Error('CreateMultipartUpload returned no UploadId');
  const partSizeBytes = partSizeFor(sizeBytes);
  const partCount = Math.ceil(sizeBytes / partSizeBytes);
  const parts = await Promise.all(
    Array.from({ length: partCount }, async (_, index) => {
      const partNumber = index + 1;
      const command = new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
      });
      return { partNumber, url: await getSignedUrl(deps.s3, command, signing) };
    }),
  );
  return { method: 'MULTIPART', bucket, key, expiresAt, uploadId, partSizeBytes, parts };
}

export interface UploadedPart {
  readonly partNumber: number;
  /** The ETag S3 answered to the part's PUT. */
  readonly etag: string;
}

/**
 * S3's refusals of a CompleteMultipartUpload whose parts are not a complete upload: a part not
 * uploaded or whose ETag does not match (InvalidPart), parts out of order (InvalidPartOrder),
 * a part but the last under 5 MiB (EntityTooSmall).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
const INCOMPLETE_UPLOAD_ERRORS: ReadonlySet<string> = new Set([
  'InvalidPart',
  'InvalidPartOrder',
  'EntityTooSmall',
]);

/**
 * Completes a multipart upload from the parts the client uploaded (the ETag of each part's
 * PUT), in part order. Resolves NO_SUCH_UPLOAD when S3 knows no such upload (404
 * NoSuchUpload): it was completed before, by a start whose answer or job write was lost, or
 * aborted; the object, read next, exists only in the first case.
 * @throws BadRequestError (INVALID_UPLOAD_PARTS) for parts that are not 1..n, each once, or
 *   that S3 refuses (a part not uploaded yet, an ETag that does not match it); S3's other
 *   errors as thrown
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 */
export async function completeUpload(
  s3: S3Client,
  target: { readonly bucket: string; readonly key: string; readonly uploadId: string },
  parts: readonly UploadedPart[],
): Promise<'COMPLETED' | 'NO_SUCH_UPLOAD'> {
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  const numbered = sorted.every((part, index) => part.partNumber === index + 1 && part.etag !== '');
  if (sorted.length === 0 || sorted.length > S3_MAX_PARTS || !numbered) {
    throw new BadRequestError(
      'INVALID_UPLOAD_PARTS',
      `the parts must be numbered 1 to n, each once with the ETag its upload returned (at most ${S3_MAX_PARTS})`,
    );
  }
  try {
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: target.bucket,
        Key: target.key,
        UploadId: target.uploadId,
        MultipartUpload: {
          Parts: sorted.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
        },
      }),
    );
    return 'COMPLETED';
  } catch (error) {
    const name = errorName(error);
    if (name === 'NoSuchUpload') return 'NO_SUCH_UPLOAD';
    if (name !== undefined && INCOMPLETE_UPLOAD_ERRORS.has(name)) {
      throw new BadRequestError(
        'INVALID_UPLOAD_PARTS',
        `S3 cannot complete the upload from these ${sorted.length} parts (${name}): upload every part with its URL first, then start with the ETag each part's PUT answered`,
        { cause: error, details: { s3Error: name } },
      );
    }
    throw error;
  }
}

/** Abandons a multipart upload (a job cancelled before its upload completed). */
export async function abortUpload(
  s3: S3Client,
  target: { readonly bucket: string; readonly key: string; readonly uploadId: string },
): Promise<void> {
  await s3.send(
    new AbortMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: target.uploadId,
    }),
  );
}

/** The HTTP status of an SDK service error (`$metadata.httpStatusCode`), if it has one. */
function httpStatusOf(error: unknown): number | undefined {
  if (!isRecord(error)) return undefined;
  const metadata = error.$metadata;
  if (!isRecord(metadata)) return undefined;
  const status = metadata.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The object a job reads, from HeadObject: its size (to plan the ranges) and ETag (each
 * worker's GET is pinned to it).
 * @throws NotFoundError (INPUT_NOT_FOUND), ForbiddenError (INPUT_NOT_READABLE: S3 answers 403 for
 *   a missing key too when the caller may not list the bucket), BadRequestError (INPUT_EMPTY),
 *   PayloadTooLargeError (INPUT_TOO_LARGE); other S3 errors as thrown
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 */
export async function describeInputObject(
  s3: S3Client,
  location: { readonly bucket: string; readonly key: string },
): Promise<InputObject> {
  const where = `s3://${location.bucket}/${location.key}`;
  let head: { ContentLength?: number; ETag?: string };
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key }));
  } catch (error) {
    // A HEAD answer has no body, so the SDK names the error by status (NotFound, Forbidden)
    // or not at all; the status code tells them apart either way.
    const name = errorName(error);
    const status = httpStatusOf(error);
    if (name === 'NotFound' || name === 'NoSuchKey' || status === 404) {
      throw new NotFoundError('INPUT_NOT_FOUND', `the input ${where} does not exist`, {
        cause: error,
      });
    }
    if (name === 'Forbidden' || name === 'AccessDenied' || status === 403) {
      throw new ForbiddenError(
        'INPUT_NOT_READABLE',
        `the input ${where} does not exist or this deployment may not read it`,
        { cause: error },
      );
    }
    throw error;
  }
  const size = head.ContentLength;
  if (size === undefined) throw new Error(`HeadObject of ${where} returned no ContentLength`);
  if (size === 0) throw new BadRequestError('INPUT_EMPTY', `the input ${where} is empty`);
  assertSizeWithinLimit(size);
  return {
    bucket: location.bucket,
    key: location.key,
    size,
    ...(head.ETag === undefined ? {} : { etag: head.ETag }),
  };
}
