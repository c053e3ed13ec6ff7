/**
 * The parts of a SigV4 canonical request as a server rebuilds them from what it received:
 * the path, the query and the signed headers.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */

const UNRESERVED = /[A-Za-z0-9\-_.~]/;

/** SigV4's UriEncode: every byte but the unreserved characters as %XY (uppercase hex). */
export function uriEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += UNRESERVED.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

/**
 * The canonical URI of a non-S3 service: the path as sent, normalized (empty and `.`
 * segments dropped, `..` applied), each segment URI-encoded once more. A segment sent as
 * `a%20b` is signed as `a%2520b`: the path is encoded twice in all (once on the wire),
 * which is what execute-api, @smithy/signature-v4 and aws4 all do.
 */
export function canonicalUri(wirePath: string): string {
  const segments: string[] = [];
  for (const segment of wirePath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(uriEncode(segment));
  }
  if (segments.length === 0) return '/';
  return `/${segments.join('/')}${wirePath.endsWith('/') ? '/' : ''}`;
}

function decodeQueryPart(text: string): string {
  // Form encoding: `+` is a space, as both reference signers read it.
  const spaced = text.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** The canonical query string: each name and value decoded, re-encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: Array<readonly [string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const equals = part.indexOf('=');
    const name = equals < 0 ? part : part.slice(0, equals);
    const value = equals < 0 ? '' : part.slice(equals + 1);
    pairs.push([uriEncode(decodeQueryPart(name)), uriEncode(decodeQueryPart(value))]);
  }
  pairs.sort(([nameA, valueA], [nameB, valueB]) =>
    nameA === nameB ? compare(valueA, valueB) : compare(nameA, nameB),
  );
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

/** Code-point order, as SigV4 sorts (not locale order). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every value of a header (case-insensitive name), in the order received. */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (let index = 0; index + 1 < rawHeaders.length; index += 2) {
    if ((rawHeaders[index] ?? '').toLowerCase() === wanted)
      values.push(rawHeaders[index + 1] ?? '');
  }
  return values;
}

/**
 * The canonical headers block: `name:value\n` per signed header, in the order the client
 * listed them, values trimmed with inner runs of spaces collapsed, repeats joined by commas.
 */
export function canonicalHeaders(rawHeaders: readonly string[], signed: readonly string[]): string {
  return signed
    .map((name) => {
      const values = headerValues(rawHeaders, name).map((value) =>
        value.trim().replace(/\s+/g, ' '),
      );
      return `${name}:${values.join(',')}\n`;
    })
    .join('');
}
