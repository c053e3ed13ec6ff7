/**
 * The local stack with the tooling of the tests and the bench: functions picked by a
 * selector (`fn('worker')`), DynamoDB faults, invocation intercepts and crashes, requests
 * played in-process, schedules fired on demand and raw messages. The CLI never imports this.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDbFaultProxy, DynamoDbFaultRule } from '../dynamodb-faults.ts';
import { EmbeddedStack, type LocalQueue } from '../embedded-stack.ts';
import type { SqsEventSourceMapping } from '../event-source-mapping.ts';
import type { GatewayResponse } from '../http-api.ts';
import type { Interceptor, LocalFunction } from '../runtime/function-host.ts';
import type { InvocationOutcome } from '../runtime/protocol.ts';

/** A request played through the REST API in-process (no socket): see `apiRequest()`. */
export interface ApiRequest {
  readonly method: string;
  /** Path and query, e.g. `/jobs` or `/jobs/{id}/results?cursor=…`. */
  readonly path: string;
  /** Header names as the client sends them. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** A DynamoDB fault rule whose clients are named by function selectors (see `fn()`). */
export type StackDynamoDbFaultRule = Omit<DynamoDbFaultRule, 'clients'> & {
  /** Selectors of the functions whose requests it applies to. @default every function */
  readonly functions?: readonly string[];
};

export class TestStack extends EmbeddedStack {
  /**
   * The one function whose logical id, construct path or name contains `selector`
   * (case-insensitive), e.g. `fn('worker')`.
   */
  fn(selector: string): LocalFunction {
    const wanted = selector.toLowerCase();
    const exact = this.functions.get(selector);
    if (exact !== undefined) return exact;
    const candidates = this.model.functions.filter(
      (spec) =>
        this.functions.has(spec.logicalId) &&
        [spec.logicalId, spec.cdkPath ?? '', spec.name].some((text) =>
          text.toLowerCase().includes(wanted),
        ),
    );
    const only = candidates.length === 1 ? candidates[0] : undefined;
    const found = only === undefined ? undefined : this.functions.get(only.logicalId);
    if (found === undefined) {
      const names = this.model.functions.map((spec) => spec.cdkPath ?? spec.logicalId).join(', ');
      throw new Error(
        `'${selector}' matches ${candidates.length} functions (there are: ${names}); be more precise`,
      );
    }
    return found;
  }

  /** The logical id of the function `fn(selector)` names. */
  logicalIdOf(selector: string): string {
    const target = this.fn(selector);
    for (const [logicalId, fn] of this.functions) if (fn === target) return logicalId;
    throw new Error(`'${selector}' is not a loaded function`);
  }

  /**
   * Pids of the child processes a function's environments started and that still run (the
   * worker's pool children), for fault injection.
   */
  childPids(selector: string): number[] {
    return this.fn(selector).childPids();
  }

  /** The fault proxy in front of DynamoDB (with the `dynamoDbFaults` or `cloudLimits` option). */
  get dynamoDbFaults(): DynamoDbFaultProxy {
    const proxy = this.dynamoDbProxy;
    if (proxy === undefined) {
      throw new Error(
        this.started
          ? 'this stack was started without the dynamoDbFaults option'
          : 'EmbeddedStack.dynamoDbFaults is not available before start()',
      );
    }
    return proxy;
  }

  /**
   * Answers some of the functions' DynamoDB requests with an error (throttling, a server
   * error, a cancelled transaction), before or after they take effect. Returns a function
   * that removes the rule. Needs the `dynamoDbFaults` option.
   */
  injectDynamoDbFault(rule: StackDynamoDbFaultRule): () => void {
    const { functions, ...rest } = rule;
    return this.dynamoDbFaults.inject({
      ...rest,
      ...(functions === undefined
        ? {}
        : { clients: functions.map((selector) => this.logicalIdOf(selector)) }),
    });
  }

  /**
   * Plays one request through the REST API in-process: the same routing, limits and proxy
   * event as the local server, and the route's function invoked directly, without HTTP.
   */
  apiRequest(request: ApiRequest): Promise<GatewayResponse> {
    const gateway = this.gateway;
    const port = this.apiPort ?? 0;
    const rawHeaders = Object.entries(request.headers ?? {}).flat();
    const body =
      request.body === undefined
        ? Buffer.alloc(0)
        : typeof request.body === 'string'
          ? Buffer.from(request.body, 'utf8')
          : request.body;
    if (!rawHeaders.some((name) => name.toLowerCase() === 'host')) {
      rawHeaders.push('Host', `127.0.0.1:${port}`);
    }
    return gateway.handle(
      { method: request.method, url: request.path, rawHeaders, body },
      { host: '127.0.0.1', port },
      (logicalId, payload) => this.invokeFunction(logicalId, payload),
    );
  }

  /** Wraps every invocation of a function (fault injection); undefined removes the wrapper. */
  intercept(selector: string, interceptor: Interceptor | undefined): void {
    this.fn(selector).intercept(interceptor);
  }

  /**
   * Crashes the execution environment running a function's invocation `requestId` (the id
   * its interceptor is given), as a killed process would: the invocation fails with
   * Runtime.ExitError and loses what it had not finished. False when none runs it.
   */
  crashInvocation(selector: string, requestId: string): boolean {
    return this.fn(selector).crash(requestId);
  }

  /** The event source mapping that feeds a function. */
  mappingFor(selector: string): SqsEventSourceMapping {
    const target = this.fn(selector);
    for (const spec of this.model.eventSourceMappings) {
      if (this.functions.get(spec.functionLogicalId) !== target) continue;
      const mapping = this.eventSourceMappings.get(spec.logicalId);
      if (mapping !== undefined) return mapping;
    }
    throw new Error(`no event source mapping invokes '${selector}'`);
  }

  /** Fires the scheduled rules whose logical id contains `selector` now; returns each outcome. */
  fireSchedule(selector: string): Promise<InvocationOutcome[]> {
    return this.schedules.fire(selector);
  }

  /** Sends a raw message to a queue (the work queue by default). */
  async sendRawMessage(body: string, queue: LocalQueue = this.workQueue): Promise<string> {
    const response = await this.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }),
    );
    return response.MessageId ?? '';
  }
}
