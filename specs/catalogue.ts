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
  'two-phase-recovery': {
    summary: '2PC surviving coordinator crashes: a durable decision log, presumed abort, a termination protocol, a backup coordinator',
    load: async () => (await import('./two-phase-recovery/two-phase-recovery.ts')).default,
  },
  'two-phase-btm-tla': {
    summary: "2PC with a backup TM shaped like 2PCwithBTM.tla (one node holds the module state): TLC's 1,245 states",
    load: async () => (await import('./two-phase-recovery/two-phase-btm-tla.ts')).default,
  },
  'paxos-commit': {
    summary: 'Paxos Commit (Gray & Lamport 2006): each vote decided by Paxos among acceptors; the commit survives the coordinator',
    load: async () => (await import('./paxos-commit/paxos-commit.ts')).default,
  },
  'paxos-commit-tla': {
    summary: "Paxos Commit shaped like PaxosCommit.tla (one node holds the module state): TLC's 1,321,761 states",
    load: async () => (await import('./paxos-commit/paxos-commit-tla.ts')).default,
  },
  raft: {
    summary: 'Raft consensus (Ongaro & Ousterhout 2014; raft.tla): elections, replication, commitment, crash/restart',
    load: async () => (await import('./raft/raft.ts')).default,
  },
  'raft-kv': {
    summary: 'A KV store on Raft with clients: exactly-once writes; reads through the log, under a leader lease, or at a closed timestamp',
    load: async () => (await import('./raft/raft-kv.ts')).default,
  },
};

/** The bundled protocol `name`, or undefined. */
export async function loadBundledSpec(name: string): Promise<Protocol | undefined> {
  const entry = bundledSpecs[name];
  return entry ? entry.load() : undefined;
}
