/** The CLI's API client signed for a deployed stack, and the region read from its URL. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createSigV4Signer, FanoutClient, regionOfApiUrl } from '../../../bin/client.ts';

describe('Function: createSigV4Signer', () => {
  it('signs API requests for execute-api with the default credential chain', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"jobId":"j","status":"RUNNING","numbersCount":1}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // test/setup.ts puts fake credentials in the environment, the chain's first source.
      const client = new FanoutClient(
        `http://127.0.0.1:${port}/v1`,
        await createSigV4Signer('eu-west-1'),
      );
      await client.status('j');
      expect(seen[0]?.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    } finally {
      server.close();
    }
  });

  it('reads the region from an execute-api URL', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.eu-central-1.amazonaws.com/v1/')).toBe(
      'eu-central-1',
    );
    expect(regionOfApiUrl('http://127.0.0.1:3000')).toBeUndefined();
  });
});
