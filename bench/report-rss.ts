/**
 * Preloaded (`node --import`) into the CLI by the file bench: at exit, writes the process's
 * peak resident set (KiB, from getrusage) to the file named by RSS_REPORT_FILE_ENV, so the
 * bench reports the CLI's own memory and not its parent's.
 */
import { writeFileSync } from 'node:fs';

export const RSS_REPORT_FILE_ENV = 'FANOUT_BENCH_RSS_FILE';

const file = process.env[RSS_REPORT_FILE_ENV];
if (file !== undefined) {
  process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
}
