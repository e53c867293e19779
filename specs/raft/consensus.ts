/**
 * The Raft consensus core shared by `raft` (consensus alone) and `raft-kv` (a KV store on top):
 * the server state and messages of Figure 2 of Ongaro & Ousterhout (2014), and the handlers for
 * elections, replication and commitment, cross-checked against Ongaro's raft.tla.
 *
 * The core is generic in the log entry (`{ term }` plus whatever the state machine needs) and is
 * configured by {@link RaftRules}: the deliberate bugs of the broken variants are rules too, so a
 * variant swaps a rule instead of copying a handler.
 *
 * Choices that differ from raft.tla (on purpose; see docs/protocols/raft.md):
 * - a candidate votes for itself when it times out (raft.tla sends itself a RequestVote);
 * - a message with a newer term updates the term and is handled in the same step (raft.tla's
 *   UpdateTerm is a step of its own that leaves the message in the network);
 * - becoming leader happens when the deciding vote arrives, and a leader advances its commit
 *   index when the deciding acknowledgement arrives (raft.tla: separate BecomeLeader and
 *   AdvanceCommitIndex actions) — as implementations do;
 * - AppendEntries carries every entry from nextIndex on (raft.tla: at most one);
 * - a follower's commit index never decreases (raft.tla lets an old duplicate lower it).
 *
 * Replication as fast implementations run it (etcd's raft, the thesis §10.2):
 * - the leader replicates on proposal: {@link hasUnsent} enables a `replicate` action as soon as
 *   a follower's nextIndex is within the log, so entries go out without waiting for the
 *   heartbeat timer (the executor runs it at the end of the event-loop turn, so every proposal of
 *   that turn travels in one AppendEntries: in the model the action may fire after any number of
 *   proposals, which is how it explores batches of 1..`batch` entries);
 * - AppendEntries carries at most `batch` entries (a param), the follower acknowledges the
 *   highest index it now matches, and the leader pipelines: sending a batch advances nextIndex
 *   past it at once (optimistically), so the next batch goes out before the first is
 *   acknowledged; a rejection names the next index to try, relative to the rejected message
 *   (its prevIndex, or the end of a shorter log), nextIndex backs off to it (never forward), and
 *   an acknowledgement never moves it back;
 * - the commit index advances on a quorum of matchIndex values (unchanged from Figure 2);
 * - protocol-aware recovery (Alagappan et al., "Protocol-Aware Recovery for Consensus-Based
 *   Storage", FAST 2018): a server whose durable state was found damaged (`onRecover`) enters a
 *   durable repair mode. It neither votes nor campaigns; it asks every other server for its term
 *   (`repairQuery` / `repairInfo`), acknowledges no AppendEntries until all have answered (its own
 *   term may have been rolled back below one it acknowledged in), and refuses to vote in any term
 *   up to the highest one it hears (it may have voted in any of them before the damage); and it
 *   leaves repair mode only
 *   after an AppendEntries of a leader (of a term at least that high) has brought its log up to
 *   the end of that leader's log, which holds every committed entry. A leader that hears the
 *   query forgets what the server acknowledged before (its matchIndex), and probes from the
 *   length of its log. See docs/protocols/raft.md.
 */
import {
  add, has, put, refuse, t, unreachable,
  type Ctx, type Fields, type NodeId, type Out, type Params, type RecoveryDamage, type Refusal, type Schema,
} from '../core/index.ts';

/** Figure 2's server roles. */
export const Role = t.enum('follower', 'candidate', 'leader');

/** The messages of Figure 2, generic in the log entry. */
export function raftMessages<E>(entry: Schema<E>) {
  return t.union('kind', raftMessageKinds(entry));
}

