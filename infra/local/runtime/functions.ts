/**
 * The template's functions as local functions: which of them run locally, how many
 * execution environments each may have, and which to warm at start.
 */
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { handlerFile, type StackModel, type TemplateResolver } from '../template.ts';
import { LocalFunction } from './function-host.ts';
import { type FunctionEndpoints, lambdaEnvironment } from './lambda-environment.ts';

export interface LocalFunctionsOptions {
  readonly resolver: TemplateResolver;
  /** Where a function's SDK clients go, by its logical id. */
  readonly endpointsOf: (logicalId: string) => FunctionEndpoints;
  readonly logLevel: string;
  /** Extra environment variables by function logical id. */
  readonly environmentOverrides?:
    | Readonly<Record<string, Readonly<Record<string, string>>>>
    | undefined;
  /** Local cap on each event source mapping's concurrency. @default available cores */
  readonly maxConcurrency?: number | undefined;
  /** Most environments of a function not fed by a queue. @default max(2, cores) */
  readonly maxEnvironmentsPerFunction?: number | undefined;
  readonly logSink: Writable | undefined;
  readonly enforceMemoryLimit: boolean;
}

/**
 * The concurrency of an event source mapping locally: its MaximumConcurrency, capped at
 * `localCap` (more concurrent batches than cores only adds cold starts and contention).
 */
export function mappingConcurrency(
  localCap: number | undefined,
  maximumConcurrency: number | undefined,
): number {
  const cap = localCap ?? availableParallelism();
  return Math.max(1, Math.min(cap, maximumConcurrency ?? cap));
}

/**
 * A local function for every Node.js function of the template with a bundled asset (not
 * CDK's custom resources), by logical id.
 */
export function localFunctions(
  model: StackModel,
  options: LocalFunctionsOptions,
): Map<string, LocalFunction> {
  const functions = new Map<string, LocalFunction>();
  for (const spec of model.functions) {
    if (spec.assetDir === undefined || !(spec.runtime ?? 'nodejs').startsWith('nodejs')) continue;
    let file: string;
    let exportName: string;
    try {
      ({ file, exportName } = handlerFile(spec));
    } catch {
      continue;
    }
    const fed = model.eventSourceMappings.find(
      (mapping) => mapping.functionLogicalId === spec.logicalId,
    );
    const cap =
      fed === undefined
        ? (options.maxEnvironmentsPerFunction ?? Math.max(2, availableParallelism()))
        : mappingConcurrency(options.maxConcurrency, fed.maximumConcurrency);
    const fn = new LocalFunction({
      name: spec.name,
      arn: options.resolver.resolveString({ 'Fn::GetAtt': [spec.logicalId, 'Arn'] }),
      file,
      exportName,
      timeoutSeconds: spec.timeoutSeconds,
      memorySizeMb: spec.memorySizeMb,
      environment: lambdaEnvironment(spec, {
        endpoints: options.endpointsOf(spec.logicalId),
        resolver: options.resolver,
        logLevel: options.logLevel,
        overrides: overridesOf(options.environmentOverrides, spec.logicalId),
      }),
      maxEnvironments: Math.max(1, Math.min(cap, spec.reservedConcurrency ?? cap)),
      logSink: options.logSink,
      enforceMemoryLimit: options.enforceMemoryLimit,
    });
    functions.set(spec.logicalId, fn);
  }
  return functions;
}

/**
 * The logical ids of the functions something invokes (an API route, a queue, a schedule's
 * `scheduleTargets`) and of those they name in their environment (e.g. the aggregator the
 * worker invokes). CDK's own helper functions are left out: nothing invokes them locally.
 */
export function functionsToWarm(model: StackModel, scheduleTargets: readonly string[]): string[] {
  const entry = new Set<string>([
    ...model.restApis.flatMap((api) => api.routes.map((route) => route.functionLogicalId ?? '')),
    ...model.eventSourceMappings.map((mapping) => mapping.functionLogicalId),
    ...scheduleTargets,
  ]);
  const named = new Set<string>(entry);
  for (const spec of model.functions) {
    if (!entry.has(spec.logicalId)) continue;
    const text = JSON.stringify(spec.environment);
    for (const other of model.functions) {
      if (text.includes(`"${other.logicalId}"`)) named.add(other.logicalId);
    }
  }
  return [...named];
}

/** The environment overrides of a function: by its logical id, else by a key it starts with. */
function overridesOf(
  overrides: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined,
  logicalId: string,
): Readonly<Record<string, string>> | undefined {
  if (overrides === undefined) return undefined;
  const exact = overrides[logicalId];
  if (exact !== undefined) return exact;
  const key = Object.keys(overrides).find((prefix) => logicalId.startsWith(prefix));
  return key === undefined ? undefined : overrides[key];
}
