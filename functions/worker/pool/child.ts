/**
 * The pool's built-in child entry: serves the worker's kernel. The pool forks it as
 * `child.ts` from source, and as `pool-child.mjs` (built by esbuild beside the handler's
 * index.mjs) in the deployed asset; see child-script.ts.
 */
import { workerKernel } from '../kernel.ts';
import { serveKernel } from './child-runtime.ts';

serveKernel(workerKernel);