/** The variants of {@link raftMessages}, for a spec that adds its own kinds after them (raft.ts: pre-vote). */
export function raftMessageKinds<E>(entry: Schema<E>) {
  return {
    /** RequestVote RPC. */
    requestVote: { term: t.u32, lastIndex: t.u32, lastTerm: t.u32 },
    /** RequestVote response. */
    vote: { term: t.u32, granted: t.bool },
    /**
     * AppendEntries RPC (a heartbeat when `entries` is empty). `stamp` is the leader's clock
     * reading when it sent the message, echoed in the reply: leader leases count from it
     * (always 0 when leases are off).
     */
    append: { term: t.u32, prevIndex: t.u32, prevTerm: t.u32, entries: t.array(entry), commit: t.u32, stamp: t.int },
    /**
     * AppendEntries response: on success, `match` is the index up to which the follower's log
     * matches; on a rejection of this term, the next index the leader should try (the rejected
     * prevIndex, or the index after the follower's last entry when its log is shorter); 0 when
     * the request's term was stale.
     */
    appendReply: { term: t.u32, success: t.bool, match: t.u32, stamp: t.int },
    /** A server in repair mode asks for the receiver's term; `lastIndex` is its own log's length. */
    repairQuery: { term: t.u32, lastIndex: t.u32 },
    /** The answer to a repairQuery: the receiver's current term. */
    repairInfo: { term: t.u32 },
  };
}

/** The fields every Raft server has (Figure 2's persistent and volatile state). */
export function serverFields<E>(entry: Schema<E>) {
  return {
    role: Role,
    /** currentTerm (durable). */
    term: t.u32,
    /** votedFor in the current term (durable). */
    votedFor: t.option(t.node('server')),
    /** log[] (durable); entry i (1-based in the paper) is `log[i - 1]`. */
    log: t.array(entry),
    /** commitIndex (volatile). */
    commit: t.u32,
    /** Candidate: the servers that granted their vote in this term, itself included. */
    votes: t.set(t.node('server')),
    /** Leader: nextIndex per follower. */
    next: t.map(t.node('server'), t.u32),
    /** Leader: matchIndex per follower. */
    match: t.map(t.node('server'), t.u32),
    /**
     * Repair mode (durable), null normally: set by `onRecover` when the durable state was found
     * damaged. `heard`: the servers that answered the repair query. (No separate bound on the
     * terms heard: every message's term is observed first, so the server's own term is at least
     * the highest term it heard.)
     */
    repair: t.option(t.struct({ heard: t.set(t.node('server')) })),
  } satisfies Fields;
}

/** A server's repair mode (see {@link serverFields}). */
export interface Repair {
  readonly heard: readonly NodeId[];
}

export interface Entry {
  readonly term: number;
}

/** The state the core reads and writes; specs extend it with their own fields. */
export interface CoreState<E extends Entry> {
  readonly role: 'follower' | 'candidate' | 'leader';
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly log: readonly E[];
  readonly commit: number;
  readonly votes: readonly NodeId[];
  readonly next: ReadonlyMap<NodeId, number>;
  readonly match: ReadonlyMap<NodeId, number>;
  readonly repair: Repair | null;
  /**
   * Leader: how many entries at the end of its log are not yet to be written to its own disk
   * (raft-kv's parallel write: it replicates them meanwhile); it counts itself towards a quorum
   * only below them. Absent (raft): none.
   */
  readonly unsynced?: number;
}

