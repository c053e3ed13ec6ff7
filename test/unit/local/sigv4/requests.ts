/** Requests signed by the client library's signer and by an independent one (aws4), for the SigV4 tests. */
import aws4 from 'aws4';
import { createSigV4Signer } from '#client/index.ts';
import { localGatewayAuth } from '#local/sigv4/gateway-auth.ts';
import { DEFAULT_LOCAL_PRINCIPAL, type LocalPrincipal } from '#local/sigv4/principals.ts';
import type { ReceivedRequest } from '#local/sigv4/verify.ts';

export const HOST = '127.0.0.1:3000';
export const OTHER: LocalPrincipal = {
  name: 'bob',
  accessKeyId: 'AKIABOBBOBBOBBOB0001',
  secretAccessKey: 'bob-secret',
};
export const auth = localGatewayAuth([OTHER]);
export const options = { principals: auth.principals, region: 'us-east-1' };

/** Signs with aws4, the independent implementation; returns the request as a server sees it. */
export function aws4Signed(
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
export async function smithySigned(
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

export function withHeader(request: ReceivedRequest, name: string, value: string): ReceivedRequest {
  const rawHeaders = [...request.rawHeaders];
  const index = rawHeaders.findIndex(
    (header, position) => position % 2 === 0 && header.toLowerCase() === name,
  );
  rawHeaders[index + 1] = value;
  return { ...request, rawHeaders };
}

export const MISMATCH =
  /^The request signature we calculated does not match the signature you provided\. Check your AWS Secret Access Key and signing method\. Consult the service documentation for details\.\n\nThe Canonical String for this request should have been\n'/;
