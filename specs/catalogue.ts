/**
 * The bundled protocols, by the name `pacta check NAME` takes. Loaded lazily so the CLI starts
 * fast whatever the catalogue's size.
 */
import type { Protocol } from './core/index.ts';

export const bundledSpecs: Record<string, { summary: string; load: () => Promise<Protocol> }> = {
  'two-phase': {
    summary: "Two-phase commit (Lamport's TwoPhase.tla): one TM, N RMs",
    load: async () => (await import('./two-phase/two-phase.ts')).default,
  },
  raft: {
    summary: 'Raft consensus (Ongaro & Ousterhout 2014; raft.tla): elections, replication, commitment, crash/restart',
    load: async () => (await import('./raft/raft.ts')).default,
  },
  'raft-kv': {
    summary: 'A KV store on Raft with clients: exactly-once writes; reads through the log, under a leader lease, or at a closed timestamp',
    load: async () => (await import('./raft/raft-kv.ts')).default,
  },
  percolator: {
    summary: "Percolator (TiKV): transactions on a timestamp oracle, lock resolution; async commit and 1PC as params",
    load: async () => (await import('./percolator/percolator.ts')).default,
  },
  'percolator-tla': {
    summary: "Percolator at the granularity of pingcap's Percolator.tla (defaults: its Test2 config; TLC 3,308 states)",
    load: async () => (await import('./percolator/percolator-tla.ts')).default,
  },
  'optimized-commit-ts-tla': {
    summary: "pingcap's OptimizedCommitTS.tla: commit ts from last reads, rollback records (defaults: Test2; TLC 4,546 states)",
    load: async () => (await import('./percolator/percolator-tla.ts')).optimizedCommitTs,
  },
};

/** The bundled protocol `name`, or undefined. */
export async function loadBundledSpec(name: string): Promise<Protocol | undefined> {
  const entry = bundledSpecs[name];
  return entry ? entry.load() : undefined;
}
