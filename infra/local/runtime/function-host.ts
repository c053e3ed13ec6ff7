/**
 * A Lambda function played locally: a pool of execution environments (worker threads, each
 * with the function's own environment variables), created on demand up to a concurrency
 * limit and reused while warm, with the function's timeout enforced by ending the
 * environment, as Lambda does.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LAMBDA_INITIALIZATION_TYPE_ENV, type LambdaInitializationType } from '#commons/env.ts';
import type {
  EnvironmentInit,
  FunctionErrorPayload,
  InvocationOutcome,
  ThreadMessage,
} from './protocol.ts';

/** Lambda's limit for a synchronous invocation's request and response payloads (6 MB). */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * An invocation's outcome as a synchronous caller (Invoke, API Gateway) gets it: a response
 * over MAX_SYNC_PAYLOAD_BYTES is the function error Function.ResponseSizeTooLarge.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export function synchronousOutcome(outcome: InvocationOutcome): InvocationOutcome {
  if (!outcome.ok || Buffer.byteLength(outcome.payload) <= MAX_SYNC_PAYLOAD_BYTES) return outcome;
  return {
    ok: false,
    error: {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_PAYLOAD_BYTES} bytes).`,
      trace: [],
    },
  };
}

export interface LocalFunctionOptions {
  readonly name: string;
  readonly arn: string;
  /** Absolute path of the bundled handler file. */
  readonly file: string;
  readonly exportName: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** The function's complete environment (nothing else from our process leaks in). */
  readonly environment: Readonly<Record<string, string>>;
  /** Most environments alive at once; more invocations wait for one. */
  readonly maxEnvironments: number;
  /** Where the function's stdout and stderr go, line by line, prefixed with its name. */
  readonly logSink: Writable | undefined;
  /** Caps each environment's V8 heap at MemorySize, as Lambda caps the whole sandbox. */
  readonly enforceMemoryLimit: boolean;
}

/**
 * Wraps an invocation in the main thread (fault injection in tests). `next` runs the real
 * function; throwing makes the invocation fail as an unhandled function error would.
 */
export type Interceptor = (
  event: unknown,
  next: (event: unknown) => Promise<unknown>,
  info: { readonly functionName: string; readonly requestId: string },
) => Promise<unknown>;

/** One finished invocation, for tests and the benchmark. */
export interface InvocationRecord {
  readonly functionName: string;
  readonly requestId: string;
  /** performance.now() when the invocation was asked for (it may wait for an environment). */
  readonly requestedAt: number;
  /** performance.now() when an environment started running it. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
}

/** A function error as an exception, carrying Lambda's error document. */
export class FunctionError extends Error {
  readonly payload: FunctionErrorPayload;

  constructor(payload: FunctionErrorPayload) {
    super(`${payload.errorType}: ${payload.errorMessage}`);
    this.name = 'FunctionError';
    this.payload = payload;
  }
}

interface Pending {
  readonly resolve: (outcome: InvocationOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

class ExecutionEnvironment {
  readonly #worker: Worker;
  readonly #ready: Promise<void>;
  #pending: { id: number; requestId: string; settle: Pending } | undefined;
  #dead = false;
  /** Child processes the function started and that have not exited. */
  readonly #children = new Set<number>();
  #nextId = 0;
  readonly #onDeath: (environment: ExecutionEnvironment) => void;

  constructor(
    options: LocalFunctionOptions,
    index: number,
    onDeath: (environment: ExecutionEnvironment) => void,
    initialization: LambdaInitializationType = 'on-demand',
  ) {
    this.#onDeath = onDeath;
    const init: EnvironmentInit = {
      file: options.file,
      exportName: options.exportName,
      functionName: options.name,
      functionArn: options.arn,
      memorySizeMb: options.memorySizeMb,
      logGroupName: `/aws/lambda/${options.name}`,
      logStreamName: `local/${index}/${randomUUID()}`,
    };
    this.#worker = new Worker(new URL('./environment-thread.ts', import.meta.url), {
      workerData: init,
      env: { ...options.environment, [LAMBDA_INITIALIZATION_TYPE_ENV]: initialization },
      stdout: true,
      stderr: true,
      ...(options.enforceMemoryLimit
        ? { resourceLimits: { maxOldGenerationSizeMb: options.memorySizeMb } }
        : {}),
    });
    forwardLines(this.#worker.stdout, options.logSink, options.name);
    forwardLines(this.#worker.stderr, options.logSink, options.name);
    this.#ready = new Promise((resolve, reject) => {
      const onMessage = (message: ThreadMessage) => {
        if (message.type === 'ready') resolve();
        else if (message.type === 'child') {
          if (message.alive) this.#children.add(message.pid);
          else this.#children.delete(message.pid);
        } else if (message.type === 'init-error') reject(new FunctionError(message.error));
        else this.#settle(message.id, message.ok ? message : { ok: false, error: message.error });
      };
      this.#worker.on('message', onMessage);
      this.#worker.once('error', (error) => {
        const payload = threadErrorPayload(error);
        reject(new FunctionError(payload));
        this.#die({ ok: false, error: payload });
      });
      this.#worker.once('exit', (code) => {
        const payload = {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${this.#pending?.id ?? '-'} Error: Runtime exited with error: exit status ${code}`,
          trace: [],
        };
        reject(new FunctionError(payload));
        this.#die({ ok: false, error: payload });
      });
    });
    // Rejections are reported through invoke(); keep an unawaited ready from crashing us.
    this.#ready.catch(() => undefined);
  }

  get ready(): Promise<void> {
    return this.#ready;
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Child processes the function started here and that have not exited. */
  get childPids(): number[] {
    return [...this.#children];
  }

  #settle(id: number, outcome: InvocationOutcome): void {
    const pending = this.#pending;
    if (pending === undefined || pending.id !== id) return;
    this.#pending = undefined;
    clearTimeout(pending.settle.timer);
    pending.settle.resolve(outcome);
  }

  #die(outcome: InvocationOutcome): void {
    if (this.#dead) return;
    this.#dead = true;
    // The sandbox is gone, and its processes with it.
    this.#killChildren();
    const pending = this.#pending;
    if (pending !== undefined) this.#settle(pending.id, outcome);
    this.#onDeath(this);
  }

  async invoke(payload: string, requestId: string, timeoutMs: number): Promise<InvocationOutcome> {
    await this.#ready;
    if (this.#dead) {
      return {
        ok: false,
        error: { errorType: 'Runtime.ExitError', errorMessage: 'environment ended', trace: [] },
      };
    }
    const id = ++this.#nextId;
    const deadline = Date.now() + timeoutMs;
    return new Promise<InvocationOutcome>((resolve) => {
      const timer = setTimeout(() => {
        // Lambda ends a timed-out sandbox; the next invocation gets a fresh one.
        const seconds = (timeoutMs / 1000).toFixed(2);
        this.#die({
          ok: false,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `${new Date().toISOString()} ${requestId} Task timed out after ${seconds} seconds`,
            trace: [],
          },
        });
        void this.#worker.terminate();
      }, timeoutMs);
      this.#pending = { id, requestId, settle: { resolve, timer } };
      this.#worker.postMessage({ id, requestId, payload, deadline });
    });
  }

  /** The request id of the invocation it runs, if any. */
  get requestId(): string | undefined {
    return this.#pending?.requestId;
  }

  /**
   * Ends the environment as its process being killed would (a crash, an out-of-memory kill):
   * the invocation in flight fails with Lambda's Runtime.ExitError, and its child processes
   * end with it.
   */
  crash(): void {
    const requestId = this.#pending?.requestId ?? '-';
    this.#die({
      ok: false,
      error: {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
        trace: [],
      },
    });
    void this.#worker.terminate();
  }

  #killChildren(): void {
    for (const pid of this.#children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.#children.clear();
  }

  /** Ends the environment; an invocation in flight fails as the sandbox going away would. */
  async terminate(): Promise<void> {
    this.#die({
      ok: false,
      error: {
        errorType: 'Runtime.ExitError',
        errorMessage: 'the local stack is stopping',
        trace: [],
      },
    });
    await this.#worker.terminate();
    this.#killChildren();
  }
}

