import 'aws-sdk-client-mock-vitest/extend';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPresigningS3Client } from '#commons/clients.ts';
import { HttpError } from '#commons/errors.ts';
import {
  MAX_INPUT_OBJECT_BYTES,
  UPLOAD_MULTIPART_THRESHOLD_BYTES,
  UPLOAD_PART_BYTES,
  UPLOAD_URL_EXPIRY_SECONDS,
} from '#commons/limits.ts';
import {
  abortUpload,
  authorizeS3Input,
  completeUpload,
  createUpload,
  describeInputObject,
  parseInputSource,
  parseS3Uri,
  partSizeFor,
  uploadKey,
} from '../../../functions/dispatcher/s3-input.ts';

const JOB_ID = '0b9e4c1e-5d7a-4f7e-9a53-0d5c3c2f4a11';
const BUCKET = 'fanout-inputbucket-abc';
const NOW = Date.parse('2026-12-01T12:00:00.000Z');

function rejection(action: () => unknown): HttpError {
  try {
    action();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

async function asyncRejection(action: () => Promise<unknown>): Promise<HttpError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected an HttpError');
}

describe('Function: parseInputSource', () => {
  it.each([
    [{ upload: { format: 'lines' } }, { kind: 'upload', format: 'lines' }],
    [
      { upload: { format: 'json', sizeBytes: 1_000 } },
      { kind: 'upload', format: 'json', sizeBytes: 1_000 },
    ],
    [
      { s3Uri: 's3://lab-inputs/jobs/2026/n.txt' },
      { kind: 's3Uri', format: 'lines', bucket: 'lab-inputs', key: 'jobs/2026/n.txt' },
    ],
    [
      { s3Uri: 's3://lab-inputs/n.json', format: 'json' },
      { kind: 's3Uri', format: 'json', bucket: 'lab-inputs', key: 'n.json' },
    ],
  ])('reads %j', (input, expected) => {
    expect(parseInputSource(input)).toEqual(expected);
  });

  it.each([
    ['not an object', 'lines', 'INVALID_INPUT_SOURCE'],
    ['neither kind', {}, 'INVALID_INPUT_SOURCE'],
    ['both kinds', { upload: { format: 'lines' }, s3Uri: 's3://a1b/k' }, 'INVALID_INPUT_SOURCE'],
    ['an unknown format', { upload: { format: 'csv' } }, 'INVALID_INPUT_SOURCE'],
    ['no format', { upload: {} }, 'INVALID_INPUT_SOURCE'],
    [
      'an unknown field',
      { upload: { format: 'lines', acl: 'public-read' } },
      'INVALID_INPUT_SOURCE',
    ],
    ['a fractional size', { upload: { format: 'lines', sizeBytes: 1.5 } }, 'INVALID_INPUT_SOURCE'],
    ['a zero size', { upload: { format: 'lines', sizeBytes: 0 } }, 'INVALID_INPUT_SOURCE'],
    ['a bad URI', { s3Uri: 'https://lab-inputs/n.txt' }, 'INVALID_S3_URI'],
  ])('rejects %s with %s', (_, input, code) => {
    expect(rejection(() => parseInputSource(input))).toMatchObject({ statusCode: 400, code });
  });

  it('answers 413 for a declared size past MAX_INPUT_OBJECT_BYTES', () => {
    const error = rejection(() =>
      parseInputSource({ upload: { format: 'lines', sizeBytes: MAX_INPUT_OBJECT_BYTES + 1 } }),
    );
    expect(error).toMatchObject({ statusCode: 413, code: 'INPUT_TOO_LARGE' });
  });
});

describe('Function: parseS3Uri', () => {
  it('splits a URI into its bucket and its key, as written', () => {
    expect(parseS3Uri('s3://lab-inputs/a/b%20c/d.txt')).toEqual({
      bucket: 'lab-inputs',
      key: 'a/b%20c/d.txt',
    });
  });

  it.each([
    [42],
    ['s3://lab-inputs'],
    ['s3://lab-inputs/'],
    ['s3:///key'],
    ['s3://Lab_Inputs/key'],
    [`s3://lab-inputs/${'k'.repeat(1_025)}`],
  ])('rejects %s', (uri) => {
    expect(rejection(() => parseS3Uri(uri))).toMatchObject({ code: 'INVALID_S3_URI' });
  });
});

describe('Function: authorizeS3Input', () => {
  it('allows a bucket of the list', () => {
    expect(() => authorizeS3Input('lab-inputs', ['archive', 'lab-inputs'])).not.toThrow();
  });

  it('answers 403 with the reason and the way out for any other bucket', () => {
    const error = rejection(() => authorizeS3Input('someone-elses', ['lab-inputs']));
    expect(error).toMatchObject({
      statusCode: 403,
      code: 'INPUT_BUCKET_NOT_ALLOWED',
      details: { bucket: 'someone-elses' },
    });
    expect(error.message).toContain('fanout:inputBucketArns=arn:aws:s3:::someone-elses');
  });

  it('allows nothing when the operator allowed no bucket', () => {
    expect(rejection(() => authorizeS3Input('lab-inputs', []))).toMatchObject({ statusCode: 403 });
  });
});

describe('Function: partSizeFor', () => {
  it('uses UPLOAD_PART_BYTES, or whole MiB more to stay within 10,000 parts', () => {
    expect(partSizeFor(UPLOAD_MULTIPART_THRESHOLD_BYTES + 1)).toBe(UPLOAD_PART_BYTES);
    const huge = 400 * 1024 ** 3;
    expect(partSizeFor(huge)).toBe(41 * 1024 ** 2);
    expect(Math.ceil(huge / partSizeFor(huge))).toBeLessThanOrEqual(10_000);
  });
});

describe('Function: createUpload', () => {
  const s3Mock = mockClient(S3Client);
  const s3 = createPresigningS3Client({ endpointUrl: undefined });
  const deps = { s3, inputBucketName: BUCKET, now: () => NOW };

  beforeEach(() => {
    s3Mock.reset();
  });

  it('presigns one PUT of the job’s key, with no checksum of an empty body in the URL', async () => {
    // Act
    const upload = await createUpload(deps, JOB_ID, { kind: 'upload', format: 'lines' });

    // Assess
    expect(upload).toMatchObject({
      method: 'PUT',
      bucket: BUCKET,
      key: `uploads/${JOB_ID}/input.txt`,
      expiresAt: new Date(NOW + UPLOAD_URL_EXPIRY_SECONDS * 1000).toISOString(),
    });
    if (upload.method !== 'PUT') return;
    const url = new URL(upload.url);
    expect(url.hostname).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
    expect(url.pathname).toBe(`/uploads/${JOB_ID}/input.txt`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(UPLOAD_URL_EXPIRY_SECONDS));
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('x-id')).toBe('PutObject');
    expect(url.searchParams.has('x-amz-checksum-crc32')).toBe(false);
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  it('presigns one PUT up to the multipart threshold', async () => {
    const upload = await createUpload(deps, JOB_ID, {
      kind: 'upload',
      format: 'json',
      sizeBytes: UPLOAD_MULTIPART_THRESHOLD_BYTES,
    });
    expect(upload).toMatchObject({ method: 'PUT', key: `uploads/${JOB_ID}/input.json` });
  });

  it('creates a multipart upload and presigns each part beyond the threshold', async () => {
    // Prepare
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'upload-1' });
    const sizeBytes = 4 * UPLOAD_PART_BYTES + 5; // past the threshold: five parts

    // Act
    const upload = await createUpload(deps, JOB_ID, { kind: 'upload', format: 'lines', sizeBytes });

    // Assess
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: uploadKey(JOB_ID, 'lines'),
    });
    expect(upload).toMatchObject({
      method: 'MULTIPART',
      uploadId: 'upload-1',
      partSizeBytes: UPLOAD_PART_BYTES,
    });
    if (upload.method !== 'MULTIPART') return;
    expect(upload.parts.map((part) => part.partNumber)).toEqual([1, 2, 3, 4, 5]);
    for (const part of upload.parts) {
      const url = new URL(part.url);
      expect(url.searchParams.get('uploadId')).toBe('upload-1');
      expect(url.searchParams.get('partNumber')).toBe(String(part.partNumber));
      expect(url.searchParams.get('x-id')).toBe('UploadPart');
      expect(url.searchParams.has('x-amz-checksum-crc32')).toBe(false);
    }
  });

  it('fails when S3 creates no upload id', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({});
    await expect(
      createUpload(deps, JOB_ID, {
        kind: 'upload',
        format: 'lines',
        sizeBytes: UPLOAD_MULTIPART_THRESHOLD_BYTES + 1,
      }),
    ).rejects.toThrow('CreateMultipartUpload returned no UploadId');
  });
});

