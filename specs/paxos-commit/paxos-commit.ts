/**
 * Paxos Commit (Gray & Lamport, "Consensus on Transaction Commit", ACM TODS 31(1), 2006): the
 * transaction's fate is decided by one Paxos consensus instance per resource manager (RM) on that
 * RM's vote, among 2F+1 acceptors, so the commit survives the failure of F acceptors and of the
 * coordinator. Two-phase commit is its F = 0 case: the coordinator's log is the one acceptor.
 *
 * The algorithm (the paper's §4 and its PaxosCommit.tla). Each RM votes by sending the ballot-0
 * phase 2a message of its own instance, `prepared` or `aborted`, to the acceptors (`vote`):
 * ballot 0 belongs to the RM, so no phase 1 is needed and the normal case costs no more message
 * delays than 2PC. An acceptor accepts it unless it promised a higher ballot, and tells the
 * coordinator (`voted`, the ballot-0 phase 2b). The coordinator (leader 1, the initial leader)
 * learns that an instance chose a vote when a majority of acceptors accepted it; the transaction
 * commits when every instance chose `prepared`, aborts when one chose `aborted`, and the leader
 * tells the RMs. When the coordinator fails, another leader takes the transaction over with a
 * higher ballot it owns, for every instance at once (one message per destination, the bundling
 * the paper counts messages with): phase 1a to the acceptors; each promises not to accept a
 * lower ballot and reports, per instance, the ballot and vote it last accepted (phase 1b); from
 * a majority's reports the leader must propose, per instance, the vote of the highest reported
 * ballot, or `aborted` when none was reported (the RM may never have voted, and aborting is
 * always safe) (phase 2a); acceptors accept and tell it (phase 2b); with a majority it has
 * learned every instance and decides. Ballot b > 0 belongs to leader b mod L + 1, so no two
 * leaders propose in one ballot, and a leader keeps durably the ballot it runs and whether it
 * proposed in it (a leader must never propose twice in one ballot, as the TLA+ module notes).
 *
 * Roles: `leader` (L of them; leader 1 is the coordinator), `rm` (durable), `acceptor` (durable:
 * per instance its promise and the ballot and vote it last accepted). The bare check is
 * crash-free: a coordinator that stops is one that takes no more steps, which crash-free runs
 * already include (a backup leader may take over at any point); `--crashes 1` adds real crashes
 * (a test does, with one RM). The acceptor rules are paxos.ts, shared with `paxos-commit-tla`.
 *
 * Granularity and what is not modeled: messages are received one at a time (the TLA+ module's
 * leaders read the set of all sent messages instead, and run a ballot per instance;
 * `paxos-commit-tla` is that model, with TLC's count); a leader decides in the step in which it
 * learns enough; the BeginCommit request that starts the transaction is not modeled (RMs vote
 * spontaneously, as in the TLA+ specs); leader election is not modeled (a backup leader may take
 * over at any time, which Paxos makes safe: it needs no agreement on the leader for safety); one
 * transaction; liveness.
 */
import { add, invariant, protocol, reachable, setAt, t, type NodeId, type WorldReader } from '../core/index.ts';
import { accept, AcceptorInstance, correctAcceptor, initialInstance, majority, promise, Value, valueToPropose, type AcceptorRules } from './paxos.ts';

const Vote = t.enum('prepared', 'aborted');
type Vote = typeof Vote.__type;

/** The ballot and vote an acceptor last accepted for an instance (-1, none: nothing). */
const Last = t.struct({ bal: t.int, val: Value });
type Last = typeof Last.__type;

const Msg = t.union('kind', {
  /** RM → acceptors: its vote, the ballot-0 phase 2a message of instance `ins` (the RM's index). */
  vote: { ins: t.u32, val: Vote },
  /** Acceptor → coordinator: it accepted the vote (ballot-0 phase 2b). */
  voted: { ins: t.u32, val: Vote },
  /** Leader → acceptors: take over every instance with ballot `bal`. */
  phase1a: { bal: t.u32 },
  /** Acceptor → leader: a promise for `bal`, with what it last accepted, per instance. */
  phase1b: { bal: t.u32, last: t.array(Last) },
  /** Leader → acceptors: accept these votes (one per instance) in ballot `bal`. */
  phase2a: { bal: t.u32, vals: t.array(Vote) },
  /** Acceptor → leader: accepted them. */
  phase2b: { bal: t.u32, vals: t.array(Vote) },
  /** Leader → RMs: the outcome. */
  decision: { commit: t.bool },
});
type Msg = typeof Msg.__type;

