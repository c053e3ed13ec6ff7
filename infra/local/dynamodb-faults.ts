/**
 * Fault injection in front of DynamoDB Local, for tests: an HTTP proxy with one listener per
 * local function (so a fault can target one function's requests), which forwards every
 * request to DynamoDB Local unless a rule answers it with an error DynamoDB itself can give:
 * throttling (`ThrottlingException`, `ProvisionedThroughputExceededException`,
 * `RequestLimitExceeded`), a server error, or a transaction cancelled by throttling or a
 * conflict. A rule may also let the request through first and answer the error afterwards:
 * the write happened, the caller never learns it (a response lost on the way back).
 *
 * The handlers are unchanged: their DynamoDB endpoint (AWS_ENDPOINT_URL_DYNAMODB) is the
 * proxy, and the SDK's own retry behaviour applies to the injected errors as it does in AWS.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './seeded-random.ts';

/** The errors a rule can answer with, as DynamoDB sends them. */
export type DynamoDbFaultKind =
  /** 400 ThrottlingException (control plane and on-demand throttling): the SDK retries it. */
  | 'ThrottlingException'
  /** 400 ProvisionedThroughputExceededException: the SDK retries it. */
  | 'ProvisionedThroughputExceededException'
  /** 400 RequestLimitExceeded (account throughput limit): the SDK retries it. */
  | 'RequestLimitExceeded'
  /** 500 InternalServerError: the SDK retries it. */
  | 'InternalServerError'
  /** TransactWriteItems cancelled with a ThrottlingError reason: the SDK does not retry it. */
  | 'TransactionThrottled'
  /** TransactWriteItems cancelled with a TransactionConflict reason: not retried by the SDK. */
  | 'TransactionConflict';

/** One request to DynamoDB, as a rule sees it. */
export interface DynamoDbRequest {
  /** Who sent it: the logical id of the function whose listener received it. */
  readonly client: string;
  /** The operation, e.g. `GetItem`, `TransactWriteItems` (from X-Amz-Target). */
  readonly operation: string;
  /** The request's JSON input (DynamoDB JSON: `{"pk": {"S": "JOB#…"}}`). */
  readonly input: Readonly<Record<string, unknown>>;
}

export interface DynamoDbFaultRule {
  /** Shown in `injected`. @default the fault kind */
  readonly name?: string;
  /** Logical ids of the functions whose requests it applies to. @default every function */
  readonly clients?: readonly string[];
  /** Operations it applies to. @default every operation */
  readonly operations?: readonly string[];
  /** A further condition on the request. */
  readonly when?: (request: DynamoDbRequest) => boolean;
  readonly fault: DynamoDbFaultKind;
  /** Chance that a matching request is answered with the fault. @default 1 */
  readonly probability?: number;
  /** Most faults the rule injects; then it only forwards. @default no limit */
  readonly times?: number;
  /**
   * Forward the request to DynamoDB first, so that it takes effect, then answer the fault
   * instead of DynamoDB's answer. @default false
   */
  readonly afterForward?: boolean;
}

/** One fault that was injected. */
export interface InjectedFault {
  readonly rule: string;
  readonly client: string;
  readonly operation: string;
  readonly fault: DynamoDbFaultKind;
  /** The request had reached DynamoDB (afterForward). */
  readonly forwarded: boolean;
}

/** DynamoDB Local's answer to a forwarded request. */
export interface ForwardedAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
}

/**
 * Decides on every request no fault rule answered (the cloud-limits mode): forwards it, as
 * received or with another input, or answers it itself.
 */
export interface DynamoDbRequestHandler {
  handle(
    request: DynamoDbRequest & {
      readonly forward: (input?: Readonly<Record<string, unknown>>) => Promise<ForwardedAnswer>;
    },
  ): Promise<ForwardedAnswer>;
}

interface ActiveRule {
  readonly rule: DynamoDbFaultRule;
  injected: number;
}

const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