describe('Function: completeUpload and abortUpload', () => {
  const s3Mock = mockClient(S3Client);
  const s3 = new S3Client({});
  const target = { bucket: BUCKET, key: uploadKey(JOB_ID, 'lines'), uploadId: 'upload-1' };

  beforeEach(() => {
    s3Mock.reset();
    s3Mock.on(CompleteMultipartUploadCommand).resolves({});
    s3Mock.on(AbortMultipartUploadCommand).resolves({});
  });

  it('completes the upload with the parts in order', async () => {
    await completeUpload(s3, target, [
      { partNumber: 2, etag: '"b"' },
      { partNumber: 1, etag: '"a"' },
    ]);
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: target.key,
      UploadId: 'upload-1',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"a"' },
          { PartNumber: 2, ETag: '"b"' },
        ],
      },
    });
  });

  it.each([
    ['no part', []],
    [
      'a gap',
      [
        { partNumber: 1, etag: '"a"' },
        { partNumber: 3, etag: '"c"' },
      ],
    ],
    [
      'a duplicate',
      [
        { partNumber: 1, etag: '"a"' },
        { partNumber: 1, etag: '"a"' },
      ],
    ],
    ['an empty ETag', [{ partNumber: 1, etag: '' }]],
  ])('rejects %s with INVALID_UPLOAD_PARTS and calls nothing', async (_, parts) => {
    const error = await asyncRejection(() => completeUpload(s3, target, parts));
    expect(error).toMatchObject({ statusCode: 400, code: 'INVALID_UPLOAD_PARTS' });
    expect(s3Mock).not.toHaveReceivedAnyCommand();
  });

  const s3Error = (name: string, status: number) =>
    Object.assign(new Error(`${name} from S3`), { name, $metadata: { httpStatusCode: status } });

  it('resolves COMPLETED when S3 completes the upload', async () => {
    expect(await completeUpload(s3, target, [{ partNumber: 1, etag: '"a"' }])).toBe('COMPLETED');
  });

  it.each(['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall'])(
    'answers 400 INVALID_UPLOAD_PARTS naming S3’s %s for parts S3 refuses',
    async (name) => {
      // Prepare
      s3Mock.on(CompleteMultipartUploadCommand).rejects(s3Error(name, 400));

      // Act
      const error = await asyncRejection(() =>
        completeUpload(s3, target, [{ partNumber: 1, etag: '"never-uploaded"' }]),
      );

      // Assess
      expect(error).toMatchObject({
        statusCode: 400,
        code: 'INVALID_UPLOAD_PARTS',
        details: { s3Error: name },
      });
      expect(error.message).toBe(
        `S3 cannot complete the upload from these 1 parts (${name}): upload every part with its URL first, then start with the ETag each part's PUT answered`,
      );
    },
  );

  it('resolves NO_SUCH_UPLOAD when S3 knows no such upload (completed or aborted before)', async () => {
    s3Mock.on(CompleteMultipartUploadCommand).rejects(s3Error('NoSuchUpload', 404));
    expect(await completeUpload(s3, target, [{ partNumber: 1, etag: '"a"' }])).toBe(
      'NO_SUCH_UPLOAD',
    );
  });

  it('lets S3’s other errors through', async () => {
    const slowDown = s3Error('SlowDown', 503);
    s3Mock.on(CompleteMultipartUploadCommand).rejects(slowDown);
    await expect(completeUpload(s3, target, [{ partNumber: 1, etag: '"a"' }])).rejects.toBe(
      slowDown,
    );
  });

  it('aborts an upload', async () => {
    await abortUpload(s3, target);
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      Bucket: BUCKET,
      Key: target.key,
      UploadId: 'upload-1',
    });
  });
});

