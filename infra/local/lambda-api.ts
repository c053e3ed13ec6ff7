/**
 * The Lambda Invoke API on 127.0.0.1, for the handlers' real `LambdaClient`
 * (AWS_ENDPOINT_URL_LAMBDA points here): `POST /2015-03-31/functions/{FunctionName}/invocations`.
 * - RequestResponse: 200 with the function's JSON result; a function error is still a 200,
 *   with `X-Amz-Function-Error: Unhandled` and Lambda's error document as the payload.
 * - Event: 202 at once, the function runs in the background. DryRun: 204.
 * - Unknown function: 404 ResourceNotFoundException; a request payload over 6 MB: 413
 *   RequestTooLargeException; a response over 6 MB: Function.ResponseSizeTooLarge (a
 *   function error), as Lambda answers them. These limits hold in every mode.
 * Requests are not SigV4-verified locally.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type LocalFunction,
  MAX_SYNC_PAYLOAD_BYTES,
  synchronousOutcome,
} from './runtime/function-host.ts';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export interface LambdaApi {
  readonly endpoint: string;
  stop(): Promise<void>;
}

function sendError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  requestId: string,
): void {
  const body = JSON.stringify({ Type: 'User', message });
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'X-Amzn-ErrorType': type,
    'X-Amzn-RequestId': requestId,
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** `my-fn`, `arn:aws:lambda:r:a:function:my-fn[:qualifier]`, `a:function:my-fn` → `my-fn`. */
export function functionNameOf(identifier: string): string {
  const decoded = decodeURIComponent(identifier);
  const match = /(?:^|:)function:([^:]+)/.exec(decoded);
  return match?.[1] ?? decoded.split(':')[0] ?? decoded;
}

/** What the Invoke API needs of a function. */
export type InvocableFunction = Pick<LocalFunction, 'invoke'>;

export async function startLambdaApi(
  lookup: (name: string) => InvocableFunction | undefined,
  onBackgroundError: (error: unknown) => void,
): Promise<LambdaApi> {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const match = INVOKE_PATH.exec(url.pathname);
    if (request.method !== 'POST' || match === null) {
      sendError(response, 404, 'UnknownOperationException', 'Unknown operation', requestId);
      return;
    }
    const name = functionNameOf(match[1] ?? '');
    const target = lookup(name);
    if (target === undefined) {
      sendError(
        response,
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:local:000000000000:function:${name}`,
        requestId,
      );
      return;
    }
    const body = await readBody(request, MAX_SYNC_PAYLOAD_BYTES);
    if (body === undefined) {
      sendError(
        response,
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        requestId,
      );
      return;
    }
    const payload = body.length === 0 ? '{}' : body.toString('utf8');
    try {
      JSON.parse(payload);
    } catch {
      sendError(
        response,
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json',
        requestId,
      );
      return;
    }
    const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType === 'DryRun') {
      response.writeHead(204, { 'X-Amzn-RequestId': requestId });
      response.end();
      return;
    }
    if (invocationType === 'Event') {
      response.writeHead(202, { 'X-Amzn-RequestId': requestId, 'Content-Length': 0 });
      response.end();
      target.invoke(payload, requestId).catch(onBackgroundError);
      return;
    }
    const outcome = await target.invoke(payload, requestId);
    const answered = synchronousOutcome(outcome);
    const result = answered.ok ? answered.payload : JSON.stringify(answered.error);
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'X-Amzn-RequestId': requestId,
      'X-Amz-Executed-Version': '$LATEST',
    };
    if (!answered.ok) headers['X-Amz-Function-Error'] = 'Unhandled';
    headers['Content-Length'] = Buffer.byteLength(result);
    response.writeHead(200, headers);
    response.end(result);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      onBackgroundError(error);
      if (!response.headersSent) {
        sendError(response, 500, 'ServiceException', 'local Lambda service error', randomUUID());
      } else {
        response.destroy();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
