/** Shared helpers of the end-to-end tests. */
import { readdir, readFile } from 'node:fs/promises';
import type { EmbeddedStackOptions } from '#local/embedded-stack.ts';
import { TestStack } from '#local/harness/index.ts';

/** Resolves when `probe` returns true; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(200, delay * 2);
  }
}

/** The exact square of an integer (number or decimal string) as the API returns it. */
export function exactIntegerSquare(value: number | string): number | string {
  const root = BigInt(value);
  const square = root * root;
  return square <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(square) : square.toString();
}

/** Pids of running processes whose command line contains one of `needles`. */
export async function processesMatching(needles: readonly string[]): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (needles.some((needle) => cmdline.includes(needle))) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/** Pids of the live processes of a process group (what a shell job started, children included). */
export async function processGroupMembers(groupId: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z' && Number(fields[2]) === groupId) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

/**
 * Pids of what the local stack starts outside our process: DynamoDB Local JVMs and the
 * worker's pool children (pool-child.mjs in the bundled asset).
 */
export function localStackProcesses(): Promise<number[]> {
  return processesMatching(['LoopbackDynamoDBLocal', 'DynamoDBLocal.jar', 'pool-child.mjs']);
}

/**
 * A local stack of the real app for an end-to-end test file. Function logs are dropped
 * unless FANOUT_E2E_LOGS=1; FANOUT_E2E_CDK_OUT runs an existing cloud assembly instead of
 * synthesizing the app (for working on the tests alone).
 */
export function appStack(options: EmbeddedStackOptions = {}): TestStack {
  const cdkOutDir = process.env.FANOUT_E2E_CDK_OUT;
  return new TestStack({
    logSink: process.env.FANOUT_E2E_LOGS === '1' ? process.stderr : null,
    logLevel: process.env.FANOUT_E2E_LOGS === '1' ? 'INFO' : 'ERROR',
    ...(cdkOutDir === undefined ? {} : { cdkOutDir, synth: false }),
    ...options,
  });
}
