/**
 * What every local emulator and client shares: a fake account, region and credentials
 * (the emulators accept any signature), free ports on the loopback interface, polling.
 */
import { createServer } from 'node:net';

/** Region of everything local. fauxqs derives queue ARNs from the signing region. */
export const LOCAL_REGION = 'us-east-1';
/** fauxqs's fixed account id; used for every local ARN so they agree. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_CREDENTIALS = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
} as const;

/** A port that is free on 127.0.0.1 right now. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** Completes "timed out after N ms waiting for …". */
  readonly what: string;
}

/** Resolves when `probe` first returns true; rejects after `timeoutMs`. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
