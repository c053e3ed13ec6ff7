/**
 * The shared function construct's pieces that do not need a synth: the afterBundling
 * commands that build extra entries, and the validation of those entries.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  ESM_REQUIRE_BANNER,
  extraEntryCommands,
  FanoutFunction,
  PROJECT_ROOT,
} from '../../infra/constructs/fanout-function.ts';
import { testApp } from './support.ts';

describe('Function: extraEntryCommands', () => {
  it('builds each extra entry with the local esbuild as ESM for node24, beside index.mjs', () => {
    const [command, ...rest] = extraEntryCommands(
      [{ entry: 'functions/worker/pool/child.ts', outFile: 'pool-child.mjs' }],
      '/repo',
      '/asset',
    );
    expect(rest).toEqual([]);
    expect(command).toBe(
      [
        "'/repo/node_modules/.bin/esbuild'",
        "'/repo/functions/worker/pool/child.ts'",
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--target=node24',
        '--main-fields=module,main',
        '--minify',
        '--keep-names',
        '--sourcemap',
        '--log-level=warning',
        `'--banner:js=${ESM_REQUIRE_BANNER}'`,
        "'--outfile=/asset/pool-child.mjs'",
      ].join(' '),
    );
  });

  it('returns no command when there is no extra entry', () => {
    expect(extraEntryCommands([], '/repo', '/asset')).toEqual([]);
  });

  it('quotes single quotes in paths for the shell', () => {
    const [command] = extraEntryCommands([{ entry: 'a.ts', outFile: 'b.mjs' }], "/it's", '/o');
    expect(command).toContain("'/it'\\''s/node_modules/.bin/esbuild'");
  });
});

describe('Class: FanoutFunction', () => {
  const base = {
    entry: 'functions/commons/limits.ts', // any existing file: bundling is skipped here
    description: 'probe',
    memorySize: 128,
    timeout: Duration.seconds(3),
    logLevel: 'INFO',
    logRemovalPolicy: RemovalPolicy.DESTROY,
  };

  it.each([
    ['index.mjs', 'must be a plain file name ending in .mjs, other than index.mjs'],
    ['child.js', 'must be a plain file name ending in .mjs, other than index.mjs'],
    ['../child.mjs', 'must be a plain file name ending in .mjs, other than index.mjs'],
  ])('throws when an extra entry outFile is %s', (outFile, message) => {
    const stack = new Stack(testApp(), 'Probe');
    expect(
      () =>
        new FanoutFunction(stack, 'Probe', {
          ...base,
          extraEntries: [{ entry: 'functions/commons/types.ts', outFile }],
        }),
    ).toThrow(`Probe/Probe: extra entry outFile "${outFile}" ${message}.`);
  });

  it('throws when an extra entry leaves the repository', () => {
    const stack = new Stack(testApp(), 'Probe');
    expect(
      () =>
        new FanoutFunction(stack, 'Probe', {
          ...base,
          extraEntries: [{ entry: '../elsewhere/child.ts', outFile: 'child.mjs' }],
        }),
    ).toThrow(
      'Probe/Probe: extra entry "../elsewhere/child.ts" must be a path relative to the repository root.',
    );
  });

  it('throws when an extra entry file is missing and the stack is bundled', () => {
    const stack = new Stack(new App(), 'Probe');
    expect(
      () =>
        new FanoutFunction(stack, 'Probe', {
          ...base,
          extraEntries: [{ entry: 'functions/missing/child.ts', outFile: 'child.mjs' }],
        }),
    ).toThrow('Probe/Probe: cannot find extra entry file at functions/missing/child.ts.');
  });

  it('resolves entries against the repository root', () => {
    expect(PROJECT_ROOT).toBe(new URL('../..', import.meta.url).pathname.replace(/\/$/, ''));
  });
});
