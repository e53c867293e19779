/**
 * Raft's leader election alone (no log), with pre-vote and check-quorum as params, for one
 * liveness question: does a leader stay? `raft:election-storm` runs this model.
 *
 * The storm (Ongaro's thesis, §9.6 and §6.2; etcd's raft added pre-vote and check-quorum for
 * it): a server that cannot hear the leader times out, campaigns in a higher term, and the
 * higher term deposes a leader that was working — again and again. With one link cut (server 1 ↔
 * server N, a partial partition) it never ends: server N wins server 2's vote in a new term; the
 * old leader, cut off from the new one, hears the new term from server 2, steps down, times out
 * and wins server 2 back in the next term; and so on for ever.
 *
 * - **pre-vote** (`preVote`, thesis §9.6): a server whose timer runs out first asks the others
 *   whether they would vote for it in its next term, without incrementing its own term; a server
 *   grants a pre-vote only if its own timer has run out (it has heard from no leader in its term)
 *   and the proposed term is newer than its own (with no log, every log is up to date). A pre-vote
 *   request changes no term. A pre-candidate with a majority starts the real election.
 * - **check-quorum** (`checkQuorum`, thesis §6.2 and §4.2.3): a leader that did not hear from a
 *   majority (itself included) in the last heartbeat round steps down; and a server that hears
 *   from its leader (or leads) ignores a RequestVote of a newer term — the lease — instead of
 *   adopting that term.
 *
 * **Timers fire only when they can in a real run.** Raft's timing requirement is that messages
 * travel much faster than an election timeout (broadcastTime ≪ electionTimeout, §5.6 of the 2014
 * paper). The model takes it to the limit: timers fire one at a time, and each only once every message its firing
 * caused has been delivered. The servers pass a turn round robin (the `turn` message, not a Raft
 * message); a server's timers (election timeout, heartbeat) are enabled only while it has the
 * turn and no answer to its own requests is on its way (`pending`: every request is answered
 * exactly once in this model, which has no loss; a message on the cut link is lost at once and
 * not awaited), and it passes the turn on only then, so the network is empty whenever a timer
 * fires. A server may pass without firing, so every order of timers is a run. A follower's
 * election timer runs out only if it has heard from no leader in its term. Its knowledge of its
 * leader lasts the term: a leader keeps heartbeating until it sees a newer term or check-quorum
 * makes it step down — then its followers' leases would run out, which this model leaves out (in
 * the configurations checked a leader never steps down by check-quorum alone: the follower it can
 * reach answers every round; were it otherwise, the stranded followers would show up as a
 * violation, not hide one). Without this pacing, fairness alone lets a follower's timer race the
 * new leader's first heartbeat for ever, and terms drift apart without a bound (a server that
 * does nothing while two others climb), which no finite quotient holds.
 *
 * **Terms without a bound, in a finite quotient** (`terms: 'modular'`): the storm is unbounded
 * growth of terms, and in a term-bounded model every run ends at the bound. Here a term is kept
 * modulo {@link TERM_MODULUS} and compared as a serial number (RFC 1982): `a` is newer than `b`
 * when `(a − b) mod M` is in 1..M/2−1. The model only compares terms with each other (newer,
 * equal) and adds one — never with a constant, in the handlers and in the properties alike — so
 * the abstraction is exact as long as every two terms in the world, servers' and messages' alike,
 * lie within M/2 − 2 of each other: then a step (which compares terms of the world, or one of them
 * plus one, and moves a term by one or to another term of the world) sees real differences below
 * M/2, where serial comparison is the real one, and leaves real differences that the window check
 * reads exactly. That window is a state invariant ({@link termWindow}), so a run that leaves it
 * fails the check instead of silently aliasing terms; with the turns above it holds at M = 6
 * (window 1). A storm is then a real cycle: the terms climb by M and the state repeats.
 * `terms: 'bounded'` keeps terms ≤ `maxTerm` (timeouts stop there), as the log server does.
 *
 * Not modeled: logs (every candidate's log is up to date), crashes (`pending` is not durable),
 * loss other than the cut link, the lease of a leader that stepped down by check-quorum (above),
 * and the `set` network (replies must be consumed: use `--network bag`).
 */
import {
  add, eventuallyAlways, has, invariant, reachable, t,
  type Ctx, type NodeId, type Out, type ParamValue, type WorldReader,
} from '../core/index.ts';
import { isQuorum } from './consensus.ts';

/** Terms wrap around modulo this under `terms: 'modular'`: comparisons are exact within a window of M/2 − 2. */
export const TERM_MODULUS = 6;
const WINDOW = TERM_MODULUS / 2 - 2;

