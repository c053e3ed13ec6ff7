/**
 * The local API's SigV4 verification: requests signed by the project's signer
 * (@smithy/signature-v4 through the client library) and by an independent one (aws4) are
 * accepted; anything tampered with after signing, a wrong or unknown key, a time outside the
 * 5-minute window and missing parts are refused with API Gateway's own 403 answers.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_PRINCIPAL } from '#local/sigv4/principals.ts';
import { amzDate, type ReceivedRequest, verifySigV4 } from '#local/sigv4/verify.ts';
import {
  aws4Signed,
  HOST,
  MISMATCH,
  OTHER,
  options,
  smithySigned,
  withHeader,
} from './requests.ts';

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
