/**
 * One Lambda execution environment: a worker thread with its own `process.env` and its own
 * module instances, which imports the bundled handler once (the cold start) and then serves
 * one invocation at a time, as Lambda does.
 *
 * Payloads cross the thread boundary as JSON text, so the handler sees exactly what
 * Lambda's JSON (de)serialization would give it.
 */
import childProcess, { type ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { EnvironmentInit, InvocationRequest, ThreadMessage } from './protocol.ts';

const init = workerData as EnvironmentInit;
const port = parentPort;
if (port === null) throw new Error('environment-thread.ts must run as a worker thread');

function post(message: ThreadMessage): void {
  port?.postMessage(message);
}

function describeError(error: unknown): {
  errorType: string;
  errorMessage: string;
  trace: string[];
} {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    };
  }
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

/**
 * A Lambda sandbox takes its processes with it when it ends; a worker thread does not (a
 * child forked from it keeps its IPC channel). So every child the function starts is
 * reported to the host, which kills what is left when it ends the environment.
 */
function trackChildProcesses(): void {
  const report = (child: ChildProcess): ChildProcess => {
    const { pid } = child;
    if (pid !== undefined) {
      post({ type: 'child', pid, alive: true });
      child.once('exit', () => post({ type: 'child', pid, alive: false }));
    }
    return child;
  };
  const { fork, spawn } = childProcess;
  childProcess.fork = ((...args: Parameters<typeof fork>) => report(fork(...args))) as typeof fork;
  childProcess.spawn = ((...args: Parameters<typeof spawn>) =>
    report(spawn(...args))) as typeof spawn;
  // ESM named imports of node:child_process see the wrapped functions too.
  syncBuiltinESMExports();
}

type Handler = (event: unknown, context: unknown) => unknown;

async function load(): Promise<Handler> {
  const module = (await import(pathToFileURL(init.file).href)) as Record<string, unknown>;
  const handler = module[init.exportName];
  if (typeof handler !== 'function') {
    throw new Error(`${init.file} does not export a function named '${init.exportName}'`);
  }
  return handler as Handler;
}

async function invoke(handler: Handler, request: InvocationRequest): Promise<void> {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: init.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: init.functionArn,
    memoryLimitInMB: String(init.memorySizeMb),
    awsRequestId: request.requestId,
    logGroupName: init.logGroupName,
    logStreamName: init.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, request.deadline - Date.now()),
    // Deprecated callback-era methods: present so that old code fails loudly, not silently.
    done: () => {
      throw new Error('context.done() is not supported on nodejs24.x');
    },
    fail: () => {
      throw new Error('context.fail() is not supported on nodejs24.x');
    },
    succeed: () => {
      throw new Error('context.succeed() is not supported on nodejs24.x');
    },
  };
  try {
    const event: unknown = JSON.parse(request.payload);
    const result = await handler(event, context);
    // Lambda serializes the returned value with JSON.stringify; undefined becomes null.
    const payload = result === undefined ? 'null' : JSON.stringify(result);
    post({ type: 'result', id: request.id, ok: true, payload });
  } catch (error) {
    post({ type: 'result', id: request.id, ok: false, error: describeError(error) });
  }
}

try {
  trackChildProcesses();
  const handler = await load();
  port.on('message', (request: InvocationRequest) => {
    void invoke(handler, request);
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'init-error', error: describeError(error) });
}
