/**
 * Trace files as the CLI writes them. A trace is meant to travel (a bug report, another
 * machine, a folder of counterexamples), so it names a spec file by its path relative to the
 * trace, with a hash of the file's content: a replay finds the spec beside a moved trace, and
 * says so when the spec changed since. File names carry a short hash of the options that shape
 * the state space, so runs of one variant under different options keep their own
 * counterexamples instead of overwriting each other's.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { writeOutputFile } from './output-file.ts';
import { normalizeOptions, type CheckOptions, type Options } from '../checker/options.ts';
import type { Protocol } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';
import { UsageError } from './io.ts';

/** 16 hex digits of the SHA-256 of a spec file's bytes (undefined when it cannot be read). */
export function specFileHash(path: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
  } catch {
    return undefined;
  }
}

/**
 * The trace as it is written to `traceFile`: a spec file (`specPath`, absolute) named by its path
 * relative to the trace's folder, in forward slashes, with its content hash. A bundled spec
 * (`specPath` undefined) keeps its name.
 */
export function portableTrace(trace: TraceFile, specPath: string | undefined, traceFile: string): TraceFile {
  if (specPath === undefined) return trace;
  let spec = relative(dirname(traceFile), specPath).split(sep).join('/');
  // A spec on another drive has no relative path: keep the absolute one.
  if (isAbsolute(spec)) spec = specPath;
  else if (!spec.startsWith('.')) spec = `./${spec}`;
  const specHash = specFileHash(specPath);
  return { ...trace, spec, ...(specHash !== undefined && { specHash }) };
}

/** Writes a trace file; a failure is the user's environment (exit 2), named with `flag`. */
export function writeTraceFile(file: string, trace: TraceFile, flag: string): void {
  writeOutputFile(file, `${JSON.stringify(trace, null, 1)}\n`, flag);
}

/**
 * The options that shape the state space (params, network, faults, clocks, bounds, reductions),
 * normalized, where they differ from what a bare check of this spec or variant uses. Empty for
 * a bare check: its trace keeps the short name the docs show.
 */
export function stateSpaceOptions(protocol: Protocol, given: CheckOptions): Record<string, unknown> {
  const shape = (o: Options): Record<string, unknown> => ({
    ...Object.fromEntries(Object.entries(o.params).map(([k, v]) => [`param.${k}`, v])),
    ...o.world,
    symmetry: o.symmetry,
    deadlock: o.deadlock,
    fairDelivery: o.fairDelivery,
    liveness: o.liveness,
    maxDepth: o.maxDepth,
  });
  const mode = given.mode ?? protocol.exposure?.options?.mode;
  const run = shape(normalizeOptions(protocol, given));
  const bare = shape(normalizeOptions(protocol, mode === undefined ? {} : { mode }));
  return Object.fromEntries(Object.entries(run).filter(([k, v]) => !Object.is(v, bare[k])).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Six hex digits of a hash of `options` (key order fixed, infinity spelled out). */
export function optionsHash(options: Record<string, unknown>): string {
  const text = JSON.stringify(options, (_, v: unknown) => (v === Number.POSITIVE_INFINITY ? 'none' : v));
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}

/**
 * `SPEC[.VARIANT].MODE.RESULT[.HASH].json` in `dir`: SPEC is the bundled name or the spec file's
 * base name; HASH ({@link optionsHash}) only when the run's state space differs from the bare check's.
 */
export function traceFilePath(dir: string, specRef: string, variant: string | undefined, mode: string, result: string, spaceOptions: Record<string, unknown>): string {
  const base = specRef.replace(/^.*[/\\]/, '').replace(/\.[^.]+$/, '');
  const hash = Object.keys(spaceOptions).length > 0 ? optionsHash(spaceOptions) : undefined;
  return join(dir, `${[base, variant, mode, result, hash].filter(Boolean).join('.')}.json`);
}
