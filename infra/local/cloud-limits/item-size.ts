/**
 * The size of a DynamoDB item as DynamoDB computes it for capacity units: the UTF-8 bytes of
 * every attribute name plus the size of its value.
 * - String: its UTF-8 bytes. Binary: its raw bytes (not the base64 text on the wire).
 * - Number: 1 byte per two significant digits (leading and trailing zeros trimmed) + 1.
 * - Null, Boolean: 1 byte.
 * - List, Map: 3 bytes of overhead, plus 1 byte per element, plus the elements (a map's
 *   element names count like attribute names).
 * - Sets: the sum of their elements' sizes (the guide gives no overhead for sets).
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */

/** One attribute value, as on the wire (B as base64 text) or as the SDK holds it (Uint8Array). */
export type AttributeValueLike = Readonly<Record<string, unknown>>;
export type ItemLike = Readonly<Record<string, unknown>>;

/** Overhead of a List or Map, whatever its contents. */
const DOCUMENT_OVERHEAD_BYTES = 3;
/** Overhead of each element of a List or Map. */
const ELEMENT_OVERHEAD_BYTES = 1;

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Bytes that base64 text decodes to: counted from its length, not decoded (pages are large). */
function base64Bytes(text: string): number {
  if (text.length % 4 !== 0) return Buffer.from(text, 'base64').length;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

function binaryBytes(value: unknown): number {
  if (typeof value === 'string') return base64Bytes(value);
  if (value instanceof Uint8Array) return value.byteLength;
  throw new TypeError(`a binary value must be base64 text or a Uint8Array, got ${typeof value}`);
}

/** Significant digits of a DynamoDB number: sign, exponent, point and outer zeros dropped. */
export function significantDigits(text: string): number {
  const mantissa = text.trim().replace(/^[+-]/, '').split(/[eE]/)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return digits.length;
}

/** Bytes of a number value: 1 per two significant digits, plus 1. */
export function numberBytes(text: string): number {
  return Math.ceil(significantDigits(text) / 2) + 1;
}

/** A JSON object (an item, a map, an answer's body), or undefined for anything else. */
export function asItem(value: unknown): ItemLike | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as ItemLike)
    : undefined;
}

/** The size of one attribute value (its name not included). */
export function valueSize(value: AttributeValueLike): number {
  if (typeof value.S === 'string') return utf8Bytes(value.S);
  if (typeof value.N === 'string') return numberBytes(value.N);
  if (value.B !== undefined) return binaryBytes(value.B);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (Array.isArray(value.SS))
    return value.SS.reduce((sum: number, s) => sum + utf8Bytes(String(s)), 0);
  if (Array.isArray(value.NS))
    return value.NS.reduce((sum: number, n) => sum + numberBytes(String(n)), 0);
  if (Array.isArray(value.BS)) return value.BS.reduce((sum: number, b) => sum + binaryBytes(b), 0);
  if (Array.isArray(value.L)) {
    let size = DOCUMENT_OVERHEAD_BYTES;
    for (const element of value.L as AttributeValueLike[]) {
      size += ELEMENT_OVERHEAD_BYTES + valueSize(element);
    }
    return size;
  }
  if (typeof value.M === 'object' && value.M !== null) {
    let size = DOCUMENT_OVERHEAD_BYTES;
    for (const [name, element] of Object.entries(value.M as Record<string, AttributeValueLike>)) {
      size += ELEMENT_OVERHEAD_BYTES + utf8Bytes(name) + valueSize(element);
    }
    return size;
  }
  throw new TypeError(`not a DynamoDB attribute value: ${JSON.stringify(value).slice(0, 80)}`);
}

/** The size of an item: every attribute's name and value. */
/** The size of an item, or undefined when there is none. */
export function sizeOfItem(item: ItemLike | undefined): number | undefined {
  return item === undefined ? undefined : itemSize(item);
}

export function itemSize(item: ItemLike): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += utf8Bytes(name) + valueSize(value as AttributeValueLike);
  }
  return size;
}

/** The item restricted to the given attribute names (an index entry, a key). */
export function pick(item: ItemLike, names: Iterable<string>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of names) if (item[name] !== undefined) picked[name] = item[name];
  return picked;
}
