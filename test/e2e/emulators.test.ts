/**
 * The emulators' lifecycle: DynamoDB Local never outlives the process that started it, even
 * when that process is killed with SIGKILL and no cleanup code runs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from './helpers.ts';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Function: startDynamoDbLocal', () => {
  it('ends the JVM when its parent is SIGKILLed', { timeout: 60_000 }, async () => {
    const parent = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'hold-dynamodb.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    parent.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    await waitFor(() => /^\d+\n/.test(output), 45_000, 'the JVM pid');
    const javaPid = Number(output.trim());
    expect(isRunning(javaPid)).toBe(true);

    parent.kill('SIGKILL');
    await once(parent, 'exit');
    // The JVM sees its stdin close and halts.
    await waitFor(() => !isRunning(javaPid), 10_000, 'the JVM to exit');
    expect(isRunning(javaPid)).toBe(false);
  });
});
