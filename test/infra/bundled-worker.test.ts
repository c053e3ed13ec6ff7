/**
 * The worker as it is deployed: the asset of a real `cdk synth` (index.mjs, with the pool's
 * child bundled beside it as pool-child.mjs) handles real-shaped SQS batches in a Node
 * process of its own, with the function's environment from the template, against stub
 * Lambda and DynamoDB endpoints on 127.0.0.1.
 *
 * esbuild does not follow fork() paths (../shared/FACTS.md), so this is the test that shows
 * the deployed worker really forks its children, from the asset, that they compute the
 * exact squares, that the warm invocation reuses them, and that none outlives the function.
 * The children are observed from outside, in /proc (Linux, as Lambda is).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planChunks } from '#commons/chunking.ts';
import { DEFAULT_NUMBERS_PER_CHUNK, MAX_CHUNK_RESULT_BYTES } from '#commons/limits.ts';
import type { NumberInput, SquareResult } from '#commons/numbers.ts';
import type { ChunkResult, NumbersChunkMessage } from '#commons/types.ts';
import { PROJECT_ROOT } from '#infra/constructs/fanout-function.ts';
import { seededRandom } from '#local/seeded-random.ts';
import { BUNDLED_CHILD_FILE } from '#pool/child-script.ts';
import type { DriverAnswer, DriverInvocation } from '#test/helpers/bundled-worker-driver.ts';
import { sqsEvent, sqsRecord } from '#test/helpers/events.ts';
import { createChunkEngine } from '../../functions/worker/compute.ts';

const run = promisify(execFile);

/** The Node the functions run on in this project (the `node` devDependency, v24). */
const NODE = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node');
const DRIVER = path.join(PROJECT_ROOT, 'test', 'helpers', 'bundled-worker-driver.ts');
const POOL_SIZE = 2;
const REGION = 'eu-west-1';
/** What the stub aggregator answers: the chunk is stored, the job still runs. */
const STORED = { outcome: 'STORED', jobStatus: 'RUNNING' } as const;
/** Integer strings of the largest size a job accepts (MAX_INTEGER_DIGITS). */
const BIG_DIGITS = 10_000;
const BIG_INTEGERS = 140;
/** Plain numbers after each big integer: small, negative, zero, and squares beyond 2^53. */
const PLAIN_NUMBERS = [
  0,
  -7,
  12_345,
  94_906_265,
  94_906_266,
  -123_456_789,
  2 ** 40,
  9_007_199_254_740_991,
];
const PLAIN_PER_BIG = 3;

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}
type Template = { readonly Resources: Record<string, TemplateResource> };

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** One letter of /proc/<pid>/stat: R, S, Z (exited, not reaped yet)… */
  readonly state: string;
  /** User + system CPU time, in clock ticks. */
  readonly cpuTicks: number;
  readonly argv: readonly string[];
}

interface DynamoDbCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}
interface InvokeCall {
  readonly functionName: string;
  readonly invocationType: string | undefined;
  readonly payload: ChunkResult;
}

/** What one run of the bundled worker showed; filled by beforeAll, asserted by the tests. */
interface Observed {
  workerDir: string;
  env: Record<string, string>;
  memorySize: number;
  batchSize: number;
  jobId: string;
  numbers: NumberInput[];
  chunks: { offset: number; count: number }[];
  driverPid: number;
  /** Children of the worker process before each invocation and after it. */
  childrenBefore: ProcessInfo[][];
  childrenAfter: ProcessInfo[][];
  answers: DriverAnswer[];
  exit: { code: number | null; signal: NodeJS.Signals | null } | 'hung';
  /** Every child of the worker seen during the run. */
  watched: number[];
  /** Children seen during the run that were still alive (not exited) after the worker exited. */
  survivors: ProcessInfo[];
  /** Files the function left in its TMPDIR. */
  tmpFiles: string[];
  invokes: InvokeCall[];
  dynamoDbCalls: DynamoDbCall[];
  logs: string;
}

let workDir: string;
const servers: Server[] = [];
let worker: ChildProcess | undefined;
const observed: Observed = {
  workerDir: '',
  env: {},
  memorySize: 0,
  batchSize: 0,
  jobId: '',
  numbers: [],
  chunks: [],
  driverPid: 0,
  childrenBefore: [],
  childrenAfter: [],
  answers: [],
  exit: 'hung',
  watched: [],
  survivors: [],
  tmpFiles: [],
  invokes: [],
  dynamoDbCalls: [],
  logs: '',
};

