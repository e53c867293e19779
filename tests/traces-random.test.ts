/**
 * Random mode: seeded walks are reproducible walk by walk, every strategy finds two-phase's
 * commit-early bug, swarm mixes and PCT schedules are logged in the trace, and the trace a walk
 * produces replays on the model.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { memoryIO } from '../cli/io.ts';
import { main } from '../cli/main.ts';
import { checkSync, type CheckOptions, type CheckResult } from '../checker/index.ts';
import type { Model } from '../checker/model.ts';
import { modelForTrace, replayTrace } from '../checker/replay.ts';
import type { TraceEvent, WorldState } from '../checker/world.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';

const commitEarly = twoPhase.variant('commit-early');

function violation(r: CheckResult) {
  expect(r.result).toBe('violation');
  if (r.result !== 'violation' || !r.trace) throw new Error('expected a violation with a trace');
  return r.trace;
}

describe('random mode', () => {
  it('finds commit-early (rms=5) from 10 different seeds, and each trace replays', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const trace = violation(checkSync(commitEarly, { mode: 'random', params: { rms: 5 }, seed, maxDepth: 20, walks: 10_000 }));
      expect(trace.seed).toBe(seed);
      expect(trace.property?.name).toMatch(/no RM committed while another aborted/);
      expect(replayTrace(modelForTrace(commitEarly, trace), trace).ok).toBe(true);
    }
  });

  it('one seed decides everything: same seed, same walk, same trace', () => {
    const opts: CheckOptions = { mode: 'random', params: { rms: 4 }, seed: 42, maxDepth: 30 };
    const a = violation(checkSync(commitEarly, opts));
    const b = violation(checkSync(commitEarly, opts));
    expect(b).toEqual(a);
    // Different seeds give different walks (not just different labels).
    const others = [43, 44, 45].map((seed) => violation(checkSync(commitEarly, { ...opts, seed })).steps.map((s) => s.fingerprint).join());
    expect(new Set([a.steps.map((s) => s.fingerprint).join(), ...others]).size).toBeGreaterThan(1);
  });

  it('--walk W re-runs exactly the walk that failed, alone', () => {
    const full = violation(checkSync(commitEarly, { mode: 'random', params: { rms: 5 }, seed: 9, swarm: true }));
    expect(full.walk).toBeGreaterThanOrEqual(0);
    const alone = checkSync(commitEarly, { mode: 'random', params: { rms: 5 }, seed: 9, swarm: true, walk: full.walk });
    expect(alone.stats.walks).toBe(1);
    expect(violation(alone).steps).toEqual(full.steps);
  });

  it('without the transition cache, walks are the same (the cache changes speed only)', () => {
    const opts: CheckOptions = { mode: 'random', params: { rms: 4 }, seed: 5, walks: 300, maxDepth: 20 };
    const cached = checkSync(twoPhase, opts);
    const uncached = checkSync(twoPhase, { ...opts, cacheStates: 0 });
    expect(uncached.stats.steps).toBe(cached.stats.steps);
    expect(uncached.stats.distinctStates).toBe(cached.stats.distinctStates);
    const tiny = checkSync(twoPhase, { ...opts, cacheStates: 10 });
    expect(tiny.stats.distinctStates).toBe(cached.stats.distinctStates);
  });

  it('swarm: each walk draws its own mix of event kinds and actions, logged in the trace', () => {
    const trace = violation(checkSync(commitEarly, { mode: 'random', params: { rms: 3 }, seed: 3, swarm: true, crashes: 1 }));
    const mix = trace.schedule?.swarm;
    expect(trace.options.swarm).toBe(true);
    expect(Object.keys(mix ?? {}).sort()).toEqual(['crash', 'deliver', 'restart', 'rm.chooseToAbort', 'rm.prepare', 'tm.abort', 'tm.commit'].sort());
    for (const w of Object.values(mix!)) expect([0, 1, 4]).toContain(w);
    // Mixes differ between walks: run single walks and compare what they logged.
    const mixes = new Set<string>();
    for (let walk = 0; walk < 30; walk++) {
      const r = checkSync(twoPhase.variant('commit-early'), { mode: 'random', seed: 3, swarm: true, walk, maxDepth: 200 });
      if (r.result === 'violation') mixes.add(JSON.stringify(r.trace!.schedule!.swarm));
    }
    expect(mixes.size).toBeGreaterThan(3);
  });

  it('swarm: a switched-off feature runs only when every enabled event is switched off', () => {
    let checked = 0;
    for (let walk = 0; walk < 40; walk++) {
      const r = checkSync(commitEarly, { mode: 'random', seed: 11, swarm: true, walk, params: { rms: 4 } });
      if (r.result !== 'violation') continue;
      const trace = r.trace!;
      const mix = trace.schedule!.swarm!;
      const model = modelForTrace(commitEarly, trace);
      const { path } = replayTrace(model, trace);
      trace.steps.slice(1).forEach((s, i) => {
        const feature = featureOf(model, s.event as TraceEvent);
        if (mix[feature] !== 0) return;
        checked++;
        for (const c of enabledEvents(model, path.states[i]!)) expect(mix[c.feature]).toBe(0);
      });
    }
    expect(checked).toBeGreaterThan(0); // the fallback did happen in these walks, and was checked
  });

  it('PCT: priorities and change points are logged, and it finds commit-early from 10 seeds', () => {
    for (let seed = 0; seed < 10; seed++) {
      const trace = violation(checkSync(commitEarly, { mode: 'random', strategy: 'pct', pctDepth: 3, params: { rms: 5 }, seed, maxDepth: 20 }));
      const pct = trace.schedule!.pct!;
      expect(pct.depth).toBe(3);
      expect(pct.changePoints.length).toBe(2);
      expect(Object.keys(pct.priorities)).toEqual([...trace.nodes, 'clock']);
      // Initial priorities are distinct and all above d.
      const ps = Object.values(pct.priorities);
      expect(new Set(ps).size).toBe(ps.length);
      expect(Math.min(...ps)).toBeGreaterThanOrEqual(3);
    }
  });

  it('PCT runs an event of the highest-priority enabled actor at every step but the change points', () => {
    let steps = 0;
    for (let seed = 0; seed < 10; seed++) {
      const trace = violation(checkSync(commitEarly, { mode: 'random', strategy: 'pct', pctDepth: 2, params: { rms: 3 }, seed, maxDepth: 12 }));
      const { priorities, changePoints } = trace.schedule!.pct!;
      const prio = [...trace.nodes, 'clock'].map((n) => priorities[n]!);
      const model = modelForTrace(commitEarly, trace);
      const { path } = replayTrace(model, trace);
      for (let i = 1; i < trace.steps.length; i++) {
        const taken = actorOf(trace.steps[i]!.event as TraceEvent, trace.nodes.length);
        const top = Math.max(...enabledEvents(model, path.states[i - 1]!).map((c) => prio[c.actor]!));
        if (changePoints.includes(i)) {
          // The would-be actor drops to the bottom (d = 2: one change point), and the new top runs.
          const demoted = enabledEvents(model, path.states[i - 1]!).find((c) => prio[c.actor] === top)!.actor;
          prio[demoted] = 0;
          const newTop = Math.max(...enabledEvents(model, path.states[i - 1]!).map((c) => prio[c.actor]!));
          expect(prio[taken]).toBe(newTop);
          continue;
        }
        expect(prio[taken]).toBe(top);
        steps++;
      }
    }
    expect(steps).toBeGreaterThan(20);
  });

  it('fast-check strategy: schedules shrink natively to a short counterexample', () => {
    const trace = violation(checkSync(commitEarly, { mode: 'random', strategy: 'fast-check', params: { rms: 4 }, seed: 7, maxDepth: 40 }));
    expect(trace.schedule?.strategy).toBe('fast-check');
    expect(trace.schedule?.shrinks).toBeGreaterThan(0);
    // The BFS-shortest counterexample has 3 steps; shrinking gets there or within a step.
    expect(trace.steps.length - 1).toBeLessThanOrEqual(4);
    expect(replayTrace(modelForTrace(commitEarly, trace), trace).ok).toBe(true);
  });

  it('the CLI report ends with a command that reproduces the failing walk, seed included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pacta-random-'));
    const run = async (args: string[]) => {
      const io = memoryIO(dir);
      const code = await main(args, io);
      return { code, out: io.stdout };
    };
    const first = await run(['check', 'two-phase:commit-early', '--mode', 'random', '--swarm', '--param', 'rms=5', '--time', '10', '--out', 'a']);
    expect(first.code).toBe(1);
    const last = first.out.trimEnd().split('\n').pop()!;
    const m = /^reproduce with: npx pacta (check two-phase:commit-early .*--seed 0 --walk (\d+))$/.exec(last);
    expect(m, last).not.toBeNull();
    expect(last).not.toMatch(/--time/);
    const again = await run([...m![1]!.split(' ').slice(0, -4).map((a) => a.replace(/^a$/, 'b')), '--seed', '0', '--walk', m![2]!]);
    expect(again.code).toBe(1);
    // One file each, of the same name: rms=5 is not the default, so the name carries the options' hash.
    const [name] = readdirSync(join(dir, 'a'));
    expect(readdirSync(join(dir, 'b'))).toEqual([name]);
    expect(name).toMatch(/^two-phase\.commit-early\.random\.violation\.[0-9a-f]{6}\.json$/);
    const a = JSON.parse(readFileSync(join(dir, 'a', name!), 'utf8'));
    const b = JSON.parse(readFileSync(join(dir, 'b', name!), 'utf8'));
    expect(b.steps).toEqual(a.steps);
    expect(b.walk).toBe(a.walk);
  });

  it('rejects random-mode options outside random mode, and unknown strategies', () => {
    expect(() => checkSync(twoPhase, { swarm: true })).toThrow(/only applies to mode 'random'/);
    expect(() => checkSync(twoPhase, { mode: 'random', strategy: 'bogus' as never })).toThrow(/strategy/);
    expect(() => checkSync(twoPhase, { mode: 'random', pctDepth: 2 })).toThrow(/only applies to strategy 'pct'/);
  });
});

/** The swarm feature of a trace event: its kind, or `role.action`. */
function featureOf(model: Model, e: TraceEvent): string {
  return e.kind === 'action' ? `${model.world.roleOfNode[e.node]!.name}.${e.action}` : e.kind;
}

/** The PCT actor of a trace event: the node it happens at; the clock is the last actor. */
function actorOf(e: TraceEvent, nodeCount: number): number {
  if (e.kind === 'tick') return nodeCount;
  if (e.kind === 'deliver' || e.kind === 'duplicate' || e.kind === 'drop') return e.to;
  return (e as { node: number }).node;
}

/** The events that change state `s`, with their actor and swarm feature. */
function enabledEvents(model: Model, s: WorldState): { actor: number; feature: string }[] {
  const out: { actor: number; feature: string }[] = [];
  model.world.successors(s, () => {
    const e = model.world.describe(s);
    out.push({ actor: actorOf(e, model.world.nodeCount), feature: featureOf(model, e) });
  });
  return out;
}
