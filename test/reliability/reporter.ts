/**
 * The reliability report (`npm run test:reliability`): a line per test as it ends, then a
 * table of fault -> outcome -> numbers checked, and as the very last line
 * `N passed, M failed`. Each test describes its row in `task.meta.reliability` (support.ts);
 * a test that failed before it could is shown with its error.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import type { ReliabilityRow } from './support.ts';

interface Row {
  readonly file: string;
  readonly fault: string;
  readonly outcome: string;
  readonly checked: string;
  readonly result: 'passed' | 'FAILED';
  readonly seconds: string;
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]?.slice(0, 160) ?? '';
}

function fileOf(testCase: TestCase): string {
  return (
    testCase.module.moduleId
      .split('/')
      .pop()
      ?.replace(/\.test\.ts$/, '') ?? '?'
  );
}

/** A test fails when it failed, or was skipped because its file or suite failed to start. */
function failed(testCase: TestCase): boolean {
  const state = testCase.result().state;
  if (state === 'failed') return true;
  if (state !== 'skipped') return false;
  // A hook that failed (beforeAll) leaves its error on the suite or the module.
  for (let parent: TestCase['parent'] | undefined = testCase.parent; parent !== undefined; ) {
    if (parent.errors().length > 0) return true;
    parent = parent.type === 'module' ? undefined : parent.parent;
  }
  return false;
}

function rowOf(testCase: TestCase): Row {
  const meta: ReliabilityRow | undefined = testCase.meta().reliability;
  const result = testCase.result();
  const isFailed = failed(testCase);
  const error =
    result.state === 'failed'
      ? firstLine(result.errors?.[0]?.message)
      : isFailed
        ? 'not run: its file failed to start'
        : '';
  return {
    file: fileOf(testCase),
    fault: meta?.fault ?? testCase.name,
    outcome: isFailed ? `FAILED: ${error}` : (meta?.outcome ?? 'passed'),
    checked:
      meta === undefined
        ? '-'
        : `${meta.checked.toLocaleString('en-US')} ${meta.unit ?? 'squares'}`,
    result: isFailed ? 'FAILED' : 'passed',
    seconds: ((testCase.diagnostic()?.duration ?? 0) / 1000).toFixed(1),
  };
}

function table(rows: readonly Row[]): string {
  const headers = ['file', 'fault / input', 'outcome', 'checked exactly', 'result', 's'];
  const cells = rows.map((row) => [
    row.file,
    row.fault,
    row.outcome,
    row.checked,
    row.result,
    row.seconds,
  ]);
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((line) => (line[column] ?? '').length)),
  );
  const format = (line: readonly string[]) =>
    `| ${line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [format(headers), rule, ...cells.map(format)].join('\n');
}

export default class ReliabilityReporter implements Reporter {
  readonly #started = Date.now();

  onTestCaseResult(testCase: TestCase): void {
    if (testCase.result().state === 'skipped' && !failed(testCase)) return;
    const row = rowOf(testCase);
    const mark = row.result === 'passed' ? 'ok  ' : 'FAIL';
    process.stdout.write(`${mark} ${row.file} > ${testCase.name} (${row.seconds} s)\n`);
    if (row.result === 'FAILED') {
      for (const error of testCase.result().errors ?? []) {
        process.stdout.write(`     ${error.stack ?? error.message}\n`);
      }
    }
  }

  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<{ message?: string }>,
  ): void {
    const rows: Row[] = [];
    for (const testModule of testModules) {
      for (const testCase of testModule.children.allTests()) {
        if (testCase.result().state === 'skipped' && !failed(testCase)) continue;
        rows.push(rowOf(testCase));
      }
      const moduleErrors = testModule.errors();
      if (moduleErrors.length > 0 && [...testModule.children.allTests()].length === 0) {
        rows.push({
          file: testModule.moduleId.split('/').pop() ?? '?',
          fault: '(file)',
          outcome: `FAILED: ${firstLine(moduleErrors[0]?.message)}`,
          checked: '-',
          result: 'FAILED',
          seconds: '0.0',
        });
      }
    }
    for (const error of unhandledErrors) {
      rows.push({
        file: '(run)',
        fault: 'unhandled error',
        outcome: `FAILED: ${firstLine(error.message)}`,
        checked: '-',
        result: 'FAILED',
        seconds: '0.0',
      });
    }
    const passed = rows.filter((row) => row.result === 'passed').length;
    const failedCount = rows.length - passed;
    const seconds = ((Date.now() - this.#started) / 1000).toFixed(1);
    process.stdout.write(`\nfanout reliability report (${seconds} s)\n\n${table(rows)}\n\n`);
    process.stdout.write(`${passed} passed, ${failedCount} failed\n`);
  }
}
