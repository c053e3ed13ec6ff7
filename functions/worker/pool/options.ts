/**
 * The pool's options: defaults, validation with precise TypeError / RangeError messages (one
 * check each, as piscina and workerpool do), and the pool size a Lambda function pays for.
 */
import { availableParallelism } from 'node:os';
import { MAX_POOL_SIZE } from '#commons/config.ts';
import { LAMBDA_MEMORY_SIZE_ENV } from '#commons/env.ts';
import { defaultChildScript } from './child-script.ts';
import { describeType } from './errors.ts';
import type { CostEstimator } from './split.ts';

export interface PoolOptions {
  /**
   * How many child processes to run.
   * @default poolSizeFromEnvironment(): the vCPUs the Lambda function pays for
   */
  readonly size?: number;
  /**
   * The child entry script: a module that calls `serveKernel()` (child-runtime.ts).
   * @default the built-in child (`child.ts` in source, `pool-child.mjs` beside the bundle)
   */
  readonly childScript?: string | URL;
  /**
   * Most tasks waiting for a free child; a `run()` that would queue more is rejected with
   * QueueFullError. Tasks running on a child do not count.
   * @default 256
   */
  readonly maxQueue?: number;
  /**
   * A task running longer is rejected with TaskTimeoutError, and its child is killed
   * (SIGKILL) and replaced.
   * @default 60_000
   */
  readonly taskTimeoutMs?: number;
  /**
   * A child that has not completed its ready handshake by then is killed; that counts as a
   * start failure.
   * @default 10_000
   */
  readonly startTimeoutMs?: number;
  /**
   * After this many consecutive start failures (a child that exits, or is killed, before
   * its ready handshake) the pool stops respawning and rejects work with PoolStartError.
   * @default 3
   */
  readonly maxStartFailures?: number;
  /**
   * How long `destroy()` lets a child exit on request before it kills it (SIGKILL).
   * @default 1_000
   */
  readonly destroyTimeoutMs?: number;
  /**
   * Cost of a range of elements, to give each child an equal share of work.
   * @default every element costs 1
   */
  readonly estimateCost?: CostEstimator;
  /**
   * Node.js flags of the children (`process.execArgv` is not inherited: a test runner's
   * flags have no place in a child).
   * @default []
   */
  readonly execArgv?: readonly string[];
}

export interface ResolvedPoolOptions {
  readonly size: number;
  readonly childScript: string | URL;
  readonly maxQueue: number;
  readonly taskTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly maxStartFailures: number;
  readonly destroyTimeoutMs: number;
  readonly estimateCost: CostEstimator;
  readonly execArgv: readonly string[];
}

/**
 * Lambda allocates CPU in proportion to memory: 1,769 MB is one vCPU, and the largest
 * function (10,240 MB) has 6.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
 */
export const MB_PER_VCPU = 1_769;
export const MAX_LAMBDA_VCPUS = 6;
/** setTimeout's largest delay (2^31 - 1 ms); a larger one fires at once. */
const MAX_TIMER_MS = 2_147_483_647;

const countElements: CostEstimator = (_values, from, to) => to - from;

const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'size',
  'childScript',
  'maxQueue',
  'taskTimeoutMs',
  'startTimeoutMs',
  'maxStartFailures',
  'destroyTimeoutMs',
  'estimateCost',
  'execArgv',
]);

function positiveInteger(name: string, value: unknown, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`options.${name} must be a number, got ${describeType(value)}`);
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`options.${name} must be a positive integer, got ${value}`);
  }
  if (value > max) {
    throw new RangeError(`options.${name} must be at most ${max}, got ${value}`);
  }
  return value;
}

function childScriptOption(value: unknown): string | URL {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') {
      throw new TypeError(`options.childScript must be a file: URL, got ${value.protocol} URL`);
    }
    return value;
  }
  if (typeof value !== 'string') {
    throw new TypeError(
      `options.childScript must be a path or a file: URL, got ${describeType(value)}`,
    );
  }
  if (value.length === 0) throw new TypeError('options.childScript must not be empty');
  return value;
}

function execArgvOption(value: unknown): readonly string[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`options.execArgv must be an array of strings, got ${describeType(value)}`);
  }
  const index = value.findIndex((flag) => typeof flag !== 'string');
  if (index >= 0) {
    throw new TypeError(
      `options.execArgv[${index}] must be a string, got ${describeType(value[index])}`,
    );
  }
  return [...value];
}

/**
 * The pool size a function pays for. On Lambda, the cores a process sees are not the vCPUs
 * it gets (2 are visible from 128 MB up to 3,008 MB), so the size comes from
 * AWS_LAMBDA_FUNCTION_MEMORY_SIZE, ceil(MB / 1,769) and at most 6, capped by the cores
 * visible. Off Lambda, every visible core, up to MAX_POOL_SIZE.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
 */
export function poolSizeFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
  parallelism: number = availableParallelism(),
): number {
  const raw = env[LAMBDA_MEMORY_SIZE_ENV];
  if (raw === undefined || raw === '') return Math.max(1, Math.min(parallelism, MAX_POOL_SIZE));
  const megabytes = Number(raw);
  if (!Number.isInteger(megabytes) || megabytes < 1) {
    throw new RangeError(
      `${LAMBDA_MEMORY_SIZE_ENV} must be a positive integer number of MB, got "${raw}"`,
    );
  }
  const vcpus = Math.min(Math.ceil(megabytes / MB_PER_VCPU), MAX_LAMBDA_VCPUS);
  return Math.max(1, Math.min(vcpus, parallelism));
}

/** Validates `options` and fills in the defaults. */
export function resolvePoolOptions(options: unknown = {}): ResolvedPoolOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options must be an object, got ${describeType(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`options.${key} is not a pool option`);
  }
  const given = options as Record<string, unknown>;
  const estimateCost = given.estimateCost ?? countElements;
  if (typeof estimateCost !== 'function') {
    throw new TypeError(
      `options.estimateCost must be a function, got ${describeType(estimateCost)}`,
    );
  }
  return {
    size:
      given.size === undefined
        ? poolSizeFromEnvironment()
        : positiveInteger('size', given.size, MAX_POOL_SIZE),
    childScript:
      given.childScript === undefined ? defaultChildScript() : childScriptOption(given.childScript),
    maxQueue:
      given.maxQueue === undefined ? 256 : positiveInteger('maxQueue', given.maxQueue, 2 ** 32),
    taskTimeoutMs:
      given.taskTimeoutMs === undefined
        ? 60_000
        : positiveInteger('taskTimeoutMs', given.taskTimeoutMs, MAX_TIMER_MS),
    startTimeoutMs:
      given.startTimeoutMs === undefined
        ? 10_000
        : positiveInteger('startTimeoutMs', given.startTimeoutMs, MAX_TIMER_MS),
    maxStartFailures:
      given.maxStartFailures === undefined
        ? 3
        : positiveInteger('maxStartFailures', given.maxStartFailures, 1_000),
    destroyTimeoutMs:
      given.destroyTimeoutMs === undefined
        ? 1_000
        : positiveInteger('destroyTimeoutMs', given.destroyTimeoutMs, MAX_TIMER_MS),
    estimateCost: estimateCost as CostEstimator,
    execArgv: given.execArgv === undefined ? [] : execArgvOption(given.execArgv),
  };
}
