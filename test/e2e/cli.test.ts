/**
 * The `fanout` CLI as a user runs it, from the repository root: `npx fanout square 1 2 3 4 5`
 * prints the tutorial's line and exits 0; bad input exits 2 with the API's reason; `serve`
 * answers until SIGINT. No DynamoDB Local JVM may outlive any of them.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import aws4 from 'aws4';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_DIR } from '#local/embedded-stack.ts';
import { signedFetch } from '#test/helpers/signed-fetch.ts';
import { localStackProcesses, processGroupMembers, waitFor } from './helpers.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A request signed by aws4 (an independent SigV4 implementation) with the given keys. */
function aws4Fetch(
  baseUrl: string,
  method: string,
  path: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
  body?: string,
): Promise<Response> {
  const url = new URL(`${baseUrl}${path}`);
  const signed = aws4.sign(
    {
      host: url.host,
      method,
      path: url.pathname,
      service: 'execute-api',
      region: 'us-east-1',
      ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
    },
    credentials,
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    // fetch sets these itself, to the same values.
    if (!['host', 'content-length'].includes(name.toLowerCase())) headers[name] = String(value);
  }
  return fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
}

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // What a user's shell has: no test-runner settings leaking into the CLI.
  delete env.POWERTOOLS_LOG_LEVEL;
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  return env;
}

/** Process groups this file started: whatever a failed or timed-out test left is killed. */
const groups = new Set<number>();

function killGroup(group: number): void {
  try {
    process.kill(-group, 'SIGKILL');
  } catch {
    // already gone
  }
}

