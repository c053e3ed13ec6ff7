/**
 * The proxy between every DynamoDB client and DynamoDB Local, when faults (tests) or the
 * cloud limits need one: one listener per function and one for everyone else
 * (`EXTERNAL_DYNAMODB_CLIENT`), so that faults and usage are told apart by function.
 */
import { DynamoDbLimiter } from './cloud-limits/dynamodb-limiter.ts';
import type { CloudLimits } from './cloud-limits/options.ts';
import type { WarmThroughput } from './cloud-limits/tables.ts';
import { warmThroughputOf } from './cloud-limits/warm-throughput.ts';
import { DynamoDbFaultProxy } from './dynamodb-faults.ts';
import { isJsonObject } from './json.ts';
import type { StackModel, TemplateResolver } from './template.ts';

/** The DynamoDB proxy's listener for clients that are not functions (the CLI, tests). */
export const EXTERNAL_DYNAMODB_CLIENT = 'external';

export interface DynamoDbProxyOptions {
  readonly model: StackModel;
  readonly resolver: TemplateResolver;
  /** DynamoDB Local's endpoint. */
  readonly target: string;
  /** Faults may be injected; `seed` makes probabilistic ones repeatable. */
  readonly faults: boolean | { readonly seed?: number } | undefined;
  readonly limits: CloudLimits | undefined;
}

export interface DynamoDbProxy {
  readonly proxy: DynamoDbFaultProxy;
  /** With cloud limits: what enforces them, and counts what was consumed. */
  readonly limiter: DynamoDbLimiter | undefined;
}

/** Starts the proxy, or returns undefined when neither faults nor limits need one. */
export async function startDynamoDbProxy(
  options: DynamoDbProxyOptions,
): Promise<DynamoDbProxy | undefined> {
  const { model, resolver, target, faults, limits } = options;
  if ((faults === undefined || faults === false) && limits === undefined) return undefined;
  let limiter: DynamoDbLimiter | undefined;
  if (limits !== undefined) {
    const onDemand = {
      writeUnitsPerSecond: limits.dynamodb.onDemandWriteUnitsPerSecond,
      readUnitsPerSecond: limits.dynamodb.onDemandReadUnitsPerSecond,
    };
    const warm = new Map<string, WarmThroughput>();
    for (const table of model.tables) {
      const properties = resolver.resolve(table.properties);
      if (isJsonObject(properties))
        warm.set(table.name, warmThroughputOf(table.name, properties, onDemand));
    }
    limiter = new DynamoDbLimiter({ target, limits: limits.dynamodb, warm });
  }
  const proxy = await DynamoDbFaultProxy.start(
    target,
    [...model.functions.map((spec) => spec.logicalId), EXTERNAL_DYNAMODB_CLIENT],
    typeof faults === 'object' ? faults.seed : 1,
    limiter,
  );
  return { proxy, limiter };
}
