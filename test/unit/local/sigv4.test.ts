/**
 * The local API's SigV4 checks: requests signed by the project's signer (@smithy/signature-v4
 * through the client library) and by an independent one (aws4) are accepted; anything
 * tampered with after signing, a wrong or unknown key, a time outside the 5-minute window,
 * missing parts and unknown routes are refused with API Gateway's own 403 answers.
 */
import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { createSigV4Signer } from '../../../client/index.ts';
import { RestApiGateway } from '../../../infra/local/http-api.ts';
import { localGatewayAuth } from '../../../infra/local/sigv4/gateway-auth.ts';
import {
  DEFAULT_LOCAL_PRINCIPAL,
  type LocalPrincipal,
  PrincipalRegistry,
  parsePrincipal,
} from '../../../infra/local/sigv4/principals.ts';
import { amzDate, type ReceivedRequest, verifySigV4 } from '../../../infra/local/sigv4/verify.ts';
import type { RestApiSpec } from '../../../infra/local/template.ts';

const HOST = '127.0.0.1:3000';
const OTHER: LocalPrincipal = {
  name: 'bob',
  accessKeyId: 'AKIABOBBOBBOBBOB0001',
  secretAccessKey: 'bob-secret',
};
const auth = localGatewayAuth([OTHER]);
const options = { principals: auth.principals, region: 'us-east-1' };

/** Signs with aws4, the independent implementation; returns the request as a server sees it. */
function aws4Signed(
  method: string,
  target: string,
  body: string,
  principal: LocalPrincipal = DEFAULT_LOCAL_PRINCIPAL,
  extra: { headers?: Record<string, string>; region?: string; service?: string } = {},
): ReceivedRequest {
  const signed = aws4.sign(
    {
      host: HOST,
      method,
      path: target,
      service: extra.service ?? 'execute-api',
      region: extra.region ?? 'us-east-1',
      body,
      headers: { 'content-type': 'application/json', ...extra.headers },
    },
    { accessKeyId: principal.accessKeyId, secretAccessKey: principal.secretAccessKey },
  );
  const rawHeaders = Object.entries(signed.headers ?? {}).flatMap(([name, value]) => [
    name,
    String(value),
  ]);
  return { method, target, rawHeaders, body: Buffer.from(body) };
}

/** Signs with @smithy/signature-v4 as the client library does. */
async function smithySigned(
  method: string,
  target: string,
  body: string,
  principal: LocalPrincipal = DEFAULT_LOCAL_PRINCIPAL,
): Promise<ReceivedRequest> {
  const signer = await createSigV4Signer('us-east-1', principal);
  const url = new URL(`http://${HOST}${target}`);
  const headers = await signer({
    url,
    method,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body),
  });
  const rawHeaders = ['Host', HOST, ...Object.entries(headers).flat()];
  return { method, target, rawHeaders, body: Buffer.from(body) };
}

function withHeader(request: ReceivedRequest, name: string, value: string): ReceivedRequest {
  const rawHeaders = [...request.rawHeaders];
  const index = rawHeaders.findIndex(
    (header, position) => position % 2 === 0 && header.toLowerCase() === name,
  );
  rawHeaders[index + 1] = value;
  return { ...request, rawHeaders };
}

const MISMATCH =
  /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'/;

