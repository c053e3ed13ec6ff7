/**
 * AWS SDK clients. Each handler module calls the factories it needs once, at cold start,
 * and injects the clients into its domain functions; factories (not module-level clients)
 * keep each bundle free of the SDKs it does not use.
 *
 * Endpoints come from the SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables, so the same
 * code talks to the local emulators and to AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tracer } from './powertools.ts';

/**
 * Attempts of a DynamoDB request by the writers of chunk results (aggregator, DLQ consumer):
 * the SDK's standard retries back off from 500 ms, doubling, jittered, for throttling, so 6
 * attempts wait at most 0.5 + 1 + 2 + 4 + 8 = 15.5 s, inside the aggregator's 30 s timeout.
 * A burst past the table's or a partition's throughput is then absorbed within the
 * invocation instead of failing the chunk back to SQS for a whole visibility timeout.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export const CHUNK_WRITER_DYNAMODB_MAX_ATTEMPTS = 6;

/**
 * A DynamoDB client (for Powertools idempotency, which takes a plain client).
 * `maxAttempts` defaults to the SDK's 3.
 */
export function createDynamoDbClient(
  options: { readonly maxAttempts?: number } = {},
): DynamoDBClient {
  return tracer.captureAWSv3Client(
    new DynamoDBClient(
      options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts },
    ),
  );
}

/**
 * A DynamoDB document client: plain JS values in and out, undefined attributes dropped.
 * Pass `client` to share one connection pool with other users of it.
 */
export function createDocumentClient(
  client: DynamoDBClient = createDynamoDbClient(),
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(): SQSClient {
  return tracer.captureAWSv3Client(new SQSClient({}));
}

export function createLambdaClient(): LambdaClient {
  return tracer.captureAWSv3Client(new LambdaClient({}));
}

/**
 * Path-style addressing when an S3 endpoint is configured (AWS_ENDPOINT_URL_S3: the local
 * emulator, which has no per-bucket host names); AWS's virtual-hosted style otherwise.
 */
function forcePathStyle(): boolean {
  return (process.env.AWS_ENDPOINT_URL_S3 ?? '') !== '';
}

export function createS3Client(): S3Client {
  return tracer.captureAWSv3Client(new S3Client({ forcePathStyle: forcePathStyle() }));
}

/**
 * An S3 client for presigning upload URLs. It computes no checksum unless an operation requires
 * one: by default the SDK would sign the CRC32 of the empty body it sees when presigning into the
 * URL, and S3 would reject every real upload through it (aws-sdk-js-v3 #6994).
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html
 */
export function createPresigningS3Client(): S3Client {
  return new S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    forcePathStyle: forcePathStyle(),
  });
}
