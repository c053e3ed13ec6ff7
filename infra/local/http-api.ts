/**
 * The REST API played locally: a node:http server on 127.0.0.1 that serves the routes of the
 * template's AWS::ApiGateway::Method resources and builds the `APIGatewayProxyEvent` (v1)
 * that API Gateway's Lambda proxy integration sends, then maps the function's
 * `APIGatewayProxyResult` back to HTTP.
 *
 * AWS_IAM methods check SigV4 as API Gateway does (sigv4/verify.ts) against the local
 * principals, and unknown routes answer 403 "Missing Authentication Token", as a REST API
 * behind IAM auth does. Without `auth` (`fanout serve --no-auth`) requests are not checked
 * and unknown routes answer 404/405. There is no throttling.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { MAX_SYNC_PAYLOAD_BYTES, synchronousOutcome } from './runtime/function-host.ts';
import type { InvocationOutcome } from './runtime/protocol.ts';
import {
  authenticate,
  type GatewayAuth,
  MISSING_TOKEN_FAILURE,
  refusal,
} from './sigv4/gateway-auth.ts';
import type { VerifiedIdentity } from './sigv4/principals.ts';
import type { AuthFailure } from './sigv4/verify.ts';
import type { ApiRouteSpec, RestApiSpec } from './template.ts';

/**
 * API Gateway REST APIs accept at most 10 MB of payload.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
 */
export const MAX_API_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** How the local gateway plays API Gateway's limits. */
export interface GatewayLimitOptions {
  /**
   * Answer 504 "Endpoint request timed out" when the integration takes longer (the function
   * goes on running, as in AWS). API Gateway's default is 29 s.
   * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
   * @default no timeout
   */
  readonly integrationTimeoutMs?: number;
}

/** How the local gateway plays API Gateway: its limits, and the SigV4 checks if any. */
export interface GatewayOptions extends GatewayLimitOptions {
  /** SigV4 checks of AWS_IAM methods; none when absent. */
  readonly auth?: GatewayAuth;
  /**
   * The caller put in `requestContext.identity` when signatures are not checked (no `auth`,
   * or an in-process request): the functions refuse a request without a principal, so an
   * unchecked request plays as this one. @default none (identity fields null)
   */
  readonly unsignedIdentity?: VerifiedIdentity;
}

export interface HttpApiOptions extends GatewayOptions {
  readonly api: RestApiSpec;
  readonly accountId: string;
  /** Port on 127.0.0.1; a free one when 0 or absent. */
  readonly port?: number;
  /** Runs the function behind a route (by logical id) on the event's JSON. */
  readonly invoke: (functionLogicalId: string, payload: string) => Promise<InvocationOutcome>;
  readonly onError: (error: unknown) => void;
}

export interface HttpApi {
  /** Base URL, without a trailing slash: `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** The SigV4 checks it makes, if any. */
  readonly auth: GatewayAuth | undefined;
  stop(): Promise<void>;
}

interface RouteMatch {
  readonly route: ApiRouteSpec | undefined;
  readonly resourcePath: string;
  readonly pathParameters: Record<string, string>;
  readonly allowed: readonly string[];
}

interface ResourceNode {
  readonly path: string;
  readonly children: Map<string, ResourceNode>;
  readonly methods: Map<string, ApiRouteSpec>;
}

function buildTree(routes: readonly ApiRouteSpec[]): ResourceNode {
  const root: ResourceNode = { path: '/', children: new Map(), methods: new Map() };
  for (const route of routes) {
    let node = root;
    for (const part of route.resourcePath.split('/').filter(Boolean)) {
      let child = node.children.get(part);
      if (child === undefined) {
        child = {
          path: `${node.path === '/' ? '' : node.path}/${part}`,
          children: new Map(),
          methods: new Map(),
        };
        node.children.set(part, child);
      }
      node = child;
    }
    node.methods.set(route.httpMethod, route);
  }
  return root;
}

