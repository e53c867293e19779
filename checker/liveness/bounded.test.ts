/**
 * Liveness in random mode (bounded.ts): a walk that stays unsatisfied for its bound is a
 * *suspected* violation (trace `bounded`, result `suspected`), a walk that reaches a state with
 * no fair event enabled while unsatisfied is a real one; both replay.
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
import type { CheckResult } from '../result.ts';

/** One node: `spin` (weakly fair) cycles 0 → 1 → 2 → 0 for ever, or `leave` (unfair) goes 0 → 3, where nothing is enabled. */
function spinner(properties: SpecProperty[]) {
  const spec = protocol({ name: 'spinner', params: {}, messages: t.union('kind', { none: {} }) });
  const node = spec.role(t.int)({
    count: 1,
    init: () => 0,
    actions: {
      spin: { fair: 'weak', when: (s) => s <= 2, do: (s) => (s + 1) % 3 },
      leave: { when: (s) => s === 0, do: () => 3 },
    },
  });
  return spec.define({ roles: { node }, properties: () => properties });
}

const at = (n: number) => (w: { states(role: string): number[] }) => w.states('node')[0] === n;

function replays(spec: ReturnType<typeof spinner>, r: CheckResult, options = {}): boolean {
  if (r.result !== 'violation') return false;
  const trace = validateTrace(JSON.parse(JSON.stringify(r.trace)));
  return replayTrace(new Model(spec, normalizeOptions(spec, { mode: 'random', ...options })), trace).ok;
}

describe('bounded liveness in random mode', () => {
  it('eventually: never reached in a full walk is a suspected violation, labelled as no proof', () => {
    const spec = spinner([eventually('reaches 9', at(9))]);
    const r = checkSync(spec, { mode: 'random', seed: 1, walks: 50, maxDepth: 20 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    // Either a walk left to 3 (no fair event there: a real violation) or spun 20 steps (suspected).
    const b = r.trace!.bounded!;
    expect(r.trace!.version).toBe(2);
    if (b.terminal) expect(r.suspected).toBeUndefined();
    else expect(r.suspected).toEqual({ steps: 20 });
    expect(replays(spec, r)).toBe(true);
    expect(r.liveness).toEqual([{ name: 'reaches 9', kind: 'eventually', checked: true, bounded: true }]);
  });

  it('a state with only unfair events left, still unsatisfied, is a real violation (the run may stay there)', () => {
    const spec = spinner([alwaysEventually('back at 0', at(0))]);
    // Walk by walk until one takes `leave`: state 3 has no event at all.
    const r = checkSync(spec, { mode: 'random', seed: 2, walks: 200, maxDepth: 200 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.trace!.bounded).toEqual({ steps: 0, terminal: true });
    expect(r.suspected).toBeUndefined();
    expect(formatTrace(r.trace!)).toMatch(/no fair event is enabled/);
    expect(replays(spec, r)).toBe(true);
  });

  it('leadsTo: p followed by no q for half the walk is suspected; a q that follows clears it', () => {
    const never = spinner([leadsTo('1 leads to 9', at(1), at(9))]);
    const r = checkSync(never, { mode: 'random', seed: 3, walks: 50, maxDepth: 30 });
    expect(r.result).toBe('violation');
    if (r.result === 'violation' && !r.trace!.bounded!.terminal) expect(r.suspected!.steps).toBeGreaterThanOrEqual(15);
    expect(replays(never, r)).toBe(true);
    // 1 leads to 2 within one spin: no walk is suspected (leaving happens only at 0, after 2).
    const soon = spinner([leadsTo('1 leads to 2', at(1), at(2))]);
    expect(checkSync(soon, { mode: 'random', seed: 3, walks: 50, maxDepth: 30 }).result).toBe('ok');
  });

  it('eventuallyAlways: a property still failing late in the walk has not settled (suspected); one that settles is not', () => {
    const spec = spinner([eventuallyAlways('stays at 0', at(0))]);
    const r = checkSync(spec, { mode: 'random', seed: 4, walks: 50, maxDepth: 30 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.kind).toBe('eventuallyAlways');
    expect(replays(spec, r)).toBe(true);
    // Every uniform walk leaves for 3 within a few visits to 0 and stays there: settled.
    const settles = spinner([eventuallyAlways('ends at 3', at(3))]);
    expect(checkSync(settles, { mode: 'random', seed: 4, walks: 50, maxDepth: 30 }).result).toBe('ok');
  });

  it('a replayed bounded trace must show the claimed wait', () => {
    const spec = spinner([eventually('reaches 9', at(9))]);
    const r = checkSync(spec, { mode: 'random', seed: 1, walks: 50, maxDepth: 20 });
    if (r.result !== 'violation') throw new Error('expected a violation');
    // The same steps claimed against a property that holds at step 0.
    const other = spinner([eventually('reaches 9', at(0))]);
    const trace = validateTrace(JSON.parse(JSON.stringify(r.trace)));
    const d = replayTrace(new Model(other, normalizeOptions(other, { mode: 'random' })), trace);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.divergence.reason).toMatch(/is satisfied at step 0/);
  });

  it('two-phase: termination holds on every walk; two-phase:blocking leaves a prepared RM with no fair step', async () => {
    const twoPhase = await bundledSpecs['two-phase']!.load();
    const ok = checkSync(twoPhase, { mode: 'random', seed: 1, walks: 300 });
    expect(ok.result).toBe('ok');
    expect(ok.liveness?.[0]).toMatchObject({ checked: true, bounded: true });
    const blocking = twoPhase.variant('blocking');
    const r = checkSync(blocking, { mode: 'random', seed: 1, crashes: 1 });
    expect(r.result).toBe('violation');
    if (r.result !== 'violation') return;
    expect(r.property.kind).toBe('eventually');
    expect(r.trace!.bounded!.terminal).toBe(true);
    const trace = validateTrace(JSON.parse(JSON.stringify(r.trace)));
    expect(replayTrace(new Model(blocking, normalizeOptions(blocking, { mode: 'random', crashes: 1 })), trace).ok).toBe(true);
  });

  it('swarm, PCT and fast-check schedules are not fair: liveness is not judged, and the result says why', () => {
    const spec = spinner([eventually('reaches 9', at(9))]);
    const r = checkSync(spec, { mode: 'random', seed: 1, walks: 20, maxDepth: 20, strategy: 'pct' });
    expect(r.result).toBe('ok');
    expect(r.liveness?.[0]?.checked).toBe(false);
    expect(r.liveness?.[0]?.reason).toMatch(/uniform scheduler/);
  });
});
