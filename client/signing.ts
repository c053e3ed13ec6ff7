/**
 * SigV4 signing of API requests (`execute-api`): with the default AWS credential chain for a
 * deployed API, with given credentials, or with the local stack's default principal.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-control-access-using-iam-policies-to-invoke-api.html
 */
import { createHash, createHmac } from 'node:crypto';
import { LOCAL_REGION } from '#local/emulators/common.ts';
import { DEFAULT_LOCAL_PRINCIPAL } from '#local/sigv4/principals.ts';

/** Static AWS credentials. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Credentials, or a function that resolves them (refreshed by the caller as needed). */
export type CredentialsSource = Credentials | (() => Promise<Credentials>);

/** Signs a request: returns the headers to send. */
export type RequestSigner = (request: {
  readonly url: URL;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
}) => Promise<Record<string, string>>;

/** SHA-256 (and HMAC) for @smithy/signature-v4, from node:crypto. */
class NodeSha256 {
  readonly #hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#hash =
      secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.#hash.update(toBuffer(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
  reset(): void {
    throw new Error('NodeSha256 cannot be reset');
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a URL is on this machine (a local stack). */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname);
}

/** The region of an `https://{id}.execute-api.{region}.amazonaws.com/...` URL. */
export function regionOfApiUrl(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i.exec(new URL(url).hostname)?.[1];
}

/**
 * The region to sign the requests to `url` for: `given`, else an execute-api URL's own, else
 * `$AWS_REGION`, then `$AWS_DEFAULT_REGION`; undefined when none of them says.
 */
export function signingRegionOf(
  url: URL,
  given: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | undefined {
  return given ?? regionOfApiUrl(url.href) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
}

/**
 * A SigV4 signer for API Gateway (`execute-api`) in `region`, with `credentials` or, by
 * default, the default AWS credential chain (environment, shared files, SSO, IMDS…).
 */
export async function createSigV4Signer(
  region: string,
  credentials?: CredentialsSource,
): Promise<RequestSigner> {
  // Loaded on first use: a local run with given credentials never touches the chain.
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const source =
    credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: typeof source === 'function' ? source : () => Promise.resolve(source),
    sha256: NodeSha256,
  });
  return async ({ url, method, headers, body }) => {
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const existing = query[key];
      query[key] =
        existing === undefined
          ? value
          : [...(Array.isArray(existing) ? existing : [existing]), value];
    }
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      // As sent on the wire: the signer encodes each segment once more, as execute-api does.
      path: url.pathname,
      query,
      headers: { ...headers, host: url.host },
      body,
    });
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(signed.headers)) {
      // fetch sets Host itself, to the same value.
      if (key.toLowerCase() !== 'host') result[key] = String(value);
    }
    return result;
  };
}

/** The local stack's default principal's credentials (`fanout serve` prints them). */
export const LOCAL_DEFAULT_CREDENTIALS: Credentials = {
  accessKeyId: DEFAULT_LOCAL_PRINCIPAL.accessKeyId,
  secretAccessKey: DEFAULT_LOCAL_PRINCIPAL.secretAccessKey,
};

/** A signer for a local stack (its region), with its default principal unless told otherwise. */
export function createLocalSigner(
  credentials: CredentialsSource = LOCAL_DEFAULT_CREDENTIALS,
): Promise<RequestSigner> {
  return createSigV4Signer(LOCAL_REGION, credentials);
}
