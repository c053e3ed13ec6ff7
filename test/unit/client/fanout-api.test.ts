/** FanoutApi's requests: each route at its path, the job id as one path segment. */
import { describe, expect, it } from 'vitest';
import { FanoutApi } from '#client/index.ts';
import { FakeApi } from './fake-api.ts';

describe('Class: FanoutApi', () => {
  it('requests each route at its path and method', async () => {
    // Prepare: an id the fake does not know, so that every request is answered 404.
    const fake = new FakeApi();
    const api = new FanoutApi('http://127.0.0.1:3000', { signer: 'none', fetch: fake.fetch });
    const id = 'a/b';
    const refused = () => undefined;

    // Act
    await api.status(id).catch(refused);
    await api.resultsPage(id, 'c1').catch(refused);
    await api.cancel(id).catch(refused);
    await api.redrive(id).catch(refused);
    await api.startJob(id).catch(refused);
    await api.listJobs();

    // Assess
    expect(fake.requests.map((request) => `${request.method} ${request.url.pathname}`)).toEqual([
      'GET /jobs/a%2Fb',
      'GET /jobs/a%2Fb/results',
      'DELETE /jobs/a%2Fb',
      'POST /jobs/a%2Fb/redrive',
      'POST /jobs/a%2Fb/start',
      'GET /jobs',
    ]);
    expect(fake.requests[1]?.url.search).toBe('?cursor=c1');
  });
});
