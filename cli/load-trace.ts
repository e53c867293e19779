/**
 * Loads a trace file for `pacta show | replay | minimize`: reads and validates it, then loads
 * the spec it names and its variant, and builds the model it replays on. Every way this can
 * fail is a UsageError (exit 2) naming the file.
 *
 * A trace is data, and data never runs code (DESIGN.md, "Bad input"): a trace shipped in a bug
 * report beside a module must not run that module. So the spec a trace names is loaded only
 * when it is bundled with pacta, when the user names it on the command line (`--spec`), or
 * when its file lies under the working directory (the user's own project). Any other path is
 * refused with the flag that allows it.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Model } from '../checker/model.ts';
import { OptionsError } from '../checker/options.ts';
import { modelForTrace, ReplayMismatch } from '../checker/replay.ts';
import { bundledSpecs } from '../specs/catalogue.ts';
import type { Protocol } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';
import { parseTrace, TraceError } from '../traces/read.ts';
import { UsageError } from './io.ts';
import { loadSpec, splitVariant } from './load-spec.ts';
import { specFileHash } from './trace-file.ts';

/** Reads and validates a trace file (a regular file: not a folder, FIFO or device). */
export function readTraceFile(path: string, cwd: string): { trace: TraceFile; path: string } {
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  if (!existsSync(full)) throw new UsageError(`trace file not found: ${path}`);
  if (!statSync(full).isFile()) throw new UsageError(`not a regular file: ${path}`);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return { trace: parseTrace(text), path: full };
  } catch (e) {
    if (e instanceof TraceError) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}

/** True when the trace names a bundled spec (pacta's own code: loading it runs nothing from the data). */
export function namesBundledSpec(trace: TraceFile): boolean {
  return Object.hasOwn(bundledSpecs, trace.spec) && !/[/\\]|\.(m?[jt]s|cts|mts)$/.test(trace.spec);
}

/** Is `path` (resolved through symlinks) the folder `dir` or inside it? */
function isUnder(path: string, dir: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const rel = relative(real(dir), real(path));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The protocol (variant applied) a trace replays on. `specArg`, the `--spec` flag, names the
 * spec explicitly (a bundled name or a path) and wins over the trace's own `spec` field.
 */
export async function traceProtocol(trace: TraceFile, tracePath: string, cwd: string, specArg?: string): Promise<Protocol> {
  const named = (ref: string) => (trace.variant ? `${ref}:${trace.variant}` : ref);
  let ref = trace.spec;
  if (specArg !== undefined) {
    ref = specArg;
  } else if (!namesBundledSpec(trace) && /[/\\]|\.(m?[jt]s|cts|mts)$/.test(ref)) {
    // (A name that is neither bundled nor a path: loadSpec says it is unknown, and lists the bundled ones.)
    const full = traceSpecFile(trace, tracePath, cwd);
    if (!isUnder(full, cwd)) {
      throw new UsageError(
        `the trace names spec file ${trace.spec}, outside the working directory: a trace is data, and pacta does not load code a data file points to. ` +
          `If you trust that file, name it yourself: --spec ${full}`,
      );
    }
    ref = full;
  }
  try {
    const loaded = await loadSpec(specArg !== undefined && splitVariant(specArg)[1] !== undefined ? specArg : named(ref), cwd);
    return loaded.protocol;
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${specArg !== undefined ? `--spec ${specArg}` : `the trace names spec "${trace.spec}"`}${trace.variant ? ` variant "${trace.variant}"` : ''}, which cannot be loaded: ${e.message}`);
    throw e;
  }
}

/**
 * The spec file a trace names (not a bundled spec), as an absolute path. A relative path is
 * relative to the trace's folder (what `pacta check` writes); failing that, to the working
 * directory (traces written before paths were made relative); failing that, the file of that
 * name beside the trace (a trace moved together with its spec). A path found nowhere is returned
 * as the trace names it, relative to the trace, for the loader to report.
 */
export function traceSpecFile(trace: TraceFile, tracePath: string, cwd: string): string {
  const ref = trace.spec;
  const candidates = isAbsolute(ref) ? [ref] : [resolve(dirname(tracePath), ref), resolve(cwd, ref)];
  candidates.push(join(dirname(tracePath), basename(ref.replace(/\\/g, '/'))));
  return candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

/**
 * Why replaying on `specPath` may not reproduce the trace: the file's content hash differs from
 * the one the trace recorded (the spec was edited since). Undefined when they match, or when the
 * trace recorded none (a bundled spec, a trace from an older pacta).
 */
export function specChange(trace: TraceFile, specPath: string | undefined): string | undefined {
  if (specPath === undefined || trace.specHash === undefined) return undefined;
  const now = specFileHash(specPath);
  if (now === undefined || now === trace.specHash) return undefined;
  return `the spec file ${specPath} changed since the trace was written (content hash ${trace.specHash}, now ${now})`;
}

/**
 * Reads a trace and builds the model it replays on (`specArg`: the `--spec` flag). `specPath`
 * is the spec file loaded (undefined for a bundled spec); `specChanged` says why a replay may
 * diverge (see {@link specChange}).
 */
export async function loadTrace(
  path: string,
  cwd: string,
  specArg?: string,
): Promise<{ trace: TraceFile; path: string; protocol: Protocol; model: Model; specPath?: string; specChanged?: string }> {
  const { trace, path: full } = readTraceFile(path, cwd);
  const protocol = await traceProtocol(trace, full, cwd, specArg);
  const isPath = (ref: string) => /[/\\]|\.(m?[jt]s|cts|mts)$/.test(ref);
  const specPath = specArg !== undefined
    ? (isPath(splitVariant(specArg)[0]) ? resolve(cwd, splitVariant(specArg)[0]) : undefined)
    : (namesBundledSpec(trace) || !isPath(trace.spec) ? undefined : traceSpecFile(trace, full, cwd));
  // A spec named by --spec is the user's choice: its content may differ from the trace's on purpose.
  const specChanged = specArg === undefined ? specChange(trace, specPath) : undefined;
  try {
    return { trace, path: full, protocol, model: modelForTrace(protocol, trace), ...(specPath !== undefined && { specPath }), ...(specChanged !== undefined && { specChanged }) };
  } catch (e) {
    if (e instanceof ReplayMismatch || e instanceof OptionsError) throw new UsageError(`${path}: ${e.message}`);
    if (e instanceof Error && e.name === 'SpecError') throw new UsageError(`${path}: the trace's params do not fit the spec: ${e.message}`);
    throw e;
  }
}
