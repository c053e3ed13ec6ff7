/**
 * Runs a bundled handler (an `index.mjs` from cdk.out) in a Node process of its own, the way
 * Lambda's Node.js runtime runs it: the module is loaded once, then invoked one event at a
 * time, with the module scope (the worker's process pool) kept between invocations.
 *
 * Usage: `node bundled-worker-driver.ts <path of index.mjs>`, with stdio
 * `['pipe', 'pipe', 'pipe', 'pipe']`. Each line of stdin is one invocation
 * (`DriverInvocation` as JSON); each answer is one line of JSON on fd 3 (`DriverAnswer`),
 * because stdout and stderr are the function's logs, which the pool's children share.
 * When stdin ends the driver stops invoking, and the process exits when nothing keeps it
 * alive any more (an idle pool must not).
 */
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { lambdaContext } from './context.ts';

export interface DriverInvocation {
  readonly event: unknown;
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly memoryLimitInMB: string;
  /** The function's timeout: `getRemainingTimeInMillis()` counts down from it. */
  readonly timeoutMs: number;
}

export type DriverAnswer =
  | { readonly ok: true; readonly response: unknown; readonly durationMs: number }
  | { readonly ok: false; readonly error: string; readonly durationMs: number };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** The answers' pipe: the fourth stdio entry of the spawning process. */
const ANSWER_FD = 3;

function answer(value: DriverAnswer): void {
  writeSync(ANSWER_FD, `${JSON.stringify(value)}\n`);
}

const entry = process.argv[2];
if (entry === undefined) throw new Error('usage: bundled-worker-driver.ts <index.mjs>');
const bundle = (await import(pathToFileURL(entry).href)) as { handler?: unknown };
if (typeof bundle.handler !== 'function') throw new Error(`${entry} exports no handler function`);
const handler = bundle.handler as Handler;

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const invocation = JSON.parse(line) as DriverInvocation;
  const deadline = Date.now() + invocation.timeoutMs;
  const started = performance.now();
  const context = lambdaContext({
    awsRequestId: invocation.awsRequestId,
    functionName: invocation.functionName,
    memoryLimitInMB: invocation.memoryLimitInMB,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${invocation.functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  });
  try {
    const response = await handler(invocation.event, context);
    answer({ ok: true, response, durationMs: performance.now() - started });
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    answer({ ok: false, error: text, durationMs: performance.now() - started });
  }
}
