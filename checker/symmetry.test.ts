/**
 * Symmetry reduction is exact: every permutation of a reachable state has the same canonical
 * form as the state itself (brute force over all permutations), so the reduced count is the
 * true number of orbits, which the test also counts by brute force (minimum over permutations).
 */
import { describe, expect, it } from 'vitest';
import { compareBytes, equalBytes, protocol, t, invariant } from '../specs/core/index.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { checkSync } from './check.ts';
import { Model } from './model.ts';
import { normalizeOptions } from './options.ts';
import { Symmetry } from './symmetry.ts';
import type { WorldState } from './world.ts';

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Every reachable concrete state, by plain BFS over the world. */
function reachable(model: Model): WorldState[] {
  const seen = new Set<string>();
  const out: WorldState[] = [];
  const queue = [model.world.initial()];
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!;
    const key = Buffer.from(model.world.encode(s)).toString('latin1');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
    model.world.successors(s, (next) => void queue.push(next));
  }
  return out;
}

function bruteForceOrbits(spec: Parameters<typeof normalizeOptions>[0], params: Record<string, number>, roleName: string): { orbits: number; exact: boolean } {
  const model = new Model(spec, normalizeOptions(spec, { params }));
  const sym = new Symmetry(model.world);
  const role = model.world.roles.find((r) => r.name === roleName)!;
  const perms = permutations(role.count).map((p) => {
    const perm = new Int32Array(model.world.nodeCount);
    for (let id = 0; id < perm.length; id++) perm[id] = id;
    p.forEach((to, i) => (perm[role.base + i] = role.base + to));
    return perm;
  });
  const orbits = new Set<string>();
  let exact = true;
  for (const s of reachable(model)) {
    const canonical = sym.canonical(s).slice();
    let min: Uint8Array | undefined;
    for (const perm of perms) {
      const bytes = sym.permuted(s, perm);
      if (!min || compareBytes(bytes, min) < 0) min = bytes;
      // The same orbit must give the same canonical bytes.
      if (!equalBytes(sym.canonical(model.world.decode(bytes)), canonical)) exact = false;
    }
    orbits.add(Buffer.from(min!).toString('latin1'));
  }
  return { orbits: orbits.size, exact };
}

/** Symmetric nodes that point at each other: node-id fields of their own role, in state and messages. */
const Friends = (() => {
  const spec = protocol({ name: 'friends', params: { n: 3 }, messages: t.union('kind', { hello: { via: t.node('peer') } }) });
  const peer = spec.role(t.struct({ friend: t.option(t.node('peer')), heard: t.set(t.node('peer')) }))({
    count: (p) => p.n,
    symmetric: true,
    init: () => ({ friend: null, heard: [] }),
    onMessage: (s, from, m) => (s.heard.includes(m.via) ? s : { ...s, heard: [...s.heard, m.via] }),
    actions: {
      befriend: {
        choices: (_s, ctx) => ctx.nodes('peer').filter((id) => id !== ctx.self),
        when: (s) => s.friend === null,
        do: (s, out, ctx, friend: number) => {
          out.send(friend, { kind: 'hello', via: ctx.self });
          return { ...s, friend };
        },
      },
    },
  });
  return spec.define({ roles: { peer }, properties: () => [invariant('trivial', () => true)] });
})();

/**
 * Symmetric nodes with no state of their own (they all tie on it), told apart only by what a
 * server keeps per node id (a map keyed by them) and by the messages in flight: the case where
 * tie groups are split by where each id occurs in the rest of the world.
 */
const Tally = (() => {
  const spec = protocol({ name: 'tally', params: { n: 3, max: 2 }, messages: t.union('kind', { inc: {}, ack: { total: t.u32 } }) });
  const voter = spec.role(t.struct({}))({
    count: (p) => p.n,
    symmetric: true,
    init: () => ({}),
    actions: {
      inc: { do: (s, out, ctx) => (out.send(ctx.nodes('server')[0]!, { kind: 'inc' }), s) },
    },
  });
  const server = spec.role(t.struct({ counts: t.map(t.node('voter'), t.u32) }))({
    count: () => 1,
    init: () => ({ counts: new Map() }),
    onMessage: (s, from, m, out, ctx) => {
      if (m.kind !== 'inc') return s;
      const now = (s.counts.get(from) ?? 0) + 1;
      if (now > ctx.params.max) return s;
      out.send(from, { kind: 'ack', total: now });
      return { counts: new Map(s.counts).set(from, now) };
    },
  });
  return spec.define({ roles: { voter, server }, properties: () => [invariant('trivial', () => true)] });
})();

describe('symmetry reduction', () => {
  it('is exact when symmetric nodes tie on their own state and differ only in a map keyed by their ids', () => {
    const { orbits, exact } = bruteForceOrbits(Tally, { n: 3, max: 2 }, 'voter');
    expect(exact).toBe(true);
    const full = checkSync(Tally, { params: { n: 3, max: 2 } });
    const reduced = checkSync(Tally, { params: { n: 3, max: 2 }, symmetry: true });
    expect(reduced.stats.distinctStates).toBe(orbits);
    expect(reduced.stats.distinctStates).toBeLessThan(full.stats.distinctStates);
  });

  it('is exact on two-phase (brute force over all RM permutations)', () => {
    for (const rms of [3, 4]) {
      const { orbits, exact } = bruteForceOrbits(twoPhase, { rms }, 'rm');
      expect(exact).toBe(true);
      expect(checkSync(twoPhase, { params: { rms }, symmetry: true }).stats.distinctStates).toBe(orbits);
    }
  });

  it('is exact when symmetric nodes reference each other (state and messages)', () => {
    for (const n of [3, 4]) {
      const { orbits, exact } = bruteForceOrbits(Friends, { n }, 'peer');
      expect(exact).toBe(true);
      const full = checkSync(Friends, { params: { n } });
      const reduced = checkSync(Friends, { params: { n }, symmetry: true });
      expect(reduced.stats.distinctStates).toBe(orbits);
      expect(reduced.stats.distinctStates).toBeLessThan(full.stats.distinctStates);
    }
  });
});
