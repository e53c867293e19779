/**
 * Model replay: re-execute a trace's events on the spec and check that each one is enabled and
 * leads to the state whose fingerprint the trace recorded (`fingerprintHex(world.encode(s))` of
 * the concrete state), and that the last state shows what the trace claims (the property
 * violated, or a deadlock). The first divergence is reported precisely: the step, what the
 * trace expected and what the model did.
 *
 * The same event matcher drives minimization (minimize.ts), which replays candidate event lists
 * skipping the events that are no longer enabled.
 */
import { fairEvents } from './liveness/bounded.ts';
import type { Property, Protocol } from '../specs/core/index.ts';
import { stateChanges, show } from '../traces/diff.ts';
import type { TraceFile, TraceStep } from '../traces/format.ts';
import { fingerprint, fingerprintHex, fp } from './fingerprint.ts';
import { Model } from './model.ts';
import { normalizeOptions, type CheckOptions } from './options.ts';
import type { ConcretePath } from './trace-builder.ts';
import type { TraceEvent, WorldState } from './world.ts';
import { eventText as words } from '../traces/event-text.ts';
import { Semantics } from './semantics.ts';
import { sameJSON, stepOf } from './trace-events.ts';

export { sameJSON };

/** The check options a trace was recorded under (world options and params; search options dropped). */
export function traceCheckOptions(trace: TraceFile): CheckOptions {
  const o = trace.options;
  const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const out: CheckOptions = { params: { ...trace.params } };
  if (o.network === 'set' || o.network === 'bag' || o.network === 'fifo') out.network = o.network;
  if (o.drop === true) out.drop = true;
  if (o.dup === true) out.dup = true;
  for (const k of ['crashes', 'diskFaults', 'clientRestarts', 'maxTime', 'trueTimeEpsilon', 'clockError', 'maxInFlight', 'maxMessageBytes'] as const) {
    const v = num(k);
    if (v !== undefined) out[k] = v;
  }
  if (o.maxMessageBytes === null) out.maxMessageBytes = Number.POSITIVE_INFINITY;
  return out;
}

/** The model a trace replays on: `protocol` (already the trace's variant) under the trace's options. */
export function modelForTrace(protocol: Protocol, trace: TraceFile, extra: CheckOptions = {}): Model {
  const model = new Model(protocol, normalizeOptions(protocol, { ...traceCheckOptions(trace), ...extra }));
  const names = Array.from({ length: model.world.nodeCount }, (_, id) => model.world.nodeName(id));
  if (names.join(',') !== trace.nodes.join(',')) {
    throw new ReplayMismatch(`the trace's nodes (${trace.nodes.join(', ')}) are not the spec's under these params (${names.join(', ')})`);
  }
  return model;
}

/** The trace does not fit the spec it names (nodes, properties): bad input, not a divergence. */
export class ReplayMismatch extends Error {
  override readonly name = 'ReplayMismatch';
}

/** Where and how a replay left the trace. */
export interface Divergence {
  /** The step (0 = the initial state) that did not replay. */
  step: number;
  /** One line: what went wrong. */
  reason: string;
  /** The trace's fingerprint and the model's, when the step ran but led elsewhere. */
  expected?: string;
  got?: string;
  /** Node fields where the model's state differs from the trace's (`rm2: expected committed, got aborted`). */
  differences?: string[];
}

export type ReplayResult =
  | { ok: true; steps: number; path: ConcretePath }
  | { ok: false; divergence: Divergence; path: ConcretePath };

