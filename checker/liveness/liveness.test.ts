/**
 * Liveness on graphs whose fair cycles are known by hand, and on two-phase.
 *
 * The six-state model: one node, state 0..5. `spin` (weakly fair) goes 0 → 1 → 2 → 0; `exit`
 * is enabled only in state 1 (1 → 3); `finish` (weakly fair) goes 3 → 4 → 5; 5 is terminal.
 * The cycle 0 → 1 → 2 → 0 enables `exit` infinitely often but not continuously: weak fairness
 * on `exit` allows it forever, strong fairness forbids it. So "eventually 5" fails under weak
 * and holds under strong.
 */
import { describe, expect, it } from 'vitest';
import { alwaysEventually, eventually, eventuallyAlways, leadsTo, protocol, t, type SpecProperty } from '../../specs/core/index.ts';
import { checkSync } from '../check.ts';
import { Model } from '../model.ts';
import { normalizeOptions } from '../options.ts';
import { replayTrace } from '../replay.ts';
import { bundledSpecs } from '../../specs/catalogue.ts';
import { validateTrace } from '../../traces/read.ts';
import { formatTrace } from '../../traces/text.ts';
import { toMermaid } from '../../traces/mermaid.ts';
import { toHtml } from '../../traces/html.ts';

function six(exitFairness: 'weak' | 'strong' | undefined, properties: SpecProperty[]) {
  const spec = protocol({ name: 'six', params: {}, messages: t.union('kind', { none: {} }) });
  const node = spec.role(t.int)({
    count: 1,
    init: () => 0,
    actions: {
      spin: { fair: 'weak', when: (s) => s <= 2, do: (s) => (s + 1) % 3 },
      exit: { ...(exitFairness ? { fair: exitFairness } : {}), when: (s) => s === 1, do: () => 3 },
      finish: { fair: 'weak', when: (s) => s === 3 || s === 4, do: (s) => s + 1 },
    },
  });
  return spec.define({ roles: { node }, properties: () => properties });
}

const at = (n: number) => (w: { states(role: string): number[] }) => w.states('node')[0] === n;

describe('fair cycles on a six-state graph', () => {
  it('eventually 5: violated under weak fairness (a lasso round 0 → 1 → 2 → 0), holds under strong', () => {
    const weak = checkSync(six('weak', [eventually('reaches 5', at(5))]));
    expect(weak.stats.distinctStates).toBe(6);
    expect(weak.result).toBe('violation');
    if (weak.result !== 'violation') return;
    expect(weak.property).toEqual({ name: 'reaches 5', kind: 'eventually' });
    const trace = validateTrace(JSON.parse(JSON.stringify(weak.trace)));
    expect(trace.version).toBe(2);
    const states = trace.steps.map((s) => s.state.nodes[0]!.state);
    const loop = trace.loopStart!;
    expect(states[states.length - 1]).toBe(states[loop]);
    // The cycle runs through 0, 1 and 2 (spin taken, exit disabled at 0 and 2).
    expect(new Set(states.slice(loop))).toEqual(new Set([0, 1, 2]));
    expect(formatTrace(trace)).toMatch(new RegExp(`↻ ${loop}  initial state|↻ ${loop}  node: spin`));
    expect(formatTrace(trace)).toMatch(/back to step \d+; the cycle repeats forever/);
    expect(toMermaid(trace)).toMatch(/\n {2}loop forever: steps \d+\.\.\d+, back to the state of step \d+\n[\s\S]*\n {2}end\n/);
    expect(toHtml(trace)).toMatch(/"loopStart":\d+/);
    const model = new Model(six('weak', [eventually('reaches 5', at(5))]), normalizeOptions(six('weak', []), {}));
    expect(replayTrace(model, trace).ok).toBe(true);

    const strong = checkSync(six('strong', [eventually('reaches 5', at(5))]));
    expect(strong.result).toBe('ok');
    expect(strong.liveness).toEqual([{ name: 'reaches 5', kind: 'eventually', checked: true }]);
  });

  it('an unfair exit: the spin cycle is fair whatever; without fairness on spin, stuttering at 0 is', () => {
    expect(checkSync(six(undefined, [eventually('reaches 5', at(5))])).result).toBe('violation');
  });

  it('leadsTo 1 ~> 3: violated under weak, holds under strong', () => {
    const p = leadsTo('1 leads to 3', at(1), at(3));
    expect(checkSync(six('weak', [p])).result).toBe('violation');
    expect(checkSync(six('strong', [p])).result).toBe('ok');
  });

  it('a terminal state stutters forever: eventually 2 fails under strong by the path 0 → 1 → 3 → 4 → 5', () => {
    const r = checkSync(six('strong', [eventually('reaches 2', at(2))]));
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    const states = r.trace!.steps.map((s) => s.state.nodes[0]!.state);
    expect(states).toEqual([0, 1, 3, 4, 5]);
    expect(r.trace!.loopStart).toBe(4);
  });

  it('alwaysEventually: 0 or 5 infinitely often holds; 0 infinitely often fails under strong (the run ends at 5)', () => {
    expect(checkSync(six('weak', [alwaysEventually('0 or 5 again', (w) => at(0)(w) || at(5)(w))])).result).toBe('ok');
    expect(checkSync(six('strong', [alwaysEventually('0 again', at(0))])).result).toBe('violation');
  });

  it('symmetry leaves liveness unchecked; random mode checks it only within its bound; both say so', async () => {
    const spec = await bundledSpecs['two-phase']!.load();
    const sym = checkSync(spec, { symmetry: true });
    expect(sym.result).toBe('ok');
    expect(sym.liveness?.[0]).toMatchObject({ checked: false, reason: expect.stringMatching(/symmetry/) });
    const random = checkSync(spec, { mode: 'random', walks: 5 });
    expect(random.liveness?.[0]).toMatchObject({ checked: true, bounded: true });
    const swarm = checkSync(spec, { mode: 'random', walks: 5, swarm: true });
    expect(swarm.liveness?.[0]).toMatchObject({ checked: false, reason: expect.stringMatching(/uniform scheduler/) });
  });
});

