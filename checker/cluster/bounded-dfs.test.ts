/**
 * A swarm's bounded DFS job (bounded-dfs.ts) on its own: with room and depth enough it searches
 * the whole space (the BFS count), the budget and the bound cut it short, a run twice does the
 * same, a fault left out of its mix is never taken, and its path of fingerprints rebuilds into a
 * trace that ends in the violation.
 */
import { describe, expect, it } from 'vitest';
import { checkSync } from '../check.ts';
import { Model } from '../model.ts';
import { normalizeOptions, type CheckOptions } from '../options.ts';
import { concretize } from '../trace-builder.ts';
import twoPhase from '../../specs/two-phase/two-phase.ts';
import raftKv from '../../specs/raft/raft-kv.ts';
import type { Protocol } from '../../specs/core/index.ts';
import { BoundedDfs, type DfsPoint } from './bounded-dfs.ts';

function job(spec: Protocol, options: CheckOptions, point: Partial<DfsPoint> = {}) {
  const model = new Model(spec, normalizeOptions(spec, { mode: 'random', ...options }));
  const dfs = new BoundedDfs(model, { bound: 100, seed: 7, budget: 1 << 16, omit: [], ...point });
  while (!dfs.run(500));
  return { model, dfs };
}

describe('a bounded DFS job', () => {
  it('with room and depth enough, searches every state: the BFS count', () => {
    const bfs = checkSync(twoPhase, { params: { rms: 3 }, network: 'bag', crashes: 1, liveness: false });
    for (const seed of [1, 2, 3]) {
      const { dfs } = job(twoPhase, { params: { rms: 3 }, network: 'bag', crashes: 1 }, { seed });
      expect(dfs.outcome).toEqual({ kind: 'done', complete: true });
      expect(dfs.distinct).toBe(bfs.stats.distinctStates);
    }
  });

  it('stops at its budget, and does not expand past its bound', () => {
    const small = job(twoPhase, { params: { rms: 4 } }, { budget: 100 }).dfs;
    expect([small.outcome, small.distinct]).toEqual([{ kind: 'done', complete: false }, 100]);
    const shallow = job(twoPhase, { params: { rms: 4 } }, { bound: 3 }).dfs;
    expect(shallow.outcome).toEqual({ kind: 'done', complete: false });
    expect(shallow.deepest).toBe(3);
  });

  it('leaves out the fault kinds of its mix: without crashes, the space without crashes', () => {
    const plain = checkSync(twoPhase, { params: { rms: 3 }, liveness: false });
    const { dfs } = job(twoPhase, { params: { rms: 3 }, crashes: 1 }, { omit: ['crash'] });
    expect(dfs.distinct).toBe(plain.stats.distinctStates);
  });

  it("leaves out clients' restarts and servers' crashes each on its own", () => {
    const world = { params: { servers: 1, clients: 1, opsPerClient: 2, values: 1 }, network: 'bag', maxInFlight: 1, symmetry: false } as const;
    const crashesOnly = checkSync(raftKv, { ...world, crashes: 1 });
    const restartsOnly = checkSync(raftKv, { ...world, clientRestarts: 1 });
    const both = checkSync(raftKv, { ...world, crashes: 1, clientRestarts: 1 });
    expect(both.stats.distinctStates).toBeGreaterThan(Math.max(crashesOnly.stats.distinctStates, restartsOnly.stats.distinctStates));
    expect(job(raftKv, { ...world, crashes: 1, clientRestarts: 1 }, { omit: ['client-restart'] }).dfs.distinct).toBe(crashesOnly.stats.distinctStates);
    expect(job(raftKv, { ...world, crashes: 1, clientRestarts: 1 }, { omit: ['crash'] }).dfs.distinct).toBe(restartsOnly.stats.distinctStates);
    expect(job(raftKv, { ...world, crashes: 1, clientRestarts: 1 }).dfs.distinct).toBe(both.stats.distinctStates);
  });

  it('finds a violation the same way twice, on a path that rebuilds into the violating trace', () => {
    const spec = twoPhase.variant('commit-early');
    const a = job(spec, { params: { rms: 3 } }, { seed: 11 });
    const b = job(spec, { params: { rms: 3 } }, { seed: 11 });
    expect(a.dfs.outcome.kind).toBe('violation');
    expect(b.dfs.outcome).toEqual(a.dfs.outcome);
    if (a.dfs.outcome.kind !== 'violation') return;
    const path = concretize(a.model, a.dfs.outcome.path);
    expect(path.states).toHaveLength(a.dfs.outcome.path.length);
    expect(a.model.violated(path.states.at(-1)!)?.name).toBe(a.dfs.outcome.property);
  });
});

describe('its coverage', () => {
  it('names states as random walks do, so that the swarm counts a state both saw once', async () => {
    const { Walker, randomWalks } = await import('../random.ts');
    const spec = twoPhase;
    const model = new Model(spec, normalizeOptions(spec, { mode: 'random', params: { rms: 3 }, walks: 2000 }));
    const walker = new Walker(model);
    randomWalks(model, walker);
    const walked = new Set<string>();
    walker.store.forEach((hi, lo) => walked.add(`${hi}.${lo}`));
    const { dfs } = job(spec, { params: { rms: 3 } });
    const searched = new Set<string>();
    dfs.forEachSeen((hi, lo) => searched.add(`${hi}.${lo}`));
    // The DFS job searched the whole space: every state a walk saw is among its states.
    expect(walked.size).toBeGreaterThan(10);
    for (const s of walked) expect(searched.has(s)).toBe(true);
  });
});
