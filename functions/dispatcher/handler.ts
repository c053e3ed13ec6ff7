/**
 * The dispatcher: every command route of the API (API Gateway REST API, Lambda proxy
 * integration): `POST /jobs`, `DELETE /jobs/{jobId}`, `POST /jobs/{jobId}/redrive`, routed
 * in routes.ts.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import {
  createDocumentClient,
  createDynamoDbClient,
  createPresigningS3Client,
  createS3Client,
  createSqsClient,
} from '#commons/clients.ts';
import {
  loadDispatcherConfig,
  loadInputBucketsConfig,
  loadInputJobConfig,
  loadPrimingConfig,
  loadS3ClientConfig,
} from '#commons/config.ts';
import { withPowertools } from '#commons/middleware.ts';
import { primeClients, primeTable } from '#commons/priming.ts';
import type { DispatcherDeps } from './deps.ts';
import { createIdempotentSubmitter } from './idempotent-submit.ts';
import { handleDispatcherRequest } from './routes.ts';

const config = loadDispatcherConfig();
const buckets = loadInputBucketsConfig();
const inputJobs = loadInputJobConfig();
const s3Config = loadS3ClientConfig();
const dynamodb = createDynamoDbClient();
const deps: DispatcherDeps = {
  table: { client: createDocumentClient(dynamodb), tableName: config.tableName },
  admins: config.admins,
  sqs: createSqsClient(),
  workQueueUrl: config.workQueueUrl,
  numbersPerChunk: config.numbersPerChunk,
  jobRetentionDays: config.jobRetentionDays,
  jobDeadlineSeconds: config.jobDeadlineSeconds,
  idempotency: createIdempotentSubmitter({
    client: dynamodb,
    tableName: config.tableName,
    expirySeconds: config.idempotencyExpirySeconds,
  }),
  input: {
    s3: createS3Client(s3Config),
    presigner: createPresigningS3Client(s3Config),
    inputBucketName: buckets.inputBucketName,
    allowedBucketNames: buckets.allowedBucketNames,
    rangeBytes: inputJobs.rangeBytes,
    maxNumbersPerInputObject: inputJobs.maxNumbersPerInputObject,
  },
};

// Before any request, in an environment of provisioned concurrency (commons/priming.ts).
await primeClients(loadPrimingConfig().prime, [primeTable(deps.table)]);

export const handler = withPowertools<APIGatewayProxyEvent, APIGatewayProxyResult>(
  (event, context) => handleDispatcherRequest(event, deps, context),
);
