/**
 * S3's request rates: at least 3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per
 * second per partitioned prefix; past them S3 answers 503 SlowDown while it scales (the SDK
 * retries it). A prefix is modelled as the key up to its last `/` (S3 partitions by prefix
 * and scales by splitting prefixes over time, which this does not model).
 * The S3 gateway in front of the local S3 (provision/s3.ts) asks `admit()` for every request
 * it passes on: the functions' ranged GETs and HeadObjects, and the clients' uploads.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 */
import type { CloudLimits } from './options.ts';
import { TokenBucket } from './token-bucket.ts';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** S3's 503 SlowDown answer. */
export interface SlowDownAnswer {
  readonly status: 503;
  readonly code: 'SlowDown';
  readonly body: string;
}

/** The partitioned prefix of a bucket's key: the bucket and the key up to its last `/`. */
export function prefixOf(bucket: string, key: string): string {
  const slash = key.lastIndexOf('/');
  return `${bucket}/${slash < 0 ? '' : key.slice(0, slash + 1)}`;
}

export class S3RateLimiter {
  readonly #limits: CloudLimits['s3'];
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limits: CloudLimits['s3'], now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** undefined when the request may go on; S3's SlowDown answer when its prefix is over rate. */
  admit(method: string, bucket: string, key: string): SlowDownAnswer | undefined {
    const read = READ_METHODS.has(method.toUpperCase());
    const id = `${read ? 'read' : 'write'} ${prefixOf(bucket, key)}`;
    const now = this.#now();
    let limiter = this.#buckets.get(id);
    if (limiter === undefined) {
      const rate = read
        ? this.#limits.readsPerSecondPerPrefix
        : this.#limits.writesPerSecondPerPrefix;
      // One second's worth of burst: S3 states its rates per second.
      limiter = new TokenBucket(rate, rate, now);
      this.#buckets.set(id, limiter);
    }
    if (limiter.admits(1, now)) {
      limiter.take(1, now);
      return undefined;
    }
    return {
      status: 503,
      code: 'SlowDown',
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><Resource>/${bucket}/${key}</Resource></Error>`,
    };
  }
}