/** The pre-vote messages, added after Figure 2's kinds in raft's message union. */
export const preVoteMessageKinds = {
  /** A pre-candidate asks: would you vote for me in `term` (its own term + 1)? */
  preVote: { term: t.u32 },
  /** The answer, with the voter's own term (a refusal from a newer term makes the pre-candidate follow it). */
  preVoteReply: { term: t.u32, granted: t.bool },
  /** Not a Raft message: the model's turn to fire a timer, passed on once every answer is in (see the module comment). */
  turn: {},
};

/** The params the election model reads (declared by raft.ts). */
export interface ElectionParams {
  readonly [k: string]: ParamValue;
  readonly servers: number;
  readonly maxTerm: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly terms: string;
  readonly cut: string;
}

export const ElectionRole = t.enum('follower', 'precandidate', 'candidate', 'leader');

/** A server of the election model. */
export const ElectionServer = t.struct({
  role: ElectionRole,
  /** currentTerm (modulo {@link TERM_MODULUS} under `terms: 'modular'`). */
  term: t.u32,
  /** votedFor in the current term. */
  votedFor: t.option(t.node('server')),
  /** The leader heard from in the current term (itself, for a leader): the lease check-quorum honours. */
  leader: t.option(t.node('server')),
  /** Pre-candidate: pre-votes granted; candidate: votes granted (itself included). */
  votes: t.set(t.node('server')),
  /** Answers to this server's own requests still on their way: its timers wait for them. */
  pending: t.u32,
  /** Leader, with check-quorum: the followers that acknowledged the current heartbeat round. */
  acked: t.set(t.node('server')),
  /** This server has the turn: its timers may fire (see the module comment). */
  turn: t.bool,
});
export type ElectionServer = typeof ElectionServer.__type;

/** The messages this model sends: Figure 2's (no entries) and the pre-vote pair. */
type Msg =
  | { readonly kind: 'requestVote'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly kind: 'vote'; readonly term: number; readonly granted: boolean }
  | {
      readonly kind: 'append'; readonly term: number; readonly prevIndex: number; readonly prevTerm: number;
      readonly entries: readonly never[]; readonly commit: number; readonly stamp: number;
    }
  | { readonly kind: 'appendReply'; readonly term: number; readonly success: boolean; readonly match: number; readonly stamp: number }
  | { readonly kind: 'preVote'; readonly term: number }
  | { readonly kind: 'preVoteReply'; readonly term: number; readonly granted: boolean }
  | { readonly kind: 'turn' };

/** Term arithmetic: the only two things the model does with terms besides testing equality. */
export interface Terms {
  next(term: number): number;
  /** `a` is a newer term than `b`. */
  newer(a: number, b: number): boolean;
}

/** Terms modulo {@link TERM_MODULUS}, compared as serial numbers. */
export const modularTerms: Terms = {
  next: (term) => (term + 1) % TERM_MODULUS,
  newer: (a, b) => {
    const d = (((a - b) % TERM_MODULUS) + TERM_MODULUS) % TERM_MODULUS;
    return d > 0 && d < TERM_MODULUS / 2;
  },
};
const bounded: Terms = { next: (term) => term + 1, newer: (a, b) => a > b };

function termsOf(p: ElectionParams): Terms {
  return p.terms === 'modular' ? modularTerms : bounded;
}

/** Whether the link between `a` and `b` is cut (`cut: 'first-last'`: the first and the last server). */
export function isCut(p: ElectionParams, servers: readonly NodeId[], a: NodeId, b: NodeId): boolean {
  if (p.cut !== 'first-last' || servers.length < 3) return false;
  const first = servers[0]!;
  const last = servers[servers.length - 1]!;
  return (a === first && b === last) || (a === last && b === first);
}

/** Sends `msg` to every other server; the cut link loses it at once. Returns the state awaiting the answers. */
function ask(s: ElectionServer, msg: Msg, out: Out<Msg>, ctx: Ctx<ElectionParams>): ElectionServer {
  const servers = ctx.nodes('server');
  let sent = 0;
  for (const j of servers) {
    if (j === ctx.self || isCut(ctx.params, servers, ctx.self, j)) continue;
    out.send(j, msg);
    sent++;
  }
  return sent === 0 ? s : { ...s, pending: s.pending + sent };
}

/** Sends an answer, unless the link is cut (it never is for a request that arrived). */
function answered(s: ElectionServer): ElectionServer {
  return s.pending === 0 ? s : { ...s, pending: s.pending - 1 };
}

/** A newer term: follow it, with no vote cast and no leader heard yet (§5.1). */
function observe(s: ElectionServer, term: number): ElectionServer {
  return { ...s, term, role: 'follower', votedFor: null, leader: null, votes: [], acked: [] };
}

/**
 * The election timer has run out: no leader heard from in this term, and no vote granted to
 * another candidate in it. (Whether it may fire also needs every answer in: `pending === 0`.)
 */
