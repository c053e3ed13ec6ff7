/**
 * SigV4 verification of a request to the local REST API, the way API Gateway checks a
 * method with AWS_IAM authorization: the same canonical request, string to sign and signing
 * key as the signer, the key's secret from the local principals, a constant-time comparison
 * of the signatures, and API Gateway's own 403 answers when anything is missing or wrong.
 *
 * The payload is always hashed from the body received: UNSIGNED-PAYLOAD is an Amazon S3
 * option, so a request signed with it does not match (aws-sdk-js-v3#308 shows execute-api
 * refusing one). Query-string (presigned) authentication is not played locally.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
 * @see https://repost.aws/knowledge-center/api-gateway-authentication-token-errors
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalHeaders, canonicalQuery, canonicalUri, headerValues } from './canonical.ts';
import type { PrincipalRegistry, VerifiedIdentity } from './principals.ts';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** The signing name of API Gateway's invoke endpoint. */
export const EXECUTE_API_SERVICE = 'execute-api';
/**
 * A signature is valid for 5 minutes either side of the server's clock: API Gateway answers
 * "Signature expired: … (… - 5 min.)" past that.
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** One request as received: method, raw target (path and query), raw headers, body bytes. */
export interface ReceivedRequest {
  readonly method: string;
  readonly target: string;
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

export interface VerifyOptions {
  readonly principals: PrincipalRegistry;
  /** The region the credential scope must name. */
  readonly region: string;
  /** @default 'execute-api' */
  readonly service?: string;
  /** @default new Date() */
  readonly now?: Date;
}

/** Why a request was refused: API Gateway's `x-amzn-ErrorType` and its message. */
export interface AuthFailure {
  readonly ok: false;
  readonly errorType:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'UnrecognizedClientException'
    | 'InvalidSignatureException';
  readonly message: string;
}

export type VerifyOutcome =
  | { readonly ok: true; readonly identity: VerifiedIdentity }
  | AuthFailure;

export const MISSING_TOKEN: AuthFailure = {
  ok: false,
  errorType: 'MissingAuthenticationTokenException',
  message: 'Missing Authentication Token',
};

const INVALID_TOKEN: AuthFailure = {
  ok: false,
  errorType: 'UnrecognizedClientException',
  message: 'The security token included in the request is invalid.',
};

function invalid(message: string): AuthFailure {
  return { ok: false, errorType: 'InvalidSignatureException', message };
}

function incomplete(message: string): AuthFailure {
  return { ok: false, errorType: 'IncompleteSignatureException', message };
}

interface AuthorizationHeader {
  readonly algorithm: string;
  readonly credential: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
function parseAuthorization(header: string, hasDate: boolean): AuthorizationHeader | AuthFailure {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const rest = space < 0 ? '' : header.slice(space + 1);
  const fields = new Map<string, string>();
  for (const piece of rest.split(',')) {
    const part = piece.trim();
    if (part === '') continue;
    const equals = part.indexOf('=');
    if (equals < 0) {
      return incomplete(
        `'${part}' not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`,
      );
    }
    fields.set(part.slice(0, equals), part.slice(equals + 1));
  }
  const problems: string[] = [];
  for (const name of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!fields.has(name)) problems.push(`Authorization header requires '${name}' parameter.`);
  }
  if (!hasDate) {
    problems.push(
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (problems.length > 0) return incomplete(`${problems.join(' ')} Authorization=${header}`);
  return {
    algorithm,
    credential: fields.get('Credential') ?? '',
    signedHeaders: (fields.get('SignedHeaders') ?? '').split(';').filter(Boolean),
    signature: fields.get('Signature') ?? '',
  };
}

/** `20150830T123600Z`, SigV4's ISO 8601 basic format. */
export function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** The request time: X-Amz-Date, else the HTTP Date header, in SigV4's format. */
function requestDate(rawHeaders: readonly string[]): { text: string; time: number } | undefined {
  const amz = headerValues(rawHeaders, 'x-amz-date').at(-1)?.trim();
  if (amz !== undefined) {
    const match = AMZ_DATE.exec(amz);
    const time =
      match === null
        ? Number.NaN
        : Date.UTC(
            Number(match[1]),
            Number(match[2]) - 1,
            Number(match[3]),
            Number(match[4]),
            Number(match[5]),
            Number(match[6]),
          );
    return { text: amz, time };
  }
  const http = headerValues(rawHeaders, 'date').at(-1);
  if (http === undefined) return undefined;
  const time = Date.parse(http);
  return { text: Number.isFinite(time) ? amzDate(new Date(time)) : http, time };
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** The canonical request of what was received, for the headers the client signed. */
export function canonicalRequest(
  request: ReceivedRequest,
  signedHeaders: readonly string[],
): string {
  const question = request.target.indexOf('?');
  const path = question < 0 ? request.target : request.target.slice(0, question);
  const query = question < 0 ? '' : request.target.slice(question + 1);
  return [
    request.method.toUpperCase(),
    canonicalUri(path),
    canonicalQuery(query),
    canonicalHeaders(request.rawHeaders, signedHeaders),
    signedHeaders.join(';'),
    sha256Hex(request.body),
  ].join('\n');
}

function sameSignature(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch is no secret (hex is 64 long).
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a request's SigV4 Authorization header.
 * @returns the caller's identity, or why API Gateway would refuse the request (a 403)
 */
export function verifySigV4(request: ReceivedRequest, options: VerifyOptions): VerifyOutcome {
  const service = options.service ?? EXECUTE_API_SERVICE;
  const header = headerValues(request.rawHeaders, 'authorization').at(-1);
  if (header === undefined || header.trim() === '') return MISSING_TOKEN;
  const date = requestDate(request.rawHeaders);
  const parsed = parseAuthorization(header.trim(), date !== undefined);
  if ('ok' in parsed) return parsed;
  if (date === undefined) return MISSING_TOKEN;
  if (parsed.algorithm !== SIGV4_ALGORITHM) {
    return incomplete(`Unsupported Authorization Type: '${parsed.algorithm}'.`);
  }
  const [accessKeyId = '', scopeDate = '', region = '', scopeService = '', terminator = ''] =
    parsed.credential.split('/');
  const principal = options.principals.find(accessKeyId);
  // Temporary credentials (a session token) are never issued locally.
  if (
    principal === undefined ||
    headerValues(request.rawHeaders, 'x-amz-security-token').length > 0
  )
    return INVALID_TOKEN;
  if (!parsed.signedHeaders.includes('host')) {
    return invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (region !== options.region) {
    return invalid(`Credential should be scoped to a valid region, not '${region}'. `);
  }
  if (scopeService !== service) {
    return invalid(`Credential should be scoped to correct service: '${service}'. `);
  }
  if (terminator !== 'aws4_request') {
    return invalid(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `,
    );
  }
  if (scopeDate !== date.text.slice(0, 8)) {
    return invalid(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${date.text.slice(0, 8)}', from '${date.text}'.`,
    );
  }
  const now = options.now ?? new Date();
  if (!Number.isFinite(date.time) || date.time < now.getTime() - MAX_CLOCK_SKEW_MS) {
    const earliest = amzDate(new Date(now.getTime() - MAX_CLOCK_SKEW_MS));
    return invalid(
      `Signature expired: ${date.text} is now earlier than ${earliest} (${amzDate(now)} - 5 min.)`,
    );
  }
  if (date.time > now.getTime() + MAX_CLOCK_SKEW_MS) {
    const latest = amzDate(new Date(now.getTime() + MAX_CLOCK_SKEW_MS));
    return invalid(
      `Signature not yet current: ${date.text} is still later than ${latest} (${amzDate(now)} + 5 min.)`,
    );
  }
  const canonical = canonicalRequest(request, parsed.signedHeaders);
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, date.text, scope, sha256Hex(canonical)].join('\n');
  const expected = createHmac(
    'sha256',
    signingKey(principal.secretAccessKey, scopeDate, region, service),
  )
    .update(stringToSign, 'utf8')
    .digest('hex');
  if (!sameSignature(expected, parsed.signature)) {
    return invalid(
      `The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${stringToSign}'\n`,
    );
  }
  return { ok: true, identity: options.principals.identityOf(principal) };
}
