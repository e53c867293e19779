/**
 * Loads a trace file for `pacta show | replay | minimize`: reads and validates it, then loads
 * the spec it names (a bundled name, or a path resolved against the working directory and then
 * against the trace file's directory) and its variant, and builds the model it replays on.
 * Every way this can fail is a UsageError (exit 2) naming the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Model } from '../checker/model.ts';
import { OptionsError } from '../checker/options.ts';
import { modelForTrace, ReplayMismatch } from '../checker/replay.ts';
import type { Protocol } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';
import { parseTrace, TraceError } from '../traces/read.ts';
import { UsageError } from './io.ts';
import { loadSpec } from './load-spec.ts';

/** Reads and validates a trace file. */
export function readTraceFile(path: string, cwd: string): { trace: TraceFile; path: string } {
  const full = isAbsolute(path) ? path : resolve(cwd, path);
  if (!existsSync(full)) throw new UsageError(`trace file not found: ${path}`);
  if (!statSync(full).isFile()) throw new UsageError(`not a file: ${path}`);
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

/** The protocol (variant applied) a trace names. */
export async function traceProtocol(trace: TraceFile, tracePath: string, cwd: string): Promise<Protocol> {
  let ref = trace.spec;
  const isPath = /[/\\]|\.(m?[jt]s|cts|mts)$/.test(ref);
  if (isPath && !isAbsolute(ref) && !existsSync(resolve(cwd, ref)) && existsSync(resolve(dirname(tracePath), ref))) {
    ref = resolve(dirname(tracePath), ref);
  }
  try {
    const loaded = await loadSpec(trace.variant ? `${ref}:${trace.variant}` : ref, cwd);
    return loaded.protocol;
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`the trace names spec "${trace.spec}"${trace.variant ? ` variant "${trace.variant}"` : ''}, which cannot be loaded: ${e.message}`);
    throw e;
  }
}

/** Reads a trace and builds the model it replays on. */
export async function loadTrace(path: string, cwd: string): Promise<{ trace: TraceFile; path: string; protocol: Protocol; model: Model }> {
  const { trace, path: full } = readTraceFile(path, cwd);
  const protocol = await traceProtocol(trace, full, cwd);
  try {
    return { trace, path: full, protocol, model: modelForTrace(protocol, trace) };
  } catch (e) {
    if (e instanceof ReplayMismatch || e instanceof OptionsError) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}
