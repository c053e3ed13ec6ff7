/**
 * What the local REST API needs to play AWS_IAM authorization: the principals and region,
 * and how a refusal is answered (403, API Gateway's `{"message"}` body and
 * `x-amzn-ErrorType` header).
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../emulators/common.ts';
import { DEFAULT_LOCAL_PRINCIPAL, type LocalPrincipal, PrincipalRegistry } from './principals.ts';
import {
  type AuthFailure,
  MISSING_TOKEN,
  type ReceivedRequest,
  type VerifyOutcome,
  verifySigV4,
} from './verify.ts';

export interface GatewayAuth {
  readonly principals: PrincipalRegistry;
  readonly region: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** The local API's auth: the default principal plus `extra`, in the local account and region. */
export function localGatewayAuth(extra: readonly LocalPrincipal[] = []): GatewayAuth {
  const principals = [DEFAULT_LOCAL_PRINCIPAL, ...extra];
  // A --principal named like the default one replaces it.
  const byName = new Map(principals.map((principal) => [principal.name, principal]));
  return {
    principals: new PrincipalRegistry([...byName.values()], LOCAL_ACCOUNT_ID),
    region: LOCAL_REGION,
  };
}

/** Checks one request of a method that requires AWS_IAM. */
export function authenticate(auth: GatewayAuth, request: ReceivedRequest): VerifyOutcome {
  return verifySigV4(request, {
    principals: auth.principals,
    region: auth.region,
    ...(auth.now === undefined ? {} : { now: auth.now() }),
  });
}

/** The gateway's answer to an unknown resource or method behind IAM auth. */
export const MISSING_TOKEN_FAILURE: AuthFailure = MISSING_TOKEN;

/** A refusal as the gateway's response parts. */
export function refusal(failure: AuthFailure): {
  readonly statusCode: 403;
  readonly body: { readonly message: string };
  readonly headers: Readonly<Record<string, string>>;
} {
  return {
    statusCode: 403,
    body: { message: failure.message },
    headers: { 'x-amzn-ErrorType': failure.errorType },
  };
}
