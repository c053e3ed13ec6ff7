/** Shared by the pool tests: fixture paths, process liveness, polling. */

/** A fixture child script of test/fixtures/pool. */
export function fixture(name: string): URL {
  return new URL(`../../fixtures/pool/${name}`, import.meta.url);
}

/** Whether a process with this pid exists (signal 0 only checks; ESRCH means it is gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ESRCH') return false;
    throw error;
  }
}

/** Resolves once `condition()` holds; rejects after `timeoutMs` (generous: CI has 2 cores). */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