// ---------------------------------------------------------------------------------------------
// The template

function functionsOf(template: Template): [string, TemplateResource][] {
  return Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::Lambda::Function',
  );
}

function environmentOf(resource: TemplateResource): Record<string, unknown> {
  const environment = resource.Properties?.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return environment?.Variables ?? {};
}

/** A Ref becomes a made-up physical name; a literal stays as it is. */
function resolveValue(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const ref = (value as { Ref?: unknown } | null)?.Ref;
  if (typeof ref === 'string') return `fanout-${ref}`;
  throw new Error(`cannot resolve ${name}=${JSON.stringify(value)} of the worker's environment`);
}

function workerOf(template: Template) {
  const found = functionsOf(template).filter(
    ([, resource]) => environmentOf(resource).AGGREGATOR_FUNCTION_NAME !== undefined,
  );
  const [entry] = found;
  if (found.length !== 1 || entry === undefined) {
    throw new Error(`expected one worker function, found ${found.length}`);
  }
  const [id, resource] = entry;
  const mapping = Object.values(template.Resources).find(
    (candidate) =>
      candidate.Type === 'AWS::Lambda::EventSourceMapping' &&
      (candidate.Properties?.FunctionName as { Ref?: unknown } | undefined)?.Ref === id,
  );
  const assetPath = resource.Metadata?.['aws:asset:path'];
  const memorySize = resource.Properties?.MemorySize;
  const timeout = resource.Properties?.Timeout;
  const batchSize = mapping?.Properties?.BatchSize;
  if (typeof assetPath !== 'string') throw new Error(`${id} has no asset path`);
  if (typeof memorySize !== 'number' || typeof timeout !== 'number') {
    throw new Error(`${id} has no MemorySize or Timeout`);
  }
  if (typeof batchSize !== 'number') throw new Error(`${id} has no SQS event source mapping`);
  const variables = Object.fromEntries(
    Object.entries(environmentOf(resource)).map(([name, value]) => [
      name,
      resolveValue(name, value),
    ]),
  );
  return { id, assetPath, memorySize, timeoutMs: timeout * 1000, batchSize, variables };
}

// ---------------------------------------------------------------------------------------------
// Stub AWS endpoints

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    request.on('error', reject);
  });
}

interface StubAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type Route = (request: IncomingMessage, body: string) => StubAnswer;

async function startStub(route: Route): Promise<string> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    readBody(request).then(
      (body) => {
        const answer = route(request, body);
        response.writeHead(answer.status, answer.headers).end(answer.body);
      },
      () => response.writeHead(500).end(),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Lambda's Invoke API: records each ChunkResult and answers as the aggregator does. */
function lambdaRoute(request: IncomingMessage, body: string): StubAnswer {
  const match = INVOKE_PATH.exec(request.url?.split('?')[0] ?? '');
  if (request.method !== 'POST' || match?.[1] === undefined) {
    return { status: 404, headers: {}, body: '{"message":"stub: unknown Lambda API call"}' };
  }
  observed.invokes.push({
    functionName: decodeURIComponent(match[1]),
    invocationType: request.headers['x-amz-invocation-type'] as string | undefined,
    payload: JSON.parse(body) as ChunkResult,
  });
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' },
    body: JSON.stringify(STORED),
  };
}

