/**
 * Rebuilds concrete traces. Explorers keep only fingerprints and parent links; a path of
 * fingerprints is turned back into events and worlds by re-running the successor function from
 * the initial state and following, at each step, the successor whose packed form has the next
 * fingerprint (with the reference semantics, `events` and `next`). Under symmetry the stored
 * states are representatives, and the concrete path follows any successor in the same orbit.
 */
import { UDP_PAYLOAD_BYTES_MAX } from './message-size.ts';
import { TRACE_FORMAT, type TraceFile, type TraceStep } from '../traces/format.ts';
import { fingerprintHex } from './fingerprint.ts';
import type { Model } from './model.ts';
import { HandlerError, type TraceEvent, type WorldState } from './world.ts';

/** A path of fingerprints [hi, lo] from the initial state. */
export type FingerprintPath = [number, number][];

export interface ConcretePath {
  events: TraceEvent[];
  states: WorldState[];
  /** A handler broke its contract while the path was rebuilt: the path stops at the state it ran on. */
  brokenBy?: HandlerError;
}

/**
 * Follows a fingerprint path on the model with the reference semantics: at each step, the
 * enabled event whose successor has the next fingerprint. Throws if none has (a bug). A handler
 * that is not deterministic may throw its contract error here, on a state the search passed: the
 * path then ends at that state and carries the error.
 */
export function concretize(model: Model, path: FingerprintPath): ConcretePath {
  const world = model.world;
  let state = world.initial();
  const events: TraceEvent[] = [{ kind: 'init' }];
  const states: WorldState[] = [state];
  for (let i = 1; i < path.length; i++) {
    const [hi, lo] = path[i]!;
    let found: WorldState | undefined;
    try {
      for (const e of world.events(state)) {
        const next = world.next(state, e);
        if (next === null || next === state) continue;
        model.fingerprint(next);
        if (model.fp[0] === hi && model.fp[1] === lo) {
          events.push(world.describe(state, e));
          found = next;
          break;
        }
      }
    } catch (e) {
      if (e instanceof HandlerError) return { events, states, brokenBy: e };
      throw e;
    }
    if (!found) throw new Error(`concretize: step ${i} of the path is not a successor of step ${i - 1}`);
    states.push(found);
    state = found;
  }
  return { events, states };
}

/** Trace steps (event + world JSON + fingerprint) from a concrete path. */
export function traceSteps(model: Model, path: ConcretePath): TraceStep[] {
  return path.states.map((s, i) => ({
    event: path.events[i]! as TraceStep['event'],
    state: model.world.toJSON(s),
    fingerprint: fingerprintHex(model.world.encode(s)),
  }));
}

/** The header fields of a trace file for a model. */
export function traceFile(
  model: Model,
  specRef: string,
  result: TraceFile['result'],
  property: TraceFile['property'],
  steps: TraceStep[],
  extra: { error?: string; seed?: number | null; options?: Record<string, unknown> } = {},
): TraceFile {
  return {
    format: TRACE_FORMAT,
    version: 1,
    spec: specRef,
    variant: model.protocol.variantName ?? null,
    params: { ...model.options.params },
    options: extra.options ?? describeOptions(model),
    seed: extra.seed ?? null,
    result,
    property,
    ...(extra.error ? { error: extra.error } : {}),
    nodes: Array.from({ length: model.world.nodeCount }, (_, id) => model.world.nodeName(id)),
    steps,
  };
}

/** The options that shape the world and search, as plain JSON. */
export function describeOptions(model: Model): Record<string, unknown> {
  const o = model.options;
  const w = o.world;
  const out: Record<string, unknown> = { mode: o.mode, network: w.network };
  if (w.drop) out.drop = true;
  if (w.dup) out.dup = true;
  if (w.crashes) out.crashes = w.crashes;
  if (w.diskFaults) out.diskFaults = w.diskFaults;
  if (w.clientRestarts) out.clientRestarts = w.clientRestarts;
  if (w.maxTime) out.maxTime = w.maxTime;
  if (w.trueTimeEpsilon) out.trueTimeEpsilon = w.trueTimeEpsilon;
  if (w.clockError) out.clockError = w.clockError;
  if (w.maxInFlight !== Number.POSITIVE_INFINITY) out.maxInFlight = w.maxInFlight;
  // Recorded when it is not the default (an unchecked size is written as null).
  if (w.maxMessageBytes !== undefined && w.maxMessageBytes !== UDP_PAYLOAD_BYTES_MAX) out.maxMessageBytes = w.maxMessageBytes === Number.POSITIVE_INFINITY ? null : w.maxMessageBytes;
  if (o.symmetry) out.symmetry = true;
  if (o.deadlock) out.deadlock = true;
  if (o.maxDepth !== Number.POSITIVE_INFINITY) out.maxDepth = o.maxDepth;
  return out;
}
