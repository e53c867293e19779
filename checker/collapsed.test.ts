/**
 * Collapsed frontiers (records of interned components) against packed ones: the same distinct
 * and generated counts, depths, verdicts and trace lengths, with BFS and DFS, including the
 * switch to packed bytes in the middle of a search (forced here), clients, clocks and crashes.
 */
import { describe, expect, it } from 'vitest';
import type { Protocol } from '../specs/core/index.ts';
import raft from '../specs/raft/raft.ts';
import raftKv from '../specs/raft/raft-kv.ts';
import twoPhase from '../specs/two-phase/two-phase.ts';
import { exhaustive, type FrontierTuning } from './exhaustive.ts';
import { Model } from './model.ts';
import { normalizeOptions, type CheckOptions } from './options.ts';

const packed: FrontierTuning = { collapse: false, collapseMinEntries: 0, collapseMaxShare: 0 };
const collapsed: FrontierTuning = { collapse: true, collapseMinEntries: Number.POSITIVE_INFINITY, collapseMaxShare: 1 };
/** Collapsed until the first check (1024 expansions), then packed. */
const switching: FrontierTuning = { collapse: true, collapseMinEntries: -1, collapseMaxShare: 0 };

function summary(spec: Protocol, options: CheckOptions, tuning: FrontierTuning) {
  const r = exhaustive(new Model(spec, normalizeOptions(spec, options)), tuning);
  const path = 'path' in r.outcome ? r.outcome.path.length : 0;
  return { outcome: r.outcome.kind, distinct: r.stats.distinctStates, generated: r.stats.statesGenerated, depth: r.stats.depth, path, goals: r.goals };
}

function expectSame(spec: Protocol, options: CheckOptions): void {
  const expected = summary(spec, options, packed);
  expect(summary(spec, options, collapsed)).toEqual(expected);
  expect(summary(spec, options, switching)).toEqual(expected);
}

describe('collapsed frontiers explore exactly what packed ones do', () => {
  it('two-phase, BFS and DFS, with crashes; a violation gives the same shortest trace', () => {
    expectSame(twoPhase, { params: { rms: 5 } });
    expectSame(twoPhase, { params: { rms: 5 }, mode: 'dfs' });
    expectSame(twoPhase.variant('volatile-rm'), { params: { rms: 3 }, crashes: 1 });
    expectSame(twoPhase.variant('abort-after-commit'), { params: { rms: 4 } });
    expect(summary(twoPhase.variant('abort-after-commit'), { params: { rms: 4 } }, collapsed).path).toBeGreaterThan(1);
  });

  it('raft on the bag network with drops and a crash, and on the set network with a clock', () => {
    expectSame(raft, { network: 'bag', drop: true, maxInFlight: 1, crashes: 1, params: { maxTerm: 2, maxLog: 1 } });
    expectSame(raft, { network: 'set', maxInFlight: 3, maxTime: 2, clockError: 1, params: { maxTerm: 2, maxLog: 1 }, maxStates: 20000 });
  });

  it('raft-kv with clients (history in the head component)', () => {
    expectSame(raftKv, { network: 'bag', maxInFlight: 1, params: { clients: 1, opsPerClient: 2 }, maxStates: 15000 });
  });
});
