/**
 * A real `cdk synth`, as a user runs it on a fresh clone: the CLI runs infra/app.ts (with
 * cdk-nag and CloudFormation's validation), and every function is bundled by the local
 * esbuild, without Docker. The worker's asset must hold the handler and the pool's child
 * script side by side, because the pool forks `pool-child.mjs` next to `index.mjs`.
 */
import { type ChildProcess, execFile, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER, PROJECT_ROOT } from '#infra/constructs/fanout-function.ts';
import { SOCKET_ENV } from '#pool/protocol.ts';

const run = promisify(execFile);

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: { readonly Environment?: { readonly Variables?: Record<string, unknown> } };
  readonly Metadata?: Record<string, unknown>;
}

let outdir: string;
let template: { Resources: Record<string, TemplateResource> };

/** The env a function sees in Lambda, enough for its module to load. */
const LAMBDA_LIKE_ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  POWERTOOLS_SERVICE_NAME: 'fanout',
  POWERTOOLS_METRICS_NAMESPACE: 'fanout',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_TRACE_ENABLED: 'false',
  POWERTOOLS_METRICS_DISABLED: 'true',
  TABLE_NAME: 'fanout-test',
  INPUT_BUCKET_NAME: 'fanout-input-test',
  WORK_QUEUE_URL: 'http://127.0.0.1:1/000000000000/work',
  NUMBERS_PER_CHUNK: '10000',
  JOB_RETENTION_DAYS: '7',
  JOB_DEADLINE_SECONDS: '3600',
  IDEMPOTENCY_EXPIRY_SECONDS: '3600',
  AGGREGATOR_FUNCTION_NAME: 'fanout-aggregator',
};

/** The six handlers, by the logical-ID prefix of their function in the template. */
const HANDLERS = ['Dispatcher', 'Status', 'Worker', 'Aggregator', 'DlqConsumer', 'Sweeper'];

function assetDirOf(logicalId: string): string {
  const assetPath = template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error(`${logicalId} has no asset path metadata`);
  return path.join(outdir, assetPath);
}

function functionIds(): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([id]) => id);
}

function workerId(): string {
  const id = functionIds().find(
    (candidate) =>
      template.Resources[candidate]?.Properties?.Environment?.Variables
        ?.AGGREGATOR_FUNCTION_NAME !== undefined,
  );
  if (id === undefined) throw new Error('no worker function in the template');
  return id;
}

/** The child's IPC messages in order; `next()` fails after 10 s or when the child exits. */
function messageQueue(child: ChildProcess): { next: () => Promise<unknown> } {
  const received: unknown[] = [];
  const waiting: Array<{ resolve: (message: unknown) => void; reject: (error: Error) => void }> =
    [];
  let exited: Error | undefined;
  child.on('message', (message) => {
    const waiter = waiting.shift();
    if (waiter === undefined) received.push(message);
    else waiter.resolve(message);
  });
  child.once('exit', (code, signal) => {
    exited = new Error(`the child exited (${code ?? signal}) before its handshake`);
    for (const waiter of waiting.splice(0)) waiter.reject(exited);
  });
  return {
    next: () => {
      if (received.length > 0) return Promise.resolve(received.shift());
      if (exited !== undefined) return Promise.reject(exited);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 10 s')), 10_000);
        waiting.push({
          resolve: (message) => {
            clearTimeout(timer);
            resolve(message);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
      });
    },
  };
}

beforeAll(async () => {
  outdir = mkdtempSync(path.join(tmpdir(), 'fanout-cdk-out-'));
  const nodeDir = path.dirname(process.execPath);
  await run(
    process.execPath,
    [
      path.join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
      'synth',
      '--quiet',
      '-o',
      outdir,
    ],
    {
      cwd: PROJECT_ROOT,
      // `node infra/app.ts` (cdk.json) must run on this Node 24, not on a system Node.
      env: {
        ...process.env,
        PATH: `${nodeDir}${path.delimiter}${process.env.PATH ?? ''}`,
        CDK_DISABLE_VERSION_CHECK: '1',
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  template = JSON.parse(readFileSync(path.join(outdir, 'Fanout.template.json'), 'utf8')) as {
    Resources: Record<string, TemplateResource>;
  };
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('cdk synth (bundling on, no Docker)', () => {
  it('bundles every function into an ESM index.mjs with a source map and the require banner', () => {
    const ids = functionIds();
    expect(ids).toHaveLength(HANDLERS.length);
    for (const id of ids) {
      const dir = assetDirOf(id);
      expect(existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
      expect(readFileSync(path.join(dir, 'index.mjs'), 'utf8').startsWith(ESM_REQUIRE_BANNER)).toBe(
        true,
      );
    }
  });

  it('bundles each of the six handlers, the DLQ consumer and the sweeper included', () => {
    const prefixes = functionIds().map((id) => id.replace(/Function[0-9A-F]{8}$/, ''));
    expect(prefixes.sort()).toEqual([...HANDLERS].sort());
  });

  it('puts pool-child.mjs beside the worker handler, and only there', () => {
    const workerDir = assetDirOf(workerId());
    expect(existsSync(path.join(workerDir, 'index.mjs'))).toBe(true);
    expect(existsSync(path.join(workerDir, 'pool-child.mjs'))).toBe(true);
    expect(existsSync(path.join(workerDir, 'pool-child.mjs.map'))).toBe(true);
    for (const id of functionIds().filter((candidate) => candidate !== workerId())) {
      expect(existsSync(path.join(assetDirOf(id), 'pool-child.mjs'))).toBe(false);
    }
  });

  it('makes a pool-child.mjs that Node parses as a module', async () => {
    const child = path.join(assetDirOf(workerId()), 'pool-child.mjs');
    await expect(run(process.execPath, ['--check', child])).resolves.toBeDefined();
  });

  it('makes a pool-child.mjs that starts on its own and completes the pool handshake', async () => {
    // Forked the way the pool forks it (functions/worker/pool/protocol.ts): IPC on fd 3 (V8
    // serialization), numbers down on fd 4, results up on the socket named in SOCKET_ENV.
    // The child listens there, says `listening`; the parent connects; the child says `ready`.
    const socketDir = mkdtempSync(path.join(tmpdir(), 'fanout-pool-'));
    const socketPath = path.join(socketDir, 'up.sock');
    const child = fork(path.join(assetDirOf(workerId()), 'pool-child.mjs'), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      serialization: 'advanced',
      execPath: process.execPath,
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '', [SOCKET_ENV]: socketPath },
    });
    const messages = messageQueue(child);
    let up: Socket | undefined;
    try {
      expect(await messages.next()).toEqual({ type: 'listening' });
      up = connect(socketPath);
      expect(await messages.next()).toEqual({
        type: 'ready',
        pid: child.pid,
        kernel: expect.any(String),
      });
    } finally {
      up?.destroy();
      child.kill();
      rmSync(socketDir, { recursive: true, force: true });
    }
  });

  it('makes bundles that load in Node 24 and export a handler function', async () => {
    for (const id of functionIds()) {
      const entry = pathToFileURL(path.join(assetDirOf(id), 'index.mjs')).href;
      const { stdout } = await run(
        process.execPath,
        [
          '--enable-source-maps',
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(entry)}); console.log(typeof m.handler);`,
        ],
        { env: { PATH: process.env.PATH ?? '', ...LAMBDA_LIKE_ENV }, cwd: tmpdir() },
      );
      expect({ id, handler: stdout.trim() }).toEqual({ id, handler: 'function' });
    }
  }, 60_000);
});
