/**
 * The bundled protocols, by the name `pacta check NAME` takes. Loaded lazily so the CLI starts
 * fast whatever the catalogue's size. Only the CLI (and tests, benches) read the catalogue: the
 * checker takes the spec to check as an argument, and its worker threads load it by `module`.
 */
import type { Protocol } from './core/index.ts';

export interface BundledSpec {
  summary: string;
  /** The `file:` URL of the module whose default export is the spec (worker threads load it). */
  module: string;
  load: () => Promise<Protocol>;
}

/** The URL of a spec module beside this file: its `.ts` source, or its `.js` build when this file is built. */
const moduleUrl = (path: string): string => new URL(`${path}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

export const bundledSpecs: Record<string, BundledSpec> = {
  'two-phase': {
    summary: "Two-phase commit (Lamport's TwoPhase.tla): one TM, N RMs",
    module: moduleUrl('./two-phase/two-phase'),
    load: async () => (await import('./two-phase/two-phase.ts')).default,
  },
  'two-phase-recovery': {
    summary: '2PC surviving coordinator crashes: a durable decision log, presumed abort, a termination protocol, a backup coordinator',
    module: moduleUrl('./two-phase-recovery/two-phase-recovery'),
    load: async () => (await import('./two-phase-recovery/two-phase-recovery.ts')).default,
  },
  'two-phase-btm-tla': {
    summary: "2PC with a backup TM shaped like 2PCwithBTM.tla (one node holds the module state): TLC's 1,245 states",
    module: moduleUrl('./two-phase-recovery/two-phase-btm-tla'),
    load: async () => (await import('./two-phase-recovery/two-phase-btm-tla.ts')).default,
  },
  'paxos-commit': {
    summary: 'Paxos Commit (Gray & Lamport 2006): each vote decided by Paxos among acceptors; the commit survives the coordinator',
    module: moduleUrl('./paxos-commit/paxos-commit'),
    load: async () => (await import('./paxos-commit/paxos-commit.ts')).default,
  },
  'paxos-commit-tla': {
    summary: "Paxos Commit shaped like PaxosCommit.tla (one node holds the module state): TLC's 1,321,761 states",
    module: moduleUrl('./paxos-commit/paxos-commit-tla'),
    load: async () => (await import('./paxos-commit/paxos-commit-tla.ts')).default,
  },
  raft: {
    summary: 'Raft consensus (Ongaro & Ousterhout 2014; raft.tla): elections, replication, commitment, crash/restart',
    module: moduleUrl('./raft/raft'),
    load: async () => (await import('./raft/raft.ts')).default,
  },
  'raft-kv': {
    summary: 'A KV store on Raft with clients: exactly-once writes; reads through the log, under a leader lease, or at a closed timestamp',
    module: moduleUrl('./raft/raft-kv'),
    load: async () => (await import('./raft/raft-kv.ts')).default,
  },
  percolator: {
    summary: "Percolator (TiKV): transactions on a timestamp oracle, lock resolution; async commit and 1PC as params",
    module: moduleUrl('./percolator/percolator'),
    load: async () => (await import('./percolator/percolator.ts')).default,
  },
  'percolator-tla': {
    summary: "Percolator at the granularity of pingcap's Percolator.tla (defaults: its Test2 config; TLC 3,308 states)",
    module: moduleUrl('./percolator/percolator-tla'),
    load: async () => (await import('./percolator/percolator-tla.ts')).default,
  },
  'optimized-commit-ts-tla': {
    summary: "pingcap's OptimizedCommitTS.tla: commit ts from last reads, rollback records (defaults: Test2; TLC 4,546 states)",
    module: moduleUrl('./percolator/optimized-commit-ts-tla'),
    load: async () => (await import('./percolator/optimized-commit-ts-tla.ts')).default,
  },
  spanner: {
    summary: 'Spanner (OSDI 2012): TrueTime commit wait, 2PC across Paxos groups, read-only transactions at t_safe; leader change',
    module: moduleUrl('./spanner/spanner'),
    load: async () => (await import('./spanner/spanner.ts')).default,
  },
  cockroach: {
    summary: "CockroachDB's transaction layer: HLC, write intents and records, pushes, uncertainty restarts, refreshes, lease transfers, parallel commits",
    module: moduleUrl('./cockroach/cockroach'),
    load: async () => (await import('./cockroach/cockroach.ts')).default,
  },
  'parallel-commits-tla': {
    summary: "cockroach's ParallelCommits.tla at its PlusCal label granularity (defaults: its cfg; TLC 8,216,557 states)",
    module: moduleUrl('./cockroach/parallel-commits-tla'),
    load: async () => (await import('./cockroach/parallel-commits-tla.ts')).default,
  },
  vitess: {
    summary: 'Vitess atomic distributed transactions: VTGate, MM dt_state, RM redo logs, watchdog; Single/Multi/TwoPC; scatter reads; a global index',
    module: moduleUrl('./vitess/vitess'),
    load: async () => (await import('./vitess/vitess.ts')).default,
  },
  citus: {
    summary: 'Citus 2PC: pg_dist_transaction in the local transaction, PREPARE/COMMIT PREPARED, presumed-abort recovery, reference tables, deadlock detection',
    module: moduleUrl('./citus/citus'),
    load: async () => (await import('./citus/citus.ts')).default,
  },
  aurora: {
    summary: "Amazon Aurora's quorum storage: 4/6 writes, 3/6 recovery reads, VDL commits, truncation and epochs, replicas, dual-quorum membership",
    module: moduleUrl('./aurora/aurora'),
    load: async () => (await import('./aurora/aurora.ts')).default,
  },
};

/** The bundled protocol `name`, or undefined. */
export async function loadBundledSpec(name: string): Promise<Protocol | undefined> {
  const entry = bundledSpecs[name];
  return entry ? entry.load() : undefined;
}
