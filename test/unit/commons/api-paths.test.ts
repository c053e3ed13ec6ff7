/** The API's paths, built once for the functions and the client. */
import { describe, expect, it } from 'vitest';
import { JOBS_PATH, jobPath, redrivePath, resultsPath, startPath } from '#commons/api-paths.ts';

const JOB_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

describe('Function: jobPath', () => {
  it('builds the paths of a job and of its results, start and redrive', () => {
    expect(JOBS_PATH).toBe('/jobs');
    expect(jobPath(JOB_ID)).toBe(`/jobs/${JOB_ID}`);
    expect(resultsPath(JOB_ID)).toBe(`/jobs/${JOB_ID}/results`);
    expect(startPath(JOB_ID)).toBe(`/jobs/${JOB_ID}/start`);
    expect(redrivePath(JOB_ID)).toBe(`/jobs/${JOB_ID}/redrive`);
  });

  it('keeps an id that is not a UUID within its one path segment', () => {
    expect(jobPath('a/../b?c')).toBe('/jobs/a%2F..%2Fb%3Fc');
    expect(resultsPath('a b')).toBe('/jobs/a%20b/results');
  });
});
