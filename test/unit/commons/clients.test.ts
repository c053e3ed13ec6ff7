/**
 * The S3 client factories take their endpoint from the config: a configured endpoint (the
 * local emulator) is addressed by path, AWS's by bucket host name.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { createPresigningS3Client, createS3Client } from '#commons/clients.ts';

const put = new PutObjectCommand({ Bucket: 'inputs', Key: 'uploads/job/input.txt' });

describe('Function: createPresigningS3Client', () => {
  it('presigns on the configured endpoint, the bucket in the path', async () => {
    // Prepare
    const s3 = createPresigningS3Client({ endpointUrl: 'http://127.0.0.1:4566' });

    // Act
    const url = new URL(await getSignedUrl(s3, put, { expiresIn: 60 }));

    // Assess
    expect(url.origin).toBe('http://127.0.0.1:4566');
    expect(url.pathname).toBe('/inputs/uploads/job/input.txt');
  });

  it("presigns on AWS's endpoint, the bucket in the host name, when none is configured", async () => {
    const s3 = createPresigningS3Client({ endpointUrl: undefined });

    const url = new URL(await getSignedUrl(s3, put, { expiresIn: 60 }));

    expect(url.host).toBe('inputs.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/uploads/job/input.txt');
  });
});

describe('Function: createS3Client', () => {
  it('addresses the configured endpoint by path', async () => {
    const s3 = createS3Client({ endpointUrl: 'http://127.0.0.1:4566' });

    const endpoint = await s3.config.endpoint?.();

    expect(s3.config.forcePathStyle).toBe(true);
    expect(endpoint).toMatchObject({ hostname: '127.0.0.1', port: 4566, protocol: 'http:' });
  });

  it("leaves AWS's endpoint and its virtual-hosted style when none is configured", async () => {
    const s3 = createS3Client({ endpointUrl: undefined });

    expect(s3.config.forcePathStyle).toBe(false);
    expect(s3.config.endpoint).toBeUndefined();
  });
});
