/**
 * `GET /jobs/{jobId}` and `GET /jobs/{jobId}/results` (API Gateway REST API, Lambda proxy
 * integration).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '../commons/clients.ts';
import { loadStatusConfig } from '../commons/config.ts';
import { withPowertools } from '../commons/middleware.ts';
import { handleStatusRequest, type StatusDeps } from './job-status.ts';

const config = loadStatusConfig();
const deps: StatusDeps = {
  table: { client: createDocumentClient(), tableName: config.tableName },
};

export const handler = withPowertools<APIGatewayProxyEvent, APIGatewayProxyResult>((event) =>
  handleStatusRequest(event, deps),
);
