/**
 * Where the built-in child entry is at run time.
 *
 * esbuild does not follow `fork()` paths, so the deployed asset carries the child as a second
 * bundle: the worker's CDK construct builds `functions/worker/pool/child.ts` to
 * `pool-child.mjs` beside the handler's `index.mjs`. In that bundle every module shares the
 * bundle's `import.meta.url` (index.mjs), so the child is its sibling. In source (Node's type
 * stripping, vitest) this module is `pool/child-script.ts`, and the child is `child.ts` beside it.
 */

/** The bundled child's file name, beside the handler bundle (index.mjs). */
export const BUNDLED_CHILD_FILE = 'pool-child.mjs';

export function defaultChildScript(moduleUrl: string = import.meta.url): URL {
  return moduleUrl.endsWith('.ts')
    ? new URL('./child.ts', moduleUrl)
    : new URL(`./${BUNDLED_CHILD_FILE}`, moduleUrl);
}
