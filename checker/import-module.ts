/**
 * Imports a spec module by path or file URL, TypeScript included: the one place that decides
 * how a user's `.ts` spec gets loaded, for the CLI and for the worker threads of parallel runs.
 *
 * Running compiled (dist/), Node cannot load TypeScript (Node 20 has no type stripping), so a
 * `.ts`/`.mts`/`.cts` file goes through tsx's loader, registered only then: commands that load
 * no user TypeScript never load tsx. Running from the TypeScript sources (vitest, tsx), the
 * loader that runs this file loads the spec file too, and a plain `import()` keeps the spec and
 * the checker on one copy of the library.
 *
 * One copy matters: a protocol built with one copy's `t.*` schemas is not a protocol to another
 * copy's checks (`t.struct: field 'op' is not a schema`). So, compiled, tsx is registered
 * globally (tsx's namespaced `tsImport` would load `pacta` a second time, under a query), and a
 * spec that imports pacta's own TypeScript sources by path, as the bundled specs and the tests'
 * specs do (`../specs/core/index.ts`), gets their compiled modules, the ones this process runs.
 */
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const typescript = /\.[cm]?tsx?$/;
/** True when this module is itself TypeScript, i.e. some loader already handles `.ts` files. */
const fromSources = import.meta.url.endsWith('.ts');

/**
 * A resolve hook (a module of its own: Node runs hooks on a loader thread): a module of pacta's
 * sources that the build compiled resolves to the compiled one.
 */
const sourcesToBuild = `
import { existsSync } from 'node:fs';
let source = '';
let build = '';
export async function initialize(data) {
  source = data.source;
  build = data.build;
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.startsWith(source) && !resolved.url.startsWith(build) && resolved.url.endsWith('.ts')) {
    const url = build + resolved.url.slice(source.length, -3) + '.js';
    if (existsSync(new URL(url))) return { ...resolved, url, format: 'module' };
  }
  return resolved;
}`;

let typescriptLoader: Promise<void> | undefined;

async function registerTypescriptLoader(): Promise<void> {
  let tsx: typeof import('tsx/esm/api');
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    throw new Error(`loading a TypeScript spec takes tsx, a dependency of pacta that is not installed (run \`npm ci\` in pacta's folder), or compile the spec to JavaScript first`);
  }
  tsx.register();
  // Registered after tsx, so it runs first and sees what tsx resolved. This file is
  // dist/checker/import-module.js: dist/ is one folder up, the package root two.
  const build = new URL('../', import.meta.url).href;
  const source = new URL('../../', import.meta.url).href;
  register(`data:text/javascript,${encodeURIComponent(sourcesToBuild)}`, { data: { source, build } });
}

/** Imports `pathOrUrl` (an absolute path or a `file:` URL) and returns its namespace object. */
export async function importModule(pathOrUrl: string): Promise<Record<string, unknown>> {
  const url = pathOrUrl.startsWith('file:') ? pathOrUrl : pathToFileURL(pathOrUrl).href;
  if (!fromSources && typescript.test(new URL(url).pathname)) await (typescriptLoader ??= registerTypescriptLoader());
  return import(url);
}