/** DynamoDB's JSON API: a RUNNING job for GetItem, UpdateItem accepted, nothing else. */
function dynamoDbRoute(request: IncomingMessage, body: string): StubAnswer {
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.replace(/^DynamoDB_20120810\./, '');
  observed.dynamoDbCalls.push({ operation, input: JSON.parse(body) as Record<string, unknown> });
  const headers = { 'content-type': 'application/x-amz-json-1.0' };
  if (operation === 'GetItem') {
    return { status: 200, headers, body: JSON.stringify({ Item: { status: { S: 'RUNNING' } } }) };
  }
  if (operation === 'UpdateItem') return { status: 200, headers, body: '{}' };
  return {
    status: 400,
    headers,
    body: JSON.stringify({
      __type: 'com.amazon.coral.validate#ValidationException',
      message: `stub: ${operation} is not served`,
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// The job

function bigInteger(index: number, random: () => number): string {
  const digits = [String(1 + Math.floor(random() * 9))];
  for (let position = 1; position < BIG_DIGITS; position++) {
    digits.push(String(Math.floor(random() * 10)));
  }
  const sign = ['', '-', '+'][index % 3] ?? '';
  return sign + digits.join('');
}

/** The job's numbers: each big integer followed by a few plain numbers. */
function jobNumbers(): NumberInput[] {
  const random = seededRandom(20_260_101);
  const numbers: NumberInput[] = [];
  for (let index = 0; index < BIG_INTEGERS; index++) {
    numbers.push(bigInteger(index, random));
    for (let plain = 0; plain < PLAIN_PER_BIG; plain++) {
      numbers.push(PLAIN_NUMBERS[(index * PLAIN_PER_BIG + plain) % PLAIN_NUMBERS.length] ?? 0);
    }
  }
  return numbers;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The contract's square, computed here with BigInt only: a number up to 2^53-1, else digits. */
function expectedSquare(value: NumberInput): SquareResult {
  const root = BigInt(value);
  const square = root * root;
  return square <= MAX_SAFE ? Number(square) : square.toString();
}

// ---------------------------------------------------------------------------------------------
// The process tree, from /proc

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return {
      pid,
      ppid: Number(fields[1]),
      state: fields[0] ?? '?',
      cpuTicks: Number(fields[11]) + Number(fields[12]),
      argv,
    };
  } catch {
    return undefined; // gone meanwhile
  }
}

function childrenOf(ppid: number): ProcessInfo[] {
  const children: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info?.ppid === ppid) children.push(info);
  }
  return children.sort((a, b) => a.pid - b.pid);
}

function isAlive(pid: number): boolean {
  const info = readProcess(pid);
  return info !== undefined && info.state !== 'Z' && info.state !== 'X';
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The worker's process

/** One answer per line of the worker's fd 3, in order. */
function answerReader(child: ChildProcess): () => Promise<DriverAnswer> {
  const stream = child.stdio[3];
  if (stream === null || stream === undefined || !('on' in stream)) throw new Error('no fd 3');
  const received: DriverAnswer[] = [];
  const waiting: ((answer: DriverAnswer) => void)[] = [];
  createInterface({ input: stream as NodeJS.ReadableStream }).on('line', (line) => {
    const answer = JSON.parse(line) as DriverAnswer;
    const waiter = waiting.shift();
    if (waiter === undefined) received.push(answer);
    else waiter(answer);
  });
  return () => {
    const ready = received.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(timer);
        reject(new Error(`the worker exited (${code ?? signal}); its logs:\n${observed.logs}`));
      };
      const timer = setTimeout(() => {
        child.off('exit', onExit);
        reject(new Error(`the worker did not answer within 20 s; its logs:\n${observed.logs}`));
      }, 20_000);
      child.once('exit', onExit);
      waiting.push((answer) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(answer);
      });
    });
  };
}

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'fanout-bundled-worker-'));
  const outdir = path.join(workDir, 'cdk.out');
  // The same synth as a user's (and as test/infra/bundle.test.ts): the pinned CLI, local esbuild.
  await run(
    NODE,
    [
      path.join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
      'synth',
      '--quiet',
      '-o',
      outdir,
    ],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PATH: `${path.dirname(NODE)}${path.delimiter}${process.env.PATH ?? ''}`,
        CDK_DISABLE_VERSION_CHECK: '1',
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const template = JSON.parse(
    readFileSync(path.join(outdir, 'Fanout.template.json'), 'utf8'),
  ) as Template;
  const workerFunction = workerOf(template);
  observed.workerDir = realpathSync(path.join(outdir, workerFunction.assetPath));
  observed.memorySize = workerFunction.memorySize;
  observed.batchSize = workerFunction.batchSize;

  // The job, cut as the dispatcher cuts it, and sent as SQS batches of the mapping's size.
  observed.jobId = crypto.randomUUID();
  observed.numbers = jobNumbers();
  observed.chunks = planChunks(observed.numbers, DEFAULT_NUMBERS_PER_CHUNK, MAX_CHUNK_RESULT_BYTES);
  const messages: NumbersChunkMessage[] = observed.chunks.map(({ offset, count }, chunkIndex) => ({
    jobId: observed.jobId,
    chunkIndex,
    chunkCount: observed.chunks.length,
    offset,
    numbers: observed.numbers.slice(offset, offset + count),
  }));
  const events: SQSEvent[] = [];
  for (let first = 0; first < messages.length; first += observed.batchSize) {
    const batch = messages.slice(first, first + observed.batchSize);
    events.push(sqsEvent(batch.map((message) => sqsRecord(JSON.stringify(message)))));
  }
  // Preconditions: a cold and a warm invocation, and chunks the adaptive rule sends to the
  // pool (the source's rule; the engine starts no child until it runs a chunk).
  if (events.length < 2) throw new Error(`the job makes ${events.length} SQS batch, not 2`);
  const rule = createChunkEngine({ poolSize: POOL_SIZE });
  const inline = messages.filter((message) => !rule.usesPool(message.numbers));
  await rule.destroy();
  if (inline.length > 0) throw new Error(`${inline.length} chunks would be squared inline`);

  const lambdaUrl = await startStub(lambdaRoute);
  const dynamoDbUrl = await startStub(dynamoDbRoute);
  const functionTmp = path.join(workDir, 'tmp');
  mkdirSync(functionTmp);
  const functionName = `fanout-${workerFunction.id}`;
  // Exactly what the function would see: its variables from the template, what Lambda sets,
  // and the stub endpoints; nothing of this test process.
  observed.env = {
    ...workerFunction.variables,
    PATH: `${path.dirname(NODE)}${path.delimiter}/usr/bin${path.delimiter}/bin`,
    TZ: ':UTC',
    TMPDIR: functionTmp,
    LAMBDA_TASK_ROOT: observed.workerDir,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_SESSION_TOKEN: 'test-token',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(workerFunction.memorySize),
    // No X-Ray daemon here.
    POWERTOOLS_TRACE_ENABLED: 'false',
    POOL_SIZE: String(POOL_SIZE),
    AWS_ENDPOINT_URL_LAMBDA: lambdaUrl,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoDbUrl,
  };

  const child = spawn(NODE, [DRIVER, path.join(observed.workerDir, 'index.mjs')], {
    cwd: observed.workerDir,
    env: observed.env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  worker = child;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.stdout?.on('data', (part: Buffer) => {
    observed.logs += part.toString('utf8');
  });
  child.stderr?.on('data', (part: Buffer) => {
    observed.logs += part.toString('utf8');
  });
  if (child.pid === undefined) throw new Error('the worker process did not start');
  observed.driverPid = child.pid;
  const nextAnswer = answerReader(child);

  for (const [index, event] of events.entries()) {
    observed.childrenBefore.push(childrenOf(child.pid));
    const invocation: DriverInvocation = {
      event,
      awsRequestId: `request-${index}`,
      functionName,
      memoryLimitInMB: String(workerFunction.memorySize),
      timeoutMs: workerFunction.timeoutMs,
    };
    child.stdin?.write(`${JSON.stringify(invocation)}\n`);
    observed.answers.push(await nextAnswer());
    observed.childrenAfter.push(childrenOf(child.pid));
  }

  // No more events: the process must end on its own, its idle pool with it.
  child.stdin?.end();
  const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000));
  observed.exit = await Promise.race([exited, timeout]);
  const seen = new Map<number, ProcessInfo>();
  for (const info of [...observed.childrenBefore, ...observed.childrenAfter].flat()) {
    seen.set(info.pid, info);
  }
  await waitUntil(() => [...seen.keys()].every((pid) => !isAlive(pid)), 5_000);
  observed.watched = [...seen.keys()];
  observed.survivors = [...seen.values()].filter(({ pid }) => isAlive(pid));
  observed.tmpFiles = readdirSync(functionTmp);
}, 120_000);

