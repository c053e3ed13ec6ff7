/**
 * `POST /jobs` (API Gateway REST API, Lambda proxy integration).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient, createSqsClient } from '../commons/clients.ts';
import { loadDispatcherConfig } from '../commons/config.ts';
import { withPowertools } from '../commons/middleware.ts';
import { type DispatcherDeps, handleCreateJob } from './submit-job.ts';

const config = loadDispatcherConfig();
const deps: DispatcherDeps = {
  table: { client: createDocumentClient(), tableName: config.tableName },
  sqs: createSqsClient(),
  workQueueUrl: config.workQueueUrl,
  numbersPerChunk: config.numbersPerChunk,
  jobRetentionDays: config.jobRetentionDays,
};

export const handler = withPowertools<APIGatewayProxyEvent, APIGatewayProxyResult>((event) =>
  handleCreateJob(event, deps),
);
