/**
 * Imports a spec module by path or file URL, TypeScript included: the one place that decides
 * how a user's `.ts` spec gets loaded, for the CLI and for the worker threads of parallel runs.
 *
 * Running from the TypeScript sources (vitest, tsx), the loader that runs this file loads the
 * spec file too: a plain `import()`. Running compiled (dist/), Node 20 cannot load TypeScript,
 * so a `.ts`/`.mts`/`.cts` file is compiled on load with esbuild, loaded only then (commands
 * that load no user TypeScript never load it): the spec and the TypeScript files it imports
 * become one ES module, every other import of it an absolute URL, and that module is imported
 * from a `data:` URL (no file written beside the user's). Measured against registering tsx's
 * loader (its `register` or `tsImport`), this costs about a third of the CPU (docs/performance.md).
 *
 * One copy of the library matters: a protocol built with one copy's `t.*` schemas is not a
 * protocol to another copy's checks (`t.struct: field 'op' is not a schema`). So `pacta-check` by name
 * resolves as Node resolves it (to this build), and a spec that imports pacta's own TypeScript
 * sources by path, as the bundled specs and the tests' specs do (`../specs/core/index.ts`), gets
 * their compiled modules, the ones this process runs.
 */
import { existsSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';

const typescript = /\.[cm]?tsx?$/;
/** True when this module is itself TypeScript, i.e. some loader already handles `.ts` files. */
const fromSources = import.meta.url.endsWith('.ts');

/** Imports `pathOrUrl` (an absolute path or a `file:` URL) and returns its namespace object. */
export async function importModule(pathOrUrl: string): Promise<Record<string, unknown>> {
  const url = pathOrUrl.startsWith('file:') ? pathOrUrl : pathToFileURL(pathOrUrl).href;
  if (fromSources || !typescript.test(new URL(url).pathname)) return import(url);
  const code = await compile(fileURLToPath(url));
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}

/** The spec file and the TypeScript it imports as one ES module whose imports are absolute URLs. */
async function compile(file: string): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('loading a TypeScript spec takes esbuild, a dependency of pacta that is not installed (run `npm ci` in pacta\'s folder), or compile the spec to JavaScript first');
  }
  // esbuild's failure carries `errors` with locations, which the CLI prints (cli/load-spec.ts).
  const result = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // As Node resolves a package without `exports`: its `main`, never a bundler's `module`.
    mainFields: ['main'],
    plugins: [externalsAsUrls],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** dist/, and the package root whose sources it compiles (this file is dist/checker/import-module.js). */
const build = fileURLToPath(new URL('../', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Keeps out of the bundle everything but the user's own files: a package import and a module of
 * pacta's sources that the build compiled become the absolute URL of the module Node would load
 * (for pacta's sources, the compiled one), so that a `data:` module can import them and they are
 * the very modules this process runs.
 */
const externalsAsUrls: Plugin = {
  name: 'pacta-externals',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind === 'entry-point' || args.pluginData === 'pacta-externals') return undefined;
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'pacta-externals' });
      if (resolved.errors.length > 0 || resolved.external) return resolved.errors.length > 0 ? { errors: resolved.errors } : { path: args.path, external: true };
      const compiled = compiledCounterpart(resolved.path);
      if (compiled) return { path: pathToFileURL(compiled).href, external: true };
      if (resolved.path.split(sep).includes('node_modules') || (isPackageImport(args.path) && !typescript.test(resolved.path))) {
        return { path: pathToFileURL(resolved.path).href, external: true };
      }
      return { path: resolved.path };
    });
  },
};

function isPackageImport(specifier: string): boolean {
  return !specifier.startsWith('.') && !specifier.startsWith('/') && !/^[a-zA-Z]:[\\/]/.test(specifier);
}

/** dist/…/x.js for a `.ts` source of pacta that the build compiled, else undefined. */
function compiledCounterpart(path: string): string | undefined {
  const rel = relative(root, path);
  if (rel.startsWith('..') || rel.startsWith(`dist${sep}`) || !rel.endsWith('.ts')) return undefined;
  const js = `${build}${rel.slice(0, -3)}.js`;
  return existsSync(js) ? js : undefined;
}