export type RaftMsg<E> =
  | { readonly kind: 'requestVote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly kind: 'vote'; readonly term: number; readonly granted: boolean }
  | {
      readonly kind: 'append'; readonly term: number; readonly prevIndex: number; readonly prevTerm: number;
      readonly entries: readonly E[]; readonly commit: number; readonly stamp: number;
    }
  | { readonly kind: 'appendReply'; readonly term: number; readonly success: boolean; readonly match: number; readonly stamp: number }
  | { readonly kind: 'repairQuery'; readonly term: number; readonly lastIndex: number }
  | { readonly kind: 'repairInfo'; readonly term: number };

/** The rules a server follows. The correct protocol is {@link correctRules}. */
export interface RaftRules {
  /** Grant a vote only if none was granted to another candidate in this term (Figure 2). */
  readonly oneVotePerTerm: boolean;
  /**
   * Commit an index by counting replicas only if its entry is from the leader's current term
   * (§5.4.2). `false` is the bug of the paper's Figure 8.
   */
  readonly onlyCurrentTermCommit: boolean;
  /**
   * The leader counts itself towards a quorum only for entries its own write holds (not its
   * `unsynced` ones, raft-kv's parallel write; thesis §10.2.1). `false` is the bug of
   * `raft-kv:commit-before-own-write`.
   */
  readonly selfOnlyWhenWritten: boolean;
}

export const correctRules: RaftRules = { oneVotePerTerm: true, onlyCurrentTermCommit: true, selfOnlyWhenWritten: true };

/** The initial core state: a follower in term 1 (as raft.tla) with an empty log. */
export function initialCore<E extends Entry>(): CoreState<E> {
  return { role: 'follower', term: 1, votedFor: null, log: [], commit: 0, votes: [], next: EMPTY_MAP, match: EMPTY_MAP, repair: null };
}

const EMPTY_MAP: ReadonlyMap<NodeId, number> = new Map();

export function lastTerm<E extends Entry>(log: readonly E[]): number {
  return log.length === 0 ? 0 : log[log.length - 1]!.term;
}

/** A strict majority of `n` servers. */
export function isQuorum(size: number, n: number): boolean {
  return size * 2 > n;
}

/** Entries per AppendEntries: the `batch` param (no bound when a spec has none). */
export function batchOf<P extends Params>(ctx: Ctx<P>): number {
  const b = (ctx.params as Params)['batch'];
  return typeof b === 'number' && b >= 1 ? b : Number.POSITIVE_INFINITY;
}

/** The other servers. */
export function peers<P extends Params>(ctx: Ctx<P>): readonly NodeId[] {
  return ctx.nodes('server').filter((id) => id !== ctx.self);
}

// ---------------------------------------------------------------- local actions

/** Election timeout: start an election in the next term, voting for itself (§5.2). */
export function startElection<S extends CoreState<E>, E extends Entry, P extends Params>(s: S, ctx: Ctx<P>): S {
  const next: S = { ...s, role: 'candidate', term: s.term + 1, votedFor: ctx.self, votes: [ctx.self], next: EMPTY_MAP, match: EMPTY_MAP };
  return isQuorum(1, ctx.count('server')) ? becomeLeader(next, ctx) : next;
}

/** Sends a RequestVote to `to` (a candidate retries until `to` grants its vote). */
export function sendRequestVote<S extends CoreState<E>, E extends Entry>(s: S, to: NodeId, out: Out<RaftMsg<E>>): S {
  out.send(to, { kind: 'requestVote', term: s.term, lastIndex: s.log.length, lastTerm: lastTerm(s.log) });
  return s;
}

/**
 * Sends `to` the entries from its nextIndex on, at most `batch` of them (a heartbeat when there
 * are none). Pipelining: nextIndex moves past the entries sent, so the next send carries only
 * newer ones; a rejection moves it back (see `appendReply`).
 */
export function sendAppend<S extends CoreState<E>, E extends Entry>(s: S, to: NodeId, out: Out<RaftMsg<E>>, stamp: number, batch = Number.POSITIVE_INFINITY): S {
  const nextIndex = s.next.get(to) ?? s.log.length + 1;
  const prevIndex = nextIndex - 1;
  const entries = prevIndex + batch >= s.log.length ? s.log.slice(prevIndex) : s.log.slice(prevIndex, prevIndex + batch);
  out.send(to, {
    kind: 'append',
    term: s.term,
    prevIndex,
    prevTerm: prevIndex > 0 ? s.log[prevIndex - 1]!.term : 0,
    entries,
    commit: s.commit,
    stamp,
  });
  return entries.length === 0 ? s : { ...s, next: put(s.next, to, nextIndex + entries.length) };
}

/**
 * Go-back-N for a leader whose only sender is its heartbeat timer (raft.ts has no `replicate`):
 * what `to` has not acknowledged when the timer fires is sent again from matchIndex + 1, as in
 * raft.tla, instead of a heartbeat at the optimistic nextIndex, which a follower without the
 * batch rejects (and the batch goes again a rejection round trip later). Pipelining pays only
 * with a sender between ticks (raft-kv's `replicate`); without one it only added states (the
 * optimistic heartbeats and their rejections: 311,392 -> 9,466,093 at raft's defaults). Never
 * forward: a rejection may have backed nextIndex off further.
 */
export function rewindToMatch<S extends CoreState<E>, E extends Entry>(s: S, to: NodeId): S {
  if (s.role !== 'leader') return s;
  const next = s.next.get(to) ?? s.log.length + 1;
  const rewound = Math.min(next, (s.match.get(to) ?? 0) + 1);
  return rewound === next ? s : { ...s, next: put(s.next, to, rewound) };
}

/** Whether leader `s` has entries it has not sent to `to` yet (the `replicate` action's guard). */
export function hasUnsent<E extends Entry>(s: CoreState<E>, to: NodeId): boolean {
  return s.role === 'leader' && (s.next.get(to) ?? s.log.length + 1) <= s.log.length;
}

/**
 * A server in repair mode asks `to` for its term (again, until it answers). The query carries
 * term 0, not the server's own: that term may have been rolled back and tells the receiver
 * nothing (and a query per term the server passes through would only multiply messages).
 */
export function sendRepairQuery<S extends CoreState<E>, E extends Entry>(s: S, to: NodeId, out: Out<RaftMsg<E>>): S {
  out.send(to, { kind: 'repairQuery', term: 0, lastIndex: s.log.length });
  return s;
}

/** Whether `s` is in repair mode and still waits for `j`'s term. */
export function querying(s: CoreState<Entry>, j: NodeId): boolean {
  return s.repair !== null && !s.repair.heard.includes(j);
}

function becomeLeader<S extends CoreState<E>, E extends Entry, P extends Params>(s: S, ctx: Ctx<P>): S {
  const next = new Map<NodeId, number>();
  const match = new Map<NodeId, number>();
  for (const j of peers(ctx)) {
    next.set(j, s.log.length + 1);
    match.set(j, 0);
  }
  return { ...s, role: 'leader', votes: [], next, match };
}

// ---------------------------------------------------------------- message handlers

/** A newer term makes any server a follower of that term, with no vote cast yet (§5.1). */
export function observeTerm<S extends CoreState<E>, E extends Entry>(s: S, term: number): S {
  if (term <= s.term) return s;
  return { ...s, term, role: 'follower', votedFor: null, votes: [], next: EMPTY_MAP, match: EMPTY_MAP };
}

/**
 * Handles one Raft message (after {@link observeTerm}). Returns the next state; the replies go
 * into `out`. `now` is the stamp to echo (leases) and is not otherwise read.
 */
export function handleMessage<S extends CoreState<E>, E extends Entry, P extends Params>(
  s: S, from: NodeId, m: RaftMsg<E>, out: Out<RaftMsg<E>>, ctx: Ctx<P>, rules: RaftRules,
): S {
  switch (m.kind) {
    case 'requestVote': {
      // A server in repair mode votes for no one (it may have voted in this term before its
      // damage), and says nothing: a refusal would only tell the candidate a term it may already
      // have, and messages may be lost anyway.
      if (s.repair !== null) return s;
      const myLastTerm = lastTerm(s.log);
      const logOk = m.lastTerm > myLastTerm || (m.lastTerm === myLastTerm && m.lastIndex >= s.log.length);
      const free = !rules.oneVotePerTerm || s.votedFor === null || s.votedFor === from;
      const granted = m.term === s.term && logOk && free;
      out.send(from, { kind: 'vote', term: s.term, granted });
      return granted && s.votedFor !== from ? { ...s, votedFor: from } : s;
    }
    case 'vote': {
      if (m.term !== s.term || s.role !== 'candidate' || !m.granted || has(s.votes, from)) return s;
      const next = { ...s, votes: add(s.votes, from) };
      return isQuorum(next.votes.length, ctx.count('server')) ? becomeLeader(next, ctx) : next;
    }
    case 'append': {
      if (m.term < s.term) {
        out.send(from, { kind: 'appendReply', term: s.term, success: false, match: 0, stamp: m.stamp });
        return s;
      }
      // m.term === s.term: `from` is this term's leader; a candidate of the same term yields.
      const base: S = s.role === 'candidate' ? { ...s, role: 'follower', votes: [] } : s;
      // Repair mode, before every other server gave its term: this server's own term may have been
      // rolled back below one it acknowledged or voted in; an acknowledgement now could help a
      // stale leader commit behind the back of a newer one. Say nothing until the terms are known.
      if (base.repair !== null && base.repair.heard.length < ctx.count('server') - 1) return base;
      const logOk = m.prevIndex === 0 || (m.prevIndex <= base.log.length && base.log[m.prevIndex - 1]!.term === m.prevTerm);
      const batch = batchOf(ctx);
      if (!logOk) {
        // Name the next index to try: the rejected one less one entry, or the end of this log when
        // it is shorter (so the leader does not probe back one entry per round trip). Relative to
        // the rejected message, not to the leader's nextIndex, which pipelining has moved on.
        const hint = Math.min(m.prevIndex, base.log.length + 1);
        out.send(from, { kind: 'appendReply', term: base.term, success: false, match: hint, stamp: m.stamp });
        return base;
      }
      const log = mergeEntries(base.log, m.prevIndex, m.entries);
      const lastNew = m.prevIndex + m.entries.length;
      const commit = Math.max(base.commit, Math.min(m.commit, lastNew));
      out.send(from, { kind: 'appendReply', term: base.term, success: true, match: lastNew, stamp: m.stamp });
      // Repair ends once every other server gave its term and this append reached the end of the
      // leader's log (a batch that is not full is the last one): the log holds every committed entry.
      const repaired = base.repair !== null && base.repair.heard.length >= ctx.count('server') - 1 && m.entries.length < batch;
      if (log === base.log && commit === base.commit && !repaired) return base;
      return { ...base, log, commit, ...(repaired ? { repair: null } : {}) };
    }
    case 'appendReply': {
      if (m.term !== s.term || s.role !== 'leader') return s;
      if (!m.success) {
        const previous = s.next.get(from) ?? 1;
        // Back off to the follower's hint (never forward: a late rejection of an older batch only
        // resends). The retry is the `replicate` action's (nextIndex is within the log), not a send from here.
        const nextIndex = Math.max(1, Math.min(previous, m.match > 0 ? m.match : previous - 1));
        return nextIndex === previous ? s : { ...s, next: put(s.next, from, nextIndex) };
      }
      const matchIndex = Math.max(s.match.get(from) ?? 0, m.match);
      const matchMap = put(s.match, from, matchIndex);
      // Pipelining: batches sent after the acknowledged one are in flight; never resend them.
      const nextMap = put(s.next, from, Math.max(s.next.get(from) ?? 1, matchIndex + 1));
      // A heartbeat's acknowledgement usually changes nothing: the same state (the executor then
      // skips re-checking a state that may hold a long log).
      const moved: S = matchMap === s.match && nextMap === s.next ? s : { ...s, match: matchMap, next: nextMap };
      return advanceCommit(moved, ctx, rules);
    }
    case 'repairQuery': {
      out.send(from, { kind: 'repairInfo', term: s.term });
      if (s.role !== 'leader') return s;
      // `from` lost (part of) its log: forget what it acknowledged before, and probe from its log's end.
      const nextIndex = Math.max(1, Math.min(s.next.get(from) ?? s.log.length + 1, m.lastIndex + 1));
      if (s.match.get(from) === 0 && s.next.get(from) === nextIndex) return s;
      return { ...s, next: put(s.next, from, nextIndex), match: put(s.match, from, 0) };
    }
    case 'repairInfo': {
      // `s` has observed m.term already (the role's onMessage observes every message's term).
      const r = s.repair;
      if (r === null || has(r.heard, from)) return s;
      const repair: Repair = { heard: add(r.heard, from) };
      const next: S = { ...s, repair };
      return repair.heard.length >= ctx.count('server') - 1 ? withholdVote(next, ctx) : next;
    }
    default:
      return unreachable(m);
  }
}

/**
 * Every other server gave its term: every term this server voted in before its damage is at most
 * the highest of them (the candidate it voted for had that term, and answered), and this server's
 * term is at least that high (it observed each answer's term). Repair mode granted no vote; from
 * here on it votes in no term up to its current one: it takes up its vote in the current term
 * itself (unless the damage left it a vote there, which is one it cast), and a newer term is one
 * it never voted in.
 */
function withholdVote<S extends CoreState<E>, E extends Entry, P extends Params>(s: S, ctx: Ctx<P>): S {
  return s.votedFor === null ? { ...s, votedFor: ctx.self } : s;
}

/**
 * The servers' recovery hook (`onRecover`). A torn tail is the state before a write whose effects
 * never went out: run on it. Any other damage (a lost write, a corrupted record, an emptied log)
 * may have dropped a vote or acknowledged entries: enter repair mode. A lone server has no one to
 * repair from: it refuses.
 */
export function recoverServer<S extends CoreState<E>, E extends Entry, P extends Params>(s: S, damage: RecoveryDamage, ctx: Ctx<P>): S | Refusal {
  if (damage.kind === 'torn-tail') return s;
  if (ctx.count('server') < 2) return refuse(`a lone server whose durable state is damaged (${damage.kind}) has no one to repair it from`);
  return { ...s, role: 'follower', votes: [], next: EMPTY_MAP, match: EMPTY_MAP, repair: { heard: [] } };
}

/**
 * Today's executor behaviour before protocol-aware recovery: whatever could be read is taken as
 * the truth (a corrupted log cut at the damage, an emptied one started afresh), and the server
 * votes as if nothing happened. The bug of `raft:truncate-on-corruption`.
 */
export function recoverAsIs<S>(s: S): S {
  return s;
}

/**
 * Figure 2, AppendEntries receiver rules 3 and 4: an existing entry that conflicts with a new one
 * (same index, different term) is deleted with all that follow it; new entries are appended.
 * Entries that already match are kept, so an old duplicate never truncates the log.
 */
export function mergeEntries<E extends Entry>(log: readonly E[], prevIndex: number, entries: readonly E[]): readonly E[] {
  let out = log;
  for (let k = 0; k < entries.length; k++) {
    const at = prevIndex + k; // 0-based position of entry prevIndex + k + 1
    if (at < out.length) {
      if (out[at]!.term === entries[k]!.term) continue;
      out = out.slice(0, at);
    }
    out = out === log ? log.slice() : out;
    (out as E[]).push(entries[k]!);
  }
  return out;
}

/**
 * The leader commits the highest index stored on a majority — if its entry is from the current
 * term (§5.4.2; raft.tla's AdvanceCommitIndex). Earlier entries are committed with it.
 */
export function advanceCommit<S extends CoreState<E>, E extends Entry, P extends Params>(s: S, ctx: Ctx<P>, rules: RaftRules): S {
  const n = ctx.count('server');
  for (let index = s.log.length; index > s.commit; index--) {
    if (rules.onlyCurrentTermCommit && s.log[index - 1]!.term !== s.term) return s;
    const written = rules.selfOnlyWhenWritten ? s.log.length - (s.unsynced ?? 0) : s.log.length;
    let agree = index <= written ? 1 : 0; // the leader itself, once its own write holds the entry
    for (const m of s.match.values()) if (m >= index) agree++;
    if (isQuorum(agree, n)) return { ...s, commit: index };
  }
  return s;
}