function threadErrorPayload(error: unknown): FunctionErrorPayload {
  if (error instanceof Error && 'code' in error && error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return { errorType: 'Runtime.OutOfMemory', errorMessage: error.message, trace: [] };
  }
  if (error instanceof Error) {
    return {
      errorType: 'Runtime.UnhandledPromiseRejection',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Runtime.ExitError', errorMessage: String(error), trace: [] };
}

function forwardLines(stream: Readable, sink: Writable | undefined, prefix: string): void {
  if (sink === undefined) {
    stream.resume();
    return;
  }
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    sink.write(`${prefix} | ${line}\n`);
  });
}

/** One local Lambda function. */
export class LocalFunction {
  readonly options: LocalFunctionOptions;
  readonly #idle: ExecutionEnvironment[] = [];
  readonly #all = new Set<ExecutionEnvironment>();
  readonly #waiting: Array<{
    resolve: (environment: ExecutionEnvironment) => void;
    reject: (error: Error) => void;
  }> = [];
  #created = 0;
  #stopped = false;
  #interceptor: Interceptor | undefined;
  readonly #observers = new Set<(record: InvocationRecord) => void>();
  /** Invocations started, for tests and the benchmark. */
  invocations = 0;
  coldStarts = 0;

  constructor(options: LocalFunctionOptions) {
    this.options = options;
  }

  get name(): string {
    return this.options.name;
  }

  get arn(): string {
    return this.options.arn;
  }

  /**
   * Pids of the child processes the function's live environments started and that have not
   * exited (e.g. the worker's pool children), for fault injection in tests.
   */
  childPids(): number[] {
    return [...this.#all].flatMap((environment) => environment.childPids);
  }

  /**
   * Crashes the environment running invocation `requestId` (the id an interceptor is given),
   * as if its process were killed: that invocation fails with Runtime.ExitError, whatever it
   * had not finished is lost, and the next invocation gets a fresh environment. Returns false
   * when no environment runs it (fault injection in tests).
   */
  crash(requestId: string): boolean {
    for (const environment of this.#all) {
      if (environment.requestId !== requestId) continue;
      environment.crash();
      return true;
    }
    return false;
  }

  /** Calls `observer` after every invocation; returns a function that removes it. */
  observe(observer: (record: InvocationRecord) => void): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Replaces (or with undefined removes) the interceptor around every invocation. */
  intercept(interceptor: Interceptor | undefined): void {
    this.#interceptor = interceptor;
  }

  #create(initialization?: LambdaInitializationType): ExecutionEnvironment {
    this.#created++;
    this.coldStarts++;
    const environment = new ExecutionEnvironment(
      this.options,
      this.#created,
      (dead) => {
        this.#all.delete(dead);
        const idleIndex = this.#idle.indexOf(dead);
        if (idleIndex >= 0) this.#idle.splice(idleIndex, 1);
        // A slot freed: a waiting invocation may start a new environment.
        const next = this.#waiting.shift();
        if (next !== undefined && !this.#stopped) next.resolve(this.#spawn());
      },
      initialization,
    );
    return environment;
  }

  #spawn(initialization?: LambdaInitializationType): ExecutionEnvironment {
    const environment = this.#create(initialization);
    this.#all.add(environment);
    return environment;
  }

  #acquire(): Promise<ExecutionEnvironment> {
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#all.size < this.options.maxEnvironments) return Promise.resolve(this.#spawn());
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #release(environment: ExecutionEnvironment): void {
    if (environment.dead || this.#stopped) return;
    const next = this.#waiting.shift();
    if (next !== undefined) next.resolve(environment);
    else this.#idle.push(environment);
  }

  /**
   * Starts environments ahead of the first invocations, until `count` of them are alive, at
   * most `maxEnvironments`. `provisioned-concurrency` tells their code so, as Lambda does
   * (AWS_LAMBDA_INITIALIZATION_TYPE): their init runs before any request, as it would there.
   * @param count @default 1
   * @param initialization @default 'on-demand'
   */
  async warm(count = 1, initialization: LambdaInitializationType = 'on-demand'): Promise<void> {
    const wanted = Math.min(count, this.options.maxEnvironments) - this.#all.size;
    const started = Array.from({ length: Math.max(0, wanted) }, () => this.#spawn(initialization));
    await Promise.all(
      started.map(async (environment) => {
        await environment.ready;
        this.#release(environment);
      }),
    );
  }

  async #invokeRaw(payload: string, requestId: string): Promise<InvocationOutcome> {
    if (this.#stopped) {
      return {
        ok: false,
        error: {
          errorType: 'ServiceUnavailable',
          errorMessage: 'the local stack is stopping',
          trace: [],
        },
      };
    }
    const requestedAt = performance.now();
    let environment: ExecutionEnvironment;
    try {
      environment = await this.#acquire();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        error: { errorType: 'ServiceUnavailable', errorMessage: message, trace: [] },
      };
    }
    const startedAt = performance.now();
    let outcome: InvocationOutcome;
    try {
      outcome = await environment.invoke(payload, requestId, this.options.timeoutSeconds * 1000);
    } catch (error) {
      if (!(error instanceof FunctionError)) throw error;
      outcome = { ok: false, error: error.payload };
    } finally {
      this.#release(environment);
    }
    if (this.#observers.size > 0) {
      const record: InvocationRecord = {
        functionName: this.name,
        requestId,
        requestedAt,
        startedAt,
        endedAt: performance.now(),
        ok: outcome.ok,
      };
      for (const observer of this.#observers) observer(record);
    }
    return outcome;
  }

  /** Runs the function on a JSON payload, as a RequestResponse Invoke would. */
  async invoke(payload: string, requestId: string = randomUUID()): Promise<InvocationOutcome> {
    this.invocations++;
    const interceptor = this.#interceptor;
    if (interceptor === undefined) return this.#invokeRaw(payload, requestId);
    const next = async (event: unknown): Promise<unknown> => {
      const outcome = await this.#invokeRaw(JSON.stringify(event) ?? 'null', requestId);
      if (!outcome.ok) throw new FunctionError(outcome.error);
      return JSON.parse(outcome.payload) as unknown;
    };
    try {
      const result = await interceptor(JSON.parse(payload) as unknown, next, {
        functionName: this.name,
        requestId,
      });
      return { ok: true, payload: result === undefined ? 'null' : JSON.stringify(result) };
    } catch (error) {
      if (error instanceof FunctionError) return { ok: false, error: error.payload };
      const failure = error instanceof Error ? error : new Error(String(error));
      return {
        ok: false,
        error: {
          errorType: failure.name,
          errorMessage: failure.message,
          trace: (failure.stack ?? '').split('\n'),
        },
      };
    }
  }

  /** Ends every environment; invocations still waiting fail. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#idle.length = 0;
    for (const waiter of this.#waiting.splice(0))
      waiter.reject(new Error('the local stack is stopping'));
    await Promise.all([...this.#all].map((environment) => environment.terminate()));
    this.#all.clear();
  }
}