describe('Function: describeInputObject', () => {
  const s3Mock = mockClient(S3Client);
  const s3 = new S3Client({});
  const location = { bucket: 'lab-inputs', key: 'n.txt' };

  beforeEach(() => {
    s3Mock.reset();
  });

  it('returns the size and the ETag from HeadObject', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 888_888_898, ETag: '"e-1"' });
    expect(await describeInputObject(s3, location)).toEqual({
      bucket: 'lab-inputs',
      key: 'n.txt',
      size: 888_888_898,
      etag: '"e-1"',
    });
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: 'lab-inputs',
      Key: 'n.txt',
    });
  });

  const serviceError = (name: string, status: number) =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it.each([
    ['NotFound', 404, 404, 'INPUT_NOT_FOUND'],
    ['Forbidden', 403, 403, 'INPUT_NOT_READABLE'],
    ['UnknownError', 403, 403, 'INPUT_NOT_READABLE'],
  ])('maps a %s (%i) to %i %s', async (name, status, statusCode, code) => {
    s3Mock.on(HeadObjectCommand).rejects(serviceError(name, status));
    const error = await asyncRejection(() => describeInputObject(s3, location));
    expect(error).toMatchObject({ statusCode, code });
    expect(error.message).toContain('s3://lab-inputs/n.txt');
  });

  it('lets other S3 errors through', async () => {
    const throttled = serviceError('SlowDown', 503);
    s3Mock.on(HeadObjectCommand).rejects(throttled);
    await expect(describeInputObject(s3, location)).rejects.toBe(throttled);
  });

  it.each([
    [0, 400, 'INPUT_EMPTY'],
    [MAX_INPUT_OBJECT_BYTES + 1, 413, 'INPUT_TOO_LARGE'],
  ])('rejects an object of %i bytes with %i %s', async (size, statusCode, code) => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: size });
    expect(await asyncRejection(() => describeInputObject(s3, location))).toMatchObject({
      statusCode,
      code,
    });
  });
});
