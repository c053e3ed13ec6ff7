/**
 * The local stack's IAM principals: who may call the local API, with which key. A fixed
 * default principal lets the CLI and the client library sign local requests by themselves;
 * more are added with `fanout serve --principal NAME=ACCESS_KEY_ID:SECRET`.
 */
import { createHash } from 'node:crypto';

/** One local principal: an IAM user of the local account. */
export interface LocalPrincipal {
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What API Gateway puts in `requestContext.identity` for a caller it authenticated. */
export interface VerifiedIdentity {
  readonly accessKey: string;
  /** The principal's unique id (AIDA… for an IAM user). */
  readonly caller: string;
  readonly user: string;
  readonly userArn: string;
  readonly accountId: string;
  /** The local principal's name. */
  readonly name: string;
}

/**
 * The default local principal. Its keys are fixed and public on purpose: they protect
 * nothing, they make the local API refuse what the deployed one refuses (unsigned or
 * wrongly signed requests) with the same answers.
 */
export const DEFAULT_LOCAL_PRINCIPAL: LocalPrincipal = {
  name: 'local',
  accessKeyId: 'AKIAFANOUTLOCAL00001',
  secretAccessKey: 'fanout-local-secret-key-for-127.0.0.1-only',
};

const PRINCIPAL_NAME = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;

/**
 * Parses `NAME=ACCESS_KEY_ID:SECRET` (the `--principal` option). An IAM user name is 1–64
 * characters of `A-Za-z0-9+=,.@_-`; an access key id 16–128 of `A-Z0-9`.
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html
 * @see https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html
 * @throws TypeError naming what is wrong
 */
export function parsePrincipal(text: string): LocalPrincipal {
  const equals = text.indexOf('=');
  const colon = text.indexOf(':', equals + 1);
  if (equals <= 0 || colon < 0) {
    throw new TypeError(`--principal must look like NAME=ACCESS_KEY_ID:SECRET, got "${text}"`);
  }
  const name = text.slice(0, equals);
  const accessKeyId = text.slice(equals + 1, colon);
  const secretAccessKey = text.slice(colon + 1);
  if (!PRINCIPAL_NAME.test(name)) {
    throw new TypeError(
      `--principal name "${name}" must be 1 to 64 characters of A-Z a-z 0-9 + = , . @ _ -`,
    );
  }
  if (!ACCESS_KEY_ID.test(accessKeyId)) {
    throw new TypeError(
      `--principal ${name}: the access key id must be 16 to 128 characters of A-Z 0-9`,
    );
  }
  if (secretAccessKey.length < 1) {
    throw new TypeError(`--principal ${name}: the secret must not be empty`);
  }
  return { name, accessKeyId, secretAccessKey };
}

/** The ARN of a local principal: an IAM user of the local account. */
export function principalArn(accountId: string, name: string): string {
  return `arn:aws:iam::${accountId}:user/${name}`;
}

/** A stable IAM-user-like unique id (AIDA + 17 characters) for a local principal. */
function uniqueId(accountId: string, name: string): string {
  const digest = createHash('sha256').update(`${accountId}/${name}`).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = 'AIDA';
  for (let index = 0; index < 17; index++) id += alphabet[(digest[index] ?? 0) % 32];
  return id;
}

/** The principals a local API accepts, by access key id. */
export class PrincipalRegistry {
  readonly accountId: string;
  readonly #byKey = new Map<string, LocalPrincipal>();

  /**
   * @throws TypeError when two principals share a name or an access key id
   */
  constructor(principals: readonly LocalPrincipal[], accountId: string) {
    this.accountId = accountId;
    const names = new Set<string>();
    for (const principal of principals) {
      if (names.has(principal.name)) {
        throw new TypeError(`two local principals are named "${principal.name}"`);
      }
      if (this.#byKey.has(principal.accessKeyId)) {
        throw new TypeError(`two local principals use the access key ${principal.accessKeyId}`);
      }
      names.add(principal.name);
      this.#byKey.set(principal.accessKeyId, principal);
    }
  }

  get principals(): readonly LocalPrincipal[] {
    return [...this.#byKey.values()];
  }

  find(accessKeyId: string): LocalPrincipal | undefined {
    return this.#byKey.get(accessKeyId);
  }

  identityOf(principal: LocalPrincipal): VerifiedIdentity {
    const id = uniqueId(this.accountId, principal.name);
    return {
      accessKey: principal.accessKeyId,
      caller: id,
      user: id,
      userArn: principalArn(this.accountId, principal.name),
      accountId: this.accountId,
      name: principal.name,
    };
  }
}

/**
 * `serve --json`'s `principals` member: `{NAME: {accessKeyId, secretAccessKey}}`.
 */
export function principalsJson(
  principals: readonly LocalPrincipal[],
): Record<string, { accessKeyId: string; secretAccessKey: string }> {
  const json: Record<string, { accessKeyId: string; secretAccessKey: string }> = {};
  for (const { name, accessKeyId, secretAccessKey } of principals) {
    json[name] = { accessKeyId, secretAccessKey };
  }
  return json;
}