afterAll(async () => {
  if (worker?.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  for (const { pid } of observed.survivors) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('Function: worker, bundled asset from cdk.out', () => {
  it('returns no batch item failures for any record of the cold and the warm invocation', () => {
    expect(observed.answers).toHaveLength(2);
    for (const answer of observed.answers) {
      expect(answer).toEqual({
        ok: true,
        response: { batchItemFailures: [] },
        durationMs: expect.any(Number),
      });
    }
  });

  it('hands the aggregator every chunk once, with the exact squares in order', () => {
    const aggregator = observed.env.AGGREGATOR_FUNCTION_NAME;
    expect(observed.invokes.map((call) => call.functionName)).toEqual(
      observed.chunks.map(() => aggregator),
    );
    expect(observed.invokes.every((call) => call.invocationType === 'RequestResponse')).toBe(true);
    const byIndex = [...observed.invokes].sort(
      (a, b) => a.payload.chunkIndex - b.payload.chunkIndex,
    );
    expect(byIndex.map((call) => call.payload.chunkIndex)).toEqual(
      observed.chunks.map((_, index) => index),
    );
    const squaresOf = (payload: ChunkResult): SquareResult[] =>
      JSON.parse(gunzipSync(Buffer.from(payload.resultsGzip, 'base64')).toString('utf8'));
    for (const [index, { payload }] of byIndex.entries()) {
      const chunk = observed.chunks[index];
      if (chunk === undefined) throw new Error(`no chunk ${index}`);
      expect({
        jobId: payload.jobId,
        offset: payload.offset,
        receiveCount: payload.receiveCount,
        memoryMb: payload.memoryMb,
      }).toEqual({
        jobId: observed.jobId,
        offset: chunk.offset,
        receiveCount: 1,
        memoryMb: observed.memorySize,
      });
      const expected = observed.numbers
        .slice(chunk.offset, chunk.offset + chunk.count)
        .map(expectedSquare);
      // Compared element by element first: a mismatch names its index, not 300 KB of digits.
      const results = squaresOf(payload);
      const wrong = results.findIndex((result, at) => result !== expected[at]);
      expect({
        chunkIndex: index,
        firstWrongIndex: wrong,
        count: results.length,
        told: payload.count,
      }).toEqual({ chunkIndex: index, firstWrongIndex: -1, count: chunk.count, told: chunk.count });
    }
    const joined = byIndex.flatMap((call) => squaresOf(call.payload));
    expect(joined).toEqual(observed.numbers.map(expectedSquare));
  });

  it("reads its job's status from the stack's table once a batch, and records no failure", () => {
    const getItems = observed.dynamoDbCalls.filter((call) => call.operation === 'GetItem');
    // Every batch holds chunks of one job: its records share one read.
    expect(getItems).toHaveLength(Math.ceil(observed.chunks.length / observed.batchSize));
    for (const { input } of getItems) {
      expect(input).toMatchObject({
        TableName: observed.env.TABLE_NAME,
        Key: { pk: { S: `JOB#${observed.jobId}` }, sk: { S: 'JOB' } },
        ConsistentRead: true,
      });
    }
    expect(observed.dynamoDbCalls.filter((call) => call.operation !== 'GetItem')).toEqual([]);
  });

  it(`runs the chunks on ${POOL_SIZE} children that the worker forks from the asset's ${BUNDLED_CHILD_FILE}`, () => {
    const childScript = path.join(observed.workerDir, BUNDLED_CHILD_FILE);
    const node = realpathSync(NODE);
    // The pool starts its children with the first chunk that goes to it, not before.
    expect(observed.childrenBefore[0]).toEqual([]);
    const children = observed.childrenAfter[0] ?? [];
    expect(children.map(({ ppid, argv }) => ({ ppid, argv }))).toEqual(
      Array.from({ length: POOL_SIZE }, () => ({
        ppid: observed.driverPid,
        argv: [node, childScript],
      })),
    );
  });

  it('reuses the same children on the warm invocation, and they do its work', () => {
    const [cold = [], warm = []] = observed.childrenAfter;
    expect(warm).toHaveLength(POOL_SIZE);
    expect(warm.map(({ pid }) => pid)).toEqual(cold.map(({ pid }) => pid));
    // An idle child uses no CPU; each of these squared its share of the warm batch.
    for (const child of warm) {
      const before =
        cold.find(({ pid }) => pid === child.pid)?.cpuTicks ?? Number.POSITIVE_INFINITY;
      expect(child.cpuTicks, `CPU ticks of child ${child.pid}`).toBeGreaterThan(before);
    }
  });

  it('exits on its own once idle, leaving no child process and no socket file behind', () => {
    expect(observed.exit).toEqual({ code: 0, signal: null });
    expect(observed.watched).toHaveLength(POOL_SIZE);
    expect(observed.survivors).toEqual([]);
    expect(observed.tmpFiles).toEqual([]);
  });
});
