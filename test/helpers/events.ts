/**
 * Event factories: API Gateway REST API proxy events and SQS batches as Lambda delivers them.
 */
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent, SQSEvent, SQSRecord } from 'aws-lambda';

export const STAGE = 'prod';

/** A REST API (v1) proxy event for `method resource`, e.g. ('GET', '/jobs/{jobId}'). */
export function apiGatewayEvent(
  overrides: Partial<APIGatewayProxyEvent> &
    Pick<APIGatewayProxyEvent, 'httpMethod' | 'resource' | 'path'>,
): APIGatewayProxyEvent {
  return {
    body: null,
    headers: {},
    multiValueHeaders: {},
    isBase64Encoded: false,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    ...overrides,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abcdef1234',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: overrides.httpMethod,
      identity: {
        accessKey: null,
        accountId: '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '203.0.113.7',
        user: null,
        userAgent: 'vitest',
        userArn: 'arn:aws:iam::123456789012:user/tester',
      },
      path: `/${STAGE}${overrides.path}`,
      stage: STAGE,
      requestId: 'request-1',
      requestTimeEpoch: 1_767_225_600_000,
      resourceId: 'res123',
      resourcePath: overrides.resource,
    },
  };
}

/** `POST /jobs` with a raw text body. */
export function createJobEvent(body: string | null): APIGatewayProxyEvent {
  return apiGatewayEvent({ httpMethod: 'POST', resource: '/jobs', path: '/jobs', body });
}

/** `POST /jobs` with a JSON body gzip-compressed and base64-encoded, as API Gateway passes a binary body. */
export function gzipCreateJobEvent(json: string): APIGatewayProxyEvent {
  return apiGatewayEvent({
    httpMethod: 'POST',
    resource: '/jobs',
    path: '/jobs',
    headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    body: gzipSync(Buffer.from(json)).toString('base64'),
    isBase64Encoded: true,
  });
}

/** `GET /jobs/{jobId}`. */
export function jobStatusEvent(jobId: string): APIGatewayProxyEvent {
  return apiGatewayEvent({
    httpMethod: 'GET',
    resource: '/jobs/{jobId}',
    path: `/jobs/${jobId}`,
    pathParameters: { jobId },
  });
}

/** `DELETE /jobs/{jobId}`: cancel. */
export function cancelJobEvent(jobId: string): APIGatewayProxyEvent {
  return apiGatewayEvent({
    httpMethod: 'DELETE',
    resource: '/jobs/{jobId}',
    path: `/jobs/${jobId}`,
    pathParameters: { jobId },
  });
}

/** `POST /jobs/{jobId}/redrive`. */
export function redriveJobEvent(jobId: string): APIGatewayProxyEvent {
  return apiGatewayEvent({
    httpMethod: 'POST',
    resource: '/jobs/{jobId}/redrive',
    path: `/jobs/${jobId}/redrive`,
    pathParameters: { jobId },
  });
}

/** `GET /jobs/{jobId}/results[?cursor=…]`. */
export function jobResultsEvent(jobId: string, cursor?: string): APIGatewayProxyEvent {
  return apiGatewayEvent({
    httpMethod: 'GET',
    resource: '/jobs/{jobId}/results',
    path: `/jobs/${jobId}/results`,
    pathParameters: { jobId },
    queryStringParameters: cursor === undefined ? null : { cursor },
  });
}

export function sqsRecord(
  body: string,
  options: { messageId?: string; receiveCount?: number } = {},
): SQSRecord {
  const messageId = options.messageId ?? crypto.randomUUID();
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: '1767225600000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1767225600100',
    },
    messageAttributes: {},
    md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:fanout-work',
    awsRegion: 'eu-west-1',
  };
}

export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
