/** The REST API gateway's request handling, that `TestStack.apiRequest` plays in-process. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RestApiGateway, startHttpApi } from '#local/http-api.ts';
import { MAX_SYNC_PAYLOAD_BYTES } from '#local/runtime/function-host.ts';
import type { RestApiSpec } from '#local/template.ts';

describe('Class: RestApiGateway', () => {
  const api: RestApiSpec = {
    logicalId: 'Api',
    name: 'api',
    stageName: 'v1',
    binaryMediaTypes: ['application/gzip'],
    minimumCompressionSize: undefined,
    routes: [
      {
        httpMethod: 'POST',
        resourcePath: '/jobs',
        authorizationType: 'AWS_IAM',
        integrationType: 'AWS_PROXY',
        functionLogicalId: 'Dispatcher',
        mockResponse: { statusCode: 200, headers: {} },
      },
    ],
  };
  const gateway = new RestApiGateway(api, '000000000000');
  const endpoint = { host: '127.0.0.1', port: 3000 };
  const request = (headers: string[], body: Buffer | string, url = '/jobs') => ({
    method: 'POST',
    url,
    rawHeaders: headers,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });

  it('builds the proxy event of a request, binary bodies in base64, stage prefix accepted', () => {
    const step = gateway.prepare(
      request(
        ['Content-Type', 'application/gzip', 'Idempotency-Key', 'k1'],
        gzipSync('{}'),
        '/v1/jobs',
      ),
      endpoint,
    );
    expect(step.kind).toBe('invoke');
    if (step.kind !== 'invoke') return;
    expect(step.functionLogicalId).toBe('Dispatcher');
    expect(step.event).toMatchObject({
      resource: '/jobs',
      path: '/jobs',
      httpMethod: 'POST',
      isBase64Encoded: true,
      headers: { 'Content-Type': 'application/gzip', 'Idempotency-Key': 'k1' },
      requestContext: { path: '/v1/jobs', stage: 'v1', accountId: '000000000000' },
    });
    expect(JSON.parse(step.payload)).toEqual(JSON.parse(JSON.stringify(step.event)));
  });

  it('answers by itself what API Gateway refuses', () => {
    const answer = (step: ReturnType<RestApiGateway['prepare']>) =>
      step.kind === 'respond'
        ? { status: step.response.statusCode, body: JSON.parse(step.response.body.toString()) }
        : undefined;
    expect(answer(gateway.prepare(request([], '{}', '/nowhere'), endpoint))).toEqual({
      status: 404,
      body: { message: 'Not Found: no route for POST /nowhere' },
    });
    expect(answer(gateway.prepare({ ...request([], ''), method: 'GET' }, endpoint))).toMatchObject({
      status: 405,
    });
    expect(
      answer(gateway.prepare(request(['Content-Encoding', 'gzip'], 'not gzip'), endpoint)),
    ).toEqual({ status: 415, body: { message: 'Unsupported Media Type' } });
    // A small compressed body that inflates past the payload limit is not inflated whole.
    const bomb = gzipSync(Buffer.alloc(11 * 1024 * 1024));
    expect(answer(gateway.prepare(request(['Content-Encoding', 'gzip'], bomb), endpoint))).toEqual({
      status: 413,
      body: { message: 'Request Too Long' },
    });
    expect(
      answer(gateway.prepare(request([], Buffer.alloc(10 * 1024 * 1024 + 1)), endpoint)),
    ).toEqual({ status: 413, body: { message: 'Request Too Long' } });
  });

  it('maps a function result, and a function error to 502', async () => {
    const ok = await gateway.handle(request([], '{}'), endpoint, async () => ({
      ok: true,
      payload: JSON.stringify({ statusCode: 202, headers: { 'x-a': 'b' }, body: '{"jobId":"j"}' }),
    }));
    expect(ok.statusCode).toBe(202);
    expect(ok.headers['x-a']).toBe('b');
    expect(ok.body.toString()).toBe('{"jobId":"j"}');
    const failed = await gateway.handle(request([], '{}'), endpoint, async () => ({
      ok: false,
      error: { errorType: 'Error', errorMessage: 'boom', trace: [] },
    }));
    expect(failed.statusCode).toBe(502);
  });

  it("answers 502 for a function response over Lambda's 6 MB, as Lambda fails it", async () => {
    const body = 'x'.repeat(MAX_SYNC_PAYLOAD_BYTES);
    const tooLarge = await gateway.handle(request([], '{}'), endpoint, async () => ({
      ok: true,
      payload: JSON.stringify({ statusCode: 200, body }),
    }));
    const justUnder = await gateway.handle(request([], '{}'), endpoint, async () => ({
      ok: true,
      payload: JSON.stringify({ statusCode: 200, body: body.slice(0, -64) }),
    }));

    expect(tooLarge.statusCode).toBe(502);
    expect(JSON.parse(tooLarge.body.toString())).toEqual({ message: 'Internal server error' });
    expect(justUnder.statusCode).toBe(200);
    expect(justUnder.body.length).toBe(MAX_SYNC_PAYLOAD_BYTES - 64);
  });
});

describe('Function: startHttpApi', () => {
  it('plays an unchecked request (--no-auth) as the identity it was given', async () => {
    const api: RestApiSpec = {
      logicalId: 'Api',
      name: 'api',
      stageName: 'v1',
      binaryMediaTypes: [],
      minimumCompressionSize: undefined,
      routes: [
        {
          httpMethod: 'GET',
          resourcePath: '/jobs',
          authorizationType: 'AWS_IAM',
          integrationType: 'AWS_PROXY',
          functionLogicalId: 'Status',
          mockResponse: { statusCode: 200, headers: {} },
        },
      ],
    };
    const events: string[] = [];
    const http = await startHttpApi({
      api,
      accountId: '000000000000',
      unsignedIdentity: {
        accessKey: 'AKIAFANOUTLOCAL00001',
        caller: 'AIDALOCAL',
        user: 'AIDALOCAL',
        userArn: 'arn:aws:iam::000000000000:user/local',
        accountId: '000000000000',
        name: 'local',
      },
      invoke: async (_id, payload) => {
        events.push(payload);
        return { ok: true, payload: JSON.stringify({ statusCode: 200, body: '{}' }) };
      },
      onError: () => undefined,
    });
    try {
      const response = await fetch(`${http.url}/jobs`);
      expect(response.status).toBe(200);
    } finally {
      await http.stop();
    }
    const event = JSON.parse(events[0] ?? '{}') as {
      requestContext: { identity: { userArn: string | null } };
    };
    expect(event.requestContext.identity.userArn).toBe('arn:aws:iam::000000000000:user/local');
  });
});
