/**
 * Makes sure cdk.out holds a template (and bundled assets) at least as new as the sources,
 * synthesizing with the project's pinned CDK CLI (offline) when it does not. Concurrent
 * callers (parallel test files, a CLI next to a test run) synthesize once: the others wait
 * on a lock directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** Sources whose change makes the template or the bundles out of date. */
const SOURCE_PATHS = ['infra', 'functions', 'package-lock.json', 'cdk.json'];
/** A synth that takes longer than this is stuck (a hung CDK app): it is killed. */
const SYNTH_TIMEOUT_MS = 5 * 60_000;

/** Local-runner code does not shape the template. */
const IGNORED_DIRECTORIES = new Set(['node_modules', 'local', 'cdk.out']);

/** The newest file modification under `path` (directories' own times are not counted). */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.isDirectory() && IGNORED_DIRECTORIES.has(entry.name)) continue;
    newest = Math.max(newest, newestMtime(join(path, entry.name)));
  }
  return newest;
}

/** Why cdk.out must be synthesized again, or undefined when it is up to date. */
export function staleReason(projectDir: string, cdkOutDir: string): string | undefined {
  const manifest = join(cdkOutDir, 'manifest.json');
  if (!existsSync(manifest)) return `${cdkOutDir} has no cloud assembly`;
  const built = statSync(manifest).mtimeMs;
  for (const source of SOURCE_PATHS) {
    if (newestMtime(join(projectDir, source)) > built)
      return `${source} changed since the last synth`;
  }
  return undefined;
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    // The synth must not outlive us (Ctrl-C during a first run).
    const killChild = () => child.kill('SIGKILL');
    process.once('exit', killChild);
    const timer = setTimeout(() => {
      output += `\n(killed after ${SYNTH_TIMEOUT_MS / 1000} s)`;
      child.kill('SIGKILL');
    }, SYNTH_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      process.removeListener('exit', killChild);
      if (code === 0) resolve(output);
      else reject(new Error(`cdk synth failed (exit ${code}):\n${output.slice(-4_000)}`));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's owner, or undefined while it is being created or when unreadable. */
function lockOwner(lockDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` holding a lock directory. A lock whose owner process is gone is broken at
 * once; the owner removes it when it exits, however it exits (short of SIGKILL).
 */
async function withLock<T>(lockDir: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + SYNTH_TIMEOUT_MS + 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch {
      const owner = lockOwner(lockDir);
      let age = 0;
      try {
        age = Date.now() - statSync(lockDir).mtimeMs;
      } catch {
        continue; // released meanwhile: try again at once
      }
      if ((owner !== undefined && !isAlive(owner)) || (owner === undefined && age > 10_000)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the synth lock ${lockDir}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  const release = () => rmSync(lockDir, { recursive: true, force: true });
  process.once('exit', release);
  try {
    return await work();
  } finally {
    process.removeListener('exit', release);
    release();
  }
}

export interface EnsureSynthOptions {
  readonly projectDir: string;
  readonly cdkOutDir: string;
  /** Told, once, that a synth is running and why. */
  readonly note: (message: string) => void;
}

/** Synthesizes the CDK app into `cdkOutDir` if it is missing or older than the sources. */
export async function ensureSynthesized(options: EnsureSynthOptions): Promise<void> {
  const { projectDir, cdkOutDir } = options;
  if (staleReason(projectDir, cdkOutDir) === undefined) return;
  const lockDir = join(projectDir, 'node_modules', '.cache', 'fanout', 'synth.lock');
  await withLock(lockDir, async () => {
    const reason = staleReason(projectDir, cdkOutDir);
    if (reason === undefined) return; // another process synthesized while we waited
    options.note(`fanout: synthesizing the CDK app into ${cdkOutDir} (${reason})…`);
    const bin = join(projectDir, 'node_modules', '.bin');
    const cdk = join(bin, 'cdk');
    if (!existsSync(cdk)) throw new Error(`${cdk} not found: run npm ci first`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Node 24 from the `node` devDependency must run the app, whatever the system Node is.
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      CDK_DISABLE_VERSION_CHECK: '1',
    };
    await run(cdk, ['synth', '--quiet', '--output', cdkOutDir], projectDir, env);
  });
}
