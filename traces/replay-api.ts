/**
 * Replay and minimize a trace on the spec it names: the public face of checker/replay.ts and
 * checker/minimize.ts, taking the protocol (the trace's variant) rather than a checker model.
 * This is the one module of traces/ that imports the checker (DESIGN.md: traces → specs/core;
 * the entry point may reach further).
 */
import type { Protocol } from '../specs/core/protocol.ts';
import { minimizeTrace as minimizeOnModel, type MinimizeOptions, type MinimizeResult } from '../checker/minimize.ts';
import { modelForTrace, replayTrace as replayOnModel, ReplayMismatch, type ReplayResult } from '../checker/replay.ts';
import type { TraceFile } from './format.ts';

export { ReplayMismatch };
export type { Divergence, ReplayResult } from '../checker/replay.ts';
export type { MinimizeOptions, MinimizeResult, PhaseReport } from '../checker/minimize.ts';

/**
 * Replays every step of `trace` on `protocol` (already the trace's variant) under the trace's
 * params and options, and checks its final claim. Throws {@link ReplayMismatch} when the trace
 * does not fit the spec (nodes, properties).
 */
export function replayTrace(protocol: Protocol, trace: TraceFile): ReplayResult {
  return replayOnModel(modelForTrace(protocol, trace), trace);
}

/** A shorter trace that still shows what `trace` shows (fewer steps, then fewer faults and nodes). */
export function minimizeTrace(protocol: Protocol, trace: TraceFile, options: MinimizeOptions = {}): MinimizeResult {
  return minimizeOnModel(modelForTrace(protocol, trace), trace, options);
}