/** Replays every step of `trace` on `model` and checks its final claim. */
export function replayTrace(model: Model, trace: TraceFile): ReplayResult {
  const world = model.world;
  let state = world.initial();
  const states: WorldState[] = [state];
  const events: TraceEvent[] = [{ kind: 'init' }];
  const path = (): ConcretePath => ({ states: states.slice(), events: events.slice() });
  const diverge = (d: Divergence): ReplayResult => ({ ok: false, divergence: d, path: path() });

  const first = checkState(model, state, trace.steps[0]!, 0);
  if (first) return diverge(first);
  const last = trace.steps.length - 1;
  for (let i = 1; i <= last; i++) {
    const step = trace.steps[i]!;
    const event = step.event as TraceEvent;
    if (i === last && trace.result === 'error') {
      // The failing step: its event must make spec code throw (it produced no state).
      const thrown = throwsOn(model, state, event);
      if (thrown === null) return diverge({ step: i, reason: `${eventText(trace, event)} ran without error, but the trace says spec code threw: ${trace.error ?? ''}` });
      return { ok: true, steps: last, path: path() };
    }
    const next = stepOf(world, state, event);
    if (typeof next === 'string') return diverge({ step: i, reason: `${eventText(trace, event)} ${next}` });
    const d = checkState(model, next, step, i);
    if (d) return diverge({ ...d, reason: `${eventText(trace, event)} ${d.reason}` });
    // A matching fingerprint with a different recorded world means the file was edited.
    if (!sameJSON(world.toJSON(next), step.state)) {
      return diverge({ step: i, reason: `${eventText(trace, event)} reproduces the fingerprint, but the state recorded in the trace differs from the model's`, differences: stateDifferences(model, next, step) });
    }
    state = next;
    states.push(state);
    events.push(event);
  }

  if (trace.result === 'violation' && trace.property && trace.loopStart !== undefined) {
    const d = checkLasso(model, trace, states);
    if (d) return diverge(d);
    return { ok: true, steps: last, path: path() };
  }
  if (trace.result === 'violation' && trace.property && trace.bounded !== undefined) {
    const d = checkBounded(model, trace, states);
    if (d) return diverge(d);
    return { ok: true, steps: last, path: path() };
  }
  if (trace.result === 'violation' && trace.property) {
    const name = trace.property.name;
    const prop = model.invariants.find((p) => p.name === name);
    if (!prop) {
      const known = model.invariants.map((p) => `"${p.name}"`).join(', ');
      throw new ReplayMismatch(`the trace says it violates "${name}", but the spec has no such invariant (invariants: ${known || 'none'})`);
    }
    if (holds(model, prop, state)) return diverge({ step: last, reason: `the final state does not violate "${name}"` });
  }
  if (trace.result === 'deadlock' && hasEnabled(model, state)) {
    return diverge({ step: last, reason: 'the final state is not a deadlock: some delivery or action is enabled' });
  }
  return { ok: true, steps: last, path: path() };
}

/**
 * A lasso (liveness counterexample): the cycle returns to its first state, and the property's
 * monitor stays unsatisfied along it — `eventually p`: p holds nowhere on the run; `alwaysEventually
 * p`: nowhere on the cycle; `leadsTo p q`: some p ∧ ¬q state is followed by ¬q to the end, cycle
 * included. (Fairness of the cycle is the checker's claim; replay does not re-derive it.)
 */
function checkLasso(model: Model, trace: TraceFile, states: WorldState[]): Divergence | null {
  const name = trace.property!.name;
  const prop = model.liveness.find((p) => p.name === name);
  if (!prop) {
    const known = model.liveness.map((p) => `"${p.name}"`).join(', ');
    throw new ReplayMismatch(`the trace is a lasso for "${name}", but the spec has no such liveness property (liveness properties: ${known || 'none'})`);
  }
  const last = states.length - 1;
  const loop = trace.loopStart!;
  if (trace.steps[last]!.fingerprint !== trace.steps[loop]!.fingerprint) {
    return { step: last, reason: `the cycle does not return to its first state (step ${loop})`, expected: trace.steps[loop]!.fingerprint, got: trace.steps[last]!.fingerprint };
  }
  const at = (f: (w: any) => boolean, i: number) => {
    model.view.state = states[i]!;
    return f(model.view);
  };
  if (prop.kind === 'eventuallyAlways') {
    for (let i = loop; i <= last; i++) if (!at(prop.p, i)) return null;
    return { step: loop, reason: `"${name}" holds at every step of the cycle, so the lasso does not violate it` };
  }
  if (prop.kind === 'eventually' || prop.kind === 'alwaysEventually') {
    for (let i = prop.kind === 'eventually' ? 0 : loop; i <= last; i++) {
      if (at(prop.p, i)) return { step: i, reason: `"${name}" holds at step ${i}, so the lasso does not violate it` };
    }
    return null;
  }
  // leadsTo: the latest start of a ¬q suffix that covers the cycle, and a p ∧ ¬q state in it.
  let from = last;
  while (from > 0 && !at(prop.q!, from - 1)) from--;
  for (let i = loop; i <= last; i++) if (at(prop.q!, i)) return { step: i, reason: `"${name}": q holds at step ${i} on the cycle` };
  for (let i = from; i <= last; i++) if (at(prop.p, i)) return null;
  return { step: from, reason: `"${name}": no state where p holds is followed by ¬q forever` };
}

/**
 * A bounded walk (random mode, a suspected liveness violation): the property stayed unsatisfied
 * over the last `bounded.steps` steps as the trace claims, and, when the trace says the walk
 * ended in a terminal state, no event changes anything there.
 */
