/** How the CLI separates its options from its numbers, and how its commands exit. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, separateArguments } from '../../../bin/fanout.ts';
import { FakeApi } from '../client/fake-api.ts';

describe('Function: separateArguments', () => {
  it('keeps negative numbers as numbers and option values with their options', () => {
    expect(separateArguments(['-3', '--port', '3000', '4', '--json', '-', '-0.5'])).toEqual([
      '--port',
      '3000',
      '--json',
      '--',
      '-3',
      '4',
      '-',
      '-0.5',
    ]);
  });
});

/** The fake API on 127.0.0.1 (a random port), for the CLI's own fetch. */
async function serveFake(fake: FakeApi): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
      fake
        .fetch(new URL(request.url ?? '/', 'http://127.0.0.1'), {
          method: request.method ?? 'GET',
          headers,
          body: Buffer.concat(chunks),
        })
        .then(async (answer) => {
          response.writeHead(answer.status, { 'content-type': 'application/json' });
          response.end(await answer.text());
        })
        .catch(() => response.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

describe('Function: main', () => {
  let fake: FakeApi;
  let served: { server: Server; url: string };
  let stderr: string[];

  beforeEach(async () => {
    fake = new FakeApi();
    served = await serveFake(fake);
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    served.server.close();
  });

  it('exits 1 naming the job when results outlast --timeout, as wait does', async () => {
    // Prepare: a job of 1,000 chunks, which cannot end within 1 ms.
    fake.plan = { chunkSize: 1 };
    const numbers = Array.from({ length: 1_000 }, (_, index) => index);
    await fake.fetch(new URL('/jobs', served.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ numbers }),
    });
    const common = ['--url', served.url, '--timeout', '0.001', '--no-progress'];

    // Act
    const results = await main(['results', fake.jobId, ...common]);
    const wait = await main(['wait', fake.jobId, ...common]);

    // Assess
    expect(results).toBe(1);
    expect(wait).toBe(1);
    expect(stderr[0]).toBe(`fanout: job ${fake.jobId} is still RUNNING after 1 ms\n`);
    expect(stderr[1]).toBe(`fanout: job ${fake.jobId} is still RUNNING after 1 ms\n`);
    expect(fake.status).toBe('RUNNING');
  });

  it('exits 2 when the region of --api cannot be told, and names --region', async () => {
    // Prepare
    const { AWS_REGION, AWS_DEFAULT_REGION } = process.env;
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;

    // Act
    let code: number;
    try {
      code = await main(['status', fake.jobId, '--api', 'https://api.example.com/']);
    } finally {
      if (AWS_REGION !== undefined) process.env.AWS_REGION = AWS_REGION;
      if (AWS_DEFAULT_REGION !== undefined) process.env.AWS_DEFAULT_REGION = AWS_DEFAULT_REGION;
    }

    // Assess
    expect(code).toBe(2);
    expect(stderr).toEqual(['fanout: cannot tell the region of --api: give --region\n']);
  });
});