describe('Function: verifySigV4', () => {
  it.each([
    ['a plain path', '/jobs'],
    [
      'the stage prefix, a cursor and a query to sort',
      '/v1/jobs/abc/results?cursor=eyJ2IjoxfQ&b=2&a=1',
    ],
    ['escaped and reserved characters', '/v1/items/a%20b(c)~d?x=1%2B2&x=0'],
  ])('accepts a request signed by aws4 with %s', (_name, target) => {
    const outcome = verifySigV4(aws4Signed('POST', target, '{"numbers":[1,2]}'), options);
    expect(outcome).toEqual({
      ok: true,
      identity: expect.objectContaining({
        accessKey: DEFAULT_LOCAL_PRINCIPAL.accessKeyId,
        userArn: 'arn:aws:iam::000000000000:user/local',
        accountId: '000000000000',
        name: 'local',
      }),
    });
  });

  it.each([
    ['a plain path', '/jobs'],
    ['escaped and reserved characters', '/v1/items/a%20b(c)~d?x=1%2B2&x=0'],
  ])('accepts a request signed by @smithy/signature-v4 with %s', async (_name, target) => {
    const outcome = verifySigV4(await smithySigned('GET', target, ''), options);
    expect(outcome.ok).toBe(true);
  });

  it('names the principal whose key signed', async () => {
    const outcome = verifySigV4(await smithySigned('GET', '/jobs', '', OTHER), options);
    expect(outcome.ok && outcome.identity).toMatchObject({
      accessKey: OTHER.accessKeyId,
      userArn: 'arn:aws:iam::000000000000:user/bob',
      name: 'bob',
    });
    expect(outcome.ok && outcome.identity.caller).toMatch(/^AIDA[A-Z2-7]{17}$/);
  });

  it.each([
    ['the body', (r: ReceivedRequest) => ({ ...r, body: Buffer.from('{"numbers":[1,3]}') })],
    ['the path', (r: ReceivedRequest) => ({ ...r, target: '/jobs/other?cursor=abc' })],
    ['the query', (r: ReceivedRequest) => ({ ...r, target: '/jobs/abc?cursor=abd' })],
    ['the method', (r: ReceivedRequest) => ({ ...r, method: 'DELETE' })],
    ['a signed header', (r: ReceivedRequest) => withHeader(r, 'content-type', 'text/plain')],
  ])('refuses a request whose %s changed after signing', (_name, tamper) => {
    const signed = aws4Signed('POST', '/jobs/abc?cursor=abc', '{"numbers":[1,2]}');
    expect(verifySigV4(signed, options).ok).toBe(true);
    const outcome = verifySigV4(tamper(signed), options);
    expect(outcome).toMatchObject({ ok: false, errorType: 'InvalidSignatureException' });
    expect(!outcome.ok && outcome.message).toMatch(MISMATCH);
  });

  it('refuses a signature made with the wrong secret', () => {
    const wrong = { ...DEFAULT_LOCAL_PRINCIPAL, secretAccessKey: 'not-the-secret' };
    const outcome = verifySigV4(aws4Signed('GET', '/jobs', '', wrong), options);
    expect(!outcome.ok && outcome.message).toMatch(MISMATCH);
    // The answer shows what the server signed, as API Gateway's does.
    expect(!outcome.ok && outcome.message).toContain(
      "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n",
    );
  });

  it('refuses a payload signed as UNSIGNED-PAYLOAD: execute-api hashes the body', () => {
    const signed = aws4Signed('POST', '/jobs', '{"numbers":[1]}', DEFAULT_LOCAL_PRINCIPAL, {
      headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    });
    const outcome = verifySigV4(signed, options);
    expect(!outcome.ok && outcome.message).toMatch(MISMATCH);
  });

  it('refuses an unknown access key with the invalid security token answer', () => {
    const stranger = { name: 'x', accessKeyId: 'AKIANOBODYNOBODY0001', secretAccessKey: 's' };
    expect(verifySigV4(aws4Signed('GET', '/jobs', '', stranger), options)).toEqual({
      ok: false,
      errorType: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  });

  it('refuses a signature older than 5 minutes, and one from more than 5 minutes ahead', () => {
    const signed = aws4Signed('GET', '/jobs', '', DEFAULT_LOCAL_PRINCIPAL, {
      headers: { 'X-Amz-Date': '20260101T120000Z' },
    });
    const signedAt = Date.UTC(2026, 0, 1, 12, 0, 0);
    const date = amzDate(new Date(signedAt));
    const late = new Date(signedAt + 5 * 60_000 + 1_000);
    expect(verifySigV4(signed, { ...options, now: late })).toEqual({
      ok: false,
      errorType: 'InvalidSignatureException',
      message: `Signature expired: ${date} is now earlier than ${amzDate(new Date(late.getTime() - 300_000))} (${amzDate(late)} - 5 min.)`,
    });
    const early = new Date(signedAt - 5 * 60_000 - 1_000);
    expect(verifySigV4(signed, { ...options, now: early })).toEqual({
      ok: false,
      errorType: 'InvalidSignatureException',
      message: `Signature not yet current: ${date} is still later than ${amzDate(new Date(early.getTime() + 300_000))} (${amzDate(early)} + 5 min.)`,
    });
    expect(verifySigV4(signed, { ...options, now: new Date(signedAt + 4 * 60_000) }).ok).toBe(true);
  });

  it('refuses a credential scoped to another region or service', () => {
    const region = aws4Signed('GET', '/jobs', '', DEFAULT_LOCAL_PRINCIPAL, { region: 'eu-west-1' });
    expect(verifySigV4(region, options)).toMatchObject({
      ok: false,
      message: "Credential should be scoped to a valid region, not 'eu-west-1'. ",
    });
    const service = aws4Signed('GET', '/jobs', '', DEFAULT_LOCAL_PRINCIPAL, { service: 's3' });
    expect(verifySigV4(service, options)).toMatchObject({
      ok: false,
      message: "Credential should be scoped to correct service: 'execute-api'. ",
    });
  });

  it('answers Missing Authentication Token to an unsigned request', () => {
    const unsigned = {
      method: 'GET',
      target: '/jobs',
      rawHeaders: ['Host', HOST],
      body: Buffer.alloc(0),
    };
    expect(verifySigV4(unsigned, options)).toEqual({
      ok: false,
      errorType: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
  });

  it('names what an incomplete Authorization header lacks', () => {
    const request = {
      method: 'GET',
      target: '/jobs',
      rawHeaders: ['Host', HOST, 'Authorization', 'AWS4-HMAC-SHA256 Signature=abc'],
      body: Buffer.alloc(0),
    };
    expect(verifySigV4(request, options)).toEqual({
      ok: false,
      errorType: 'IncompleteSignatureException',
      message:
        "Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Signature=abc",
    });
    const bearer = { ...request, rawHeaders: ['Host', HOST, 'Authorization', 'Bearer token'] };
    expect(verifySigV4(bearer, options)).toMatchObject({
      errorType: 'IncompleteSignatureException',
      message:
        "'token' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer token'.",
    });
  });
});

describe('Function: parsePrincipal', () => {
  it('reads NAME=ACCESS_KEY_ID:SECRET, the secret may hold colons', () => {
    expect(parsePrincipal('alice=AKIAALICEALICE0001:s3cr:et')).toEqual({
      name: 'alice',
      accessKeyId: 'AKIAALICEALICE0001',
      secretAccessKey: 's3cr:et',
    });
  });

  it.each([
    ['alice', 'must look like NAME=ACCESS_KEY_ID:SECRET'],
    ['al ice=AKIAALICEALICE0001:s', 'name "al ice" must be 1 to 64 characters'],
    ['alice=short:s', 'the access key id must be 16 to 128 characters'],
    ['alice=AKIAALICEALICE0001:', 'the secret must not be empty'],
  ])('refuses %s', (text, message) => {
    expect(() => parsePrincipal(text)).toThrow(message);
  });

  it('refuses two principals with one access key', () => {
    expect(
      () =>
        new PrincipalRegistry(
          [DEFAULT_LOCAL_PRINCIPAL, { ...OTHER, accessKeyId: DEFAULT_LOCAL_PRINCIPAL.accessKeyId }],
          '000000000000',
        ),
    ).toThrow(`two local principals use the access key ${DEFAULT_LOCAL_PRINCIPAL.accessKeyId}`);
  });
});

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
