/**
 * fauxqs (SQS, pinned 2.4.1) in-process, bound to 127.0.0.1 on a free port.
 *
 * `startFauxqs()` always listens on 0.0.0.0, so the app is built with `buildApp()` and
 * listened on loopback here. Its queue URLs would name `sqs.<region>.localhost`, which the SDK
 * would then try to reach; fauxqs looks queues up by the URL's last path segment, so the
 * stack hands out `http://127.0.0.1:PORT/<account>/<name>` URLs instead (see FACTS.md).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from 'fauxqs';
import { LOCAL_ACCOUNT_ID } from './common.ts';

export const FAUXQS_VERSION = '2.4.1';

export interface FauxqsLocal {
  readonly endpoint: string;
  readonly port: number;
  /** The URL clients must use for a queue of this name. */
  queueUrl(name: string): string;
  stop(): Promise<void>;
}

export function installedFauxqsVersion(): string {
  // fauxqs's exports map hides package.json and has no require condition; its main file
  // sits in dist/.
  const main = fileURLToPath(import.meta.resolve('fauxqs'));
  const manifest = JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}

export async function startFauxqsLocal(port = 0): Promise<FauxqsLocal> {
  const app = buildApp({ logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address !== 'object') {
    await app.close();
    throw new Error('fauxqs did not report its address');
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  let stopped = false;
  return {
    endpoint,
    port: address.port,
    queueUrl: (name) => `${endpoint}/${LOCAL_ACCOUNT_ID}/${name}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.close();
    },
  };
}