function checkBounded(model: Model, trace: TraceFile, states: WorldState[]): Divergence | null {
  const name = trace.property!.name;
  const prop = model.liveness.find((p) => p.name === name);
  if (!prop) {
    const known = model.liveness.map((p) => `"${p.name}"`).join(', ');
    throw new ReplayMismatch(`the trace is a bounded walk for "${name}", but the spec has no such liveness property (liveness properties: ${known || 'none'})`);
  }
  const last = states.length - 1;
  const from = last - trace.bounded!.steps;
  const at = (f: (w: any) => boolean, i: number) => {
    model.view.state = states[i]!;
    return f(model.view);
  };
  if (prop.kind === 'eventually' && from !== 0) return { step: 0, reason: `"${name}" is an eventually property: a bounded walk must cover the whole run (steps 0..${last}), not steps ${from}..${last}` };
  if (prop.kind === 'leadsTo' && !at(prop.p, from)) return { step: from, reason: `"${name}": p does not hold at step ${from}, where the trace says the wait starts` };
  if (prop.kind === 'eventuallyAlways') {
    // Unsettled: p fails at the last state (terminal) or somewhere over the claimed steps.
    let unsettled = false;
    for (let i = trace.bounded!.terminal ? last : from; i <= last && !unsettled; i++) unsettled = !at(prop.p, i);
    if (!unsettled) return { step: from, reason: `"${name}" holds at every step from ${trace.bounded!.terminal ? last : from} on, where the trace says it has not settled` };
  }
  for (let i = from; i <= last && prop.kind !== 'eventuallyAlways'; i++) {
    const satisfied = prop.kind === 'leadsTo' ? at(prop.q!, i) : at(prop.p, i);
    if (satisfied) return { step: i, reason: `"${name}" is satisfied at step ${i}, inside the steps the trace says it is not` };
  }
  if (trace.bounded!.terminal) {
    const s = states[last]!;
    // Steps that change the state, and steps the in-flight bound cut (enabled all the same).
    const steps = model.world.events(s).filter((e) => model.world.next(s, e) !== s);
    const fair = fairEvents(model, steps);
    if (fair === 'fair' || (fair === 'delivery' && (model.options.fairDelivery || prop.fairDelivery === true))) {
      return { step: last, reason: 'the trace says no fair event is enabled in its last state, but one is' };
    }
  }
  return null;
}

/** Compares a replayed state with the trace's step; null when the fingerprints agree. */
function checkState(model: Model, s: WorldState, step: TraceStep, i: number): Divergence | null {
  const got = fingerprintHex(model.world.encode(s));
  if (got === step.fingerprint) {
    if (i > 0 || sameJSON(model.world.toJSON(s), step.state)) return null;
    return { step: 0, reason: "the initial state recorded in the trace differs from the model's", differences: stateDifferences(model, s, step) };
  }
  const differences = stateDifferences(model, s, step);
  return {
    step: i,
    reason: i === 0 ? 'the initial state differs from the trace\'s' : 'leads to a different state than the trace recorded',
    expected: step.fingerprint,
    got,
    differences,
  };
}

/** Field by field, how the model's state differs from the one a trace step recorded. */
function stateDifferences(model: Model, s: WorldState, step: TraceStep): string[] {
  const json = model.world.toJSON(s) as TraceStep['state'];
  const out = stateChanges(step.state, json).map((c) => `${c.path}: expected ${show(c.before)}, got ${show(c.after)}`);
  if (!sameJSON(json.network, step.state.network)) out.push('network: the messages in flight differ');
  return out;
}

/** The message spec code throws on `event` in `s`, or null when it runs fine. */
function throwsOn(model: Model, s: WorldState, event: TraceEvent): string | null {
  try {
    stepOf(model.world, s, event);
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function holds(model: Model, p: Property, s: WorldState): boolean {
  model.view.state = s;
  return p.check(model.view);
}

function hasEnabled(model: Model, s: WorldState): boolean {
  return model.world.events(s).some(Semantics.isProtocolEvent);
}

/** An event in words, with the trace's node names. */
function eventText(trace: TraceFile, e: TraceEvent): string {
  return words(e, (id) => trace.nodes[id] ?? `node${id}`);
}

/** Fingerprint (hi, lo) of a concrete state; used by the minimizer's searches. */
export function concreteFingerprint(model: Model, s: WorldState): [number, number] {
  const bytes = model.world.encode(s);
  fingerprint(bytes, 0, bytes.length);
  return [fp.hi, fp.lo];
}
