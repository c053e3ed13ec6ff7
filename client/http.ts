/**
 * The HTTP transport of the client: one JSON request, signed, with a typed HttpError (or an
 * InvalidInputError for refused numbers) for every non-2xx answer.
 */
import { HttpError, InvalidInputError } from './errors.ts';
import {
  createLocalSigner,
  createSigV4Signer,
  isLoopback,
  type RequestSigner,
  regionOfApiUrl,
} from './signing.ts';

/** A fetch function (the global one by default; tests pass a fake). */
export type Fetch = (url: URL, init: RequestInit) => Promise<Response>;

/** How requests are signed: a signer, `'none'`, or `'auto'` (see `defaultSigner`). */
export type SigningChoice = RequestSigner | 'none' | 'auto';

interface RequestBody {
  readonly bytes: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

interface RequestOptions {
  readonly body?: RequestBody;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal | undefined;
  /** For an input read from a file: the line of each element, named in InvalidInputError. */
  readonly lines?: readonly number[];
}

/**
 * `'auto'`: a local stack (loopback) is signed with the local default principal, an
 * execute-api URL with the default AWS credential chain in its region, anything else not.
 */
function defaultSigner(baseUrl: URL): Promise<RequestSigner | undefined> {
  if (isLoopback(baseUrl)) return createLocalSigner();
  const region = regionOfApiUrl(baseUrl.href);
  return region === undefined ? Promise.resolve(undefined) : createSigV4Signer(region);
}

export class HttpTransport {
  /** The API root without a trailing slash, e.g. `http://127.0.0.1:3000` or `https://…/v1`. */
  readonly baseUrl: string;
  readonly #fetch: Fetch;
  readonly #signing: SigningChoice;
  #signer: Promise<RequestSigner | undefined> | undefined;

  constructor(baseUrl: string, options: { signer?: SigningChoice; fetch?: Fetch } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#signing = options.signer ?? 'auto';
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  #signerOnce(url: URL): Promise<RequestSigner | undefined> {
    if (this.#signer === undefined) {
      const choice = this.#signing;
      this.#signer =
        choice === 'auto'
          ? defaultSigner(url)
          : Promise.resolve(choice === 'none' ? undefined : choice);
    }
    return this.#signer;
  }

  /**
   * Sends one request and parses its JSON answer.
   * @param what completes the error message: "job X", "the job was not accepted"
   * @throws InvalidInputError for a 400 INVALID_NUMBERS, HttpError for any other non-2xx
   */
  async request<T>(
    method: string,
    pathAndQuery: string,
    what: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const url = new URL(`${this.baseUrl}${pathAndQuery}`);
    let headers: Record<string, string> = {
      accept: 'application/json',
      // Compressing megabyte result pages only costs time on the loopback interface.
      ...(isLoopback(url) ? { 'accept-encoding': 'identity' } : {}),
      ...options.headers,
      ...options.body?.headers,
    };
    const signer = await this.#signerOnce(url);
    if (signer !== undefined) {
      headers = await signer({ url, method, headers, body: options.body?.bytes });
    }
    const response = await this.#fetch(url, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: options.body.bytes }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: the text goes into the error
    }
    if (!response.ok) {
      const error = new HttpError(response.status, parsed, what);
      if (response.status === 400 && error.code === 'INVALID_NUMBERS') {
        throw new InvalidInputError(response.status, parsed, what, options.lines);
      }
      throw error;
    }
    return parsed as T;
  }
}
