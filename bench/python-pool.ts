/**
 * The baseline of the end-to-end benches: the tutorial's own program, Python's
 * multiprocessing.Pool.map squaring a file of numbers, timed from the file's load (a JSON array,
 * or one integer per line) to the pool's close, so both sides pay for reading their input.
 */
export type PythonInput = 'json' | 'lines';

const LOADS: Readonly<Record<PythonInput, string>> = {
  json: 'json.load(f)',
  lines: '[int(line) for line in f]',
};

/** The script; it prints one JSON line: loadMs, poolStartMs, mapMs, totalMs, processes, count, sum. */
export function poolMapScript(input: PythonInput): string {
  return `
import json, multiprocessing, sys, time
def square(n):
    return n * n
if __name__ == "__main__":
    t0 = time.perf_counter()
    with open(sys.argv[1]) as f:
        numbers = ${LOADS[input]}
    t1 = time.perf_counter()
    with multiprocessing.Pool() as pool:
        t2 = time.perf_counter()
        results = pool.map(square, numbers)
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    print(json.dumps({"loadMs": (t1 - t0) * 1000, "poolStartMs": (t2 - t1) * 1000,
                      "mapMs": (t3 - t2) * 1000, "totalMs": (t4 - t0) * 1000,
                      "processes": multiprocessing.cpu_count(), "count": len(results),
                      "sum": str(sum(results))}))
`;
}
