/**
 * The template's S3 buckets on fauxqs's S3 (the server of its SQS): their local names, what
 * `Ref`/`Fn::GetAtt` of them resolve to, their creation, and, under `--cloud-limits`, a small
 * proxy in front of fauxqs's S3 that admits each request through S3's per-prefix request rates
 * and answers 503 SlowDown as S3 does past them. Functions reach S3 by AWS_ENDPOINT_URL_S3 with
 * path-style addressing (the SDK uses it whenever an S3 endpoint is configured, see
 * commons/clients.ts), and presigned URLs are signed against that endpoint.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3RateLimiter } from '../cloud-limits/s3-rate-limiter.ts';
import type { PhysicalResource } from '../template.ts';
import type { Provisioner } from './provisioner.ts';

export interface LocalBucket {
  readonly logicalId: string;
  /** A valid bucket name: the stack's and the logical id's, lowercase. */
  readonly name: string;
}

interface TemplateResources {
  readonly Resources: Readonly<Record<string, { readonly Type: string }>>;
}

/** The AWS::S3::Bucket resources of a template, with their local names. */
export function localBuckets(template: TemplateResources, stackName: string): LocalBucket[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::S3::Bucket')
    .map(([logicalId]) => ({
      logicalId,
      name: `${stackName}-${logicalId}`
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-')
        .slice(0, 63)
        .replace(/-+$/, ''),
    }));
}

/** What `Ref` and `Fn::GetAtt` of each bucket resolve to locally. */
export function bucketPhysicalResources(
  buckets: readonly LocalBucket[],
): Map<string, PhysicalResource> {
  return new Map(
    buckets.map((bucket) => [
      bucket.logicalId,
      {
        ref: bucket.name,
        attributes: {
          Arn: `arn:aws:s3:::${bucket.name}`,
          DomainName: `${bucket.name}.s3.amazonaws.com`,
          RegionalDomainName: `${bucket.name}.s3.localhost`,
        },
      },
    ]),
  );
}

/** Creates the buckets on fauxqs (path-style, as every local client). */
export async function createLocalBuckets(
  endpoint: string,
  buckets: readonly LocalBucket[],
  clientConfig: ConstructorParameters<typeof S3Client>[0],
): Promise<void> {
  const s3 = new S3Client({ ...clientConfig, endpoint, forcePathStyle: true });
  try {
    await Promise.all(
      buckets.map((bucket) => s3.send(new CreateBucketCommand({ Bucket: bucket.name }))),
    );
  } finally {
    s3.destroy();
  }
}

/** The bucket and key of a path-style S3 request path (`/bucket/key…?query`). */
export function bucketAndKeyOf(path: string): { bucket: string; key: string } {
  const pathname = path.split('?')[0] ?? '';
  const [, bucket = '', ...rest] = pathname.split('/');
  return { bucket, key: decodeURIComponent(rest.join('/')) };
}

export interface S3Gateway {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * A proxy on 127.0.0.1 in front of fauxqs's S3: each request passes `limiter.admit` (503
 * SlowDown past its prefix's rate) and is streamed through unchanged otherwise.
 */
export async function startS3Gateway(target: string, limiter: S3RateLimiter): Promise<S3Gateway> {
  const upstream = new URL(target);
  const server: Server = createServer((request, response) => {
    const { bucket, key } = bucketAndKeyOf(request.url ?? '/');
    const slowDown = limiter.admit(request.method ?? 'GET', bucket, key);
    if (slowDown !== undefined) {
      request.resume();
      response.writeHead(slowDown.status, { 'content-type': 'application/xml' });
      response.end(slowDown.body);
      return;
    }
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`S3 emulator unreachable: ${error.message}`);
    });
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') {
    server.close();
    throw new Error('the S3 gateway did not report its address');
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The template's buckets, created on fauxqs's S3. */
export class BucketProvisioner implements Provisioner {
  readonly resourceTypes = ['AWS::S3::Bucket'];
  readonly buckets: readonly LocalBucket[];
  readonly #endpoint: string;
  readonly #clientConfig: ConstructorParameters<typeof S3Client>[0];

  constructor(
    buckets: readonly LocalBucket[],
    endpoint: string,
    clientConfig: ConstructorParameters<typeof S3Client>[0],
  ) {
    this.buckets = buckets;
    this.#endpoint = endpoint;
    this.#clientConfig = clientConfig;
  }

  physicalResources(): Iterable<readonly [string, PhysicalResource]> {
    return bucketPhysicalResources(this.buckets);
  }

  create(): Promise<void> {
    return createLocalBuckets(this.#endpoint, this.buckets, this.#clientConfig);
  }
}
