import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { S3RateLimiter } from '#local/cloud-limits/s3-rate-limiter.ts';
import {
  bucketAndKeyOf,
  localBuckets,
  type S3Gateway,
  startS3Gateway,
} from '#local/provision/s3.ts';

let upstream: Server | undefined;
let gateway: S3Gateway | undefined;

afterEach(async () => {
  await gateway?.stop();
  await new Promise<void>((resolve) =>
    upstream === undefined ? resolve() : upstream.close(() => resolve()),
  );
  upstream = undefined;
  gateway = undefined;
});

async function startUpstream(): Promise<string> {
  upstream = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(`${request.method} ${request.url}`);
  });
  await new Promise<void>((resolve) => upstream?.listen(0, '127.0.0.1', resolve));
  const address = upstream.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

describe('Function: startS3Gateway', () => {
  it('passes requests through until a prefix is over its rate, then answers 503 SlowDown', async () => {
    // Prepare
    const limiter = new S3RateLimiter(
      { readsPerSecondPerPrefix: 2, writesPerSecondPerPrefix: 2 },
      () => 0,
    );
    gateway = await startS3Gateway(await startUpstream(), limiter);

    // Act
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gateway.endpoint}/bucket/uploads/job/input.txt`);
      answers.push({ status: response.status, body: await response.text() });
    }
    const otherPrefix = await fetch(`${gateway.endpoint}/bucket/other/input.txt`);

    // Assess
    expect(answers[0]).toEqual({ status: 200, body: 'GET /bucket/uploads/job/input.txt' });
    expect(answers[1]?.status).toBe(200);
    expect(answers[2]?.status).toBe(503);
    expect(answers[2]?.body).toContain('<Code>SlowDown</Code>');
    expect(otherPrefix.status).toBe(200);
  });
});

describe('Function: bucketAndKeyOf', () => {
  it('returns the bucket and the decoded key of a path-style request', () => {
    expect(bucketAndKeyOf('/my-bucket/a/b%20c.txt?partNumber=1')).toEqual({
      bucket: 'my-bucket',
      key: 'a/b c.txt',
    });
  });
});

describe('Function: localBuckets', () => {
  it('returns a valid lowercase bucket name for each bucket of the template', () => {
    const template = {
      Resources: {
        InputBucket5D7B4B3C: { Type: 'AWS::S3::Bucket' },
        Queue: { Type: 'AWS::SQS::Queue' },
      },
    };
    expect(localBuckets(template, 'Fanout')).toEqual([
      { logicalId: 'InputBucket5D7B4B3C', name: 'fanout-inputbucket5d7b4b3c' },
    ]);
  });
});
