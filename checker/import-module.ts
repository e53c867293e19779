/**
 * Imports a spec module by path or file URL, TypeScript included: the one place that decides
 * how a user's `.ts` spec gets loaded, for the CLI and for the worker threads of parallel runs.
 *
 * Running compiled (dist/), Node cannot load TypeScript (Node 20 has no type stripping), so a
 * `.ts`/`.mts`/`.cts` file goes through tsx's loader, registered only then: commands that load
 * no user TypeScript never load tsx. Running from the TypeScript sources (vitest, tsx), the
 * loader that runs this file loads the spec file too, and a plain `import()` keeps the spec and
 * the checker on one copy of the library.
 */
import { pathToFileURL } from 'node:url';

const typescript = /\.[cm]?tsx?$/;
/** True when this module is itself TypeScript, i.e. some loader already handles `.ts` files. */
const fromSources = import.meta.url.endsWith('.ts');

let tsxRegistered = false;

/** Imports `pathOrUrl` (an absolute path or a `file:` URL) and returns its namespace object. */
export async function importModule(pathOrUrl: string): Promise<Record<string, unknown>> {
  const url = pathOrUrl.startsWith('file:') ? pathOrUrl : pathToFileURL(pathOrUrl).href;
  if (!fromSources && typescript.test(new URL(url).pathname) && !tsxRegistered) {
    // A global registration, not tsImport's namespaced one: a spec importing `pacta` by name
    // then gets the very module instances this process runs (tsImport would load a second copy).
    let tsx: typeof import('tsx/esm/api');
    try {
      tsx = await import('tsx/esm/api');
    } catch {
      throw new Error(`loading a TypeScript spec takes tsx, a dependency of pacta that is not installed (run \`npm ci\` in pacta's folder), or compile the spec to JavaScript first`);
    }
    tsx.register();
    tsxRegistered = true;
  }
  return import(url);
}