/** API Gateway's precedence: a literal segment, then `{param}`, then a greedy `{proxy+}`. */
function findResource(
  node: ResourceNode,
  segments: readonly string[],
  parameters: Record<string, string>,
): { node: ResourceNode; parameters: Record<string, string> } | undefined {
  if (segments.length === 0) return { node, parameters };
  const [head, ...rest] = segments as [string, ...string[]];
  const literal = node.children.get(head);
  if (literal !== undefined) {
    const found = findResource(literal, rest, parameters);
    if (found !== undefined) return found;
  }
  for (const [part, child] of node.children) {
    const name = /^\{([^}+]+)\}$/.exec(part)?.[1];
    if (name === undefined) continue;
    const found = findResource(child, rest, { ...parameters, [name]: head });
    if (found !== undefined) return found;
  }
  for (const [part, child] of node.children) {
    const name = /^\{([^}]+)\+\}$/.exec(part)?.[1];
    if (name !== undefined)
      return { node: child, parameters: { ...parameters, [name]: segments.join('/') } };
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchRoute(root: ResourceNode, method: string, path: string): RouteMatch | undefined {
  const segments = path.split('/').filter(Boolean).map(safeDecode);
  const found = findResource(root, segments, {});
  if (found === undefined || found.node.methods.size === 0) return undefined;
  const route = found.node.methods.get(method) ?? found.node.methods.get('ANY');
  return {
    route,
    resourcePath: found.node.path,
    pathParameters: found.parameters,
    allowed: [...found.node.methods.keys()],
  };
}

/** Whether API Gateway treats the body as binary: its Content-Type is a binary media type. */
function isBinary(contentType: string | undefined, binaryTypes: readonly string[]): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return binaryTypes.some((pattern) => {
    const wanted = pattern.replace('~1', '/').toLowerCase();
    if (wanted === '*/*') return true;
    if (wanted.endsWith('/*')) return type.startsWith(wanted.slice(0, -1));
    return wanted === type;
  });
}

function requestTime(date: Date): string {
  const months = [
    'Jan',
    'Feb',
    'Mar',
    'Apr',
    'May',
    'Jun',
    'Jul',
    'Aug',
    'Sep',
    'Oct',
    'Nov',
    'Dec',
  ];
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * One HTTP request as the gateway sees it: from a socket (the local server), or built by a
 * caller that plays requests in-process (the fuzz tests), so both get the same event.
 */
export interface GatewayRequest {
  readonly method: string;
  /** The request target: path and query, e.g. `/jobs/abc?cursor=x` or `/v1/jobs`. */
  readonly url: string;
  /** Header names and values in turn, as received (case kept): IncomingMessage.rawHeaders. */
  readonly rawHeaders: readonly string[];
  /** The body as received (before any Content-Encoding is undone). */
  readonly body: Buffer;
  /** @default '127.0.0.1' */
  readonly sourceIp?: string;
  /** @default '1.1' */
  readonly httpVersion?: string;
}

/** An HTTP response of the gateway: its own (404, 413, 502…) or the function's, mapped. */
export interface GatewayResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

interface EventInput {
  readonly request: GatewayRequest;
  readonly url: URL;
  readonly path: string;
  readonly match: RouteMatch;
  readonly body: Buffer;
  readonly api: RestApiSpec;
  readonly accountId: string;
  readonly requestId: string;
  readonly host: string;
  readonly port: number;
  /** The caller SigV4 authenticated, for `requestContext.identity`. */
  readonly identity?: VerifiedIdentity;
}

/** The value of a header (the last one sent), its name matched case-insensitively. */
function rawHeader(rawHeaders: readonly string[], name: string): string | undefined {
  const wanted = name.toLowerCase();
  let value: string | undefined;
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if ((rawHeaders[index] as string).toLowerCase() === wanted) value = rawHeaders[index + 1];
  }
  return value;
}

