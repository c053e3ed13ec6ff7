/**
 * The warm throughput a template sets on a table and its global secondary indexes
 * (`WarmThroughput: {ReadUnitsPerSecond, WriteUnitsPerSecond}`, what CDK's
 * `TableV2.warmThroughput` synthesizes). A value not set keeps the new on-demand table's.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-dynamodb-table-warmthroughput.html
 */
import type { Throughput } from './partitions.ts';
import type { WarmThroughput } from './tables.ts';

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function throughputOf(value: unknown, where: string, base: Throughput): Throughput | undefined {
  const warm = record(value);
  if (warm === undefined) return undefined;
  const units = (name: string, fallback: number) => {
    const given = warm[name];
    if (given === undefined) return fallback;
    const number = Number(given);
    if (!(Number.isFinite(number) && number > 0))
      throw new RangeError(
        `${where}.WarmThroughput.${name} must be a positive number, got ${String(given)}`,
      );
    return number;
  };
  return {
    writeUnitsPerSecond: units('WriteUnitsPerSecond', base.writeUnitsPerSecond),
    readUnitsPerSecond: units('ReadUnitsPerSecond', base.readUnitsPerSecond),
  };
}

/** The warm throughput of one table's (resolved) CloudFormation properties. */
export function warmThroughputOf(
  tableName: string,
  properties: Readonly<Record<string, unknown>>,
  onDemand: Throughput,
): WarmThroughput {
  const table = throughputOf(properties.WarmThroughput, tableName, onDemand);
  const indexes: Record<string, Throughput> = {};
  const gsis = Array.isArray(properties.GlobalSecondaryIndexes)
    ? properties.GlobalSecondaryIndexes
    : [];
  for (const gsi of gsis) {
    const index = record(gsi);
    const name = index?.IndexName;
    if (typeof name !== 'string') continue;
    const warm = throughputOf(index?.WarmThroughput, `${tableName}.${name}`, onDemand);
    if (warm !== undefined) indexes[name] = warm;
  }
  return {
    ...(table === undefined ? {} : { table }),
    ...(Object.keys(indexes).length === 0 ? {} : { indexes }),
  };
}
