/** The REST API gateway with SigV4 checks on its AWS_IAM methods, as API Gateway answers. */
import { describe, expect, it } from 'vitest';
import { RestApiGateway } from '#local/http-api.ts';
import { DEFAULT_LOCAL_PRINCIPAL } from '#local/sigv4/principals.ts';
import type { RestApiSpec } from '#local/template.ts';
import { auth, aws4Signed, MISMATCH } from './requests.ts';

describe('Class: RestApiGateway (with SigV4 checks)', () => {
  const api: RestApiSpec = {
    logicalId: 'Api',
    name: 'api',
    stageName: 'v1',
    binaryMediaTypes: [],
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
  const gateway = new RestApiGateway(api, '000000000000', { auth });
  const endpoint = { host: '127.0.0.1', port: 3000 };
  const answer = (step: ReturnType<RestApiGateway['prepare']>) =>
    step.kind === 'respond'
      ? {
          status: step.response.statusCode,
          body: JSON.parse(step.response.body.toString()),
          errorType: step.response.headers['x-amzn-ErrorType'],
        }
      : undefined;

  it('passes the verified principal to the function as API Gateway does', () => {
    const { method, target, rawHeaders, body } = aws4Signed('POST', '/v1/jobs', '{"numbers":[1]}');
    const step = gateway.prepare({ method, url: target, rawHeaders, body }, endpoint);
    expect(step.kind).toBe('invoke');
    if (step.kind !== 'invoke') return;
    expect(step.event.requestContext.accountId).toBe('000000000000');
    expect(step.event.requestContext.identity).toMatchObject({
      accessKey: DEFAULT_LOCAL_PRINCIPAL.accessKeyId,
      accountId: '000000000000',
      userArn: 'arn:aws:iam::000000000000:user/local',
      caller: expect.stringMatching(/^AIDA/),
      user: expect.stringMatching(/^AIDA/),
    });
  });

  it('answers 403 to an unsigned request and to an unknown route or method, signed or not', () => {
    const missing = {
      status: 403,
      body: { message: 'Missing Authentication Token' },
      errorType: 'MissingAuthenticationTokenException',
    };
    const body = Buffer.from('{"numbers":[1]}');
    expect(
      answer(gateway.prepare({ method: 'POST', url: '/jobs', rawHeaders: [], body }, endpoint)),
    ).toEqual(missing);
    const unknown = aws4Signed('POST', '/nowhere', '{}');
    expect(answer(gateway.prepare({ ...unknown, url: unknown.target }, endpoint))).toEqual(missing);
    const wrongMethod = aws4Signed('GET', '/jobs', '');
    expect(answer(gateway.prepare({ ...wrongMethod, url: wrongMethod.target }, endpoint))).toEqual(
      missing,
    );
  });

  it('answers 403 with the signature mismatch to a tampered body', () => {
    const signed = aws4Signed('POST', '/jobs', '{"numbers":[1]}');
    const step = gateway.prepare(
      { ...signed, url: signed.target, body: Buffer.from('{"numbers":[2]}') },
      endpoint,
    );
    expect(answer(step)).toMatchObject({ status: 403, errorType: 'InvalidSignatureException' });
    expect(answer(step)?.body.message).toMatch(MISMATCH);
  });
});
