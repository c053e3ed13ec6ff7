import 'aws-sdk-client-mock-vitest/extend';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '#commons/errors.ts';
import { jsonResponse } from '#commons/http.ts';
import { Router, type RouterDeps } from '#commons/router.ts';
import { JOB_ID, jobItem, OWNER_ARN, TABLE_NAME } from '#test/helpers/dynamodb.ts';
import { apiGatewayEvent, jobStatusEvent } from '#test/helpers/events.ts';
import { dispatcherRouter } from '../../../functions/dispatcher/routes.ts';
import { statusRouter } from '../../../functions/status/routes.ts';

const ddbMock = mockClient(DynamoDBDocumentClient);
const table = {
  client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
  tableName: TABLE_NAME,
};
const OTHER = 'arn:aws:iam::123456789012:user/mallory';

function as(event: APIGatewayProxyEvent, userArn: string | null): APIGatewayProxyEvent {
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      identity: { ...event.requestContext.identity, userArn },
    },
  };
}

/** A router whose routes answer what they were given. */
function echoRouter() {
  return new Router<RouterDeps>({
    errorMetrics: { client: 'ClientErrors', server: 'ServerErrors' },
  })
    .route('GET', '/jobs', async ({ caller }) => jsonResponse(200, { caller }))
    .route('GET', '/jobs/{jobId}', async ({ jobId, caller }) =>
      jsonResponse(200, { jobId, caller }),
    )
    .route('GET', '/jobs/{jobId}/results', async ({ job }) =>
      jsonResponse(200, { status: job?.status, chunkCount: job?.chunkCount }),
    )
    .route('POST', '/boom', async () => {
      throw new HttpError(418, 'INTERNAL_ERROR', 'a typed error');
    })
    .route('POST', '/crash', async () => {
      throw new Error('secret table name');
    });
}

async function answer(
  router: ReturnType<typeof echoRouter>,
  event: APIGatewayProxyEvent,
  deps: RouterDeps = { table },
) {
  const response = await router.handle(event, deps);
  return { statusCode: response.statusCode, body: JSON.parse(response.body) };
}

beforeEach(() => {
  ddbMock.reset();
  ddbMock.on(GetCommand).resolves({ Item: jobItem() });
});

describe('Class: Router', () => {
  it('lists the routes of both API functions, one registration each', () => {
    expect(dispatcherRouter.routes()).toEqual([
      'POST /jobs',
      'DELETE /jobs/{jobId}',
      'POST /jobs/{jobId}/start',
      'POST /jobs/{jobId}/redrive',
    ]);
    expect(statusRouter.routes()).toEqual([
      'GET /jobs',
      'GET /jobs/{jobId}',
      'GET /jobs/{jobId}/results',
    ]);
  });

  it('answers 404 for an unknown resource and 405 naming the methods of a known one', async () => {
    const router = echoRouter();
    const unknown = await answer(
      router,
      apiGatewayEvent({ httpMethod: 'GET', resource: '/admin', path: '/admin' }),
    );
    const wrong = await answer(
      router,
      apiGatewayEvent({ httpMethod: 'DELETE', resource: '/jobs', path: '/jobs' }),
    );
    expect(unknown).toMatchObject({
      statusCode: 404,
      body: { error: { code: 'ROUTE_NOT_FOUND' } },
    });
    expect(wrong).toEqual({
      statusCode: 405,
      body: {
        error: { code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed here; use GET' },
      },
    });
  });

  it('refuses a request without a caller identity with 403, before any read', async () => {
    const { statusCode, body } = await answer(echoRouter(), as(jobStatusEvent(JOB_ID), null));
    expect(statusCode).toBe(403);
    expect(body.error.code).toBe('NO_CALLER_IDENTITY');
    expect(ddbMock).not.toHaveReceivedAnyCommand();
  });

  it('gives the handler the caller and the checked job id, read strongly consistent', async () => {
    const { statusCode, body } = await answer(echoRouter(), jobStatusEvent(JOB_ID.toUpperCase()));
    expect(statusCode).toBe(200);
    expect(body).toEqual({ jobId: JOB_ID, caller: { ownerArn: OWNER_ARN, isAdmin: false } });
    expect(ddbMock).toHaveReceivedCommandWith(GetCommand, {
      TableName: TABLE_NAME,
      Key: { pk: `JOB#${JOB_ID}`, sk: 'JOB' },
      ConsistentRead: true,
    });
  });

  it('hands the handler the job it read, with one read of the job item', async () => {
    const event = {
      ...jobStatusEvent(JOB_ID),
      resource: '/jobs/{jobId}/results',
      path: `/jobs/${JOB_ID}/results`,
    };
    const { statusCode, body } = await answer(echoRouter(), event);
    expect(statusCode).toBe(200);
    expect(body).toEqual({ status: jobItem().status, chunkCount: jobItem().chunkCount });
    expect(ddbMock).toHaveReceivedCommandTimes(GetCommand, 1);
  });

  it('answers another principal the same 404 as a job that does not exist', async () => {
    const theirs = await answer(echoRouter(), as(jobStatusEvent(JOB_ID), OTHER));
    ddbMock.on(GetCommand).resolves({});
    const none = await answer(echoRouter(), as(jobStatusEvent(JOB_ID), OTHER));
    expect(theirs).toEqual({
      statusCode: 404,
      body: { error: { code: 'JOB_NOT_FOUND', message: `no job ${JOB_ID} (it may have expired)` } },
    });
    expect(none).toEqual(theirs);
  });

  it('lets an operator see every job, and nobody else a job without an owner', async () => {
    const admin = { table, admins: new Set([OTHER]) };
    expect((await answer(echoRouter(), as(jobStatusEvent(JOB_ID), OTHER), admin)).statusCode).toBe(
      200,
    );
    ddbMock.on(GetCommand).resolves({ Item: jobItem({ ownerArn: undefined }) });
    expect((await answer(echoRouter(), jobStatusEvent(JOB_ID))).statusCode).toBe(404);
    expect((await answer(echoRouter(), as(jobStatusEvent(JOB_ID), OTHER), admin)).statusCode).toBe(
      200,
    );
  });

  it('routes by path when the event has no resource, filling the path parameters', async () => {
    const event = {
      ...jobStatusEvent(JOB_ID),
      resource: undefined as unknown as string,
      pathParameters: null,
    };
    const { statusCode, body } = await answer(echoRouter(), event);
    expect(statusCode).toBe(200);
    expect(body.jobId).toBe(JOB_ID);
  });

  it('maps a typed error to its status and anything else to a generic 500', async () => {
    const typed = await answer(
      echoRouter(),
      apiGatewayEvent({ httpMethod: 'POST', resource: '/boom', path: '/boom' }),
    );
    const crash = await answer(
      echoRouter(),
      apiGatewayEvent({ httpMethod: 'POST', resource: '/crash', path: '/crash' }),
    );
    expect(typed).toEqual({
      statusCode: 418,
      body: { error: { code: 'INTERNAL_ERROR', message: 'a typed error' } },
    });
    expect(crash).toEqual({
      statusCode: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'an internal error occurred' } },
    });
  });

  it('refuses a route registered twice', () => {
    const router = echoRouter();
    expect(() => router.route('GET', '/jobs', async () => jsonResponse(200, {}))).toThrow(
      'GET /jobs is routed twice',
    );
  });
});
