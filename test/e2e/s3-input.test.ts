/**
 * Jobs whose input is an S3 object, on the local stack: an upload through the presigned URL
 * into the stack's input bucket (fauxqs's S3), then `POST /jobs/{jobId}/start`; and an
 * `s3Uri` job of a bucket the operator allowed. Small ranges make several chunks.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#local/emulators/common.ts';
import { signedFetch } from '#test/helpers/signed-fetch.ts';
import { appStack, waitFor } from './helpers.ts';

const OPERATOR_BUCKET = 'operator-inputs';

function lines(count: number): string {
  return `${Array.from({ length: count }, (_, i) => String(i + 1)).join('\n')}\n`;
}

describe('Feature: jobs from S3, locally', () => {
  const stack = appStack({
    environmentOverrides: {
      Dispatcher: {
        ALLOWED_INPUT_BUCKET_ARNS: `arn:aws:s3:::${OPERATOR_BUCKET}`,
        INPUT_RANGE_BYTES: '16384',
      },
    },
  });

  beforeAll(async () => {
    await stack.start();
  }, 180_000);

  afterAll(async () => {
    await stack.stop();
  });

  async function api(path: string, init: { method?: string; body?: string } = {}) {
    const response = await signedFetch(`${stack.apiUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async function finished(jobId: string) {
    let job: Record<string, unknown> = {};
    await waitFor(
      async () => {
        job = (await api(`/jobs/${jobId}`)).body;
        return job.status !== 'RUNNING';
      },
      90_000,
      `job ${jobId} to end`,
    );
    return job;
  }

  it('runs an upload job through its presigned PUT and its start', {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const created = await api('/jobs', {
      method: 'POST',
      body: JSON.stringify({ input: { upload: { format: 'lines' } } }),
    });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('AWAITING_INPUT');
    const upload = created.body.upload as { method: string; url: string };
    expect(upload.method).toBe('PUT');
    const put = await fetch(upload.url, { method: 'PUT', body: lines(20_000) });
    expect(put.status).toBe(200);

    // Act
    const jobId = String(created.body.jobId);
    const started = await api(`/jobs/${jobId}/start`, { method: 'POST', body: '{}' });
    const job = await finished(jobId);

    // Assess
    expect(started.status).toBe(202);
    expect(Number(started.body.chunkCount)).toBeGreaterThan(5);
    expect(job).toMatchObject({ status: 'SUCCEEDED', numbersCount: 20_000 });
    const squares: unknown[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page = await api(`/jobs/${jobId}/results${cursor === '' ? '' : `?cursor=${cursor}`}`);
      squares.push(...(page.body.results as unknown[]));
      cursor = (page.body.nextCursor as string | null) ?? null;
    }
    expect(squares).toEqual(Array.from({ length: 20_000 }, (_, i) => (i + 1) ** 2));
  });

  it('runs an s3Uri job of an allowed bucket, and refuses another bucket with 403', {
    timeout: 120_000,
  }, async () => {
    // Prepare
    const s3 = new S3Client({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint: stack.endpoints.s3,
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: OPERATOR_BUCKET }));
    await s3.send(
      new PutObjectCommand({
        Bucket: OPERATOR_BUCKET,
        Key: 'in/bad.txt',
        Body: `${lines(5_000)}x\n`,
      }),
    );
    s3.destroy();

    // Act
    const refused = await api('/jobs', {
      method: 'POST',
      body: JSON.stringify({ input: { s3Uri: 's3://someone-else/in.txt' } }),
    });
    const created = await api('/jobs', {
      method: 'POST',
      body: JSON.stringify({ input: { s3Uri: `s3://${OPERATOR_BUCKET}/in/bad.txt` } }),
    });
    const job = await finished(String(created.body.jobId));

    // Assess
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'INPUT_BUCKET_NOT_ALLOWED' } });
    expect(created.status).toBe(202);
    expect(job).toMatchObject({
      status: 'FAILED',
      failure: { code: 'INVALID_INPUT', badLineCount: 1, badLines: [{ line: 5_001 }] },
    });
  });
});
