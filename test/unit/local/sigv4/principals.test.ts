/** The local principals: parsing `--principal name:key:secret`. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCAL_PRINCIPAL,
  PrincipalRegistry,
  parsePrincipal,
} from '#local/sigv4/principals.ts';
import { OTHER } from './requests.ts';

describe('Function: parsePrincipal', () => {
  it('reads NAME=ACCESS_KEY_ID:SECRET, the secret may hold colons', () => {
    expect(parsePrincipal('alice=AKIAALICEALICE0001:s3cr:et')).toEqual({
      name: 'alice',
      accessKeyId: 'AKIAALICEALICE0001',
      secretAccessKey: 's3cr:et',
    });
  });

  it.each([
    ['alice', 'must look like NAME=ACCESS_KEY_ID:SECRET'],
    ['al ice=AKIAALICEALICE0001:s', 'name "al ice" must be 1 to 64 characters'],
    ['alice=short:s', 'the access key id must be 16 to 128 characters'],
    ['alice=AKIAALICEALICE0001:', 'the secret must not be empty'],
  ])('refuses %s', (text, message) => {
    expect(() => parsePrincipal(text)).toThrow(message);
  });

  it('refuses two principals with one access key', () => {
    expect(
      () =>
        new PrincipalRegistry(
          [DEFAULT_LOCAL_PRINCIPAL, { ...OTHER, accessKeyId: DEFAULT_LOCAL_PRINCIPAL.accessKeyId }],
          '000000000000',
        ),
    ).toThrow(`two local principals use the access key ${DEFAULT_LOCAL_PRINCIPAL.accessKeyId}`);
  });
});
