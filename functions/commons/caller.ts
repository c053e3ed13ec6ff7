/**
 * Who calls the API: the IAM principal API Gateway authenticated (AWS_IAM, SigV4), read
 * once from the REST proxy event's `requestContext.identity.userArn`, and whether that
 * principal is one of the operators (ADMIN_PRINCIPAL_ARNS_ENV) who may see and cancel every
 * job. A request without an identity is refused: it is never anyone's, nor everyone's.
 *
 * The owner of a job is the principal's ARN, normalised so that one principal keeps one
 * owner across its credentials:
 * - an IAM user (`arn:aws:iam::<account>:user/<path/>name`) and the account root are kept
 *   as they are;
 * - an assumed-role session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`, what
 *   API Gateway reports for role credentials) becomes its role,
 *   `arn:aws:iam::<account>:role/<role>`. The session name is chosen by the client (the
 *   SDKs pick a random one), so keeping it would lose a caller's jobs with every new
 *   session; every session of one role is then one owner. The STS ARN has no role path,
 *   so the owner has none either.
 * - any other ARN (a federated user) is kept as it is.
 * Locally the API puts `arn:aws:iam::000000000000:user/<name>` there (infra/local/sigv4).
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference
 */

/** The environment variable of the operators' principal ARNs (named in the env contract). */
export { ADMIN_PRINCIPAL_ARNS_ENV } from './env.ts';

export interface Caller {
  /** The normalised principal ARN: the owner of the jobs this caller submits. */
  readonly ownerArn: string;
  /** Whether the caller is an operator (may see and cancel every job). */
  readonly isAdmin: boolean;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role\/([^/]+)\/[^/]+$/;
/** What an owner or admin ARN must look like: an IAM or STS principal of one account. */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[A-Za-z0-9+=,.@_/-]+$/;

/** The owner of a principal ARN: an assumed-role session becomes its role, see above. */
export function normalisePrincipalArn(arn: string): string {
  const session = ASSUMED_ROLE.exec(arn);
  if (session === null) return arn;
  const [, partition, account, role] = session;
  return `arn:${partition}:iam::${account}:role/${role}`;
}

export function isPrincipalArn(value: string): boolean {
  return PRINCIPAL_ARN.test(value);
}

/** A parsed list of principal ARNs, or the first entry that is not one. */
export type PrincipalArnList =
  | { readonly ok: true; readonly arns: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses a comma-separated list of principal ARNs (blank entries skipped, each normalised,
 * duplicates dropped). An empty text is an empty list.
 */
export function parsePrincipalArns(text: string): PrincipalArnList {
  const arns = new Set<string>();
  for (const raw of text.split(',')) {
    const arn = raw.trim();
    if (arn === '') continue;
    if (!isPrincipalArn(arn)) {
      return {
        ok: false,
        problem: `"${arn}" is not an IAM principal ARN such as arn:aws:iam::123456789012:role/operator`,
      };
    }
    arns.add(normalisePrincipalArn(arn));
  }
  return { ok: true, arns: [...arns] };
}

/** The part of a REST proxy event the caller is read from. */
export interface IdentityEvent {
  readonly requestContext?: { readonly identity?: { readonly userArn?: unknown } | null } | null;
}

/**
 * The caller of a request, or undefined when the event carries no principal ARN (the
 * router answers 403 NO_CALLER_IDENTITY).
 */
export function callerOf(event: IdentityEvent, admins: ReadonlySet<string>): Caller | undefined {
  const userArn = event.requestContext?.identity?.userArn;
  if (typeof userArn !== 'string' || !isPrincipalArn(userArn)) return undefined;
  const ownerArn = normalisePrincipalArn(userArn);
  return { ownerArn, isAdmin: admins.has(ownerArn) };
}

/** Whether `caller` may see and act on a job owned by `ownerArn` (undefined: no owner). */
export function mayAccess(caller: Caller, ownerArn: string | undefined): boolean {
  return caller.isAdmin || (ownerArn !== undefined && ownerArn === caller.ownerArn);
}
