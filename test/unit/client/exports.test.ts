/**
 * What the client's modules export at run time: only what another module imports, so that a
 * helper used in its own file alone stays private to it.
 */
import { describe, expect, it } from 'vitest';
import * as http from '#client/http.ts';
import * as job from '#client/job.ts';

describe('Module: client/http.ts', () => {
  it('exports the transport alone, its default signer kept inside', () => {
    expect(Object.keys(http).sort()).toEqual(['HttpTransport']);
  });
});

describe('Module: client/job.ts', () => {
  it('exports the Job alone, the error of its end kept inside', () => {
    expect(Object.keys(job).sort()).toEqual(['Job']);
  });
});
