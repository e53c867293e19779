/**
 * The differential test: the fast successor layer (remembered outcomes, fingerprints computed
 * before successors are built, collapsed frontier, decode caches) against the reference
 * semantics (`events`/`next`, plain decode, fingerprints from the packed bytes). For every
 * bundled spec and variant, under every network kind, with and without loss, duplication,
 * crashes, disk faults, clocks, an in-flight bound and symmetry, at small bounds, both explorers must give
 * the same distinct states, the same fingerprints, the same goals and the same set of
 * (state, event, next) edges. It is what lets the next person touch the hot loop.
 */
import { describe, expect, it } from 'vitest';
import { bundledSpecs } from '../specs/catalogue.ts';
import type { Protocol } from '../specs/core/index.ts';
import { exhaustive } from './exhaustive.ts';
import { Model } from './model.ts';
import { normalizeOptions, type CheckOptions } from './options.ts';
import { defaultTuning } from './exhaustive.ts';

/** What one exploration saw: its states (fingerprints) and edges, keyed as text. */
interface Explored {
  states: Set<string>;
  edges: Set<string>;
  goals: boolean[];
  distinct: number;
  result: string;
}

const hex = (hi: number, lo: number) => (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');

export function explore(spec: Protocol, options: CheckOptions, fastPath: boolean): Explored {
  const model = new Model(spec, normalizeOptions(spec, { ...options, fastPath }));
  const states = new Set<string>();
  const edges = new Set<string>();
  const r = exhaustive(model, {
    ...defaultTuning,
    observeEdge: (parent, [phi, plo], event, hi, lo) => {
      const child = hex(hi, lo);
      states.add(child);
      edges.add(`${hex(phi, plo)} ${JSON.stringify(model.world.describe(parent, event))} ${child}`);
    },
  });
  return { states, edges, goals: r.goals.map((g) => g.reached), distinct: r.stats.distinctStates, result: r.outcome.kind };
}

/** Small bounds per spec, so that the reference explorer (10x slower) stays quick. */
const bounds: Record<string, { params: Record<string, number | boolean | string>; maxDepth: number }> = {
  'two-phase': { params: { rms: 2 }, maxDepth: 12 },
  raft: { params: { servers: 3, maxTerm: 2, maxLog: 1, values: 1 }, maxDepth: 6 },
  'raft-kv': { params: { servers: 3, maxTerm: 2, clients: 1, opsPerClient: 1 }, maxDepth: 6 },
  'two-phase-recovery': { params: { rms: 2, backup: true }, maxDepth: 6 },
  'two-phase-btm-tla': { params: { rms: 2 }, maxDepth: 12 },
  'paxos-commit': { params: { rms: 1 }, maxDepth: 5 },
  'paxos-commit-tla': { params: { rms: 1, maxBallot: 1 }, maxDepth: 7 },
  spanner: { params: { replicas: 1, clients: 1, opsPerClient: 1, strongReads: false }, maxDepth: 8 },
  vitess: { params: { shards: 2, clients: 1, opsPerClient: 1, singleShard: false }, maxDepth: 7 },
  citus: { params: { workers: 2, clients: 1, opsPerClient: 1, unilateralAbort: false, connectionFailures: false }, maxDepth: 6 },
  // Each round to 6 segments multiplies the states by hundreds: depth 4 (boot, commit, a write, its ack or a loss).
  aurora: { params: { failures: 1, replicas: 0, writerCrashes: 1 }, maxDepth: 4 },
  // Async commit: its variants differ from the 2PC ones only then. The clock world dominates.
  percolator: { params: { clients: 2, perClient: 1, keys: 2, stores: 1, async: true }, maxDepth: 5 },
  'percolator-tla': { params: { clients: 2, keys: 2, primaries: '1,2' }, maxDepth: 6 },
  'optimized-commit-ts-tla': { params: { clients: 2, keys: 2, primaries: '1,2' }, maxDepth: 5 },
  // Two nodes (one skewed) so HLC receives and uncertainty matter; parallel commits on, so STAGING is explored.
  cockroach: { params: { nodes: 2, keys: 2, clients: 1, opsPerClient: 1, parallelCommits: true }, maxDepth: 6 },
  'parallel-commits-tla': { params: { keys: 1, preventers: 1, maxAttempts: 2 }, maxDepth: 10 },
};

/** The world options tried on each spec: every network kind, with and without faults and clocks. */
const worlds: [string, CheckOptions][] = [
  ['set', { network: 'set' }],
  ['set, 1 crash', { network: 'set', crashes: 1 }],
  ['set, clock to 2, clock error 1, ε 1', { network: 'set', maxTime: 2, clockError: 1, trueTimeEpsilon: 1 }],
  ['set, symmetry', { network: 'set', symmetry: true }],
  ['bag', { network: 'bag' }],
  ['bag, drop and dup, ≤ 2 in flight', { network: 'bag', drop: true, dup: true, maxInFlight: 2 }],
  ['bag, 1 crash, ≤ 1 in flight', { network: 'bag', crashes: 1, maxInFlight: 1 }],
  ['fifo', { network: 'fifo' }],
  ['fifo, drop and dup, 1 crash', { network: 'fifo', drop: true, dup: true, crashes: 1 }],
  // Damaged restarts (torn tail, corrupted record, emptied log) through each role's onRecover, or the default without one.
  ['bag, 1 crash, 1 disk fault, ≤ 1 in flight', { network: 'bag', crashes: 1, diskFaults: 1, maxInFlight: 1 }],
];

const catalogue = await Promise.all(Object.entries(bundledSpecs).map(async ([name, e]) => ({ name, spec: await e.load() })));

describe('the fast path and the reference semantics explore the same graph', () => {
  for (const { name, spec } of catalogue) {
    const b = bounds[name];
    if (!b) throw new Error(`differential.test.ts: give '${name}' small bounds in 'bounds'`);
    const protocols: [string, Protocol][] = [[name, spec], ...Object.keys(spec.variants ?? {}).map((v): [string, Protocol] => [`${name}:${v}`, spec.variant(v)])];
    for (const [label, protocol] of protocols) {
      it(label, () => {
        for (const [world, options] of worlds) {
          // The variant's own exposure is overridden: the same world for both explorers.
          // A spec's own world without an in-flight bound lifts the one its checkDefaults may set (raft-kv's);
          // a variant keeps the bound its exposure sets (the graph it is broken on, and a small one).
          const lift: CheckOptions = protocol === spec ? { maxInFlight: Number.POSITIVE_INFINITY } : {};
          const o: CheckOptions = { drop: false, dup: false, crashes: 0, diskFaults: 0, maxTime: 0, clockError: 0, trueTimeEpsilon: 0, ...lift, ...options, params: b.params, maxDepth: b.maxDepth };
          const fast = explore(protocol, o, true);
          const reference = explore(protocol, o, false);
          const where = `${label} (${world})`;
          expect(fast.distinct, `${where}: distinct states`).toBe(reference.distinct);
          expect(fast.result, `${where}: result`).toBe(reference.result);
          expect(fast.goals, `${where}: goals`).toEqual(reference.goals);
          expect(setDifference(fast.states, reference.states), `${where}: states only the fast path has`).toEqual([]);
          expect(setDifference(reference.states, fast.states), `${where}: states only the reference has`).toEqual([]);
          expect(setDifference(fast.edges, reference.edges), `${where}: edges only the fast path has`).toEqual([]);
          expect(setDifference(reference.edges, fast.edges), `${where}: edges only the reference has`).toEqual([]);
        }
      }, 120_000);
    }
  }
});

/**
 * Client restarts (`clientRestarts`): each spec whose clients have sessions, and its variants,
 * with two operations per client so that a client may restart between them; raft-kv on one
 * server, deep enough for the restarted client to register its session and invoke again.
 */
describe('the fast path and the reference semantics agree under client restarts', () => {
  const restartBounds: Record<string, { params: Record<string, number | boolean | string>; maxDepth: number }> = {
    'raft-kv': { params: { servers: 1, maxTerm: 2, clients: 1, opsPerClient: 2, values: 1 }, maxDepth: 14 },
  };
  for (const { name, spec } of catalogue) {
    if (!spec.clients?.session) continue;
    const b = restartBounds[name];
    if (!b) throw new Error(`differential.test.ts: give '${name}' (clients with sessions) small bounds in 'restartBounds'`);
    const protocols: [string, Protocol][] = [[name, spec], ...Object.keys(spec.variants ?? {}).map((v): [string, Protocol] => [`${name}:${v}`, spec.variant(v)])];
    for (const [label, protocol] of protocols) {
      it(label, () => {
        const o: CheckOptions = { network: 'bag', drop: false, dup: false, crashes: 0, diskFaults: 0, maxTime: 0, clockError: 0, trueTimeEpsilon: 0, maxInFlight: 2, clientRestarts: 1, params: b.params, maxDepth: b.maxDepth };
        const fast = explore(protocol, o, true);
        const reference = explore(protocol, o, false);
        expect(fast.distinct, `${label}: distinct states`).toBe(reference.distinct);
        expect(fast.result, `${label}: result`).toBe(reference.result);
        expect(fast.goals, `${label}: goals`).toEqual(reference.goals);
        expect(setDifference(fast.edges, reference.edges), `${label}: edges only the fast path has`).toEqual([]);
        expect(setDifference(reference.edges, fast.edges), `${label}: edges only the reference has`).toEqual([]);
        // The restart is explored (and, with sessions, the registration after it).
        expect([...fast.edges].some((e) => e.includes('"kind":"restart"')), `${label}: a client restarts`).toBe(true);
        if (protocol.clients?.session) expect([...fast.edges].some((e) => e.includes('"register"')), `${label}: a restarted client registers`).toBe(true);
      }, 120_000);
    }
  }
});

function setDifference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x)).slice(0, 5);
}
