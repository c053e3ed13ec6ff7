/**
 * fetch, SigV4-signed for the local API with its default principal (what the CLI and the
 * client library do by themselves), for tests that send raw requests.
 */
import { createLocalSigner, type RequestSigner } from '#client/index.ts';

let signer: Promise<RequestSigner> | undefined;

export interface SignedInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export async function signedFetch(url: string, init: SignedInit = {}): Promise<Response> {
  signer ??= createLocalSigner();
  const target = new URL(url);
  const method = init.method ?? 'GET';
  const body = typeof init.body === 'string' ? Buffer.from(init.body, 'utf8') : init.body;
  const headers = await (await signer)({
    url: target,
    method,
    headers: { ...init.headers },
    body,
  });
  return fetch(target, { method, headers, ...(body === undefined ? {} : { body }) });
}
