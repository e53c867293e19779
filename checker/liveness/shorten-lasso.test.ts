/**
 * `pacta minimize` on lassos: a padded cycle shrinks to the shortest fair one (never to a shorter
 * unfair one), the stem becomes a shortest path to the cycle, and the result replays; the Raft
 * election storm's lasso shrinks to one period of the storm.
 */
import { describe, expect, it } from 'vitest';
import { eventually, leadsTo, protocol, t, type SpecProperty } from '../../specs/core/index.ts';
import { bundledSpecs } from '../../specs/catalogue.ts';
import type { TraceFile } from '../../traces/format.ts';
import { checkSync } from '../check.ts';
import { minimizeTrace } from '../minimize.ts';
import { Model } from '../model.ts';
import { normalizeOptions } from '../options.ts';
import { replayTrace, ReplayMismatch } from '../replay.ts';
import { stepOf } from '../trace-events.ts';
import { traceSteps } from '../trace-builder.ts';
import type { TraceEvent, WorldState } from '../world.ts';

/**
 * One node, states 0..4. `spin` (unfair) toggles 0 ↔ 1; `tick` (weakly fair, enabled in 0..3)
 * goes 0 → 2 → 3 → 0 and 1 → 0. Staying on 0 ↔ 1 leaves tick enabled for ever and never taken:
 * unfair. The shortest fair cycle avoiding 4 is 0 → 2 → 3 → 0. `leave` (unfair) goes 3 → 4.
 */
function ring(properties: SpecProperty[] = [eventually('reaches 4', (w) => w.states('node')[0] === 4)]) {
  const spec = protocol({ name: 'ring', params: {}, messages: t.union('kind', { none: {} }) });
  const node = spec.role(t.int)({
    count: 1,
    init: () => 0,
    actions: {
      spin: { when: (s) => s <= 1, do: (s) => 1 - s },
      tick: { fair: 'weak', when: (s) => s <= 3, do: (s) => (s === 0 ? 2 : s === 2 ? 3 : 0) },
      leave: { when: (s) => s === 3, do: () => 4 },
    },
  });
  return spec.define({ roles: { node }, properties: () => properties });
}

/** A lasso trace of `model` taking `actions` (node 0) from the initial state, its cycle from step `loopStart`. */
function lasso(model: Model, header: TraceFile, actions: string[], loopStart: number): TraceFile {
  const states: WorldState[] = [model.world.initial()];
  const events: TraceEvent[] = [{ kind: 'init' }];
  for (const action of actions) {
    const e = { kind: 'action', node: 0, action } as TraceEvent;
    const next = stepOf(model.world, states[states.length - 1]!, e);
    if (typeof next === 'string') throw new Error(`${action}: ${next}`);
    states.push(next);
    events.push(e);
  }
  return { ...header, steps: traceSteps(model, { states, events }), loopStart };
}

const nodeStates = (trace: TraceFile) => trace.steps.map((s) => s.state.nodes[0]!.state as number);