function start(args: readonly string[]): ChildProcess {
  // npx resolves `fanout` from package.json's "bin", as it does for a user. Its own process
  // group, like a shell job, so that Ctrl-C can be played to the whole group.
  const child = spawn('npx', ['--no-install', 'fanout', ...args], {
    cwd: PROJECT_DIR,
    env: cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const group = child.pid ?? 0;
  groups.add(group);
  child.once('exit', () => groups.delete(group));
  return child;
}

afterAll(() => {
  for (const group of groups) killGroup(group);
});

/**
 * Ctrl-C in a terminal (SIGINT to the foreground process group), or SIGTERM to the group;
 * SIGKILL if it hangs. Returns how npx ended: its signal, or `exit N`.
 */
async function interrupt(child: ChildProcess, sent: NodeJS.Signals = 'SIGINT'): Promise<string> {
  const group = -(child.pid ?? 0);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  process.kill(group, sent);
  const timer = setTimeout(() => {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 20_000);
  const [code, signal] = await exited;
  clearTimeout(timer);
  return signal ?? `exit ${code}`;
}

async function run(args: readonly string[], stdin?: string): Promise<Run & { group: number }> {
  const child = start(args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin?.end(stdin ?? '');
  // Past a minute and a half the run is stuck: end it rather than leave it running.
  const timer = setTimeout(() => killGroup(child.pid ?? 0), 90_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr, group: child.pid ?? 0 };
}

/** The process group of a pid (0 once it is gone). */
function groupOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return 0;
  }
}

/** The CLI's own stderr, without npm's warnings about the system Node under npx. */
function ownStderr(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('npm warn'))
    .join('\n');
}

describe('Feature: the fanout CLI', () => {
  it('prints the tutorial squares and exits 0, leaving no emulator behind', {
    timeout: 120_000,
  }, async () => {
    const result = await run(['square', '1', '2', '3', '4', '5']);
    expect(result.stdout).toBe('Squares: [1, 4, 9, 16, 25]\n');
    expect(result.code).toBe(0);
    // Everything the CLI started shares its process group: the DynamoDB Local JVM (waited
    // for before exit) and the worker's pool children (they leave when their channel closes).
    let leftover: number[] = [];
    await waitFor(
      async () => {
        leftover = await processGroupMembers(result.group);
        return leftover.length === 0;
      },
      5_000,
      'no emulator or pool child left',
    ).catch(() => undefined);
    expect(leftover).toEqual([]);
  });

  it('squares negative and huge numbers from stdin, one per line, exactly', {
    timeout: 60_000,
  }, async () => {
    const result = await run(['square', '-'], '-3\n12345678901234567890\n0.5\n');
    expect(result.stdout).toBe('Squares: [9, 152415787532388367501905199875019052100, 0.25]\n');
    expect(result.code).toBe(0);
  });

  it('prints the whole job as JSON with --json and a range', { timeout: 60_000 }, async () => {
    const result = await run(['square', '--range', '1..3', '--json']);
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({ status: 'SUCCEEDED', numbersCount: 3, results: [1, 4, 9] });
  });

  it('adds the cloud-limits report to the JSON with --cloud-limits', {
    timeout: 60_000,
  }, async () => {
    const result = await run(['square', '--range', '1..3', '--json', '--cloud-limits']);
    expect(result.code).toBe(0);
    const job = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({
      status: 'SUCCEEDED',
      results: [1, 4, 9],
      cloudLimits: true,
      dynamodb: { throttledRequests: 0, transactionConflicts: 0 },
      redeliveries: 0,
      deadLetters: 0,
    });
    expect((job.dynamodb as { writeUnits: number }).writeUnits).toBeGreaterThan(0);
  });

  it('uploads a file of lines over 1 MiB and writes its squares one a line to --output', {
    timeout: 90_000,
  }, async () => {
    // Prepare: 200,000 lines (1.3 MB): past the body's threshold, several ranges.
    const dir = mkdtempSync(join(tmpdir(), 'fanout-cli-'));
    const input = join(dir, 'n.txt');
    const output = join(dir, 'sq.txt');
    const count = 200_000;
    writeFileSync(input, Array.from({ length: count }, (_, index) => `${index + 1}\n`).join(''));

    // Act
    const result = await run(['square', '--file', input, '--format', 'lines', '--output', output]);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const lines = readFileSync(output, 'utf8').split('\n');
    expect(lines).toHaveLength(count + 1);
    expect(lines.at(-1)).toBe('');
    const wrong = lines
      .slice(0, count)
      .filter((line, index) => BigInt(line) !== BigInt(index + 1) ** 2n);
    expect(wrong).toEqual([]);
    expect(ownStderr(result.stderr)).toMatch(/wrote 200000 squares of job .* to /);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails an uploaded file with a bad line, naming its line number, and exits 1', {
    timeout: 90_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fanout-cli-'));
    const input = join(dir, 'n.txt');
    const lines = Array.from({ length: 200_000 }, (_, index) => String(index + 1));
    lines[123_456] = '12x';
    writeFileSync(input, `${lines.join('\n')}\n`);

    const output = join(dir, 'sq.json');
    const result = await run(['square', '--file', input, '--output', output]);

    expect(result.code).toBe(1);
    // Squares were streamed while the job ran, into a file that is removed when it fails.
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.partial`)).toBe(false);
    const stderr = ownStderr(result.stderr);
    expect(stderr).toMatch(/ended FAILED: INVALID_INPUT/);
    expect(stderr).toContain('line 123457: ');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses --cloud-limits with --url, exiting 2', async () => {
    const result = await run(['square', '1', '--cloud-limits', '--url', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
    expect(ownStderr(result.stderr)).toBe(
      'fanout: --cloud-limits applies to the local stack, not to --url or --api',
    );
  });

  it('explains bad input on stderr and exits 2', { timeout: 60_000 }, async () => {
    const result = await run(['square', '1', 'two', '3']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(ownStderr(result.stderr)).toContain('HTTP 400 INVALID_NUMBERS');
    expect(ownStderr(result.stderr)).toContain('numbers[1]: INVALID_INTEGER_STRING');
  });

  it('exits 2 on a usage error without starting anything', async () => {
    const result = await run(['square']);
    expect(result.code).toBe(2);
    expect(ownStderr(result.stderr)).toBe(
      'fanout: nothing to square: give numbers, --file FILE, --range A..B or - (stdin)',
    );
  });

  it('serves the local API until SIGINT, signed with the printed keys, then stops every emulator', {
    timeout: 120_000,
  }, async () => {
    const child = start([
      'serve',
      '--port',
      '0',
      '--principal',
      'bob=AKIABOBBOBBOBBOB0001:bob-secret',
    ]);
    const group = child.pid ?? 0;
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    try {
      await waitFor(() => /^http:\/\/127\.0\.0\.1:\d+\n/.test(stdout), 90_000, 'the base URL');
      await waitFor(() => /curl .*JOB_ID/.test(stderr), 5_000, 'the curl lines');
      const baseUrl = stdout.trim();
      const keys = (name: string) => {
        const match = new RegExp(
          `^  ${name}: AWS_ACCESS_KEY_ID=(\\S+) AWS_SECRET_ACCESS_KEY=(\\S+)$`,
          'm',
        ).exec(stderr);
        return { accessKeyId: match?.[1] ?? '', secretAccessKey: match?.[2] ?? '' };
      };
      expect(keys('bob')).toEqual({
        accessKeyId: 'AKIABOBBOBBOBBOB0001',
        secretAccessKey: 'bob-secret',
      });
      const body = JSON.stringify({ numbers: [7, 8] });
      const unsigned = await fetch(`${baseUrl}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(unsigned.status).toBe(403);
      expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
      // Signed with the printed keys by an independent SigV4 implementation.
      const submitted = await aws4Fetch(baseUrl, 'POST', '/jobs', keys('local'), body);
      expect(submitted.status).toBe(202);
      const { jobId } = (await submitted.json()) as { jobId: string };
      let job: { status?: string; results?: unknown } = {};
      await waitFor(
        async () => {
          const answer = await aws4Fetch(baseUrl, 'GET', `/jobs/${jobId}`, keys('local'));
          job = (await answer.json()) as typeof job;
          return job.status === 'SUCCEEDED';
        },
        20_000,
        'the job',
      );
      expect(job.results).toEqual([49, 64]);
      // The job is local's: bob gets the 404 of a job that does not exist, and lists nothing.
      const missing = '00000000-0000-4000-8000-000000000000';
      const bobs = await aws4Fetch(baseUrl, 'GET', `/jobs/${jobId}`, keys('bob'));
      const none = await aws4Fetch(baseUrl, 'GET', `/jobs/${missing}`, keys('bob'));
      expect(bobs.status).toBe(404);
      expect((await bobs.text()).replaceAll(jobId, missing)).toBe(await none.text());
      const bobsList = await aws4Fetch(baseUrl, 'GET', '/jobs', keys('bob'));
      expect(await bobsList.json()).toEqual({ jobs: [], nextCursor: null });

      // The job commands, signed by the CLI itself.
      const url = ['--url', baseUrl];
      const submit = await run(['submit', '5', '-6', '123456789012345678901', ...url]);
      expect(submit.code).toBe(0);
      const submittedId = submit.stdout.trim();
      expect(submittedId).toMatch(/^[0-9a-f-]{36}$/);
      const output = join(tmpdir(), `fanout-results-${process.pid}.json`);
      const results = await run(['results', submittedId, '--output', output, ...url]);
      expect(results.code).toBe(0);
      expect(JSON.parse(readFileSync(output, 'utf8'))).toEqual([
        25,
        36,
        (123456789012345678901n ** 2n).toString(),
      ]);
      const waited = await run(['wait', submittedId, ...url]);
      expect(waited).toMatchObject({ code: 0, stdout: `${submittedId} SUCCEEDED\n` });
      const cancel = await run(['cancel', submittedId, ...url]);
      expect(cancel.code).toBe(2);
      expect(ownStderr(cancel.stderr)).toContain('HTTP 409 JOB_NOT_RUNNING');
      // `fanout jobs` signs as local: its two jobs, newest first.
      const listed = await run(['jobs', '--json', ...url]);
      expect(listed.code).toBe(0);
      const jobs = JSON.parse(listed.stdout) as { jobId: string; status: string }[];
      expect(jobs.map((entry) => [entry.jobId, entry.status])).toEqual([
        [submittedId, 'SUCCEEDED'],
        [jobId, 'SUCCEEDED'],
      ]);
      const human = await run(['jobs', ...url]);
      expect(human.stdout).toContain(`${submittedId}  SUCCEEDED  3/3 numbers`);
      // The JVM runs in the CLI's process group while it serves.
      const members = await processGroupMembers(group);
      const running = await localStackProcesses();
      expect(running.filter((pid) => members.includes(pid)).length).toBeGreaterThan(0);
    } finally {
      // npx dies of the SIGINT itself; the CLI under it stops the stack and exits 0.
      expect(['SIGINT', 'exit 0', 'exit 130']).toContain(await interrupt(child));
    }
    await waitFor(
      async () => (await processGroupMembers(group)).length === 0,
      10_000,
      'DynamoDB Local to exit',
    );
  });

  it('prints one JSON line of endpoints with serve --json, the DynamoDB one limited', {
    timeout: 120_000,
  }, async () => {
    const child = start(['serve', '--port', '0', '--json', '--cloud-limits']);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    try {
      await waitFor(() => stdout.endsWith('\n'), 90_000, 'the JSON line');
      const described = JSON.parse(stdout) as {
        api: string;
        region: string;
        endpoints: Record<string, string>;
        tables: Record<string, string>;
        queues: Record<string, string>;
        principals: Record<string, { accessKeyId: string; secretAccessKey: string }>;
      };
      expect(Object.keys(described)).toEqual([
        'api',
        'region',
        'endpoints',
        'tables',
        'queues',
        'principals',
      ]);
      expect(described.principals.local?.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
      expect(Object.keys(described.endpoints)).toEqual(['sqs', 'dynamodb', 's3']);
      expect(described.tables.Table).toBeDefined();
      expect(described.queues.WorkQueue).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      const answer = await signedFetch(`${described.api}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ numbers: [2] }),
      });
      expect(answer.status).toBe(202);
      await waitFor(() => stderr.includes("(enforcing AWS's limits)"), 10_000, 'the endpoints');
      expect(stderr).toContain(`table Table: ${described.tables.Table}`);
    } finally {
      expect(['SIGINT', 'exit 0', 'exit 130']).toContain(await interrupt(child));
    }
  });

  it('stops everything on SIGTERM in the middle of a job', { timeout: 120_000 }, async () => {
    const child = start(['square', '--range', '1..1000000', '--no-progress']);
    const group = child.pid ?? 0;
    child.stdout?.resume();
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    // Wait until the stack runs (the JVM is up), then terminate the whole job.
    await waitFor(
      async () => (await localStackProcesses()).some((pid) => groupOf(pid) === group),
      90_000,
      'the local stack',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const started = Date.now();
    expect(['SIGTERM', 'exit 130']).toContain(await interrupt(child, 'SIGTERM'));
    await waitFor(
      async () => (await processGroupMembers(group)).length === 0,
      10_000,
      'the group to empty',
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(stderr).not.toContain('fanout local:');
  });
});