const Decision = t.enum('none', 'commit', 'abort');
type Decision = typeof Decision.__type;

/** A ballot-0 phase 2b the coordinator received: acceptor `acc` accepted vote `val`. */
const Voted = t.struct({ acc: t.node('acceptor'), val: Vote });

const LeaderState = t.struct({
  /** The ballot it runs to take the transaction over (0: none), durable. */
  ballot: t.u32,
  /** It sent that ballot's phase 2a (durable: never two proposals in one ballot). */
  proposed: t.bool,
  /** The acceptors that promised the ballot. */
  promises: t.set(t.node('acceptor')),
  /** Per instance, the highest ballot and vote their reports named. */
  best: t.array(Last),
  /** The acceptors that accepted its proposal. */
  accepts: t.set(t.node('acceptor')),
  /** Coordinator only: per instance, the ballot-0 acceptances received until the vote is learned. */
  voted: t.array(t.set(Voted)),
  /** Per instance, the vote learned (none: not yet). */
  chosen: t.array(Value),
  /** What it decided and told the RMs. */
  decision: Decision,
});
type LeaderState = typeof LeaderState.__type;

const RmState = t.enum('working', 'prepared', 'committed', 'aborted');
type RmState = typeof RmState.__type;

const AcceptorState = t.array(AcceptorInstance);

const spec = protocol({
  name: 'paxos-commit',
  doc: 'Paxos Commit (Gray & Lamport 2006): each RM vote decided by a Paxos instance among acceptors; a backup leader takes over with a higher ballot.',
  params: { rms: { default: 2, min: 1, max: 255 }, acceptors: { default: 3, min: 1, max: 255 }, leaders: { default: 2, min: 1, max: 255 }, maxBallot: { default: 1, min: 0, max: 255 } },
  messages: Msg,
});

interface Ctx0 {
  readonly params: { rms: number; acceptors: number; leaders: number; maxBallot: number };
  readonly index: number;
  nodes(role: string): readonly NodeId[];
}

/** The leader that owns ballot `bal`: ballot 0 (the votes) is learned by the coordinator, leader 1. */
const ownerOf = (ctx: Ctx0, bal: number): NodeId => ctx.nodes('leader')[bal % ctx.params.leaders]!;

/** The next ballot above `bal` this leader owns within the bound, or null. */
function nextBallot(ctx: Ctx0, bal: number): number | null {
  for (let b = bal + 1; b <= ctx.params.maxBallot; b++) if (b % ctx.params.leaders === ctx.index) return b;
  return null;
}

const nothing: Last = { bal: -1, val: 'none' };

/** The leader has learned `chosen` for every instance it knows: decide and tell the RMs when that fixes the outcome. */
function learn(s: LeaderState, chosen: readonly Value[], out: { broadcast(role: string, m: Msg): void }): LeaderState {
  const d: Decision = chosen.includes('aborted') ? 'abort' : chosen.every((v) => v === 'prepared') ? 'commit' : 'none';
  if (d === 'none') return { ...s, chosen };
  out.broadcast('rm', { kind: 'decision', commit: d === 'commit' });
  return { ...s, chosen, decision: d };
}