describe('minimize on a lasso', () => {
  it('a padded cycle shrinks to the shortest fair cycle, not to the shorter unfair 0 ↔ 1, and replays', () => {
    const spec = ring();
    const model = new Model(spec, normalizeOptions(spec, {}));
    const checked = checkSync(spec);
    expect(checked.result).toBe('violation');
    if (checked.result !== 'violation') return;
    // Stem 0 → 1 → 0 → 1 → 0, then a cycle round 0 ↔ 1 twice and 0 → 2 → 3 → 0 twice (10 steps).
    const padded = lasso(model, checked.trace!, ['spin', 'spin', 'spin', 'spin', 'spin', 'spin', 'spin', 'spin', 'tick', 'tick', 'tick', 'tick', 'tick', 'tick'], 4);
    expect(replayTrace(model, padded).ok).toBe(true);
    const r = minimizeTrace(model, padded);
    expect([r.before, r.after]).toEqual([14, 3]);
    expect(r.trace.loopStart).toBe(0);
    expect(nodeStates(r.trace)).toEqual([0, 2, 3, 0]);
    expect(r.trace.minimized?.fromSteps).toBe(14);
    expect(replayTrace(model, r.trace).ok).toBe(true);
  });

  it('a cycle that is already shortest is kept (the minimizer re-judges it: an unfair input throws)', () => {
    const spec = ring();
    const model = new Model(spec, normalizeOptions(spec, {}));
    const checked = checkSync(spec);
    if (checked.result !== 'violation') throw new Error('expected a violation');
    const unfair = lasso(model, checked.trace!, ['spin', 'spin'], 0);
    expect(replayTrace(model, unfair).ok).toBe(true); // replay does not judge fairness ...
    expect(() => minimizeTrace(model, unfair)).toThrow(ReplayMismatch); // ... the minimizer does (exit 2 in the CLI)
    expect(() => minimizeTrace(model, unfair)).toThrow(/cycle \(steps 0\.\.2\) is not a fair counterexample/);
    const fair = lasso(model, checked.trace!, ['tick', 'tick', 'tick'], 0);
    expect(minimizeTrace(model, fair).after).toBe(3);
  });

  it('leadsTo: the stem keeps the p state that arms the monitor when the shortened cycle has none', () => {
    const at = (n: number) => (w: { states(role: string): number[] }) => w.states('node')[0] === n;
    const spec = ring([leadsTo('1 leads to 4', at(1), at(4))]);
    const model = new Model(spec, normalizeOptions(spec, {}));
    const checked = checkSync(spec);
    expect(checked.result).toBe('violation');
    if (checked.result !== 'violation') return;
    // Stem 0 → 1 → 0 → 1 → 0 (1 arms it), then 0 → 2 → 3 → 0 twice.
    const padded = lasso(model, checked.trace!, ['spin', 'spin', 'spin', 'spin', 'tick', 'tick', 'tick', 'tick', 'tick', 'tick'], 4);
    expect(replayTrace(model, padded).ok).toBe(true);
    const r = minimizeTrace(model, padded);
    // Not the empty stem at 0 (which never sees 1): 0 → 1 → 0, then the 3-step cycle.
    expect(nodeStates(r.trace)).toEqual([0, 1, 0, 2, 3, 0]);
    expect(r.trace.loopStart).toBe(2);
    expect(replayTrace(model, r.trace).ok).toBe(true);
  });

  it('the Raft election storm: the checker’s 220-step lasso becomes one 66-step period of the storm', async () => {
    const spec = (await bundledSpecs['raft']!.load()).variant('election-storm');
    const checked = checkSync(spec);
    expect(checked.result).toBe('violation');
    if (checked.result !== 'violation') return;
    const trace = checked.trace!;
    const model = new Model(spec, normalizeOptions(spec, {}));
    const r = minimizeTrace(model, trace);
    expect(r.before).toBe(trace.steps.length - 1);
    expect(r.after).toBeLessThan(r.before);
    const cycle = r.trace.steps.length - 1 - r.trace.loopStart!;
    expect(cycle).toBe(66);
    expect(replayTrace(model, r.trace).ok).toBe(true);
    // Its cycle is accepted by the checker's fairness judgement (minimize re-judges its input) and is a fixpoint.
    expect(minimizeTrace(model, r.trace).after).toBe(r.after);
    // Searches cut to the cycle's own states and a 5-state stem search: the cycle still shrinks
    // among its own states, and the old stem (which the budget cannot beat) leads to it.
    const cut = minimizeTrace(model, trace, { bfsStates: 1 });
    expect(cut.trace.loopStart).toBe(trace.loopStart);
    expect(cut.trace.steps.length - 1 - cut.trace.loopStart!).toBe(66);
    expect(replayTrace(model, cut.trace).ok).toBe(true);
  });
});