describe('two-phase termination', () => {
  it('holds without crashes; two-phase:blocking is a lasso, on the fast path and the reference semantics alike', async () => {
    const spec = await bundledSpecs['two-phase']!.load();
    const ok = checkSync(spec);
    expect(ok.result).toBe('ok');
    expect(ok.stats.distinctStates).toBe(288);
    expect(ok.liveness).toEqual([{ name: 'termination: every live RM decides', kind: 'eventually', checked: true }]);
    for (const fastPath of [true, false]) {
      const r = checkSync(spec.variant('blocking'), { fastPath });
      expect(r.result).toBe('violation');
      if (r.result !== 'violation') continue;
      expect(r.property.kind).toBe('eventually');
      expect(r.trace!.loopStart).toBeDefined();
      const model = new Model(spec.variant('blocking'), normalizeOptions(spec.variant('blocking'), { crashes: 1 }));
      expect(replayTrace(model, r.trace!).ok).toBe(true);
    }
  });

  it('without fair delivery a message may wait forever: an RM that never hears the decision', async () => {
    const spec = await bundledSpecs['two-phase']!.load();
    // The same roles with the termination property not assuming fair delivery.
    const unfair = eventually('decides, no fair delivery', (w) => w.all('rm', (s: string) => s === 'committed' || s === 'aborted'));
    const base = spec.properties!({ rms: 2 }).filter((p) => p.kind !== 'eventually');
    const variant = { ...spec, properties: () => [...base, unfair] } as typeof spec;
    expect(checkSync(variant, { params: { rms: 2 } }).result).toBe('violation');
    expect(checkSync(variant, { params: { rms: 2 }, fairDelivery: true }).result).toBe('ok');
  });
});

/** One node: `step(a)` toggles 0 ↔ 1, `step(b)` goes to 2 (the goal); both are enabled at 0 and 1. */
function fork(fairPerChoice: boolean) {
  const spec = protocol({ name: 'fork', params: {}, messages: t.union('kind', { none: {} }) });
  const node = spec.role(t.int)({
    count: 1,
    init: () => 0,
    actions: {
      step: {
        fair: 'weak',
        ...(fairPerChoice ? { fairPerChoice: true } : {}),
        choices: () => ['a', 'b'],
        when: (s) => s <= 1,
        do: (s, _out, _ctx, c: string) => (c === 'b' ? 2 : 1 - s),
      },
    },
  });
  return spec.define({ roles: { node }, properties: () => [eventually('reaches 2', at(2))] });
}

describe('fairness per choice', () => {
  it('one class per action: toggling with a for ever is fair; fairPerChoice: b stays enabled, so it must be taken', () => {
    const perAction = checkSync(fork(false));
    expect(perAction.result).toBe('violation');
    expect(checkSync(fork(true)).result).toBe('ok');
  });
});

describe('eventually always (<>[]P)', () => {
  it('0 or 5 comes back for ever on the spin cycle (always eventually) but never settles there (eventually always)', () => {
    const zeroOrFive = (w: { states(role: string): number[] }) => at(0)(w) || at(5)(w);
    expect(checkSync(six('weak', [alwaysEventually('0 or 5 again', zeroOrFive)])).result).toBe('ok');
    const weak = checkSync(six('weak', [eventuallyAlways('settles at 0 or 5', zeroOrFive)]));
    expect(weak.result).toBe('violation');
    if (weak.result !== 'violation') return;
    expect(weak.property).toEqual({ name: 'settles at 0 or 5', kind: 'eventuallyAlways' });
    const trace = validateTrace(JSON.parse(JSON.stringify(weak.trace)));
    const states = trace.steps.map((s) => s.state.nodes[0]!.state as number);
    // The cycle passes through a state that is neither 0 nor 5, and replays.
    expect(states.slice(trace.loopStart!).some((x) => x !== 0 && x !== 5)).toBe(true);
    const spec = six('weak', [eventuallyAlways('settles at 0 or 5', zeroOrFive)]);
    expect(replayTrace(new Model(spec, normalizeOptions(spec, {})), trace).ok).toBe(true);
    // Strong fairness on exit: every fair run ends at 5 and stays.
    expect(checkSync(six('strong', [eventuallyAlways('settles at 5', at(5))])).result).toBe('ok');
  });
});

