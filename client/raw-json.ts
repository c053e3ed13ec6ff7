/**
 * A number sent as the literal it was written as. The API reads numbers as Python does
 * (README, "Numbers"): a literal with a fraction or an exponent is a double even where its
 * value is integral, so `1e10` squares to the double `1e+20`. A JavaScript number loses that:
 * `JSON.stringify(1e10)` writes the integer `10000000000`, which the API squares exactly.
 * `JSON.rawJSON` (Node 21+, the TC39 "JSON.parse source text access" proposal) makes
 * `JSON.stringify` write a given text instead; TypeScript's lib does not declare it yet.
 * @see https://github.com/tc39/proposal-json-parse-with-source
 */

/** What `JSON.rawJSON` returns: `JSON.stringify` writes `rawJSON` as it is. */
export interface RawJsonNumber {
  readonly rawJSON: string;
}

declare global {
  interface JSON {
    rawJSON(text: string): RawJsonNumber;
  }
}

/**
 * A double literal as the API must see it: the value itself when JSON writes it with a
 * fraction or an exponent, else its exponent form (`1e+10`), which is valid JSON and reads
 * back as the same double.
 */
export function doubleLiteral(value: number): number | RawJsonNumber {
  return Number.isInteger(value) ? JSON.rawJSON(value.toExponential()) : value;
}