const leader = spec.role(LeaderState)({
  count: (p) => p.leaders,
  durable: ['ballot', 'proposed'],
  init: (ctx) => ({
    ballot: 0,
    proposed: false,
    promises: [],
    best: Array.from({ length: ctx.params.rms }, () => nothing),
    accepts: [],
    voted: Array.from({ length: ctx.params.rms }, () => []),
    chosen: Array.from({ length: ctx.params.rms }, () => 'none' as const),
    decision: 'none',
  }),
  onMessage: (s, from, m, out, ctx) => {
    // Once decided, a leader has nothing left to learn.
    if (s.decision !== 'none') return s;
    const quorum = majority(ctx.params.acceptors);
    switch (m.kind) {
      case 'voted': {
        if (s.chosen[m.ins] !== 'none') return s;
        const voted = add(s.voted[m.ins]!, { acc: from, val: m.val });
        if (voted === s.voted[m.ins]) return s;
        if (voted.filter((v) => v.val === m.val).length < quorum) return { ...s, voted: setAt(s.voted, m.ins, voted) };
        // A majority accepted the vote in ballot 0: it is chosen (the acceptances are no longer needed).
        return learn({ ...s, voted: setAt(s.voted, m.ins, []) }, setAt(s.chosen, m.ins, m.val), out);
      }
      case 'phase1b': {
        if (m.bal !== s.ballot || s.proposed) return s;
        const promises = add(s.promises, from);
        if (promises === s.promises) return s;
        const best = s.best.map((b, i) => (m.last[i]!.bal > b.bal ? m.last[i]! : b));
        return { ...s, promises, best };
      }
      case 'phase2b': {
        if (m.bal !== s.ballot || !s.proposed) return s;
        const accepts = add(s.accepts, from);
        if (accepts === s.accepts) return s;
        if (accepts.length < quorum) return { ...s, accepts };
        // A majority accepted the proposal: every instance chose what was proposed.
        return learn({ ...s, accepts }, m.vals, out);
      }
      case 'vote':
      case 'phase1a':
      case 'phase2a':
      case 'decision':
        return s;
    }
  },
  actions: {
    /** Take the transaction over with the next ballot it owns (a timeout: the outcome is late). */
    phase1a: {
      when: (s, ctx) => s.decision === 'none' && nextBallot(ctx, s.ballot) !== null,
      do: (s, out, ctx) => {
        const bal = nextBallot(ctx, s.ballot)!;
        out.broadcast('acceptor', { kind: 'phase1a', bal });
        return { ...s, ballot: bal, proposed: false, promises: [], best: s.best.map(() => nothing), accepts: [] };
      },
      timerMs: [100, 150],
    },
    /** With a majority's promises: propose, per instance, the vote their reports force; once per ballot. */
    phase2a: {
      when: (s, ctx) => s.decision === 'none' && !s.proposed && s.promises.length >= majority(ctx.params.acceptors),
      do: (s, out) => {
        out.broadcast('acceptor', { kind: 'phase2a', bal: s.ballot, vals: s.best.map((b) => valueToPropose([b])) });
        return { ...s, proposed: true };
      },
      timerMs: [1, 2],
    },
  },
});

const rm = spec.role(RmState)({
  count: (p) => p.rms,
  durable: true,
  init: () => 'working',
  onMessage: (s, _from, m) => {
    if (m.kind !== 'decision' || (s !== 'working' && s !== 'prepared')) return s;
    return m.commit ? 'committed' : 'aborted';
  },
  actions: {
    /** Vote prepared. */
    prepare: {
      when: (s) => s === 'working',
      do: (_s, out, ctx) => {
        out.broadcast('acceptor', { kind: 'vote', ins: ctx.index, val: 'prepared' });
        return 'prepared';
      },
      timerMs: [1, 5],
    },
    /** Vote aborted (before preparing). */
    chooseToAbort: {
      when: (s) => s === 'working',
      do: (_s, out, ctx) => {
        out.broadcast('acceptor', { kind: 'vote', ins: ctx.index, val: 'aborted' });
        return 'aborted';
      },
    },
  },
});

function acceptor(rules: AcceptorRules) {
  return spec.role(AcceptorState)({
    count: (p) => p.acceptors,
    symmetric: true,
    durable: true,
    init: (ctx) => Array.from({ length: ctx.params.rms }, () => initialInstance),
    onMessage: (s, from, m, out, ctx) => {
      switch (m.kind) {
        case 'vote': {
          const after = accept(s[m.ins]!, 0, m.val, rules);
          if (after === null) return s;
          out.send(ownerOf(ctx, 0), { kind: 'voted', ins: m.ins, val: m.val });
          return setAt(s, m.ins, after);
        }
        case 'phase1a': {
          const after = s.map((a) => promise(a, m.bal));
          if (after.some((a) => a === null)) return s;
          out.send(from, { kind: 'phase1b', bal: m.bal, last: s.map((a) => ({ bal: a.bal, val: a.val })) });
          return after as AcceptorInstance[];
        }
        case 'phase2a': {
          const after = s.map((a, i) => accept(a, m.bal, m.vals[i]!, rules));
          if (after.some((a) => a === null)) return s;
          out.send(from, { kind: 'phase2b', bal: m.bal, vals: m.vals });
          return after.every((a, i) => a === s[i]) ? s : (after as AcceptorInstance[]);
        }
        case 'voted':
        case 'phase1b':
        case 'phase2b':
        case 'decision':
          return s;
      }
    },
  });
}