function timerRanOut(s: ElectionServer, _self: NodeId): boolean {
  return s.role !== 'leader' && s.leader === null;
}

function startElection(s: ElectionServer, out: Out<Msg>, ctx: Ctx<ElectionParams>): ElectionServer {
  const term = termsOf(ctx.params).next(s.term);
  const next = ask({ ...s, role: 'candidate', term, votedFor: ctx.self, leader: null, votes: [ctx.self], acked: [] },
    { kind: 'requestVote', term, lastIndex: 0, lastTerm: 0 }, out, ctx);
  return isQuorum(1, ctx.count('server')) ? becomeLeader(next, out, ctx) : next;
}

/** Becomes leader and sends the first heartbeats at once (Figure 2: "upon election"). */
function becomeLeader(s: ElectionServer, out: Out<Msg>, ctx: Ctx<ElectionParams>): ElectionServer {
  return heartbeat({ ...s, role: 'leader', leader: ctx.self, votes: [], acked: [] }, out, ctx);
}

function heartbeat(s: ElectionServer, out: Out<Msg>, ctx: Ctx<ElectionParams>): ElectionServer {
  return ask(s, { kind: 'append', term: s.term, prevIndex: 0, prevTerm: 0, entries: [], commit: 0, stamp: 0 }, out, ctx);
}

function onMessage(s: ElectionServer, from: NodeId, m: Msg, out: Out<Msg>, ctx: Ctx<ElectionParams>): ElectionServer {
  const p = ctx.params;
  const { newer } = termsOf(p);
  switch (m.kind) {
    case 'preVote': {
      // A pre-vote request changes no term (§9.6): the voter only says whether it would vote.
      const granted = p.preVote && newer(m.term, s.term) && timerRanOut(s, ctx.self);
      out.send(from, { kind: 'preVoteReply', term: s.term, granted });
      return s;
    }
    case 'preVoteReply': {
      const r = answered(s);
      if (!m.granted) return newer(m.term, r.term) ? observe(r, m.term) : r;
      if (r.role !== 'precandidate' || has(r.votes, from)) return r;
      const votes = add(r.votes, from);
      return isQuorum(votes.length, ctx.count('server')) ? startElection({ ...r, votes }, out, ctx) : { ...r, votes };
    }
    case 'requestVote': {
      // Check-quorum's lease: a server that hears from its leader (or leads) ignores a newer term's candidate.
      if (p.checkQuorum && s.leader !== null && newer(m.term, s.term)) {
        out.send(from, { kind: 'vote', term: s.term, granted: false });
        return s;
      }
      const r = newer(m.term, s.term) ? observe(s, m.term) : s;
      const granted = m.term === r.term && (r.votedFor === null || r.votedFor === from);
      out.send(from, { kind: 'vote', term: r.term, granted });
      return granted && r.votedFor !== from ? { ...r, votedFor: from } : r;
    }
    case 'vote': {
      const r = answered(s);
      if (newer(m.term, r.term)) return observe(r, m.term);
      if (r.role !== 'candidate' || m.term !== r.term || !m.granted || has(r.votes, from)) return r;
      const votes = add(r.votes, from);
      return isQuorum(votes.length, ctx.count('server')) ? becomeLeader({ ...r, votes }, out, ctx) : { ...r, votes };
    }
    case 'append': {
      if (newer(s.term, m.term)) {
        out.send(from, { kind: 'appendReply', term: s.term, success: false, match: 0, stamp: 0 });
        return s;
      }
      const r = newer(m.term, s.term) ? observe(s, m.term) : s;
      // `from` leads this term: a (pre-)candidate of the term yields to it.
      out.send(from, { kind: 'appendReply', term: r.term, success: true, match: 0, stamp: 0 });
      if (r.role === 'follower' && r.leader === from) return r;
      return { ...r, role: 'follower', leader: from, votes: [] };
    }
    case 'appendReply': {
      const r = answered(s);
      if (newer(m.term, r.term)) return observe(r, m.term);
      if (!p.checkQuorum || r.role !== 'leader' || m.term !== r.term || !m.success || has(r.acked, from)) return r;
      return { ...r, acked: add(r.acked, from) };
    }
    case 'turn':
      return { ...s, turn: true };
    default:
      return s;
  }
}

