import { describe, expect, it } from 'vitest';
import { callerOf, mayAccess, normalisePrincipalArn, parsePrincipalArns } from '#commons/caller.ts';

const USER = 'arn:aws:iam::123456789012:user/alice';
const ROLE = 'arn:aws:iam::123456789012:role/ops';

function event(userArn: unknown) {
  return { requestContext: { identity: { userArn } } };
}

describe('Function: normalisePrincipalArn', () => {
  it('returns the role of an assumed-role session, whatever the session name', () => {
    expect(normalisePrincipalArn('arn:aws:sts::123456789012:assumed-role/ops/alice-1')).toBe(ROLE);
    expect(normalisePrincipalArn('arn:aws:sts::123456789012:assumed-role/ops/i-0abc')).toBe(ROLE);
    expect(normalisePrincipalArn('arn:aws-cn:sts::123456789012:assumed-role/ops/s')).toBe(
      'arn:aws-cn:iam::123456789012:role/ops',
    );
  });

  it('keeps an IAM user, a role, the root and a federated user as they are', () => {
    for (const arn of [
      USER,
      ROLE,
      'arn:aws:iam::123456789012:root',
      'arn:aws:sts::123456789012:federated-user/bob',
    ]) {
      expect(normalisePrincipalArn(arn)).toBe(arn);
    }
  });
});

describe('Function: callerOf', () => {
  it('returns the normalised owner and whether it is an operator', () => {
    const admins = new Set([ROLE]);
    expect(callerOf(event(USER), admins)).toEqual({ ownerArn: USER, isAdmin: false });
    expect(callerOf(event('arn:aws:sts::123456789012:assumed-role/ops/x'), admins)).toEqual({
      ownerArn: ROLE,
      isAdmin: true,
    });
  });

  it('returns undefined when the event has no principal ARN, or not one', () => {
    const none = new Set<string>();
    expect(callerOf({}, none)).toBeUndefined();
    expect(callerOf({ requestContext: null }, none)).toBeUndefined();
    expect(callerOf({ requestContext: { identity: null } }, none)).toBeUndefined();
    expect(callerOf(event(null), none)).toBeUndefined();
    expect(callerOf(event(''), none)).toBeUndefined();
    expect(callerOf(event('anonymous'), none)).toBeUndefined();
    expect(callerOf(event(42), none)).toBeUndefined();
  });
});

describe('Function: mayAccess', () => {
  it('lets the owner and the operators in, and nobody into a job without an owner but operators', () => {
    const owner = { ownerArn: USER, isAdmin: false };
    const other = { ownerArn: ROLE, isAdmin: false };
    const admin = { ownerArn: ROLE, isAdmin: true };
    expect(mayAccess(owner, USER)).toBe(true);
    expect(mayAccess(other, USER)).toBe(false);
    expect(mayAccess(admin, USER)).toBe(true);
    expect(mayAccess(owner, undefined)).toBe(false);
    expect(mayAccess(admin, undefined)).toBe(true);
  });
});

describe('Function: parsePrincipalArns', () => {
  it('parses, trims, normalises and deduplicates a comma-separated list', () => {
    expect(
      parsePrincipalArns(` ${USER},,${ROLE}, arn:aws:sts::123456789012:assumed-role/ops/s `),
    ).toEqual({ ok: true, arns: [USER, ROLE] });
    expect(parsePrincipalArns('')).toEqual({ ok: true, arns: [] });
  });

  it('names the first entry that is not a principal ARN', () => {
    expect(parsePrincipalArns(`${USER},arn:aws:s3:::bucket`)).toEqual({
      ok: false,
      problem:
        '"arn:aws:s3:::bucket" is not an IAM principal ARN such as arn:aws:iam::123456789012:role/operator',
    });
  });
});