// ------------------------------------------------------------------------------ properties

const leaders = (w: WorldReader): LeaderState[] => w.states<LeaderState>('leader');
const rmDecision = (s: RmState): Decision => (s === 'committed' ? 'commit' : s === 'aborted' ? 'abort' : 'none');

/** Every decision anyone holds: the RMs' and the leaders'. */
const decisions = (w: WorldReader): Decision[] => [...w.states<RmState>('rm').map(rmDecision), ...leaders(w).map((l) => l.decision)];

/** Each Paxos instance chose at most one vote, over every phase 2b sent (the set network keeps them all). */
function oneVotePerInstance(w: WorldReader, quorum: number): boolean {
  const accepted = new Map<string, Set<NodeId>>();
  const note = (ins: number, bal: number, val: Vote, acc: NodeId): void => {
    const k = `${ins}/${bal}/${val}`;
    let s = accepted.get(k);
    if (!s) accepted.set(k, (s = new Set()));
    s.add(acc);
  };
  for (const e of w.messages<Msg>()) {
    if (e.msg.kind === 'voted') note(e.msg.ins, 0, e.msg.val, e.from);
    else if (e.msg.kind === 'phase2b') e.msg.vals.forEach((v, i) => note(i, (e.msg as { bal: number }).bal, v, e.from));
  }
  const chosen = new Map<string, string>();
  for (const [k, accs] of accepted) {
    if (accs.size < quorum) continue;
    const [ins, , val] = k.split('/') as [string, string, string];
    if ((chosen.get(ins) ?? val) !== val) return false;
    chosen.set(ins, val);
  }
  return true;
}

export default spec.define({
  roles: { leader, rm, acceptor: acceptor(correctAcceptor) },
  properties: (p) => [
    invariant('agreement: no RM or leader decides differently from another', (w) => {
      const ds = decisions(w);
      return !(ds.includes('commit') && ds.includes('abort'));
    }),
    invariant('validity: commit only if every RM prepared', (w) =>
      !decisions(w).includes('commit') || w.all<RmState>('rm', (s) => s === 'prepared' || s === 'committed')),
    invariant('consensus: each instance chooses at most one vote', (w) => oneVotePerInstance(w, majority(p.acceptors))),
    reachable('every RM commits', (w) => w.all<RmState>('rm', 'committed')),
    reachable('an RM aborts on a decision', (w) => w.any<LeaderState>('leader', (l) => l.decision === 'abort') && w.any<RmState>('rm', 'aborted')),
    reachable('the commit survives the coordinator: a backup leader commits while leader 1 knows no outcome', (w) =>
      leaders(w)[0]!.chosen.every((v) => v === 'none') && leaders(w).slice(1).some((l) => l.decision === 'commit') && w.any<RmState>('rm', 'committed')),
  ],
  variants: {
    'accept-below-promise': {
      doc:
        'An acceptor accepts a message of a ballot below the one it promised (as in ScyllaDB LWT, issue ' +
        'scylladb/scylladb#6139, where accepting did not raise the promise): a backup leader\'s ballot 1 learns no vote ' +
        'from a majority and proposes aborted, while ' +
        "an RM's late ballot-0 vote is still accepted by a member of that majority and chosen, so the coordinator " +
        'commits while the backup leader aborts. One RM is enough to show it (the consensus invariant fails first).',
      expose: { params: { rms: 1 } },
      roles: { acceptor: acceptor({ ...correctAcceptor, acceptOnlyAtPromise: false }) },
    },
  },
});
