/**
 * Raft's safety properties (Figure 3 of the paper) as invariants over the servers' states,
 * shared by `raft` and `raft-kv`. Each reads only the current states, as raft.tla's invariants
 * do (no history variables): a property that needs the past (e.g. "no two leaders were ever
 * elected in one term") is checked through what the past leaves in logs and commit indexes.
 */
import { equalValues, invariant, type Property, type WorldReader } from '../core/index.ts';
import type { CoreState, Entry } from './consensus.ts';

type S = CoreState<Entry>;

/** Election safety: at most one leader per term (among the servers' current states). */
export const electionSafety: Property = invariant('election safety: at most one leader per term', (w: WorldReader) => {
  const leaders = w.states<S>('server').filter((s) => s.role === 'leader');
  for (let i = 0; i < leaders.length; i++) {
    for (let j = i + 1; j < leaders.length; j++) if (leaders[i]!.term === leaders[j]!.term) return false;
  }
  return true;
});

/** Log matching: if two logs hold an entry with the same index and term, they agree up to it. */
export const logMatching: Property = invariant('log matching', (w: WorldReader) => {
  const logs = w.states<S>('server').map((s) => s.log);
  for (let a = 0; a < logs.length; a++) {
    for (let b = a + 1; b < logs.length; b++) {
      const la = logs[a]!;
      const lb = logs[b]!;
      const n = Math.min(la.length, lb.length);
      // The highest index where the terms agree must have equal prefixes.
      for (let i = n - 1; i >= 0; i--) {
        if (la[i]!.term !== lb[i]!.term) continue;
        for (let k = 0; k <= i; k++) if (!equalValues(la[k], lb[k])) return false;
        break;
      }
    }
  }
  return true;
});

/**
 * Leader completeness: an entry committed in term T is in the log of every leader of a term after
 * T. The state does not record the term an index was committed in, but it bounds it: a server
 * learns its commit index from a leader of its current term (or is that leader), so its committed
 * entries were committed in a term ≤ its current term, and every leader of a greater term must
 * hold them. (Using the entry's own term instead would be wrong: a stale leader of term 3 may
 * lack an entry of term 2 that a leader of term 4 commits.)
 */
export const leaderCompleteness: Property = invariant('leader completeness', (w: WorldReader) => {
  const servers = w.states<S>('server');
  for (const leader of servers) {
    if (leader.role !== 'leader') continue;
    for (const s of servers) {
      if (s.term >= leader.term) continue;
      for (let i = 0; i < s.commit; i++) {
        const e = s.log[i];
        if (e === undefined) continue; // a committed entry lost from its own log: state-machine safety reports it
        if (!(i < leader.log.length && equalValues(leader.log[i], e))) return false;
      }
    }
  }
  return true;
});

/** State-machine safety: no two servers commit different entries at the same index. */
export const stateMachineSafety: Property = invariant('state-machine safety', (w: WorldReader) => {
  const servers = w.states<S>('server');
  let longest: S | undefined;
  for (const s of servers) if (!longest || s.commit > longest.commit) longest = s;
  if (!longest) return true;
  for (const s of servers) {
    for (let i = 0; i < s.commit; i++) if (!equalValues(s.log[i], longest.log[i])) return false;
  }
  return true;
});

/** The four invariants of Figure 3 that are state predicates. */
export const raftInvariants: readonly Property[] = [electionSafety, logMatching, leaderCompleteness, stateMachineSafety];
