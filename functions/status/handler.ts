/**
 * The status function: `GET /jobs`, `GET /jobs/{jobId}` and `GET /jobs/{jobId}/results`
 * (API Gateway REST API, Lambda proxy integration), routed in routes.ts.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '#commons/clients.ts';
import { loadPrimingConfig, loadStatusConfig } from '#commons/config.ts';
import { withPowertools } from '#commons/middleware.ts';
import { primeClients, primeTable } from '#commons/priming.ts';
import type { StatusDeps } from './job-status.ts';
import { handleStatusRequest } from './routes.ts';

const config = loadStatusConfig();
const deps: StatusDeps = {
  table: { client: createDocumentClient(), tableName: config.tableName },
  admins: config.admins,
};

// Before any request, in an environment of provisioned concurrency (commons/priming.ts).
await primeClients(loadPrimingConfig().prime, [primeTable(deps.table)]);

export const handler = withPowertools<APIGatewayProxyEvent, APIGatewayProxyResult>((event) =>
  handleStatusRequest(event, deps),
);
