/** How the CLI separates its options from its numbers. */
import { describe, expect, it } from 'vitest';
import { separateArguments } from '../../../bin/fanout.ts';

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
