/**
 * Resolves the `<spec>` argument of the CLI: a bundled name (`two-phase`), a path to a user's
 * `.ts`/`.js` file whose default export is a protocol, either one with `:variant`. Every way it
 * can fail is a UsageError with a message that says what to do, never a stack trace.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { importModule } from '../checker/import-module.ts';
import { bundledSpecs } from '../specs/catalogue.ts';
import { isProtocol, type Protocol } from '../specs/core/index.ts';
import { UsageError } from './io.ts';

export interface LoadedSpec {
  protocol: Protocol;
  /** How the user named it (for trace files and reproduce commands). */
  ref: string;
  /** The spec file's absolute path, unless bundled. */
  path?: string;
  /** The module worker threads load the spec from: the bundled spec's module, or the file. */
  module: string;
  variant: string | undefined;
}

/** Splits `name:variant`; a colon inside a path's directory part is not a separator. */
export function splitVariant(arg: string): [string, string | undefined] {
  const at = arg.lastIndexOf(':');
  if (at <= 0 || arg.slice(at + 1).includes('/')) return [arg, undefined];
  return [arg.slice(0, at), arg.slice(at + 1)];
}

function looksLikePath(ref: string): boolean {
  return ref.includes('/') || ref.includes('\\') || /\.(m?[jt]s|cts|mts)$/.test(ref);
}

export async function loadSpec(arg: string, cwd: string): Promise<LoadedSpec> {
  const [ref, variant] = splitVariant(arg);
  let protocol: Protocol;
  let path: string | undefined;
  let module: string;
  const bundled = bundledSpecs[ref];
  if (bundled && !looksLikePath(ref)) {
    protocol = await bundled.load();
    module = bundled.module;
  } else if (looksLikePath(ref)) {
    path = isAbsolute(ref) ? ref : resolve(cwd, ref);
    protocol = await loadFile(path);
    module = path;
  } else {
    throw new UsageError(`unknown spec '${ref}': not a bundled spec (${Object.keys(bundledSpecs).join(', ')}) nor a path to a .ts file`);
  }
  if (variant !== undefined) {
    try {
      protocol = protocol.variant(variant);
    } catch (e) {
      // By name: a spec file that brings its own copy of the library throws that copy's SpecError.
      if (e instanceof Error && e.name === 'SpecError') throw new UsageError(e.message.replace(/^variant: /, ''));
      throw e;
    }
  }
  return { protocol, ref, variant, path, module };
}

async function loadFile(path: string): Promise<Protocol> {
  if (!existsSync(path)) throw new UsageError(`spec file not found: ${path}`);
  if (!statSync(path).isFile()) throw new UsageError(`spec path is not a file: ${path}`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(path);
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    const hint = /REQUIRE_(CYCLE_MODULE|ESM)|require\(\) ES Module/.test(`${code} ${String((e as Error).message)}`)
      ? `\n  hint: the file was loaded as CommonJS; add "type": "module" to the package.json beside it, or name it .mts`
      : '';
    throw new UsageError(`cannot load spec file ${path}:\n${loadErrorMessage(e)}${hint}`);
  }
  const def = mod.default;
  if (def === undefined) {
    throw new UsageError(`spec file ${path} has no default export; end it with \`export default protocol(...).define(...)\` or \`export default defineProtocol(...)\``);
  }
  if (!isProtocol(def)) {
    throw new UsageError(`the default export of ${path} is not a protocol (make it with defineProtocol or protocol(...).define)`);
  }
  return def;
}

/** The useful part of a module-load failure: esbuild's located syntax errors (as esbuild prints them), or the thrown message. */
function loadErrorMessage(e: unknown): string {
  if (e && typeof e === 'object' && 'errors' in e && Array.isArray((e as { errors: unknown[] }).errors)) {
    return (e as { errors: { text: string; location?: { file: string; line: number; column: number; lineText: string } }[] }).errors
      .map((x) => (x.location ? `  ${x.location.file}:${x.location.line}:${x.location.column}: ERROR: ${x.text}\n    ${x.location.lineText}` : `  ERROR: ${x.text}`))
      .join('\n');
  }
  const message = e instanceof Error ? e.message : String(e);
  // Keep the first lines only: module loaders append long internal stacks.
  return message
    .split('\n')
    .filter((l) => !/^\s+at /.test(l))
    .slice(0, 8)
    .map((l) => `  ${l}`)
    .join('\n');
}