/** The event API Gateway's Lambda proxy integration sends for one request. */
export function buildProxyEvent(input: EventInput): APIGatewayProxyEvent {
  const { request, url, path, match, body, api } = input;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  const addHeader = (name: string, value: string) => {
    // API Gateway keeps the client's header-name case; a later value wins in `headers`.
    const existing = Object.keys(headers).find((key) => key.toLowerCase() === name.toLowerCase());
    const key = existing ?? name;
    headers[key] = value;
    multiValueHeaders[key] = [...(multiValueHeaders[key] ?? []), value];
  };
  for (let index = 0; index + 1 < raw.length; index += 2) {
    addHeader(raw[index] as string, raw[index + 1] as string);
  }
  const sourceIp = (request.sourceIp ?? '127.0.0.1').replace(/^::ffff:/, '');
  const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  if (headers['X-Forwarded-For'] === undefined) addHeader('X-Forwarded-For', sourceIp);
  addHeader('X-Forwarded-Port', String(input.port));
  addHeader('X-Forwarded-Proto', 'http');
  addHeader('X-Amzn-Trace-Id', traceId);

  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value;
    multiQuery[key] = [...(multiQuery[key] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const hasParameters = Object.keys(match.pathParameters).length > 0;
  const contentType = rawHeader(raw, 'content-type');
  const binary = isBinary(contentType, api.binaryMediaTypes);
  const now = new Date();
  const method = request.method.toUpperCase();
  return {
    resource: match.resourcePath,
    path,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: hasParameters ? match.pathParameters : null,
    stageVariables: null,
    requestContext: {
      accountId: input.accountId,
      apiId: api.logicalId.toLowerCase().slice(0, 10),
      authorizer: null,
      domainName: input.host,
      domainPrefix: input.host.split('.')[0] ?? input.host,
      extendedRequestId: input.requestId.replaceAll('-', '').slice(0, 16),
      httpMethod: method,
      identity: {
        accessKey: input.identity?.accessKey ?? null,
        accountId: input.identity?.accountId ?? null,
        apiKey: null,
        apiKeyId: null,
        caller: input.identity?.caller ?? null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: input.identity?.user ?? null,
        userAgent: rawHeader(raw, 'user-agent') ?? null,
        userArn: input.identity?.userArn ?? null,
      },
      path: `/${api.stageName}${path}`,
      protocol: `HTTP/${request.httpVersion ?? '1.1'}`,
      requestId: input.requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: randomUUID().slice(0, 6),
      resourcePath: match.resourcePath,
      stage: api.stageName,
    },
    body: body.length === 0 ? null : binary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: binary && body.length > 0,
  };
}

function jsonResponse(
  statusCode: number,
  body: unknown,
  requestId: string,
  extra: Record<string, string> = {},
): GatewayResponse {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  return {
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      'Content-Length': String(bytes.length),
      'x-amzn-RequestId': requestId,
      ...extra,
    },
    body: bytes,
  };
}

/**
 * API Gateway undoes a request's Content-Encoding (gzip, deflate) before the integration
 * sees the body; a body that does not decode is a 415. A body that inflates past the
 * payload limit is refused as too long, before it is inflated into memory.
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-make-request-with-compressed-payload.html
 */
function decodeContent(
  body: Buffer,
  encoding: string | undefined,
): Buffer | 'unsupported' | 'too-large' {
  const coding = (encoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity' || body.length === 0) return body;
  const bounds = { maxOutputLength: MAX_API_PAYLOAD_BYTES };
  try {
    if (coding === 'gzip') return gunzipSync(body, bounds);
    if (coding === 'deflate') return inflateSync(body, bounds);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'unsupported';
  }
  return 'unsupported';
}

/**
 * Maps a proxy integration result to the HTTP response; a malformed one is a 502. With
 * `compressAbove` set (the API's minimumCompressionSize, for a client that accepts gzip),
 * bodies at least that large are gzipped, as API Gateway does.
 */
export function proxyResultResponse(
  invoked: InvocationOutcome,
  requestId: string,
  compressAbove: number | undefined,
): GatewayResponse {
  // A response over 6 MB fails the invocation, which API Gateway answers as any failure: 502.
  const outcome = synchronousOutcome(invoked);
  if (!outcome.ok) {
    if (outcome.error.errorType === 'Sandbox.Timedout') {
      return jsonResponse(504, { message: 'Endpoint request timed out' }, requestId);
    }
    return jsonResponse(502, { message: 'Internal server error' }, requestId);
  }
  let result: unknown;
  try {
    result = JSON.parse(outcome.payload);
  } catch {
    result = undefined;
  }
  if (result === null || typeof result !== 'object') {
    return jsonResponse(502, { message: 'Internal server error' }, requestId);
  }
  const { statusCode, headers, multiValueHeaders, body, isBase64Encoded } = result as {
    statusCode?: unknown;
    headers?: unknown;
    multiValueHeaders?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const status = Number(statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    return jsonResponse(502, { message: 'Internal server error' }, requestId);
  }
  const outHeaders: Record<string, string | string[]> = {};
  if (headers !== null && typeof headers === 'object') {
    for (const [key, value] of Object.entries(headers)) outHeaders[key] = String(value);
  }
  if (multiValueHeaders !== null && typeof multiValueHeaders === 'object') {
    for (const [key, value] of Object.entries(multiValueHeaders)) {
      if (Array.isArray(value)) outHeaders[key] = value.map(String);
    }
  }
  const text = body === undefined || body === null ? '' : String(body);
  let bytes = isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  const alreadyEncoded = Object.keys(outHeaders).some(
    (key) => key.toLowerCase() === 'content-encoding',
  );
  if (
    compressAbove !== undefined &&
    bytes.length >= compressAbove &&
    bytes.length > 0 &&
    !alreadyEncoded
  ) {
    bytes = gzipSync(bytes, { level: 1 });
    outHeaders['Content-Encoding'] = 'gzip';
  }
  outHeaders['Content-Length'] = String(bytes.length);
  outHeaders['x-amzn-RequestId'] = requestId;
  if (!Object.keys(outHeaders).some((key) => key.toLowerCase() === 'content-type')) {
    outHeaders['Content-Type'] = 'application/json';
  }
  return { statusCode: status, headers: outHeaders, body: bytes };
}

/** What the gateway does with a request: answer it itself, or invoke a function. */
export type GatewayStep =
  | { readonly kind: 'respond'; readonly response: GatewayResponse }
  | {
      readonly kind: 'invoke';
      readonly functionLogicalId: string;
      readonly event: APIGatewayProxyEvent;
      /** The event as the JSON text the function receives. */
      readonly payload: string;
      readonly requestId: string;
      /** Responses at least this large are gzipped (the client accepts gzip). */
      readonly compressAbove: number | undefined;
    };

/**
 * The REST API's request handling without a socket: routing, the payload limits, content
 * decoding and the proxy event. The local server and in-process callers share it.
 */
export class RestApiGateway {
  readonly api: RestApiSpec;
  readonly accountId: string;
  readonly auth: GatewayAuth | undefined;
  readonly #unsignedIdentity: VerifiedIdentity | undefined;
  readonly #root: ResourceNode;
  readonly #stagePrefix: string;
  readonly #integrationTimeoutMs: number | undefined;

  constructor(api: RestApiSpec, accountId: string, options: GatewayOptions = {}) {
    const timeout = options.integrationTimeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0))
      throw new RangeError(`integrationTimeoutMs must be a positive number, got ${timeout}`);
    this.#integrationTimeoutMs = timeout;
    this.api = api;
    this.accountId = accountId;
    this.auth = options.auth;
    this.#unsignedIdentity = options.unsignedIdentity;
    this.#root = buildTree(api.routes);
    this.#stagePrefix = `/${api.stageName}`;
  }

  /** The route of a method and path (the stage prefix accepted), without reading a body. */
  route(method: string, target: string): { match: RouteMatch | undefined; path: string } {
    const url = new URL(target, 'http://127.0.0.1');
    // The deployed invoke URL carries the stage (…/prod/jobs); accept both forms.
    let path = url.pathname;
    if (path === this.#stagePrefix || path.startsWith(`${this.#stagePrefix}/`)) {
      path = path.slice(this.#stagePrefix.length) || '/';
    }
    return { match: matchRoute(this.#root, method.toUpperCase(), path), path };
  }

  /**
   * The first step for a request: a response of the gateway's own (no route, 405, 413, 415,
   * an event over Lambda's 6 MB), or the function to invoke with its event.
   * `body` undefined means it was larger than MAX_API_PAYLOAD_BYTES (not kept).
   */
  prepare(
    request: GatewayRequest,
    endpoint: { readonly host: string; readonly port: number },
    bodyTooLarge = false,
  ): GatewayStep {
    const requestId = randomUUID();
    const method = request.method.toUpperCase();
    const url = new URL(request.url, 'http://127.0.0.1');
    const { match, path } = this.route(method, request.url);
    const respond = (response: GatewayResponse): GatewayStep => ({ kind: 'respond', response });
    const refuse = (failure: AuthFailure) => {
      const { statusCode, body, headers } = refusal(failure);
      return respond(jsonResponse(statusCode, body, requestId, headers));
    };
    if (this.auth !== undefined && match?.route === undefined) return refuse(MISSING_TOKEN_FAILURE);
    if (match === undefined) {
      return respond(
        jsonResponse(404, { message: `Not Found: no route for ${method} ${path}` }, requestId),
      );
    }
    if (match.route === undefined) {
      return respond(
        jsonResponse(
          405,
          { message: `Method Not Allowed: ${method} ${match.resourcePath}` },
          requestId,
          {
            Allow: match.allowed.join(', '),
          },
        ),
      );
    }
    if (bodyTooLarge || request.body.length > MAX_API_PAYLOAD_BYTES) {
      return respond(jsonResponse(413, { message: 'Request Too Long' }, requestId));
    }
    let identity = this.auth === undefined ? this.#unsignedIdentity : undefined;
    if (this.auth !== undefined && match.route.authorizationType === 'AWS_IAM') {
      const outcome = authenticate(this.auth, { ...request, target: request.url });
      if (!outcome.ok) return refuse(outcome);
      identity = outcome.identity;
    }
    const body = decodeContent(request.body, rawHeader(request.rawHeaders, 'content-encoding'));
    if (body === 'too-large') {
      return respond(jsonResponse(413, { message: 'Request Too Long' }, requestId));
    }
    if (body === 'unsupported') {
      return respond(jsonResponse(415, { message: 'Unsupported Media Type' }, requestId));
    }
    const route = match.route;
    if (route.integrationType === 'MOCK') {
      return respond({
        statusCode: route.mockResponse.statusCode,
        headers: { ...route.mockResponse.headers, 'Content-Length': '0' },
        body: Buffer.alloc(0),
      });
    }
    if (route.functionLogicalId === undefined) {
      return respond(
        jsonResponse(
          500,
          { message: `integration ${route.integrationType} is not played locally` },
          requestId,
        ),
      );
    }
    const host = rawHeader(request.rawHeaders, 'host') ?? `${endpoint.host}:${endpoint.port}`;
    const event = buildProxyEvent({
      request,
      url,
      path,
      match,
      body,
      api: this.api,
      accountId: this.accountId,
      requestId,
      host,
      port: endpoint.port,
      ...(identity === undefined ? {} : { identity }),
    });
    const payload = JSON.stringify(event);
    if (Buffer.byteLength(payload) > MAX_SYNC_PAYLOAD_BYTES) {
      // Lambda refuses a synchronous invocation whose event is over 6 MB.
      return respond(
        jsonResponse(
          413,
          {
            message: `Request Too Long: the Lambda event would be ${Buffer.byteLength(payload)} bytes; Lambda accepts at most ${MAX_SYNC_PAYLOAD_BYTES}`,
          },
          requestId,
        ),
      );
    }
    const acceptsGzip = /\bgzip\b/i.test(rawHeader(request.rawHeaders, 'accept-encoding') ?? '');
    return {
      kind: 'invoke',
      functionLogicalId: route.functionLogicalId,
      event,
      payload,
      requestId,
      compressAbove: acceptsGzip ? this.api.minimumCompressionSize : undefined,
    };
  }

  /** Plays a whole request: prepare, invoke the route's function, map its result. */
  async handle(
    request: GatewayRequest,
    endpoint: { readonly host: string; readonly port: number },
    invoke: (functionLogicalId: string, payload: string) => Promise<InvocationOutcome>,
    bodyTooLarge = false,
  ): Promise<GatewayResponse> {
    const step = this.prepare(request, endpoint, bodyTooLarge);
    if (step.kind === 'respond') return step.response;
    const invocation = invoke(step.functionLogicalId, step.payload);
    const timeoutMs = this.#integrationTimeoutMs;
    if (timeoutMs === undefined) {
      return proxyResultResponse(await invocation, step.requestId, step.compressAbove);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([invocation, timedOut]);
      if (outcome === 'timeout') {
        // The function goes on; its result is dropped, as API Gateway drops it.
        invocation.catch(() => undefined);
        return jsonResponse(504, { message: 'Endpoint request timed out' }, step.requestId);
      }
      return proxyResultResponse(outcome, step.requestId, step.compressAbove);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit)
      tooLarge = true; // keep draining so the client reads our answer
    else chunks.push(buffer);
  }
  return tooLarge ? undefined : Buffer.concat(chunks);
}

function send(response: ServerResponse, answer: GatewayResponse): void {
  response.writeHead(answer.statusCode, answer.headers);
  response.end(answer.body);
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  // Every gateway option passed on, so that none is dropped (--no-auth's identity was).
  const gateway = new RestApiGateway(options.api, options.accountId, options);
  let port = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = (request.method ?? 'GET').toUpperCase();
    const target = request.url ?? '/';
    // Unrouted requests are answered without reading their body.
    const { match } = gateway.route(method, target);
    let body: Buffer = Buffer.alloc(0);
    let tooLarge = false;
    if (match?.route === undefined) {
      request.resume();
    } else {
      const received = await readBody(request, MAX_API_PAYLOAD_BYTES);
      if (received === undefined) tooLarge = true;
      else body = received;
    }
    const answer = await gateway.handle(
      {
        method,
        url: target,
        rawHeaders: request.rawHeaders,
        body,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        httpVersion: request.httpVersion,
      },
      { host: '127.0.0.1', port },
      options.invoke,
      tooLarge,
    );
    send(response, answer);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.onError(error);
      if (!response.headersSent)
        send(response, jsonResponse(500, { message: 'Internal server error' }, randomUUID()));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: '127.0.0.1' }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    auth: options.auth,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
