/**
 * Liveness of Raft in a term-bounded model: what "the bound ran out" means, and raft-kv's
 * "every client request is eventually answered".
 *
 * Terms are bounded by `maxTerm`, and a timer in the model may fire in any state where it is
 * enabled (heartbeats do not push it back): fair timers drive runs up to the bound, where
 * timeouts stop. A run whose last election can no longer produce a leader stays leaderless
 * forever only because the bound ran out (unbounded Raft would start another term), so the
 * properties excuse exactly those end states. Anything else that never happens is a finding.
 */
import { leadsTo, type NodeId, type WorldReader } from '../core/index.ts';
import { isQuorum, lastTerm, type CoreState, type Entry } from './consensus.ts';

/** A live server and its state. */
interface Live<S> {
  readonly id: NodeId;
  readonly s: S;
}

/**
 * Whether candidate `c` could still win its term's election: a majority of the servers of its
 * term voted for it, or may still (no vote cast yet in that term, not in repair, and `c`'s log
 * at least as up to date as theirs, §5.4.1). `n` is the number of servers (a majority of all).
 */
export function canStillWin<E extends Entry>(c: CoreState<E>, cId: NodeId, live: readonly Live<CoreState<E>>[], n: number): boolean {
  let votes = 0;
  for (const { id, s } of live) {
    if (s.term !== c.term) continue;
    if (id === cId || s.votedFor === cId) votes++;
    else if (s.votedFor === null && s.repair === null) {
      const logOk = lastTerm(c.log) > lastTerm(s.log) || (lastTerm(c.log) === lastTerm(s.log) && c.log.length >= s.log.length);
      if (logOk) votes++;
    }
  }
  return isQuorum(votes, n);
}

/** The live servers of `w`, with their states. */
function liveServers<S>(w: WorldReader): Live<S>[] {
  return w.nodes('server').filter((id) => !w.crashed(id)).map((id) => ({ id, s: w.node<S>(id) }));
}

/**
 * The term bound ran out without a leader: no live server leads, every live server is in
 * `maxTerm` (no timeout is left), and no live candidate can still win there. Unbounded Raft
 * would start another term; the model cannot.
 */
export function boundRanOut<E extends Entry>(w: WorldReader, maxTerm: number): boolean {
  const live = liveServers<CoreState<E>>(w);
  if (live.some(({ s }) => s.role === 'leader')) return false;
  if (!live.every(({ s }) => s.term >= maxTerm)) return false;
  const n = w.nodes('server').length;
  return !live.some(({ id, s }) => s.role === 'candidate' && canStillWin(s, id, live, n));
}

/** A world client's state (checker/clients.ts): the next request id and the one in flight. */
interface ClientState {
  readonly next: number;
  readonly pending: { readonly id: number } | null;
}

/** A raft-kv log entry as far as this module reads it: who asked, and the request id. */
interface CmdEntry extends Entry {
  readonly cmd: { readonly client: NodeId; readonly id: number } | null;
}

/**
 * Client `c`'s request `id` is lost: no server's log holds its entry and no message in flight
 * carries the request or its answer. It is never answered in the model, because a world client
 * sends each operation once; a real client times out and retries, which the model leaves out
 * (docs/protocols/raft.md). Under the `set` network a request stays in flight for ever (it may be
 * delivered again, which acts as a retry), so there nothing is ever lost.
 */
function lost(w: WorldReader, c: NodeId, id: number): boolean {
  for (const sid of w.nodes('server')) {
    if (w.node<CoreState<CmdEntry>>(sid).log.some((e) => e.cmd !== null && e.cmd.client === c && e.cmd.id === id)) return false;
  }
  for (const m of w.messages<{ id?: number }>()) {
    if ((m.from === c || m.to === c) && m.msg.id === id) return false;
  }
  return true;
}

/**
 * raft-kv: every client request is eventually answered, within the term bound. Under fair
 * delivery and weakly fair timers, vote requests and AppendEntries: a request to a follower or
 * candidate is answered `notLeader` when delivered; one to the leader is proposed, replicated,
 * committed, applied and answered by its proposer. Excused: the bound ran out without a leader
 * ({@link boundRanOut}), and a request whose entry was lost when its proposer lost leadership and
 * a later leader overwrote it ({@link lost}: a real client retries).
 */
export function requestsAnswered(maxTerm: number) {
  const pending = (w: WorldReader): { c: NodeId; id: number }[] => {
    const out: { c: NodeId; id: number }[] = [];
    for (const c of w.nodes('client')) {
      const p = w.node<ClientState>(c).pending;
      if (p !== null) out.push({ c, id: p.id });
    }
    return out;
  };
  return leadsTo(
    'every client request is eventually answered (within the term bound)',
    (w: WorldReader) => pending(w).length > 0,
    (w: WorldReader) => {
      const waiting = pending(w);
      if (waiting.length === 0) return true;
      if (boundRanOut<CmdEntry>(w, maxTerm)) return true;
      return waiting.every(({ c, id }) => lost(w, c, id));
    },
    { fairDelivery: true },
  );
}
