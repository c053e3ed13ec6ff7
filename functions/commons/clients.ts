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

/** A DynamoDB client (for Powertools idempotency, which takes a plain client). */
export function createDynamoDbClient(): DynamoDBClient {
  return tracer.captureAWSv3Client(new DynamoDBClient({}));
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

export function createS3Client(): S3Client {
  return tracer.captureAWSv3Client(new S3Client({}));
}

/**
 * An S3 client for presigning upload URLs. It computes no checksum unless an operation requires
 * one: by default the SDK would sign the CRC32 of the empty body it sees when presigning into the
 * URL, and S3 would reject every real upload through it (aws-sdk-js-v3 #6994).
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html
 */
export function createPresigningS3Client(): S3Client {
  return new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' });
}