/** The election-only server role (raft's `election-storm` variant replaces raft's server with it). */
export function electionServer() {
  return {
    count: (p: ElectionParams) => p.servers,
    // Not symmetric: the cut link tells the first and the last server from the others.
    symmetric: false,
    state: ElectionServer,
    init: (ctx: Ctx<ElectionParams>): ElectionServer =>
      ({ role: 'follower', term: 1, votedFor: null, leader: null, votes: [], pending: 0, acked: [], turn: ctx.index === 0 }),
    onMessage: (s: ElectionServer, from: NodeId, m: Msg, out: Out<Msg>, ctx: Ctx<ElectionParams>) => onMessage(s, from, m, out, ctx),
    actions: {
      /**
       * The election timer runs out: campaign (or, with pre-vote, ask for pre-votes first). Only
       * when every answer is in (messages are faster than timers); under `terms: 'bounded'`,
       * only below `maxTerm`.
       */
      timeout: {
        fair: 'strong' as const,
        when: (s: ElectionServer, ctx: Ctx<ElectionParams>) =>
          s.turn && s.pending === 0 && timerRanOut(s, ctx.self) && (ctx.params.terms === 'modular' || s.term < ctx.params.maxTerm),
        do: (s: ElectionServer, out: Out<Msg>, ctx: Ctx<ElectionParams>) => {
          if (!ctx.params.preVote) return startElection(s, out, ctx);
          const pre: ElectionServer = { ...s, role: 'precandidate', votes: [ctx.self] };
          if (isQuorum(1, ctx.count('server'))) return startElection(pre, out, ctx);
          return ask(pre, { kind: 'preVote', term: termsOf(ctx.params).next(s.term) }, out, ctx);
        },
        timerMs: [150, 300] as const,
      },
      /**
       * A leader's heartbeat round, once the last one is answered. With check-quorum it first
       * steps down if the last round was not acknowledged by a majority (itself included).
       */
      heartbeat: {
        fair: 'strong' as const,
        when: (s: ElectionServer) => s.turn && s.role === 'leader' && s.pending === 0,
        do: (s: ElectionServer, out: Out<Msg>, ctx: Ctx<ElectionParams>) => {
          if (ctx.params.checkQuorum) {
            if (!isQuorum(s.acked.length + 1, ctx.count('server'))) return { ...s, role: 'follower' as const, leader: null, acked: [] };
            return heartbeat({ ...s, acked: [] }, out, ctx);
          }
          return heartbeat(s, out, ctx);
        },
        timerMs: [50, 50] as const,
      },
      /**
       * The turn passes to the next server (round robin) once every answer is in. A server may
       * pass without firing, so any order of timers is a run of the model.
       */
      pass: {
        fair: 'weak' as const,
        when: (s: ElectionServer) => s.turn && s.pending === 0,
        do: (s: ElectionServer, out: Out<Msg>, ctx: Ctx<ElectionParams>) => {
          const all = ctx.nodes('server');
          out.send(all[(ctx.index + 1) % all.length]!, { kind: 'turn' });
          return { ...s, turn: false };
        },
      },
    },
  };
}

function servers(w: WorldReader): { id: NodeId; s: ElectionServer }[] {
  return w.nodes('server').filter((id) => !w.crashed(id)).map((id) => ({ id, s: w.node<ElectionServer>(id) }));
}

/** A leader that a majority follows: it leads, and a majority is in its term and heard from it (itself included). */
export function stableLeader(w: WorldReader): boolean {
  const all = servers(w);
  const n = w.nodes('server').length;
  return all.some(({ id, s }) => s.role === 'leader' && isQuorum(all.filter((o) => o.s.term === s.term && o.s.leader === id).length, n));
}

/**
 * Every two terms in the world (servers' and messages in flight) lie within the window where
 * modular terms compare as the real ones (see the module comment). Trivially true under bounded terms.
 */
export function termWindow(p: ElectionParams) {
  return invariant(`terms within ${WINDOW} of each other (the window where terms modulo ${TERM_MODULUS} are exact)`, (w: WorldReader) => {
    if (p.terms !== 'modular') return true;
    const terms = new Set<number>(servers(w).map(({ s }) => s.term));
    for (const m of w.messages<{ term?: number }>()) if (typeof m.msg.term === 'number') terms.add(m.msg.term);
    const list = [...terms];
    for (const a of list) {
      for (const b of list) {
        const d = (((a - b) % TERM_MODULUS) + TERM_MODULUS) % TERM_MODULUS;
        if (Math.min(d, TERM_MODULUS - d) > WINDOW) return false;
      }
    }
    return true;
  });
}

/** The election model's properties. */
export function electionProperties(p: ElectionParams) {
  return [
    termWindow(p),
    invariant('election safety: at most one leader per term', (w: WorldReader) => {
      const leaders = servers(w).filter(({ s }) => s.role === 'leader').map(({ s }) => s.term);
      return new Set(leaders).size === leaders.length;
    }),
    reachable('a leader is elected', (w: WorldReader) => servers(w).some(({ s }) => s.role === 'leader')),
    eventuallyAlways('a stable leader: eventually one leader that a majority follows, for ever', stableLeader, { fairDelivery: true }),
  ];
}
