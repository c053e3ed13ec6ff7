/**
 * JSON as the cloud assembly holds it, and the parsers that turn it into typed values: each
 * throws an error that names the bad field (`Table.Properties.KeySchema[0].KeyType must be
 * HASH or RANGE`) instead of letting a cast carry a wrong shape further.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * Whether `value` is a JSON object. Its members are taken to be JSON: the values checked
 * come from `JSON.parse` (the template, a resolved intrinsic), which makes nothing else.
 */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON object, or an error naming `where`. */
export function parseObject(value: unknown, where: string): JsonObject {
  if (!isJsonObject(value)) throw new TypeError(`${where} must be an object`);
  return value;
}

/** An optional JSON object member: undefined when absent, an error naming it when not an object. */
export function optionalObject(value: unknown, where: string): JsonObject | undefined {
  return value === undefined ? undefined : parseObject(value, where);
}

/** A JSON array, or an error naming `where`. */
export function parseArray(value: unknown, where: string): Json[] {
  if (!Array.isArray(value)) throw new TypeError(`${where} must be an array`);
  return value;
}

/** A string, or an error naming `where`. */
export function parseString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new TypeError(`${where} must be a string`);
  return value;
}

/** One of `allowed`, or an error naming `where` and the allowed values. */
export function parseOneOf<const T extends string>(
  value: unknown,
  allowed: readonly T[],
  where: string,
): T {
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) throw new TypeError(`${where} must be ${allowed.join(' or ')}`);
  return found;
}
