/**
 * JSON as the cloud assembly holds it, and the parsers that turn it into typed values: each
 * throws an error that names the bad field (`Resources.Table.Properties.KeySchema[0].KeyType
 * must be HASH or RANGE`) instead of letting a cast carry a wrong shape further.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isJsonObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
