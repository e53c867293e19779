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
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Model } from '../checker/model.ts';
import { OptionsError } from '../checker/options.ts';
import { modelForTrace, ReplayMismatch } from '../checker/replay.ts';
import { bundledSpecs } from '../specs/catalogue.ts';
import type { Protocol } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';
import { parseTrace, TraceError } from '../traces/read.ts';
import { UsageError } from './io.ts';
import { loadSpec, splitVariant } from './load-spec.ts';

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
    let full = isAbsolute(ref) ? ref : resolve(cwd, ref);
    if (!isAbsolute(ref) && !existsSync(full) && existsSync(resolve(dirname(tracePath), ref))) full = resolve(dirname(tracePath), ref);
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

/** Reads a trace and builds the model it replays on (`specArg`: the `--spec` flag). */
export async function loadTrace(path: string, cwd: string, specArg?: string): Promise<{ trace: TraceFile; path: string; protocol: Protocol; model: Model }> {
  const { trace, path: full } = readTraceFile(path, cwd);
  const protocol = await traceProtocol(trace, full, cwd, specArg);
  try {
    return { trace, path: full, protocol, model: modelForTrace(protocol, trace) };
  } catch (e) {
    if (e instanceof ReplayMismatch || e instanceof OptionsError) throw new UsageError(`${path}: ${e.message}`);
    if (e instanceof Error && e.name === 'SpecError') throw new UsageError(`${path}: the trace's params do not fit the spec: ${e.message}`);
    throw e;
  }
}
