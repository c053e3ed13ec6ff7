/**
 * The client's upload of an input file to presigned URLs, against a fake S3 on 127.0.0.1: what
 * each PUT carries (its length, its bytes), retries of 503 SlowDown, and a refused part.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UploadInstructions } from '#client/api-types.ts';
import { UploadError, uploadFile } from '#client/upload.ts';

interface ReceivedPut {
  readonly path: string;
  readonly contentLength: string | undefined;
  readonly transferEncoding: string | undefined;
  readonly body: Buffer;
}

/** Answers each PUT with the next planned status (200 by default) and an ETag of its path. */
class FakeS3 {
  readonly received: ReceivedPut[] = [];
  /** Statuses to answer, by path, in order; then 200. */
  plan = new Map<string, number[]>();
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '';
        this.received.push({
          path,
          contentLength: request.headers['content-length'],
          transferEncoding: request.headers['transfer-encoding'],
          body: Buffer.concat(chunks),
        });
        const status = this.plan.get(path)?.shift() ?? 200;
        if (status === 200) {
          response.writeHead(200, { etag: `"etag-of-${path.slice(1)}"` }).end();
        } else {
          const code = status === 503 ? 'SlowDown' : 'AccessDenied';
          response
            .writeHead(status, { 'content-type': 'application/xml' })
            .end(`<Error><Code>${code}</Code><Message>no</Message></Error>`);
        }
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server?.close(() => resolve()));
  }
}

const s3 = new FakeS3();
let dir: string;
let file: string;
const content = Buffer.from(Array.from({ length: 2_500 }, (_, index) => `${index}\n`).join(''));

beforeAll(async () => {
  await s3.start();
  dir = mkdtempSync(join(tmpdir(), 'fanout-upload-'));
  file = join(dir, 'numbers.txt');
  writeFileSync(file, content);
});

afterAll(async () => {
  await s3.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  s3.received.length = 0;
  s3.plan = new Map();
});

function multipart(partSizeBytes: number, partCount: number): UploadInstructions {
  return {
    method: 'MULTIPART',
    bucket: 'inputs',
    key: 'uploads/job/input.txt',
    expiresAt: '2026-12-01T15:00:00.000Z',
    uploadId: 'upload-1',
    partSizeBytes,
    parts: Array.from({ length: partCount }, (_, index) => ({
      partNumber: index + 1,
      url: `${s3.url}/part-${index + 1}`,
    })),
  };
}

describe('Function: uploadFile', () => {
  it('PUTs the whole file once with its Content-Length, never chunked', async () => {
    const upload: UploadInstructions = {
      method: 'PUT',
      bucket: 'inputs',
      key: 'uploads/job/input.txt',
      expiresAt: '2026-12-01T15:00:00.000Z',
      url: `${s3.url}/whole`,
    };
    const seen: number[] = [];

    const parts = await uploadFile(upload, file, content.length, {
      onProgress: (sent) => seen.push(sent),
    });

    expect(parts).toBeUndefined();
    expect(s3.received).toHaveLength(1);
    expect(s3.received[0]?.contentLength).toBe(String(content.length));
    expect(s3.received[0]?.transferEncoding).toBeUndefined();
    expect(s3.received[0]?.body.equals(content)).toBe(true);
    expect(seen.at(-1)).toBe(content.length);
  });

  it('uploads each part as its byte range, the last one short, and returns their ETags in order', async () => {
    const partSize = 4_000;

    const parts = await uploadFile(multipart(partSize, 3), file, content.length, {
      concurrency: 2,
    });

    expect(parts).toEqual([1, 2, 3].map((n) => ({ partNumber: n, etag: `"etag-of-part-${n}"` })));
    const byPath = new Map(s3.received.map((put) => [put.path, put]));
    expect(
      Buffer.concat([1, 2, 3].map((n) => byPath.get(`/part-${n}`)?.body ?? Buffer.alloc(0))),
    ).toEqual(content);
    expect(byPath.get('/part-3')?.contentLength).toBe(String(content.length - 2 * partSize));
  });

  it('leaves out the parts the file does not reach', async () => {
    const parts = await uploadFile(multipart(8_000, 4), file, content.length);

    expect(parts?.map((part) => part.partNumber)).toEqual([1, 2]);
    expect(s3.received.map((put) => put.path).sort()).toEqual(['/part-1', '/part-2']);
  });

  it('retries a part S3 answers 503 SlowDown, and counts its bytes once in the progress', async () => {
    s3.plan.set('/part-2', [503, 503]);
    let sent = 0;

    const parts = await uploadFile(multipart(4_000, 3), file, content.length, {
      onProgress: (bytes) => {
        sent = bytes;
      },
    });

    expect(parts).toHaveLength(3);
    expect(s3.received.filter((put) => put.path === '/part-2')).toHaveLength(3);
    expect(sent).toBe(content.length);
  });

  it("fails with S3's code for a part it refuses, without retrying it", async () => {
    s3.plan.set('/part-1', [403]);

    const failure = uploadFile(multipart(4_000, 3), file, content.length, { concurrency: 1 });

    await expect(failure).rejects.toBeInstanceOf(UploadError);
    await expect(failure).rejects.toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(s3.received.filter((put) => put.path === '/part-1')).toHaveLength(1);
  });

  it('refuses a file larger than the parts offered for it', async () => {
    await expect(uploadFile(multipart(1_000, 2), file, content.length)).rejects.toThrow(
      /more than the 2 parts of 1000 bytes/,
    );
    expect(s3.received).toHaveLength(0);
  });
});