const MESSAGES: Readonly<Record<DynamoDbFaultKind, string>> = {
  ThrottlingException: 'Rate of requests exceeds the allowed throughput.',
  ProvisionedThroughputExceededException:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  RequestLimitExceeded:
    'Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase',
  InternalServerError: 'Internal server error',
  TransactionThrottled:
    'Transaction cancelled, please refer cancellation reasons for specific reasons',
  TransactionConflict:
    'Transaction cancelled, please refer cancellation reasons for specific reasons',
};

/** The status and JSON body DynamoDB answers for a fault. */
export function faultResponse(
  fault: DynamoDbFaultKind,
  input: Readonly<Record<string, unknown>>,
): { status: number; type: string; body: Record<string, unknown> } {
  if (fault === 'TransactionThrottled' || fault === 'TransactionConflict') {
    // One reason per action: the first is the one that failed, the others were not tried.
    const actions = Array.isArray(input.TransactItems) ? input.TransactItems.length : 1;
    const failed =
      fault === 'TransactionThrottled'
        ? {
            Code: 'ThrottlingError',
            Message: 'Throughput exceeds the current capacity of your table or index.',
          }
        : { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' };
    const reasons = Array.from({ length: Math.max(1, actions) }, (_, index) =>
      index === 0 ? failed : { Code: 'None' },
    );
    const codes = reasons.map((reason) => reason.Code).join(', ');
    return {
      status: 400,
      type: 'TransactionCanceledException',
      body: {
        __type: `${ERROR_PREFIX}TransactionCanceledException`,
        message: `${MESSAGES[fault]} [${codes}]`,
        CancellationReasons: reasons,
      },
    };
  }
  const type = fault;
  const namespace =
    fault === 'ThrottlingException' ? 'com.amazon.coral.availability#' : ERROR_PREFIX;
  return {
    status: fault === 'InternalServerError' ? 500 : 400,
    type,
    body: { __type: `${namespace}${type}`, message: MESSAGES[fault] },
  };
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Hop-by-hop headers are the proxy's own business, not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export class DynamoDbFaultProxy {
  readonly target: URL;
  /** Every fault injected so far, in order. */
  readonly injected: InjectedFault[] = [];
  /** Requests received (forwarded or answered with a fault), by client, then by operation. */
  readonly #requests = new Map<string, Map<string, number>>();
  readonly #servers = new Map<string, { server: Server; endpoint: string }>();
  readonly #rules = new Set<ActiveRule>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  #random: () => number;
  readonly #handler: DynamoDbRequestHandler | undefined;

  private constructor(
    target: string,
    random: () => number,
    handler: DynamoDbRequestHandler | undefined,
  ) {
    this.target = new URL(target);
    this.#random = random;
    this.#handler = handler;
  }

  /**
   * Starts one listener on 127.0.0.1 per client (function logical id), each forwarding to
   * `target` (DynamoDB Local's endpoint), through `handler` when one is given.
   */
  static async start(
    target: string,
    clients: readonly string[],
    seed = 1,
    handler?: DynamoDbRequestHandler,
  ): Promise<DynamoDbFaultProxy> {
    const proxy = new DynamoDbFaultProxy(target, seededRandom(seed), handler);
    try {
      for (const client of clients) await proxy.#listen(client);
    } catch (error) {
      await proxy.stop();
      throw error;
    }
    return proxy;
  }

  /** The endpoint a client must use (its AWS_ENDPOINT_URL_DYNAMODB). */
  endpointFor(client: string): string {
    const entry = this.#servers.get(client);
    if (entry === undefined)
      throw new Error(`the DynamoDB fault proxy has no listener for ${client}`);
    return entry.endpoint;
  }

  /** Adds a rule; returns a function that removes it. Rules are tried in the order added. */
  inject(rule: DynamoDbFaultRule): () => void {
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new RangeError(`probability must be from 0 to 1, got ${rule.probability}`);
    }
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0)) {
      throw new RangeError(`times must be a non-negative integer, got ${rule.times}`);
    }
    const active: ActiveRule = { rule, injected: 0 };
    this.#rules.add(active);
    return () => this.#rules.delete(active);
  }

  /** Removes every rule, forgets the faults injected, restarts the random sequence at `seed`. */
  clear(seed = 1): void {
    this.#rules.clear();
    this.injected.length = 0;
    this.#random = seededRandom(seed);
  }

  /**
   * Requests received from `client` (every client when undefined), whether forwarded or
   * answered with a fault, of the given operations (every operation when undefined).
   */
  requestCount(client?: string, operations?: readonly string[]): number {
    let total = 0;
    for (const [from, byOperation] of this.#requests) {
      if (client !== undefined && from !== client) continue;
      for (const [operation, count] of byOperation) {
        if (operations === undefined || operations.includes(operation)) total += count;
      }
    }
    return total;
  }

  /** Faults injected by the rule of this name (or of this fault kind when unnamed). */
  count(name?: string): number {
    return name === undefined
      ? this.injected.length
      : this.injected.filter((fault) => fault.rule === name).length;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.#servers.values()].map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.#servers.clear();
    this.#agent.destroy();
  }

  async #listen(client: string): Promise<void> {
    const server = createServer((request, response) => {
      this.#handle(client, request, response).catch((error: unknown) => {
        // DynamoDB Local went away (the stack is stopping): answer as a server error would.
        if (!response.headersSent) {
          const body = JSON.stringify({
            __type: `${ERROR_PREFIX}InternalServerError`,
            message: `fault proxy: ${error instanceof Error ? error.message : String(error)}`,
          });
          response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(body);
        } else {
          response.destroy();
        }
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.#servers.set(client, { server, endpoint: `http://127.0.0.1:${port}` });
  }

  /** The first rule that applies to the request and draws a fault, counted. */
  #pick(request: DynamoDbRequest): ActiveRule | undefined {
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.times !== undefined && active.injected >= rule.times) continue;
      if (rule.clients !== undefined && !rule.clients.includes(request.client)) continue;
      if (rule.operations !== undefined && !rule.operations.includes(request.operation)) continue;
      if (rule.when !== undefined && !rule.when(request)) continue;
      if (rule.probability !== undefined && this.#random() >= rule.probability) continue;
      active.injected++;
      return active;
    }
    return undefined;
  }

  async #handle(client: string, request: IncomingMessage, response: ServerResponse) {
    const body = await readAll(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1);
    let input: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null) input = parsed as Record<string, unknown>;
    } catch {
      // not JSON: DynamoDB Local will say so
    }
    const byOperation = this.#requests.get(client) ?? new Map<string, number>();
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1);
    this.#requests.set(client, byOperation);
    const active = this.#pick({ client, operation, input });
    if (active === undefined && this.#handler !== undefined) {
      const answer = await this.#handler.handle({
        client,
        operation,
        input,
        forward: (replacement) =>
          this.#forward(
            request,
            replacement === undefined ? body : Buffer.from(JSON.stringify(replacement), 'utf8'),
          ),
      });
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
      return;
    }
    if (active === undefined || active.rule.afterForward === true) {
      const answer = await this.#forward(request, body);
      if (active === undefined) {
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
        return;
      }
    }
    const { rule } = active;
    const fault = faultResponse(rule.fault, input);
    this.injected.push({
      rule: rule.name ?? rule.fault,
      client,
      operation,
      fault: rule.fault,
      forwarded: rule.afterForward === true,
    });
    const text = JSON.stringify(fault.body);
    response.writeHead(fault.status, {
      'content-type': 'application/x-amz-json-1.0',
      'content-length': Buffer.byteLength(text),
      'x-amzn-errortype': fault.type,
      'x-amzn-requestid': `fault-${this.injected.length}`,
    });
    response.end(text);
  }

  #forward(request: IncomingMessage, body: Buffer): Promise<ForwardedAnswer> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(body.length);
    return new Promise((resolve, reject) => {
      const forwarded = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: request.method,
          path: request.url,
          headers,
          agent: this.#agent,
        },
        (answer) => {
          readAll(answer).then((bytes) => {
            const out: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(answer.headers)) {
              if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
            }
            out['content-length'] = String(bytes.length);
            resolve({ status: answer.statusCode ?? 502, headers: out, body: bytes });
          }, reject);
        },
      );
      forwarded.once('error', reject);
      forwarded.end(body);
    });
  }
}
