/**
 * Minimization: a long random-mode counterexample of every two-phase broken variant shrinks to
 * within one step of the BFS-shortest counterexample under the same options, and the result
 * replays. Two-phase's own steps are few (about 15 for 3 RMs), so the long walks come from
 * clock ticks and crash/restart pairs interleaved by the walk: exactly the noise a minimizer
 * must strip. Small synthetic specs pin the shortcut and preference phases, which ddmin alone
 * cannot do.
 */
import { describe, expect, it } from 'vitest';
import { checkSync, type CheckOptions } from '../checker/index.ts';
import { minimizeTrace } from '../checker/minimize.ts';
import { modelForTrace, replayTrace } from '../checker/replay.ts';
import { traceSteps, type ConcretePath } from '../checker/trace-builder.ts';
import { invariant, protocol, t } from '../specs/core/index.ts';
import type { TraceFile } from '../traces/format.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

const noisy: CheckOptions = { params: { rms: 3 }, maxTime: 40, crashes: 2 };

/** The first random-mode counterexample of at least `min` steps, over seeds 0, 1, 2, ... */
function longCounterexample(variant: string, min: number): TraceFile {
  for (let seed = 0; seed < 100; seed++) {
    const r = checkSync(twoPhase.variant(variant), { ...noisy, mode: 'random', seed, swarm: true, walks: 200, maxDepth: 400 });
    if (r.result === 'violation' && r.trace!.steps.length - 1 >= min) return r.trace!;
  }
  throw new Error(`no random counterexample of ${min}+ steps for ${variant}`);
}

describe('minimize', () => {
  // 'blocking' fails a liveness property (a lasso: checker/liveness/shorten-lasso.test.ts minimizes those).
  for (const variant of Object.keys(twoPhase.variants!).filter((v) => v !== 'blocking')) {
    it(`two-phase:${variant}: a random counterexample of 40+ steps minimizes to within one step of BFS`, () => {
      const spec = twoPhase.variant(variant);
      const bfs = checkSync(spec, noisy);
      expect(bfs.result).toBe('violation');
      const shortest = bfs.result === 'violation' ? bfs.trace!.steps.length - 1 : 0;

      const long = longCounterexample(variant, 40);
      const model = modelForTrace(spec, long);
      const m = minimizeTrace(model, long, { bfsStates: 5_000 });
      expect(m.before).toBe(long.steps.length - 1);
      expect(m.before).toBeGreaterThanOrEqual(40);
      expect(m.after).toBeLessThanOrEqual(shortest + 1);
      expect(m.trace.steps.length - 1).toBe(m.after);
      expect(m.trace.minimized?.fromSteps).toBe(m.before);
      expect(m.trace.property).toEqual(long.property);
      // The result replays, fingerprints and all, and still violates the same property.
      expect(replayTrace(modelForTrace(spec, m.trace), m.trace)).toMatchObject({ ok: true });
      // Noise is gone: no clock ticks; crashes only where the bug needs them (volatile-rm).
      const kinds = m.trace.steps.map((s) => s.event.kind);
      expect(kinds).not.toContain('tick');
      if (variant !== 'volatile-rm') expect(kinds).not.toContain('crash');
    });
  }

  it('shortcuts: BFS between trace states finds a shorter path that ddmin cannot (no single step is removable)', () => {
    // A counter that must not reach 6: each +1 step is needed, but +3 (from a multiple of 3) gets there in two.
    const spec = protocol({ name: 'counter', params: {}, messages: t.union('kind', { none: {} }) }).define({
      roles: {
        c: {
          count: 1,
          state: t.u32,
          init: () => 0,
          actions: { inc: { do: (s: number) => s + 1 }, jump: { when: (s: number) => s % 3 === 0, do: (s: number) => s + 3 } },
        },
      },
      properties: () => [invariant('below 6', (w) => w.node(0) < 6)],
    });
    const header: TraceFile = {
      format: 'pacta-trace', version: 1, spec: 'counter', variant: null, params: {}, options: { network: 'set' }, seed: null,
      result: 'violation', property: { name: 'below 6', kind: 'invariant' }, nodes: ['c'], steps: [],
    };
    const model = modelForTrace(spec, header);
    // Six inc steps, taken on the model.
    const path: ConcretePath = { states: [model.world.initial()], events: [{ kind: 'init' }] };
    for (let i = 0; i < 6; i++) {
      const s = path.states[path.states.length - 1]!;
      model.world.successors(s, (next) => {
        if (model.world.event.action !== 'inc') return false;
        path.states.push(next);
        path.events.push(model.world.describe(s));
        return true;
      });
    }
    const trace: TraceFile = { ...header, steps: traceSteps(model, path) };
    expect(replayTrace(model, trace).ok).toBe(true);
    const m = minimizeTrace(model, trace);
    expect(m.before).toBe(6);
    expect(m.phases.find((p) => p.phase === 'ddmin')!.after).toBe(6);
    expect(m.after).toBe(2);
    expect(m.trace.steps.slice(1).map((s) => s.event.action)).toEqual(['jump', 'jump']);
  });

  it('preference: among equally short traces, the one touching fewer nodes wins', () => {
    // Any two `go` steps violate; go at n1 then go at n2 is as short as two at one node, but busier.
    const spec = protocol({ name: 'pair', params: {}, messages: t.union('kind', { none: {} }) }).define({
      roles: { n: { count: 2, state: t.u32, init: () => 0, actions: { go: { do: (s: number) => s + 1 } } } },
      properties: () => [invariant('fewer than two steps', (w) => w.states('n').reduce((a: number, b: number) => a + b, 0) < 2)],
    });
    const header: TraceFile = {
      format: 'pacta-trace', version: 1, spec: 'pair', variant: null, params: {}, options: { network: 'set' }, seed: null,
      result: 'violation', property: { name: 'fewer than two steps', kind: 'invariant' }, nodes: ['n1', 'n2'], steps: [],
    };
    const model = modelForTrace(spec, header);
    const path: ConcretePath = { states: [model.world.initial()], events: [{ kind: 'init' }] };
    for (const node of [0, 1]) {
      const s = path.states[path.states.length - 1]!;
      model.world.successors(s, (next) => {
        if (model.world.event.node !== node) return false;
        path.states.push(next);
        path.events.push(model.world.describe(s));
        return true;
      });
    }
    const trace: TraceFile = { ...header, steps: traceSteps(model, path) };
    const m = minimizeTrace(model, trace);
    expect(m.after).toBe(2);
    const nodes = new Set(m.trace.steps.slice(1).map((s) => s.event.node));
    expect(nodes.size).toBe(1);
    expect(replayTrace(model, m.trace).ok).toBe(true);
  });
});

